// The f32 GEMM kernel against the reference Gemm/MatMul kernels: shapes that are and are not
// multiples of the 64x64x16 tile, every transpose, each bias broadcast, alpha/beta, the Relu
// epilogue, batched MatMul. Outputs are pre-filled with NaN so an unwritten element fails. The bound
// is 1e-5 of the magnitude sum sum_k |alpha a_ik b_kj| (+ |beta c_ij|), the scale f32 rounding
// of a length-K dot product is relative to.
import { describe, expect, it } from 'vitest';
import '../../src/ops/index.js';
import type { AttrValue, Node } from '../../src/graph/ir.js';
import { KILN_DOMAIN } from '../../src/ops/fused.js';
import { evalNodeReference } from '../../src/ops/invoke.js';
import { encodeReadback, finishReadbacks, uploadF32 } from '../../src/backends/webgpu/buffers.js';
import { encodeGemm, PipelineCache } from '../../src/backends/webgpu/gemm.js';
import { lowerGemmNode } from '../../src/backends/webgpu/lower-gemm.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { randomF32, rng, testGpu } from './gpu.js';

const gpu = await testGpu('test/webgpu/gemm.test.ts');
/** Shared so each specialisation compiles once (slow on lavapipe). */
const pipelines = gpu.ctx ? new PipelineCache(gpu.ctx) : undefined;

interface GemmCase {
  M: number; N: number; K: number;
  transA?: boolean; transB?: boolean;
  alpha?: number; beta?: number;
  /** Dims of C (the bias); absent: no C. */
  bias?: number[];
  relu?: boolean;
}

const CASES: GemmCase[] = [
  { M: 1, N: 1, K: 1 },
  { M: 7, N: 5, K: 3, bias: [5] },
  { M: 64, N: 64, K: 64, transB: true, bias: [64, 64] },
  { M: 65, N: 63, K: 17, transA: true, bias: [65, 1], relu: true },
  { M: 100, N: 130, K: 257, transA: true, transB: true, alpha: 0.5, beta: 2, bias: [], relu: true },
  { M: 3, N: 200, K: 1, bias: [1, 200] },
  { M: 129, N: 1, K: 70, relu: true },
  { M: 128, N: 192, K: 48, transB: true, bias: [192], beta: 0 },
];

const label = (c: GemmCase): string =>
  `${c.M}x${c.N}x${c.K}${c.transA ? ' tA' : ''}${c.transB ? ' tB' : ''}${c.bias ? ` C[${c.bias.join(',')}]` : ''}` +
  `${c.alpha !== undefined ? ` alpha=${c.alpha}` : ''}${c.beta !== undefined ? ` beta=${c.beta}` : ''}${c.relu ? ' relu' : ''}`;

/** Max of |got - want| / bound over all elements, where bound = 1e-5 * magnitude (<= 1 passes). */
function worstError(got: Float32Array, want: Float32Array, mag: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    const r = err === 0 ? 0 : err / (1e-5 * mag[i]!);
    worst = Math.max(worst, Number.isNaN(got[i]!) ? Infinity : r);
  }
  return worst;
}

describe.skipIf(!gpu.ctx)('WebGPU f32 GEMM kernel', () => {
  it.each(CASES.map((c) => [label(c), c] as const))('%s matches the reference Gemm', async (_name, c) => {
    const ctx = gpu.ctx!;
    const next = rng(c.M * 7919 + c.N * 31 + c.K);
    const aDims = c.transA ? [c.K, c.M] : [c.M, c.K];
    const bDims = c.transB ? [c.N, c.K] : [c.K, c.N];
    const A = new Tensor(randomF32(c.M * c.K, next), aDims);
    const B = new Tensor(randomF32(c.K * c.N, next), bDims);
    const C = c.bias ? new Tensor(randomF32(c.bias.reduce((x, y) => x * y, 1), next), c.bias) : undefined;
    const attrs: Record<string, AttrValue> = {
      transA: c.transA ? 1 : 0, transB: c.transB ? 1 : 0, alpha: c.alpha ?? 1, beta: c.beta ?? 1,
      ...(c.relu ? { activation: 'Relu' } : {}),
    };
    const node: Node = {
      name: 'g', op: c.relu ? 'FusedGemm' : 'Gemm', domain: c.relu ? KILN_DOMAIN : '',
      inputs: C ? ['a', 'b', 'c'] : ['a', 'b'], outputs: ['y'], attrs,
    };
    const want = evalNodeReference(node, C ? [A, B, C] : [A, B])[0]!;
    const low = lowerGemmNode(node, [A, B, C].map((t) => (t ? { dtype: t.type, dims: t.dims } : undefined)));
    if (!('desc' in low)) throw new Error(`not lowered: ${low.reason}`);
    expect(low.outDims).toEqual([c.M, c.N]);

    const encoder = ctx.device.createCommandEncoder();
    const out = uploadF32(ctx, new Float32Array(c.M * c.N).fill(NaN));
    const bufs = { a: uploadF32(ctx, A.data as Float32Array), b: uploadF32(ctx, B.data as Float32Array), c: out };
    const biasBuf = low.desc.bias && C ? uploadF32(ctx, C.data as Float32Array) : undefined;
    const params = encodeGemm(ctx, pipelines!, encoder, low.desc, biasBuf ? { ...bufs, bias: biasBuf } : bufs);
    const rb = encodeReadback(ctx, encoder, out, c.M * c.N);
    ctx.device.queue.submit([encoder.finish()]);
    const [got] = await finishReadbacks([rb]);
    for (const b of [bufs.a, bufs.b, out, params, biasBuf]) b?.destroy();

    // Magnitude bound in float64.
    const alpha = c.alpha ?? 1;
    const beta = c.beta ?? 1;
    const mag = new Float64Array(c.M * c.N);
    const a = A.data as Float32Array;
    const b = B.data as Float32Array;
    for (let i = 0; i < c.M; i++) {
      for (let j = 0; j < c.N; j++) {
        let s = 0;
        for (let k = 0; k < c.K; k++) {
          s += Math.abs(alpha * (c.transA ? a[k * c.M + i]! : a[i * c.K + k]!) * (c.transB ? b[j * c.K + k]! : b[k * c.N + j]!));
        }
        if (C && beta !== 0) {
          const [bm, bn] = C.dims.length === 2 ? C.dims : [1, C.dims[0] ?? 1];
          s += Math.abs(beta * (C.data as Float32Array)[(bm === 1 ? 0 : i) * bn! + (bn === 1 ? 0 : j)]!);
        }
        mag[i * c.N + j] = s;
      }
    }
    expect(worstError(got!, want.data as Float32Array, mag)).toBeLessThanOrEqual(1);
  });
});
