// The int8 conv and matmul kernels split over the worker pool: depthwise by channels, im2col by
// rows, packing and GEMM by pixels or channels. Integer results must be bit-identical to the
// reference backend for 1, 2 and 3 threads, with no fallback node. Shapes are large enough that
// every kernel is split (the thread decision skips small ones).
import { describe, expect, it, vi } from 'vitest';
import { ThreadPool } from '../../src/backends/wasm/threads/pool.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { AttrValue } from '../../src/graph/ir.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
type Q8 = 'uint8' | 'int8';
const q8 = (type: Q8, dims: number[], lo = type === 'int8' ? -128 : 0, hi = type === 'int8' ? 127 : 255) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = type === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + Math.floor(rnd() * (hi - lo + 1));
  return new Tensor(type, data, dims);
};
const f32 = (values: number[], dims: number[]) => new Tensor('float32', Float32Array.from(values), dims);
const scalarQ = (type: Q8, v: number) => new Tensor(type, type === 'int8' ? Int8Array.of(v) : Uint8Array.of(v), []);

async function expectSameForAllThreadCounts(build: (b: GraphBuilder) => string, feeds: Record<string, Tensor>): Promise<void> {
  const b = new GraphBuilder('q', 21);
  b.output(build(b));
  const g = b.build();
  const ref = await (await InferenceSession.create(g, { backend: 'reference' })).run(feeds);
  for (const threads of [1, 2, 3]) {
    const s = await InferenceSession.create(g, { backend: 'wasm', threads });
    const split = vi.spyOn(ThreadPool.prototype, 'run');
    const got = await s.run(feeds);
    // The kernels really were cut over the pool (the shapes are chosen above the thresholds).
    if (threads > 1) expect(split).toHaveBeenCalled();
    split.mockRestore();
    expect(s.fallbackNodes()).toEqual([]);
    for (const k of Object.keys(ref)) {
      expect(got[k]!.dims).toEqual(ref[k]!.dims);
      expect(Array.from(got[k]!.data as ArrayLike<number>), `${threads} thread(s)`).toEqual(Array.from(ref[k]!.data as ArrayLike<number>));
    }
    await s.release();
  }
}

interface ConvCase { name: string; C: number; Cout: number; H: number; k: number; group: number; attrs: Record<string, AttrValue>; w: [number, number] }
const convCases: ConvCase[] = [
  { name: 'depthwise 3x3 stride 1', C: 48, Cout: 48, H: 41, k: 3, group: 48, attrs: { pads: [1, 1, 1, 1] }, w: [-100, 100] },
  { name: 'depthwise 3x3 stride 2', C: 80, Cout: 80, H: 57, k: 3, group: 80, attrs: { pads: [0, 0, 1, 1], strides: [2, 2] }, w: [-100, 100] },
  { name: '3x3 im2col, 7-bit weights (relaxed dot path)', C: 8, Cout: 36, H: 43, k: 3, group: 1, attrs: { pads: [1, 1, 1, 1] }, w: [-60, 60] },
  { name: '3x3 stride 2 im2col, full-range weights', C: 16, Cout: 48, H: 45, k: 3, group: 1, attrs: { pads: [1, 1, 1, 1], strides: [2, 2] }, w: [-128, 127] },
  { name: 'pointwise, many pixels (GEMM split by pixels)', C: 40, Cout: 52, H: 37, k: 1, group: 1, attrs: {}, w: [-60, 60] },
  { name: 'pointwise, 7x7 map (GEMM split by channels)', C: 200, Cout: 260, H: 7, k: 1, group: 1, attrs: {}, w: [-128, 127] },
  { name: 'grouped 3x3', C: 32, Cout: 48, H: 35, k: 3, group: 2, attrs: { pads: [1, 1, 1, 1] }, w: [-60, 60] },
];

describe('int8 conv on the worker pool', () => {
  for (const c of convCases) {
    it(`QLinearConv ${c.name}: 1, 2, 3 threads bit-identical to the reference`, async () => {
      const x = q8('uint8', [1, c.C, c.H, c.H]);
      await expectSameForAllThreadCounts((b) => b.op('QLinearConv', [
        b.input('x', 'uint8', [1, c.C, c.H, c.H]), b.constant('xs', f32([0.02], [])), b.constant('xz', scalarQ('uint8', 121)),
        b.constant('w', q8('int8', [c.Cout, c.C / c.group, c.k, c.k], ...c.w)),
        b.constant('ws', f32(Array.from({ length: c.Cout }, (_, i) => 0.0004 + 0.00001 * i), [c.Cout])),
        b.constant('wz', new Tensor('int8', new Int8Array(c.Cout), [c.Cout])),
        b.constant('ys', f32([0.3], [])), b.constant('yz', scalarQ('uint8', 110)),
        b.constant('bias', new Tensor('int32', Int32Array.from({ length: c.Cout }, (_, i) => (i - 9) * 311), [c.Cout])),
      ], { ...c.attrs, group: c.group }), { x });
    });
  }

  it('ConvInteger 3x3 (int32 output), batch 2', async () => {
    await expectSameForAllThreadCounts((b) => b.op('ConvInteger', [
      b.input('x', 'uint8', [2, 12, 40, 40]), b.constant('w', q8('uint8', [20, 12, 3, 3])),
      b.constant('xz', scalarQ('uint8', 7)), b.constant('wz', scalarQ('uint8', 131)),
    ], { pads: [1, 1, 1, 1] }), { x: q8('uint8', [2, 12, 40, 40]) });
  });
});

describe('int8 matmul on the worker pool', () => {
  it('QLinearMatMul, many rows (split by rows)', async () => {
    await expectSameForAllThreadCounts((b) => b.op('QLinearMatMul', [
      b.input('a', 'uint8', [2, 97, 150]), b.constant('as', f32([0.03], [])), b.constant('az', scalarQ('uint8', 120)),
      b.constant('b', q8('int8', [150, 83], -60, 60)), b.constant('bs', f32(Array.from({ length: 83 }, (_, i) => 0.002 + i * 0.0001), [83])),
      b.constant('bz', new Tensor('int8', new Int8Array(83), [83])),
      b.constant('ys', f32([2], [])), b.constant('yz', scalarQ('uint8', 128)),
    ]), { a: q8('uint8', [2, 97, 150]) });
  });

  it('MatMulInteger batch 1 (split by columns)', async () => {
    await expectSameForAllThreadCounts((b) => b.op('MatMulInteger', [
      b.input('a', 'int8', [1, 1000]), b.constant('b', q8('int8', [1000, 2100])), b.constant('az', scalarQ('int8', -3)),
    ]), { a: q8('int8', [1, 1000]) });
  });
});
