// Weight-only int4: DequantizeLinear(int4 / uint4 constant, block 32 along K) feeding MatMul or
// Gemm is fused by fuseDequantMatMul into ai.kiln DequantMatMul / DequantGemm, whose reference
// kernel gives the unfused graph's exact bits, and the WASM backend runs it on the int4 kernel
// (no fallback node) within float32 rounding of the reference, bit-identical for 1 and 2 threads.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { fuseActivations } from '../../src/passes/fuse-activations.js';
import { fuseDequantMatMul } from '../../src/passes/fuse-dequant-matmul.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { writeInt4 } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { rngUnit } from './module-setup.js';

interface Case {
  name: string;
  M: number[];
  K: number;
  N: number;
  type: 'int4' | 'uint4';
  zp: boolean;
  /** 'matmul': B_q [K, N] into MatMul; 'gemm': B_q [N, K] into Gemm transB = 1. */
  base: 'matmul' | 'gemm';
  bias?: boolean;
  relu?: boolean;
}

const CASES: Case[] = [
  { name: 'GEMV int4, no zero points', M: [1, 96], K: 96, N: 40, type: 'int4', zp: false, base: 'matmul' },
  { name: 'GEMV uint4 with zero points, ragged last block', M: [1, 70], K: 70, N: 33, type: 'uint4', zp: true, base: 'matmul' },
  { name: 'uint4 without zero points (zero point 0)', M: [3, 64], K: 64, N: 17, type: 'uint4', zp: false, base: 'matmul' },
  { name: 'batched rows, bias and Relu fused', M: [2, 5, 160], K: 160, N: 48, type: 'int4', zp: true, base: 'matmul', bias: true, relu: true },
  { name: 'Gemm transB ([N, K] weights) with bias', M: [4, 129], K: 129, N: 65, type: 'int4', zp: true, base: 'gemm', bias: true },
  { name: 'large GEMV (threaded)', M: [1, 1024], K: 1024, N: 1536, type: 'int4', zp: true, base: 'matmul' },
];

function build(c: Case, seed: number): { g: Graph; x: Tensor } {
  const r = rngUnit(seed);
  const { K, N } = c;
  const nb = Math.ceil(K / 32);
  const [rows, cols] = c.base === 'gemm' ? [N, K] : [K, N];
  const packed = new Uint8Array(Math.ceil((rows * cols) / 2));
  for (let i = 0; i < rows * cols; i++) writeInt4(packed, i, Math.floor(r() * 16) - (c.type === 'int4' ? 8 : 0));
  const sDims = c.base === 'gemm' ? [N, nb] : [nb, N];
  const scale = new Tensor('float32', Float32Array.from({ length: N * nb }, () => 0.002 + r() * 0.02), sDims);
  const zpPacked = new Uint8Array(Math.ceil((N * nb) / 2));
  for (let i = 0; i < N * nb; i++) writeInt4(zpPacked, i, Math.floor(r() * 16) - (c.type === 'int4' ? 8 : 0));
  const b = new GraphBuilder('int4', 21);
  const x = b.input('x', 'float32', c.M);
  const w = b.op('DequantizeLinear', [
    b.constant('w', new Tensor(c.type, packed, [rows, cols])), b.constant('s', scale),
    ...(c.zp ? [b.constant('z', new Tensor(c.type, zpPacked, sDims))] : []),
  ], { axis: c.base === 'gemm' ? 1 : 0, block_size: 32 });
  const biasT = new Tensor('float32', Float32Array.from({ length: N }, () => r() - 0.5), [N]);
  let y: string;
  if (c.base === 'gemm') {
    y = b.op('Gemm', [x, w, ...(c.bias ? [b.constant('c', biasT)] : [])], { transB: 1 });
  } else {
    y = b.op('MatMul', [x, w]);
    if (c.bias) y = b.op('Add', [y, b.constant('bias', biasT)]);
  }
  if (c.relu) y = b.op('Relu', [y]);
  b.output(y);
  const n = c.M.reduce((p, q) => p * q, 1);
  return { g: b.build(), x: new Tensor('float32', Float32Array.from({ length: n }, () => r() * 2 - 1), c.M) };
}

/** What InferenceSession applies for non-reference backends (applied here explicitly to inspect it). */
const fused = (g: Graph, int8Activations = false) => fuseDequantMatMul(fuseActivations(g), { int8Activations });

function expectClose(got: Float32Array, want: Float32Array, K: number, rel: number): void {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    const tol = rel * Math.sqrt(K) * (Math.abs(want[i]!) + scale * 0.05) + 1e-6;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) expect.fail(`[${i}] = ${got[i]}, want ${want[i]} (tolerance ${tol})`);
  }
}

