// The 'webgpu' backend through InferenceSession: a small MLP whose GEMMs (with fused bias and
// Relu) run on the GPU and whose Softmax falls back to the reference kernel, batched MatMuls, a
// MatMul shape the kernel leaves to the host, device loss, and the errors for a host without WebGPU.
import { describe, expect, it } from 'vitest';
import { requestAdapter, WebGpuDeviceLostError, WebGpuUnavailableError, acquireDevice } from '../../src/backends/webgpu/device.js';
import { WebGpuExecutable } from '../../src/backends/webgpu/executable.js';
import { useWebGpuDevice } from '../../src/backends/webgpu/index.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { fuseActivations } from '../../src/passes/fuse-activations.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randomF32, rng, testGpu } from './gpu.js';

const gpu = await testGpu('test/webgpu/backend.test.ts');
if (gpu.ctx) useWebGpuDevice(gpu.ctx.device);

const next = rng(20261208);
const tensor = (dims: number[]): Tensor => new Tensor(randomF32(dims.reduce((a, b) => a * b, 1), next), dims);

function mlp(): Graph {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['N', 30]);
  const h1 = b.op('Relu', [b.op('Gemm', [x, b.constant('w1', tensor([50, 30])), b.constant('b1', tensor([50]))], { transB: 1 })], {}, { name: 'relu1' });
  const mm2 = b.op('MatMul', [h1, b.constant('w2', tensor([50, 70]))], {}, { name: 'mm2' });
  const h2 = b.op('Relu', [b.op('Add', [mm2, b.constant('b2', tensor([70]))])]);
  const logits = b.op('MatMul', [h2, b.constant('w3', tensor([70, 10]))], {}, { name: 'mm3' });
  b.output(b.op('Softmax', [logits], { axis: -1 }, { name: 'softmax' }));
  return b.build();
}

/** max |got - want| / max |want| over one output (after checking dims agree): f32 ~1e-5. */
function maxDiff(got: Tensor, want: Tensor): number {
  expect(got.dims).toEqual(want.dims);
  let m = 0;
  let scale = 0;
  for (let i = 0; i < want.size; i++) {
    m = Math.max(m, Math.abs(Number(got.data[i]) - Number(want.data[i])));
    scale = Math.max(scale, Math.abs(Number(want.data[i])));
  }
  return Number.isNaN(m) ? Infinity : m === 0 ? 0 : m / scale;
}

async function compare(graph: Graph, feeds: Record<string, Tensor>, tol: number): Promise<InferenceSession> {
  const session = await InferenceSession.create(graph, { backend: 'webgpu' });
  const reference = await InferenceSession.create(graph, { backend: 'reference' });
  const got = await session.run(feeds);
  const want = await reference.run(feeds);
  for (const name of Object.keys(want)) expect(maxDiff(got[name] as Tensor, want[name] as Tensor), name).toBeLessThanOrEqual(tol);
  return session;
}

