// Kiln's model runtime (InferenceSession with the WASM backend) as a benchmark engine.
import { bestVariant } from '../../src/backends/wasm/loader.js';
import { InferenceSession, type SessionOptions } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { OrtFeed } from './ort.js';
import type { Adapter, Output, Runner } from './types.js';

/**
 * The thread count is always passed: Kiln's default is min(hardware threads, 4), which would make
 * the 1-thread rows use both cores of this machine.
 */
function threadsOption(threads: number): { threads: number } {
  return { threads };
}

export function kilnModelAdapter(
  model: () => Uint8Array | Promise<Uint8Array>, feeds: () => Record<string, OrtFeed>, threads = 1, engine = 'kiln-wasm',
  options: Omit<SessionOptions, 'backend' | 'threads'> = {},
): Adapter {
  return {
    engine,
    kind: 'kiln',
    threads,
    async setup(): Promise<Runner> {
      const opts = threadsOption(threads);
      const session = await InferenceSession.create(await model(), { ...options, backend: 'wasm', ...opts });
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
      runner.note = `${bestVariant() ?? 'no SIMD'} module, threads: ${threads}` + (fb.length ? `, ${fb.length} node(s) on reference fallback: ${summarize(fb)}` : '');
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
