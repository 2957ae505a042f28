// Bundled by hosts.test.ts and run in Deno and in Chromium: a small MLP on the webgpu backend
// against the reference backend, on the host's own navigator.gpu. Prints one line,
// `KILN_WEBGPU {json}`, that the test parses.
import '../../src/backends/webgpu/index.js';
import { acquireDevice } from '../../src/backends/webgpu/device.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';

export interface HostResult {
  adapter?: string;
  error?: string;
  fallbacks?: string[];
  gpuNodes?: number;
  /** max |webgpu - reference| / max |reference|. */
  relDiff?: number;
}

async function main(): Promise<HostResult> {
  let seed = 11;
  const next = (): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 31 - 1; };
  const t = (dims: number[]): Tensor => new Tensor(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, next), dims);
  let adapter: string;
  try {
    const ctx = await acquireDevice();
    adapter = [ctx.adapter.vendor, ctx.adapter.architecture, ctx.adapter.description].filter((s) => s).join(' / ');
    ctx.device.destroy();
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['N', 30]);
  const h1 = b.op('Relu', [b.op('Gemm', [x, b.constant('w1', t([50, 30])), b.constant('b1', t([50]))], { transB: 1 })]);
  const h2 = b.op('Relu', [b.op('Add', [b.op('MatMul', [h1, b.constant('w2', t([50, 130]))]), b.constant('b2', t([130]))])]);
  const y = b.op('Gemm', [h2, b.constant('w3', t([10, 130]))], { transB: 1, alpha: 0.5 });
  b.output(y);
  const graph = b.build();
  const gpu = await InferenceSession.create(graph, { backend: 'webgpu' });
  const ref = await InferenceSession.create(graph, { backend: 'reference' });
  const feeds = { x: t([67, 30]) };
  const got = (await gpu.run(feeds))[y] as Tensor<'float32'>;
  const want = (await ref.run(feeds))[y] as Tensor<'float32'>;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.size; i++) {
    diff = Math.max(diff, Math.abs(got.data[i]! - want.data[i]!));
    scale = Math.max(scale, Math.abs(want.data[i]!));
  }
  return { adapter, fallbacks: gpu.fallbackNodes(), relDiff: Number.isNaN(diff) ? Infinity : diff / scale };
}

const result = await main().catch((err: unknown): HostResult => ({ error: `run failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}` }));
console.log(`KILN_WEBGPU ${JSON.stringify(result)}`);
