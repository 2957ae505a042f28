// Pointwise Conv with a sparse weight on the WASM backend (ops/sparse-conv.ts: per image, CSR W
// times the [Cin, pixels] input through spmmCsr): 1-D and 2-D, several images, pixel counts that
// leave vector tails, bias + fused activation, 1 and 2 threads bit-identical; results within
// float32 rounding of the reference backend. Non-pointwise convs and too-dense weights keep the
// dense Conv kernels (and stay correct).
import { describe, expect, it } from 'vitest';
import { pointwiseCsr } from '../../src/backends/wasm/ops/sparse-conv.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { csrFromDense } from '../../src/tensor/sparse-csr.js';
import { attachSparse } from '../../src/tensor/sparse.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { rngUnit } from './module-setup.js';

interface Case {
  name: string;
  x: number[];
  cout: number;
  kernel: number[];
  density: number;
  bias?: boolean;
  act?: 'Relu' | 'Sigmoid';
  /** Whether the sparse pointwise kernel takes it. */
  sparse: boolean;
}

const CASES: Case[] = [
  { name: '2-D 1x1, 90% zeros', x: [1, 32, 7, 5], cout: 24, kernel: [1, 1], density: 0.1, sparse: true },
  { name: '2-D 1x1, 2 images, bias + Relu', x: [2, 40, 9, 9], cout: 33, kernel: [1, 1], density: 0.15, bias: true, act: 'Relu', sparse: true },
  { name: '1-D 1x1, bias + Sigmoid', x: [1, 17, 70], cout: 8, kernel: [1], density: 0.2, bias: true, act: 'Sigmoid', sparse: true },
  { name: '2-D 1x1, threaded', x: [1, 256, 32, 32], cout: 256, kernel: [1, 1], density: 0.1, bias: true, sparse: true },
  { name: '3x3 conv with a sparse weight (dense conv kernel)', x: [1, 8, 6, 6], cout: 8, kernel: [3, 3], density: 0.1, bias: true, sparse: false },
  { name: '1x1 too dense (dense conv kernel)', x: [1, 16, 5, 5], cout: 8, kernel: [1, 1], density: 0.7, sparse: false },
];

function build(c: Case, seed: number) {
  const r = rngUnit(seed);
  const cin = c.x[1]!;
  const wDims = [c.cout, cin, ...c.kernel];
  const n = wDims.reduce((a, b) => a * b, 1);
  const w = new Tensor('float32', Float32Array.from({ length: n }, () => (r() < c.density ? r() * 2 - 1 : 0)), wDims);
  attachSparse(w, csrFromDense(w));
  const g = new GraphBuilder('sparse-conv', 21);
  const x = g.input('x', 'float32', c.x);
  const bias = new Tensor('float32', Float32Array.from({ length: c.cout }, () => r() - 0.5), [c.cout]);
  let y = g.op('Conv', [x, g.constant('w', w), ...(c.bias ? [g.constant('b', bias)] : [])], { kernel_shape: c.kernel });
  if (c.act) y = g.op(c.act, [y]);
  g.output(y);
  const xs = c.x.reduce((a, b) => a * b, 1);
  return { g: g.build(), w, x: new Tensor('float32', Float32Array.from({ length: xs }, () => r() * 2 - 1), c.x) };
}

describe('pointwise Conv with a sparse weight on the WASM backend', () => {
  CASES.forEach((c, i) => {
    it(`${c.name}: within float32 rounding of the reference, 1 = 2 threads`, async () => {
      const { g, w, x } = build(c, 500 + i);
      expect(c.kernel.every((k) => k === 1) && pointwiseCsr(w) !== undefined).toBe(c.sparse);
      const want = (await (await InferenceSession.create(g, { backend: 'reference' })).run({ x }))[g.outputs[0]!.name]!;
      const wd = want.data as Float32Array;
      const scale = wd.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const outs: Float32Array[] = [];
      for (const threads of [1, 2]) {
        const s = await InferenceSession.create(g, { backend: 'wasm', threads });
        const got = (await s.run({ x }))[g.outputs[0]!.name]!;
        expect(s.fallbackNodes()).toEqual([]);
        expect(got.dims).toEqual(want.dims);
        const gd = got.data as Float32Array;
        const K = c.x[1]! * c.kernel.reduce((a, b) => a * b, 1);
        for (let j = 0; j < wd.length; j++) {
          const tol = 2e-7 * Math.sqrt(K) * (Math.abs(wd[j]!) + scale * 0.05) + 1e-7;
          if (!(Math.abs(gd[j]! - wd[j]!) <= tol)) expect.fail(`[${j}] = ${gd[j]}, want ${wd[j]} (tolerance ${tol})`);
        }
        outs.push(gd);
        await s.release();
      }
      expect(Array.from(outs[1]!)).toEqual(Array.from(outs[0]!));
    });
  });
});
