// Kiln's model runtime (InferenceSession with the WASM backend) as a benchmark engine.
import { bestVariant } from '../../src/backends/wasm/loader.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { OrtFeed } from './ort.js';
import { NotAvailable, type Adapter, type Output, type Runner } from './types.js';

/**
 * Whether Kiln's session takes a thread count yet. Until the thread pool lands the 2-thread rows
 * say so instead of silently measuring one thread.
 */
function threadsOption(threads: number): Record<string, number> {
  if (threads === 1) return {};
  throw new NotAvailable('Kiln WASM has no thread pool yet');
}

export function kilnModelAdapter(model: () => Uint8Array | Promise<Uint8Array>, feeds: () => Record<string, OrtFeed>, threads = 1): Adapter {
  return {
    engine: 'kiln-wasm',
    kind: 'kiln',
    threads,
    async setup(): Promise<Runner> {
      const opts = threadsOption(threads);
      const session = await InferenceSession.create(await model(), { backend: 'wasm', ...opts });
      const tensors: Record<string, Tensor> = {};
      for (const [name, f] of Object.entries(feeds())) tensors[name] = new Tensor(f.type, f.data, f.dims);
      const outName = session.outputNames[0]!;
      let last: Record<string, Tensor> | undefined;
      const runner: Runner = {
        async run() {
          last = await session.run(tensors);
        },
        output(): Output {
          const data = last?.[outName]?.data;
          if (data instanceof Float32Array || data instanceof Int32Array) return data;
          throw new Error('Kiln output is not float32/int32');
        },
        dispose: () => session.release(),
      };
      // The first run compiles the plan; fallbacks are known after it.
      await runner.run();
      const fb = session.fallbackNodes();
      runner.note = `${bestVariant() ?? 'no SIMD'} module` + (fb.length ? `, ${fb.length} node(s) on reference fallback: ${summarize(fb)}` : '');
      return runner;
    },
  };
}

/** "Conv x3, MaxPool x2" from node labels such as "Conv (conv1)". */
function summarize(labels: string[]): string {
  const counts = new Map<string, number>();
  for (const l of labels) {
    const op = l.split(/[\s(:'"]/)[0] || l;
    counts.set(op, (counts.get(op) ?? 0) + 1);
  }
  return [...counts].map(([op, n]) => (n > 1 ? `${op} x${n}` : op)).join(', ');
}
