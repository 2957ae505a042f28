// Sparse weights on the WASM backend: MatMul / Gemm (plain and activation-fused) whose constant B
// carries tensor.sparse run on the CSR SpMV / SpMM, 4x1-block (BSR) and 2:4 GEMV kernels, int8 / uint8 sparse
// weights through DequantizeLinear (fused by fuseDequantMatMul) too; results within float32
// rounding of the reference backend, no fallback node, 1 and 2 threads bit-identical. Dense
// tensors, and layouts too dense to pay off, keep the dense kernels.
import { describe, expect, it } from 'vitest';
import { sparseKernelKind } from '../../src/backends/wasm/ops/sparse.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { fuseActivations } from '../../src/passes/fuse-activations.js';
import { fuseDequantMatMul } from '../../src/passes/fuse-dequant-matmul.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { bsrFromDense } from '../../src/tensor/sparse-bsr.js';
import { csrFromDense } from '../../src/tensor/sparse-csr.js';
import { nmFromDense } from '../../src/tensor/sparse-nm.js';
import { attachSparse } from '../../src/tensor/sparse.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { rngUnit } from './module-setup.js';

type Layout = 'csr' | 'nm24' | 'bsr' | 'dense';
type Values = 'float32' | 'int8' | 'uint8';

interface Case {
  name: string;
  M: number[];
  K: number;
  N: number;
  layout: Layout;
  values: Values;
  density: number;
  /** 'matmul': B [K, N]; 'gemm': B [N, K] with transB = 1. */
  base: 'matmul' | 'gemm';
  bias?: boolean;
  act?: 'Relu' | 'Sigmoid';
  /** int8 / uint8: one scale per output column instead of per tensor. */
  perColumn?: boolean;
  /** The kernel the layout should get (undefined: the dense GEMM). */
  kernel: ReturnType<typeof sparseKernelKind>;
}

