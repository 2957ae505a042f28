// WASM kernels for Gemm and MatMul on f32: constant weights are packed once at plan time; bias,
// alpha/beta and a fused activation are applied in the GEMM's store.
import type { Tensor } from '../../../tensor/tensor.js';
import { registerWasmKernel, type PreparedKernel, type WasmMemory, type WasmPlanContext } from '../kernel.js';
import { GEMM_MIN_FLOPS_PER_THREAD, gemmF32Split } from '../threads/kernels.js';
import {
  EPILOGUE_F32_BYTES, gemmF32, gemmF32Exports, gemmF32ScratchBytes, packBBytesF32, packBF32, writeEpilogueF32,
  type ActivationF32, type BiasModeF32, type GemmF32Call, type GemmF32Exports,
} from '../kernels/gemm-f32.js';
import { align } from '../plan.js';
import { fusedActivation } from './fused-activation.js';

const f32 = (t: { dtype: string } | undefined) => t?.dtype === 'float32';

/** Where the packed copy of a constant operand lives inside the kernel's persistent block. */
const PACKED_OFFSET = align(EPILOGUE_F32_BYTES);

/**
 * One GEMM call, split over the session's thread pool when the work is worth it (the split keeps
 * a pre-packed operand whole so no thread repacks it).
 */
export function runGemm(mem: WasmMemory, ex: GemmF32Exports, call: GemmF32Call): void {
  const pool = mem.pool;
  if (pool) {
    const aPacked = Boolean(call.aPacked);
    const bPacked = Boolean(call.bPacked);
    const sp = gemmF32Split(call.M, call.N, call.K, aPacked, bPacked, pool.threads);
    if (sp.threads > 1) {
      const { M, N, K } = call;
      const lda = call.lda ?? (call.transA ? M : K);
      const ldb = call.ldb ?? (call.transB ? K : N);
      pool.run('gemmF32', [
        M, N, K, call.a, lda, call.transA ? 1 : 0, aPacked ? 1 : 0, call.b, ldb, call.transB ? 1 : 0, bPacked ? 1 : 0,
        call.c, call.ldc ?? N, call.epilogue ?? 0, call.scratch, 0, M, 0, N,
      ], sp.split, sp.extent, { scratch: { base: call.scratch, stride: mem.scratchStride }, maxThreads: sp.threads });
      return;
    }
  }
  gemmF32(ex, call);
}

/** Whether a GEMM of this size can use more than one thread. */
export const worthThreads = (M: number, N: number, K: number): boolean => 2 * M * N * K >= 2 * GEMM_MIN_FLOPS_PER_THREAD;

/** Stages a constant in scratch memory and packs it as GEMM B (K x N, or N x K when transposed). */
function packConstantB(ex: GemmF32Exports, mem: WasmMemory, t: Tensor, K: number, N: number, transB: boolean, dst: number, scratch: number): void {
  mem.write(scratch, t);
  packBF32(ex, K, N, scratch, dst, transB);
}

function biasModeOf(dims: readonly number[] | undefined, M: number, N: number): BiasModeF32 | undefined {
  if (!dims) return 'none';
  const size = dims.reduce((a, b) => a * b, 1);
  const last = dims[dims.length - 1] ?? 1;
  const second = dims.length >= 2 ? dims[dims.length - 2]! : 1;
  if (size === 1) return 'scalar';
  if (dims.length <= 2 && second === 1 && last === N) return 'col';
  if (dims.length === 2 && second === M && last === 1) return 'row';
  if (dims.length === 2 && second === M && last === N) return 'full';
  return undefined;
}

function gemmFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const [a, b, c] = ctx.inputs;
  const y = ctx.outputs[0]!;
  if (!f32(a) || !f32(b) || !f32(y) || (c && !f32(c))) return undefined;
  const activation = fusedActivation(ctx);
  if (!activation) return undefined;
  const transA = ctx.attrs.int('transA') === 1;
  const transB = ctx.attrs.int('transB') === 1;
  const alpha = ctx.attrs.float('alpha');
  const beta = ctx.attrs.float('beta');
  const [M, N] = y.dims as [number, number];
  const K = transA ? a!.dims[0]! : a!.dims[1]!;
  const biasMode = biasModeOf(c?.dims, M, N);
  if (!biasMode) return undefined;
  const ex = gemmF32Exports(ctx.exports);
  const bConst = ctx.constant(1);
  const packedBytes = bConst ? packBBytesF32(ex, K, N) : 0;
  const runScratch = gemmF32ScratchBytes(ex, M, N, K, false, Boolean(bConst));
  return {
    threaded: worthThreads(M, N, K),
    persistentBytes: PACKED_OFFSET + packedBytes,
    scratchBytes: Math.max(runScratch, bConst ? bConst.size * 4 : 0),
    packedInputs: bConst ? [1] : [],
    init(mem, p, scratch) {
      if (bConst) packConstantB(ex, mem, bConst, K, N, transB, p + PACKED_OFFSET, scratch);
    },
    run(mem, [av, bv, cv], [yv], scratch, p) {
      writeEpilogueF32(mem.buffer(), p, { activation, alpha, beta, biasPtr: cv?.ptr ?? 0, biasMode, biasLd: N });
      runGemm(mem, ex, {
        M, N, K, a: av!.ptr, transA,
        b: bConst ? p + PACKED_OFFSET : bv!.ptr, transB, bPacked: Boolean(bConst),
        c: yv!.ptr, epilogue: p, scratch,
      });
    },
  };
}