describe.skipIf(!gpu.ctx)('webgpu backend', () => {
  it('runs an MLP: the three GEMMs on the GPU, Softmax on the reference kernel', async () => {
    const graph = mlp();
    const session = await compare(graph, { x: tensor([7, 30]) }, 1e-5);
    expect(session.backend).toBe('webgpu');
    expect(session.fallbackNodes()).toEqual(['Softmax(softmax)']);
    // A second run at another batch size reuses the uploaded weights.
    const reference = await InferenceSession.create(graph, { backend: 'reference' });
    const x = tensor([65, 30]);
    const out = graph.outputs[0]!.name;
    expect(maxDiff((await session.run({ x }))[out] as Tensor, (await reference.run({ x }))[out] as Tensor)).toBeLessThanOrEqual(1e-5);
  });

  it('profiles GPU passes with timestamp queries and host nodes with the clock', async () => {
    const session = await InferenceSession.create(mlp(), { backend: 'webgpu', profile: true });
    await session.run({ x: tensor([9, 30]) });
    await session.run({ x: tensor([9, 30]) });
    const rows = session.profileReport();
    const calls = Object.fromEntries(rows.map((r) => [r.op, r.calls]));
    for (const r of rows) expect(Number.isFinite(r.ms) && r.ms >= 0).toBe(true);
    expect(rows.map((r) => r.ms)).toEqual([...rows.map((r) => r.ms)].sort((a, b) => b - a));
    // Two runs: Gemm+Relu, MatMul+Add+Relu (fused), the last MatMul on the GPU, Softmax on the host.
    const gpuOps = gpu.ctx!.features.timestampQuery ? { FusedGemm: 2, FusedMatMul: 2, MatMul: 2 } : {};
    expect(calls).toEqual({ ...gpuOps, Softmax: 2 });
    console.log('webgpu profile (lavapipe, correctness only):', rows.map((r) => `${r.op} ${r.ms.toFixed(3)} ms / ${r.calls}`).join(', '));
  });

  it('runs a graph of GEMMs with one encoder and reads back only its outputs', async () => {
    const b = new GraphBuilder('chain');
    const x = b.input('x', 'float32', [33, 20]);
    const h = b.op('Relu', [b.op('MatMul', [x, b.constant('w1', tensor([20, 40]))])]);
    b.output(b.op('Gemm', [h, b.constant('w2', tensor([40, 9])), b.constant('c', tensor([33, 9]))], { alpha: 0.5, beta: -1 }));
    const graph = fuseActivations(b.build());
    const exec = new WebGpuExecutable(gpu.ctx!, graph);
    // Both specialisations (MatMul+Relu, Gemm with C) are compiled before the first run.
    await exec.prepare();
    expect(exec.pipelineCount()).toBe(2);
    const submits: number[] = [];
    const queue = gpu.ctx!.device.queue;
    const submit = queue.submit.bind(queue);
    queue.submit = (buffers: Iterable<GPUCommandBuffer>) => { submits.push([...buffers].length); submit(buffers); };
    try {
      const feeds = new Map([['x', tensor([33, 20])]]);
      const got = await exec.run(feeds, [graph.outputs[0]!.name]);
      expect(submits).toEqual([1]);
      expect(exec.fallbackNodes()).toEqual([]);
      expect(exec.gpuNodes()).toHaveLength(2);
      expect(exec.pipelineCount()).toBe(2);
      const want = await (await InferenceSession.create(graph, { backend: 'reference' })).run({ x: feeds.get('x')! });
      const name = graph.outputs[0]!.name;
      expect(maxDiff(got.get(name) as Tensor, want[name] as Tensor)).toBeLessThanOrEqual(1e-5);
    } finally {
      queue.submit = submit;
      exec.dispose();
    }
  });

  it('reuses buffers within and across runs without a write landing on a value still to be read', async () => {
    // The buffers of x1 and x4 are free once MatMul 1 is recorded, but that recording has not been
    // submitted: MatMul 2's output may take one (a GPU write, ordered after MatMul 1), the upload of
    // x2 (a queue write, landing before MatMul 1 runs) must not take the other. Sigmoid runs on the
    // host (a submit in mid-run), after which released buffers may take uploads again.
    const b = new GraphBuilder('reuse');
    const [x1, x2, x3, x4] = ['x1', 'x2', 'x3', 'x4'].map((n) => b.input(n, 'float32', [16, 16]));
    const w = b.constant('w', tensor([16, 16]));
    const y1 = b.op('MatMul', [x1!, x4!]);
    const y2 = b.op('MatMul', [x2!, y1]);
    const s = b.op('Sigmoid', [y2], {}, { name: 'sig' });
    const y3 = b.op('MatMul', [x3!, s]);
    b.output(b.op('MatMul', [y3, w]));
    const graph = b.build();
    const exec = new WebGpuExecutable(gpu.ctx!, graph);
    const reference = await InferenceSession.create(graph, { backend: 'reference' });
    const out = graph.outputs[0]!.name;
    try {
      for (let run = 0; run < 3; run++) {
        const feeds = { x1: tensor([16, 16]), x2: tensor([16, 16]), x3: tensor([16, 16]), x4: tensor([16, 16]) };
        const got = await exec.run(new Map(Object.entries(feeds)), [out]);
        expect(maxDiff(got.get(out) as Tensor, (await reference.run(feeds))[out] as Tensor)).toBeLessThanOrEqual(1e-5);
        expect(exec.fallbackNodes()).toEqual(['Sigmoid(sig)']);
        expect(exec.pooledBytes()).toBeGreaterThan(0);
      }
    } finally {
      exec.dispose();
    }
  });

  it.each([
    ['A batched, B one matrix', [2, 3, 5, 7], [7, 4]],
    ['same batch', [4, 5, 6], [4, 6, 3]],
    ['A one matrix, B batched', [5, 6], [3, 6, 2]],
    ['A with batch 1, B batched', [1, 65, 17], [2, 17, 66]],
  ])('MatMul: %s', async (_name, aDims, bDims) => {
    const b = new GraphBuilder('mm');
    b.output(b.op('MatMul', [b.input('a', 'float32', aDims), b.input('b', 'float32', bDims)]));
    const session = await compare(b.build(), { a: tensor(aDims), b: tensor(bDims) }, 1e-5);
    expect(session.fallbackNodes()).toEqual([]);
  });

  it('leaves MatMul shapes the kernel lacks to the reference kernel, and says so', async () => {
    const b = new GraphBuilder('mm1d');
    b.output(b.op('MatMul', [b.input('a', 'float32', [6]), b.input('b', 'float32', [2, 6, 3])], {}, { name: 'vecmat' }));
    const session = await compare(b.build(), { a: tensor([6]), b: tensor([2, 6, 3]) }, 1e-5);
    expect(session.fallbackNodes()).toEqual(['MatMul(vecmat)']);
  });

  it('reports device loss on pending and later runs, and a new device works afterwards', async () => {
    const ctx = await acquireDevice();
    const graph = mlp();
    const exec = new WebGpuExecutable(ctx, fuseActivations(graph));
    const feeds = new Map([['x', tensor([3, 30])]]);
    const fetch = [graph.outputs[0]!.name];
    await exec.run(feeds, fetch);
    ctx.device.destroy();
    await ctx.device.lost;
    await expect(exec.run(feeds, fetch)).rejects.toThrow(WebGpuDeviceLostError);
    await expect(exec.run(feeds, fetch)).rejects.toThrow(/device lost \(destroyed/);
    // A run in flight when the device goes: its readback fails, and the error says why.
    const ctx2 = await acquireDevice();
    const exec2 = new WebGpuExecutable(ctx2, fuseActivations(graph));
    const pending = exec2.run(feeds, fetch);
    ctx2.device.destroy();
    await expect(pending).rejects.toThrow(WebGpuDeviceLostError);
    const again = new WebGpuExecutable(await acquireDevice(), fuseActivations(graph));
    expect((await again.run(feeds, fetch)).get(fetch[0]!)!).toBeInstanceOf(Tensor);
    again.dispose();
  });
});

describe('webgpu device errors (no GPU needed)', () => {
  it('says when WebGPU returns no adapter', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(requestAdapter(noAdapter)).rejects.toThrow(WebGpuUnavailableError);
    await expect(requestAdapter(noAdapter)).rejects.toThrow(/no adapter/);
  });
});
