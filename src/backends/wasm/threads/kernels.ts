// The kernels the thread pool can split, by name. To make a new kernel splittable, give it a
// [lo, hi) sub-range parameter pair (and a scratch pointer if it packs), then add an entry here:
// its export name, its signature ('i' = i32/usize, 'f' = f32) and where the ranges sit.
import type { KernelTable } from './protocol.js';

export const DEFAULT_KERNELS: KernelTable = {
  // assembly/gemm_f32.ts:
  // gemmF32(M, N, K, a, lda, transA, aPacked, b, ldb, transB, bPacked, c, ldc, epi, scratch, m0, m1, n0, n1)
  // Rows align to the 4-row micro-tile, columns to the 8-column one (gemmF32TileRows/Cols), so
  // pre-packed operands never have a panel cut between threads.
  gemmF32: {
    export: 'gemmF32',
    args: 'iiiiiiiiiiiiiiiiiii',
    splits: { m: { lo: 15, hi: 16, align: 4 }, n: { lo: 17, hi: 18, align: 8 } },
    scratchArg: 14,
  },
  // assembly/gemm_i8.ts, on operands packed by gemmI8Pack*; no scratch:
  // gemmI8(lhs, rhs, M, N, K, path, m0, m1, n0, n1, out, ldo, outKind, bias, mult, multPerChan, zp, zpPerChan, axisCols)
  gemmI8: {
    export: 'gemmI8',
    args: 'iiiiiiiiiiiiiiiiiii',
    splits: { m: { lo: 6, hi: 7, align: 4 }, n: { lo: 8, hi: 9, align: 8 } },
  },
  // A setter whose flag lives in each instance's globals: run it with pool.broadcast, not run.
  gemmI8SetWeightsOnLhs: { export: 'gemmI8SetWeightsOnLhs', args: 'i', splits: {} },
};

/** How to split one f32 GEMM: the dimension, its extent and how many threads are worth waking. */
export interface GemmSplit {
  split: 'm' | 'n';
  extent: number;
  threads: number;
}

/**
 * Work below which one more thread does not pay for itself. Waking a sleeping worker costs tens of
 * microseconds, a spinning one well under one; inside a model run the workers are still spinning
 * from the previous op, so 0.5 MFLOP (~12 us of single-thread GEMM here) is enough. Measured on
 * ultraface-RFB-320 with 2 threads: 2^21 -> 1.27x, 2^19 -> 1.44x, 2^17 -> 1.54x but mnist-8 0.84x.
 */
export const GEMM_MIN_FLOPS_PER_THREAD = 2 ** 19;

/**
 * Picks the split for gemmF32 over at most `threads` threads. Each thread packs, on the fly, the
 * whole of the operand that is not split (B for a row split, A for a column split), so the split
 * goes where that duplicated packing is cheaper: free when that operand is pre-packed. Batch-1
 * products split the long side (the kernel's GEMV paths take sub-ranges too).
 */
export function gemmF32Split(M: number, N: number, K: number, aPacked: boolean, bPacked: boolean, threads: number): GemmSplit {
  const byWork = Math.floor((2 * M * N * K) / GEMM_MIN_FLOPS_PER_THREAD);
  let split: 'm' | 'n';
  if (M === 1) split = 'n';
  else if (N === 1) split = 'm';
  else {
    const dupM = bPacked ? 0 : K * N; // a row split repacks B on every thread
    const dupN = aPacked ? 0 : M * K;
    split = dupM < dupN || (dupM === dupN && M >= N) ? 'm' : 'n';
  }
  const extent = split === 'm' ? M : N;
  const tiles = Math.ceil(extent / (split === 'm' ? 4 : 8));
  return { split, extent, threads: Math.max(1, Math.min(threads, byWork, tiles)) };
}