describe('fuseDequantMatMul with int4 weights', () => {
  CASES.forEach((c, i) => {
    it(`${c.name}: the fused graph's reference is bit-identical, WASM within float32 rounding, 1 = 2 threads`, async () => {
      const { g, x } = build(c, 100 + i);
      const f = fused(g);
      const ops = f.nodes.map((n) => n.op);
      expect(ops).toContain(c.base === 'gemm' ? 'DequantGemm' : 'DequantMatMul');
      expect(ops).not.toContain('DequantizeLinear');
      const want = (await (await InferenceSession.create(g, { backend: 'reference' })).run({ x }))[g.outputs[0]!.name]!;
      const refFused = (await (await InferenceSession.create(f, { backend: 'reference' })).run({ x }))[g.outputs[0]!.name]!;
      expect(Array.from(refFused.data as Float32Array)).toEqual(Array.from(want.data as Float32Array));
      const outs: Float32Array[] = [];
      for (const threads of [1, 2]) {
        const s = await InferenceSession.create(f, { backend: 'wasm', threads });
        const got = (await s.run({ x }))[g.outputs[0]!.name]!;
        expect(s.fallbackNodes()).toEqual([]);
        expect(got.dims).toEqual(want.dims);
        expectClose(got.data as Float32Array, want.data as Float32Array, c.K, 2e-7);
        outs.push(got.data as Float32Array);
        await s.release();
      }
      expect(Array.from(outs[1]!)).toEqual(Array.from(outs[0]!));
    });
  });

  it('int8 activations (accuracy_level 4) only when asked for, within int8 rounding', async () => {
    const c = CASES[3]!;
    const { g, x } = build(c, 7);
    expect(fused(g).nodes.find((n) => n.op === 'DequantMatMul')!.attrs.accuracy_level).toBeUndefined();
    const f = fused(g, true);
    expect(f.nodes.find((n) => n.op === 'DequantMatMul')!.attrs.accuracy_level).toBe(4);
    const want = (await (await InferenceSession.create(g, { backend: 'reference' })).run({ x }))[g.outputs[0]!.name]!;
    const s = await InferenceSession.create(f, { backend: 'wasm', threads: 1 });
    const got = (await s.run({ x }))[g.outputs[0]!.name]!;
    expect(s.fallbackNodes()).toEqual([]);
    // Each activation is rounded to 1/254 of its block's largest magnitude.
    expectClose(got.data as Float32Array, want.data as Float32Array, c.K, 1e-2);
  });

  it('SessionOptions.int8Activations: the unfused QDQ graph gets the int8-activation kernel; off by default', async () => {
    const c = CASES[3]!;
    const { g, x } = build(c, 8);
    const out = g.outputs[0]!.name;
    const want = (await (await InferenceSession.create(g, { backend: 'reference' })).run({ x }))[out]!;
    // The session's lowering must give exactly what the explicitly fused graphs give.
    const runWasm = async (graph: Graph, int8Activations?: boolean) => {
      const s = await InferenceSession.create(graph, { backend: 'wasm', threads: 1, ...(int8Activations === undefined ? {} : { int8Activations }) });
      const y = (await s.run({ x }))[out]!;
      expect(s.fallbackNodes()).toEqual([]);
      await s.release();
      return Array.from(y.data as Float32Array);
    };
    const viaOption = await runWasm(g, true);
    expect(viaOption).toEqual(await runWasm(fused(g, true)));
    expect(await runWasm(g)).toEqual(await runWasm(fused(g, false)));
    expect(viaOption).not.toEqual(await runWasm(g));
    expectClose(Float32Array.from(viaOption), want.data as Float32Array, c.K, 1e-2);
  });

  it('leaves other DequantizeLinear + MatMul pairs alone', () => {
    const b = new GraphBuilder('other', 21);
    const x = b.input('x', 'float32', [1, 64]);
    // Block 16 (the kernels take 32), and a DequantizeLinear whose output is also a graph output.
    const packed = new Uint8Array(64 * 8 / 2);
    const w16 = b.op('DequantizeLinear', [b.constant('w', new Tensor('int4', packed, [64, 8])), b.constant('s', new Tensor('float32', new Float32Array(4 * 8).fill(0.1), [4, 8]))], { axis: 0, block_size: 16 });
    const w32 = b.op('DequantizeLinear', [b.constant('w2', new Tensor('int4', packed, [64, 8])), b.constant('s2', new Tensor('float32', new Float32Array(2 * 8).fill(0.1), [2, 8]))], { axis: 0, block_size: 32 });
    b.output(b.op('MatMul', [x, w16]));
    b.output(b.op('MatMul', [x, w32]));
    b.output(w32);
    const g = b.build();
    expect(fuseDequantMatMul(g)).toBe(g);
  });
});

describe('InferenceSession applies the weight-only fusion for wasm', () => {
  it('runs DequantizeLinear(int4) -> MatMul with no fallback and no DequantizeLinear node', async () => {
    const { g, x } = build(CASES[0]!, 3);
    const want = (await (await InferenceSession.create(g, { backend: 'reference' })).run({ x }))[g.outputs[0]!.name]!;
    const s = await InferenceSession.create(g, { backend: 'wasm', threads: 1, profile: true });
    const got = (await s.run({ x }))[g.outputs[0]!.name]!;
    expect(s.fallbackNodes()).toEqual([]);
    expect(s.profileReport().map((r) => r.op)).not.toContain('DequantizeLinear');
    expectClose(got.data as Float32Array, want.data as Float32Array, CASES[0]!.K, 2e-7);
  });
});