const CASES: Case[] = [
  { name: 'CSR f32 GEMV', M: [1, 100], K: 100, N: 37, layout: 'csr', values: 'float32', density: 0.1, base: 'matmul', kernel: 'csr-spmv' },
  { name: 'CSR f32, 2 rows, bias + Relu', M: [2, 65], K: 65, N: 63, layout: 'csr', values: 'float32', density: 0.2, base: 'matmul', bias: true, act: 'Relu', kernel: 'csr-spmv' },
  { name: 'CSR f32, 3 rows (SpMM on 4 padded columns)', M: [3, 65], K: 65, N: 63, layout: 'csr', values: 'float32', density: 0.2, base: 'matmul', bias: true, act: 'Relu', kernel: 'csr-spmm' },
  { name: 'CSR f32 SpMM (batched rows)', M: [2, 9, 70], K: 70, N: 33, layout: 'csr', values: 'float32', density: 0.15, base: 'matmul', bias: true, kernel: 'csr-spmm' },
  { name: 'CSR f32 Gemm transB with C, Sigmoid', M: [17, 127], K: 127, N: 40, layout: 'csr', values: 'float32', density: 0.1, base: 'gemm', bias: true, act: 'Sigmoid', kernel: 'csr-spmm' },
  { name: '2:4 f32 GEMV', M: [1, 96], K: 96, N: 50, layout: 'nm24', values: 'float32', density: 0.5, base: 'matmul', kernel: 'gemv24' },
  { name: '2:4 f32 Gemm transB', M: [1, 36], K: 36, N: 19, layout: 'nm24', values: 'float32', density: 0.5, base: 'gemm', bias: true, kernel: 'gemv24' },
  { name: '2:4 f32 with 3 rows (GEMV per row)', M: [3, 64], K: 64, N: 24, layout: 'nm24', values: 'float32', density: 0.5, base: 'matmul', bias: true, kernel: 'gemv24' },
  { name: '2:4 f32 with 4 rows (dense GEMM)', M: [4, 64], K: 64, N: 24, layout: 'nm24', values: 'float32', density: 0.5, base: 'matmul', kernel: undefined },
  { name: 'BSR f32 GEMV (4x1 blocks), short last group', M: [1, 90], K: 90, N: 37, layout: 'bsr', values: 'float32', density: 0.1, base: 'matmul', kernel: 'bsr4' },
  { name: 'BSR f32 Gemm transB, 2 rows, bias + Relu', M: [2, 64], K: 64, N: 48, layout: 'bsr', values: 'float32', density: 0.15, base: 'gemm', bias: true, act: 'Relu', kernel: 'bsr4' },
  { name: 'BSR f32, 5 rows (CSR SpMM)', M: [5, 40], K: 40, N: 32, layout: 'bsr', values: 'float32', density: 0.1, base: 'matmul', bias: true, kernel: 'csr-spmm' },
  { name: 'BSR f32 too dense (dense GEMM)', M: [1, 40], K: 40, N: 32, layout: 'bsr', values: 'float32', density: 0.6, base: 'matmul', kernel: undefined },
  { name: 'BSR f32 GEMV, threaded', M: [1, 2048], K: 2048, N: 2048, layout: 'bsr', values: 'float32', density: 0.05, base: 'gemm', kernel: 'bsr4' },
  { name: 'CSR f32 too dense (dense GEMM)', M: [1, 40], K: 40, N: 30, layout: 'csr', values: 'float32', density: 0.8, base: 'matmul', kernel: undefined },
  { name: 'dense f32 B (no layout)', M: [1, 40], K: 40, N: 30, layout: 'dense', values: 'float32', density: 0.1, base: 'matmul', kernel: undefined },
  { name: 'CSR int8 per-column scales, GEMV', M: [1, 200], K: 200, N: 70, layout: 'csr', values: 'int8', density: 0.1, base: 'matmul', perColumn: true, kernel: 'csr-spmv' },
  { name: 'CSR int8 per-tensor scale, SpMM + bias', M: [6, 80], K: 80, N: 45, layout: 'csr', values: 'int8', density: 0.1, base: 'matmul', bias: true, kernel: 'csr-spmm' },
  { name: 'CSR uint8 Gemm transB', M: [1, 64], K: 64, N: 32, layout: 'csr', values: 'uint8', density: 0.2, base: 'gemm', perColumn: true, kernel: 'csr-spmv' },
  { name: '2:4 int8 GEMV', M: [1, 128], K: 128, N: 24, layout: 'nm24', values: 'int8', density: 0.5, base: 'matmul', perColumn: true, kernel: 'gemv24' },
  { name: 'CSR int8 too dense (dequantized dense GEMM)', M: [2, 48], K: 48, N: 20, layout: 'csr', values: 'int8', density: 0.9, base: 'matmul', act: 'Relu', kernel: undefined },
  { name: 'CSR f32 GEMV, threaded', M: [1, 2048], K: 2048, N: 2048, layout: 'csr', values: 'float32', density: 0.25, base: 'matmul', kernel: 'csr-spmv' },
  { name: '2:4 f32 GEMV, threaded', M: [1, 1536], K: 1536, N: 1536, layout: 'nm24', values: 'float32', density: 0.5, base: 'gemm', kernel: 'gemv24' },
  { name: 'CSR int8 SpMM, threaded', M: [16, 512], K: 512, N: 640, layout: 'csr', values: 'int8', density: 0.25, base: 'matmul', perColumn: true, kernel: 'csr-spmm' },
];

