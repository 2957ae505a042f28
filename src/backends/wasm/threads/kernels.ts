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