/**
 * MatMul: rows of A (any leading dims) times a 2-D B is one GEMM; with batched B, one GEMM per
 * output matrix, broadcasting batch dims. A bias from FusedMatMul is added per column.
 */
function matmulFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const [a, b, bias] = ctx.inputs;
  const y = ctx.outputs[0]!;
  if (!f32(a) || !f32(b) || !f32(y) || (bias && !f32(bias))) return undefined;
  const activation = fusedActivation(ctx);
  if (!activation) return undefined;
  const ad = a!.dims;
  const bd = b!.dims;
  const K = ad[ad.length - 1]!;
  const N = bd.length === 1 ? 1 : bd[bd.length - 1]!;
  const ex = gemmF32Exports(ctx.exports);
  const biasMode: BiasModeF32 = bias ? (bias.dims.reduce((p, q) => p * q, 1) === N ? 'col' : 'scalar') : 'none';
  if (bias && biasMode === 'scalar' && bias.dims.reduce((p, q) => p * q, 1) !== 1) return undefined;

  if (bd.length <= 2) {
    // Fold every leading dim of A into the rows of one GEMM.
    const M = ad.length === 1 ? 1 : ad.slice(0, -1).reduce((p, q) => p * q, 1);
    const bConst = ctx.constant(1);
    const packedBytes = bConst ? packBBytesF32(ex, K, N) : 0;
    return {
      threaded: worthThreads(M, N, K),
      persistentBytes: PACKED_OFFSET + packedBytes,
      scratchBytes: Math.max(gemmF32ScratchBytes(ex, M, N, K, false, Boolean(bConst)), bConst ? bConst.size * 4 : 0),
      packedInputs: bConst ? [1] : [],
      init(mem, p, scratch) {
        if (bConst) packConstantB(ex, mem, bConst, K, N, false, p + PACKED_OFFSET, scratch);
      },
      run(mem, [av, bv, biasV], [yv], scratch, p) {
        if (M === 0 || N === 0) return;
        writeEpilogueF32(mem.buffer(), p, { activation, biasPtr: biasV?.ptr ?? 0, biasMode });
        runGemm(mem, ex, { M, N, K, a: av!.ptr, b: bConst ? p + PACKED_OFFSET : bv!.ptr, bPacked: Boolean(bConst), c: yv!.ptr, epilogue: p, scratch });
      },
    };
  }
  if (ad.length < 2) return undefined;
  // Batched: output [...batch, M, N]; A and B batch dims broadcast against the output's.
  const M = ad[ad.length - 2]!;
  const batchDims = y.dims.slice(0, -2);
  const batches = batchDims.reduce((p, q) => p * q, 1);
  const offsetOf = (dims: readonly number[], matrix: number) => {
    const bdims = dims.slice(0, -2);
    const strides = new Array<number>(batchDims.length).fill(0);
    let acc = matrix;
    for (let i = bdims.length - 1, j = batchDims.length - 1; i >= 0; i--, j--) {
      if (bdims[i] !== 1) strides[j] = acc;
      acc *= bdims[i]!;
    }
    return Int32Array.from({ length: batches }, (_, n) => {
      let rem = n;
      let off = 0;
      for (let d = batchDims.length - 1; d >= 0; d--) {
        off += (rem % batchDims[d]!) * strides[d]!;
        rem = Math.floor(rem / batchDims[d]!);
      }
      return off;
    });
  };
  const aOff = offsetOf(ad, M * K);
  const bOff = offsetOf(bd, K * N);
  return {
    threaded: worthThreads(M, N, K),
    persistentBytes: PACKED_OFFSET,
    scratchBytes: gemmF32ScratchBytes(ex, M, N, K, false, false),
    run(mem, [av, bv, biasV], [yv], scratch, p) {
      writeEpilogueF32(mem.buffer(), p, { activation, biasPtr: biasV?.ptr ?? 0, biasMode });
      for (let n = 0; n < batches; n++) {
        runGemm(mem, ex, { M, N, K, a: av!.ptr + 4 * aOff[n]!, b: bv!.ptr + 4 * bOff[n]!, c: yv!.ptr + 4 * n * M * N, epilogue: p, scratch });
      }
    },
  };
}

registerWasmKernel('Gemm', gemmFactory);
registerWasmKernel('MatMul', matmulFactory);
registerWasmKernel('FusedGemm', gemmFactory, 'ai.kiln');
registerWasmKernel('FusedMatMul', matmulFactory, 'ai.kiln');