/** B's stored values (dims as B) with the layout's zeros: random, or 2 of every 4 along K. */
function weights(c: Case, r: () => number): Tensor {
  const [rows, cols] = c.base === 'gemm' ? [c.N, c.K] : [c.K, c.N];
  const n = rows * cols;
  const data = c.values === 'float32' ? new Float32Array(n) : c.values === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [row, col] = [Math.floor(i / cols), i % cols];
    const k = c.base === 'gemm' ? col : row;
    const other = c.base === 'gemm' ? row : col;
    const keep = c.layout === 'nm24' ? (k + other) % 4 < 2 && r() < 0.9 : r() < c.density;
    if (!keep) continue;
    data[i] = c.values === 'float32' ? r() * 2 - 1 : c.values === 'int8' ? (Math.floor(r() * 255) - 127 || 1) : 1 + Math.floor(r() * 255);
  }
  const t = new Tensor(c.values, data, [rows, cols]);
  if (c.layout === 'csr') attachSparse(t, csrFromDense(t));
  if (c.layout === 'nm24') attachSparse(t, nmFromDense(t, 2, 4, c.base === 'gemm' ? 1 : 0));
  // Blocks of 4 output columns where the width allows (the kernel regroups any block shape).
  if (c.layout === 'bsr') attachSparse(t, bsrFromDense(t, c.N % 4 !== 0 ? [1, 1] : c.base === 'gemm' ? [4, 1] : [1, 4]));
  return t;
}

function build(c: Case, seed: number): { g: Graph; x: Tensor; b: Tensor } {
  const r = rngUnit(seed);
  const g = new GraphBuilder('sparse', 21);
  const x = g.input('x', 'float32', c.M);
  const bT = weights(c, r);
  let w = g.constant('w', bT);
  if (c.values !== 'float32') {
    const scale = c.perColumn
      ? new Tensor('float32', Float32Array.from({ length: c.N }, () => 0.001 + r() * 0.01), [c.N])
      : new Tensor('float32', Float32Array.of(0.004), []);
    w = g.op('DequantizeLinear', [w, g.constant('s', scale)], { axis: c.base === 'gemm' ? 0 : 1 });
  }
  const biasT = new Tensor('float32', Float32Array.from({ length: c.N }, () => r() - 0.5), [c.N]);
  let y: string;
  if (c.base === 'gemm') y = g.op('Gemm', [x, w, ...(c.bias ? [g.constant('c', biasT)] : [])], { transB: 1 });
  else {
    y = g.op('MatMul', [x, w]);
    if (c.bias) y = g.op('Add', [y, g.constant('bias', biasT)]);
  }
  if (c.act) y = g.op(c.act, [y]);
  g.output(y);
  const n = c.M.reduce((p, q) => p * q, 1);
  return { g: g.build(), b: bT, x: new Tensor('float32', Float32Array.from({ length: n }, () => r() * 2 - 1), c.M) };
}

function expectClose(got: Float32Array, want: Float32Array, K: number): void {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    const tol = 2e-7 * Math.sqrt(K) * (Math.abs(want[i]!) + scale * 0.05) + 1e-7;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) expect.fail(`[${i}] = ${got[i]}, want ${want[i]} (tolerance ${tol})`);
  }
}

describe('sparse weights on the WASM backend', () => {
  CASES.forEach((c, i) => {
    it(`${c.name}: within float32 rounding of the reference, no fallback, 1 = 2 threads`, async () => {
      const { g, x, b } = build(c, 300 + i);
      const M = c.M.slice(0, -1).reduce((p, q) => p * q, 1);
      expect(sparseKernelKind(b, M, c.base === 'gemm')).toBe(c.kernel);
      // What the session runs once session.ts applies the pass (applied here explicitly).
      const f = fuseDequantMatMul(fuseActivations(g));
      if (c.values !== 'float32') expect(f.nodes.map((n) => n.op)).not.toContain('DequantizeLinear');
      const want = (await (await InferenceSession.create(g, { backend: 'reference' })).run({ x }))[g.outputs[0]!.name]!;
      const outs: Float32Array[] = [];
      for (const threads of [1, 2]) {
        const s = await InferenceSession.create(f, { backend: 'wasm', threads });
        const got = (await s.run({ x }))[g.outputs[0]!.name]!;
        expect(s.fallbackNodes()).toEqual([]);
        expect(got.dims).toEqual(want.dims);
        expectClose(got.data as Float32Array, want.data as Float32Array, c.K);
        outs.push(got.data as Float32Array);
        await s.release();
      }
      expect(Array.from(outs[1]!)).toEqual(Array.from(outs[0]!));
    });
  });
});
