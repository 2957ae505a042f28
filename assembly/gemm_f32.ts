// f32 GEMM: C[M, N] = epilogue(A[M, K] . B[K, N]) with packed operands, a 4x8 register-blocked
// micro-kernel and cache blocking (BLIS loop order jc -> pc -> ic -> jr -> ir).
//
// Why 4x8: V8 allocates only xmm0..xmm14 for wasm SIMD and schedules all loads of a loop body first,
// so a micro-kernel must fit accumulators + every loaded operand of one k-step in 15 registers:
// 8 accumulators + 2 B vectors + 4 A broadcasts (+1 temp for mul+add) fits; 6x8, 4x12 or a
// k-unrolled body spill. Measured in L1 on this machine: 46.8 GFLOP/s with mul+add (ceiling 47.6),
// 55 with relaxed madd (ceiling 58.5). Batch-1 products (one row or one column of C) take the GEMV
// loops in gemv_f32.ts instead.
import {
  applyEpilogueF32, epilogueBiasIsC, epilogueBiasIsScalar, epilogueBiasPtr, epilogueClampHi, epilogueClampLo,
  epilogueInPlacePrepare, epilogueIsIdentity, epilogueKernelFuse, FUSE_COL, FUSE_OFF, FUSE_ROW,
} from './epilogue_f32';
import { MR, NR, packAPanels, packBPanels, roundUp } from './pack_f32';
import { gemvColumnF32, gemvRowF32, gemvScratchBytes } from './gemv_f32';

export { gemmF32PackA, gemmF32PackABytes, gemmF32PackB, gemmF32PackBBytes } from './pack_f32';
export { applyEpilogueF32, epilogueActivateF32, epilogueF32Bytes } from './epilogue_f32';

// Cache blocking: a kc x NR B micro-panel (12 KB) stays in L1 across the ir loop, the MC x kc A block
// (96 KB) in L2, the kc x NC B block (768 KB) in L2/L3. K is cut into equal blocks of at most KC
// (K = 576 -> 2 x 288, not 384 + 192), so no block is short. Measured: 256..512 for KC, 32..128 for
// MC and 256..1024 for NC are all within noise at 256^3..1024^3 on this machine.
const KC: i32 = 384;
const MC: i32 = 64;
const NC: i32 = 512;
/** Bytes reserved at the start of scratch: one edge tile (128) and an epilogue block copy (32). */
const TILE_BYTES: usize = 256;
const EPI_COPY: usize = 128;

/** The micro-tile shape, for callers that split work at tile boundaries (threads). */
export function gemmF32TileRows(): i32 {
  return MR;
}
export function gemmF32TileCols(): i32 {
  return NR;
}

/**
 * C tile (4 x 8 at c, row stride ldcBytes) = (accumulate ? C : 0) + Apanel . Bpanel over kc >= 1 steps,
 * then, when fuse != FUSE_OFF, + bias and clamped to [lo, hi] (Relu, Clip, or none with infinities).
 * a: kc * 4 floats (k-major), b: kc * 8 floats (k-major). bias: FUSE_ROW: the tile's first row's
 * value, bstep bytes between rows (0 for a scalar bias); FUSE_COL: the tile's first column's value.
 */
function kernel4x8(kc: i32, a: usize, b: usize, c: usize, ldcBytes: usize, accumulate: bool, fuse: i32, bias: usize, bstep: usize, lo: f32, hi: f32): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  // One induction variable for both panels (A advances 16 bytes per k, B twice that): this form
  // makes V8 interleave the multiplies and adds so that mul+add runs at 46.8 GFLOP/s in L1 instead
  // of 42.6 with two pointers (relaxed madd: 55 either way).
  const end = <usize>kc << 4;
  let off: usize = 0;
  do {
    const b0 = v128.load(b + (off << 1));
    const b1 = v128.load(b + (off << 1), 16);
    const a0 = v128.load32_splat(a + off);
    const a1 = v128.load32_splat(a + off, 4);
    const a2 = v128.load32_splat(a + off, 8);
    const a3 = v128.load32_splat(a + off, 12);
    if (ASC_FEATURE_RELAXED_SIMD) {
      c00 = f32x4.relaxed_madd(a0, b0, c00);
      c01 = f32x4.relaxed_madd(a0, b1, c01);
      c10 = f32x4.relaxed_madd(a1, b0, c10);
      c11 = f32x4.relaxed_madd(a1, b1, c11);
      c20 = f32x4.relaxed_madd(a2, b0, c20);
      c21 = f32x4.relaxed_madd(a2, b1, c21);
      c30 = f32x4.relaxed_madd(a3, b0, c30);
      c31 = f32x4.relaxed_madd(a3, b1, c31);
    } else {
      c00 = f32x4.add(c00, f32x4.mul(a0, b0));
      c01 = f32x4.add(c01, f32x4.mul(a0, b1));
      c10 = f32x4.add(c10, f32x4.mul(a1, b0));
      c11 = f32x4.add(c11, f32x4.mul(a1, b1));
      c20 = f32x4.add(c20, f32x4.mul(a2, b0));
      c21 = f32x4.add(c21, f32x4.mul(a2, b1));
      c30 = f32x4.add(c30, f32x4.mul(a3, b0));
      c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    }
    off += 16;
  } while (off < end);
  const r1 = c + ldcBytes;
  const r2 = r1 + ldcBytes;
  const r3 = r2 + ldcBytes;
  // Row by row: V8 keeps effectful ops in source order, so each row needs only a few extra
  // registers; loading all of C first would need eight and spill an accumulator in the k-loop.
  if (fuse == FUSE_OFF) {
    storeRow(c, c00, c01, accumulate);
    storeRow(r1, c10, c11, accumulate);
    storeRow(r2, c20, c21, accumulate);
    storeRow(r3, c30, c31, accumulate);
    return;
  }
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  let bc0 = f32x4.splat(0);
  let bc1 = f32x4.splat(0);
  if (fuse == FUSE_COL) {
    bc0 = v128.load(bias);
    bc1 = v128.load(bias, 16);
  }
  const rowBias = fuse == FUSE_ROW;
  storeRowFused(c, c00, c01, accumulate, rowBias ? v128.load32_splat(bias) : bc0, rowBias ? v128.load32_splat(bias) : bc1, vlo, vhi);
  storeRowFused(r1, c10, c11, accumulate, rowBias ? v128.load32_splat(bias + bstep) : bc0, rowBias ? v128.load32_splat(bias + bstep) : bc1, vlo, vhi);
  storeRowFused(r2, c20, c21, accumulate, rowBias ? v128.load32_splat(bias + 2 * bstep) : bc0, rowBias ? v128.load32_splat(bias + 2 * bstep) : bc1, vlo, vhi);
  storeRowFused(r3, c30, c31, accumulate, rowBias ? v128.load32_splat(bias + 3 * bstep) : bc0, rowBias ? v128.load32_splat(bias + 3 * bstep) : bc1, vlo, vhi);
}

// @ts-ignore: decorator
@inline
function storeRow(p: usize, v0: v128, v1: v128, accumulate: bool): void {
  if (accumulate) {
    v0 = f32x4.add(v0, v128.load(p));
    v1 = f32x4.add(v1, v128.load(p, 16));
  }
  v128.store(p, v0);
  v128.store(p, v1, 16);
}

// @ts-ignore: decorator
@inline
function storeRowFused(p: usize, v0: v128, v1: v128, accumulate: bool, b0: v128, b1: v128, lo: v128, hi: v128): void {
  if (accumulate) {
    v0 = f32x4.add(v0, v128.load(p));
    v1 = f32x4.add(v1, v128.load(p, 16));
  }
  v128.store(p, f32x4.pmin(f32x4.pmax(f32x4.add(v0, b0), lo), hi));
  v128.store(p, f32x4.pmin(f32x4.pmax(f32x4.add(v1, b1), lo), hi), 16);
}

/**
 * Computes C[m0..m1) x [n0..n1) from packed blocks. aBlock/bBlock address the panels holding rows
 * rowBase.. and columns colBase.. (rowBase % MR == 0 relative to the packing, same for colBase);
 * aStride/bStride are the byte distances between consecutive panels; kc is the K-block length and
 * first/last say whether this is the first / last K-block.
 */
function macroBlock(
  aBlock: usize, aStride: usize, rowBase: i32, bBlock: usize, bStride: usize, colBase: i32, kc: i32,
  c: usize, ldc: i32, m0: i32, m1: i32, n0: i32, n1: i32, first: bool, last: bool,
  epi: usize, epiBiasRow0: i32, tile: usize,
): void {
  // first: overwrite C with the block's product; otherwise add to what C holds.
  const ldcBytes = <usize>ldc << 2;
  // Bias + Relu/Clip go into the micro-kernel's store; anything else is a pass over each tile.
  const fuse = last ? epilogueKernelFuse(epi) : FUSE_OFF;
  const runEpi = last && fuse == FUSE_OFF && !epilogueIsIdentity(epi);
  const bias: usize = fuse == FUSE_OFF ? 0 : epilogueBiasPtr(epi);
  const bstep: usize = fuse == FUSE_ROW && epilogueBiasIsScalar(epi) ? 0 : 4;
  const lo = epilogueClampLo(epi);
  const hi = epilogueClampHi(epi);
  for (let s = colBase; s < n1; s += NR) {
    const bp = bBlock + <usize>((s - colBase) / NR) * bStride;
    const cs0 = max(s, n0);
    const cs1 = min(s + NR, n1);
    const colBias: usize = fuse == FUSE_COL ? bias + (<usize>s << 2) : 0;
    for (let r = rowBase; r < m1; r += MR) {
      const ap = aBlock + <usize>((r - rowBase) / MR) * aStride;
      const rs0 = max(r, m0);
      const rs1 = min(r + MR, m1);
      if (rs0 == r && rs1 == r + MR && cs0 == s && cs1 == s + NR) {
        const tb: usize = fuse == FUSE_COL ? colBias : bias + <usize>(r + epiBiasRow0) * bstep;
        kernel4x8(kc, ap, bp, c + <usize>r * ldcBytes + (<usize>s << 2), ldcBytes, !first, fuse, tb, bstep, lo, hi);
      } else {
        // Edge tile: compute the full padded tile into scratch, merge only the owned part.
        kernel4x8(kc, ap, bp, tile, NR << 2, false, FUSE_OFF, 0, 0, 0, 0);
        for (let i = rs0; i < rs1; i++) {
          const crow = c + <usize>i * ldcBytes;
          const trow = tile + (<usize>((i - r) * NR) << 2);
          for (let j = cs0; j < cs1; j++) {
            const t = load<f32>(trow + (<usize>(j - s) << 2));
            const p = crow + (<usize>j << 2);
            store<f32>(p, first ? t : load<f32>(p) + t);
          }
        }
        // Edge tiles take the fused epilogue as a pass too.
        if (fuse != FUSE_OFF) applyEpilogueF32(epi, c, ldc, rs0, rs1, cs0, cs1, epiBiasRow0);
      }
      if (runEpi) applyEpilogueF32(epi, c, ldc, rs0, rs1, cs0, cs1, epiBiasRow0);
    }
  }
}

/**
 * Core blocked GEMM over C[m0..m1) x [n0..n1). Packed operands cover the whole matrix (pre-packed
 * by gemmF32PackA/B); unpacked ones are packed block by block into scratch.
 */
export function gemmF32Blocked(
  M: i32, N: i32, K: i32,
  a: usize, lda: i32, transA: i32, aPacked: i32,
  b: usize, ldb: i32, transB: i32, bPacked: i32,
  c: usize, ldc: i32, epi: usize, epiBiasRow0: i32, scratch: usize,
  m0: i32, m1: i32, n0: i32, n1: i32, accumulateOnC: bool,
): void {
  const tile = scratch;
  const kcMax = min(KC, K);
  const kcStep = (K + (K + KC - 1) / KC - 1) / ((K + KC - 1) / KC);
  const aBuf = tile + TILE_BYTES;
  // Same sizes as gemmF32ScratchBytes: an A block holds at most min(MC, M rounded to MR) rows.
  const bBuf = aBuf + (aPacked ? 0 : <usize>min(MC, roundUp(M, MR)) * <usize>kcMax * 4);
  // Packed operands start their panels at multiples of MR / NR; blocks then start there too.
  const mStart = aPacked ? (m0 / MR) * MR : m0;
  const nStart = bPacked ? (n0 / NR) * NR : n0;
  for (let jc = nStart; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += kcStep) {
      const kc = min(kcStep, K - pc);
      let bBlock: usize;
      let bStride: usize;
      if (bPacked) {
        bStride = (<usize>K * NR) << 2;
        bBlock = b + <usize>(jc / NR) * bStride + ((<usize>pc * NR) << 2);
      } else {
        bStride = (<usize>kc * NR) << 2;
        const src = b + ((transB ? <usize>jc * <usize>ldb + <usize>pc : <usize>pc * <usize>ldb + <usize>jc) << 2);
        packBPanels(src, ldb, transB, kc, nc, bBuf);
        bBlock = bBuf;
      }
      for (let ic = mStart; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        let aBlock: usize;
        let aStride: usize;
        if (aPacked) {
          aStride = (<usize>K * MR) << 2;
          aBlock = a + <usize>(ic / MR) * aStride + ((<usize>pc * MR) << 2);
        } else {
          aStride = (<usize>kc * MR) << 2;
          const src = a + ((transA ? <usize>pc * <usize>lda + <usize>ic : <usize>ic * <usize>lda + <usize>pc) << 2);
          packAPanels(src, lda, transA, mc, kc, aBuf);
          aBlock = aBuf;
        }
        macroBlock(aBlock, aStride, ic, bBlock, bStride, jc, kc, c, ldc,
          max(m0, ic), ic + mc, max(n0, jc), jc + nc, pc == 0 && !accumulateOnC, pc + kc == K, epi, epiBiasRow0, tile);
      }
    }
  }
}

/** Scratch bytes gemmF32 needs for this problem (any sub-range needs at most this much). */
export function gemmF32ScratchBytes(M: i32, N: i32, K: i32, aPacked: i32, bPacked: i32): usize {
  const kc = <usize>min(KC, max(K, 1));
  let bytes: usize = TILE_BYTES;
  if (!aPacked) bytes += <usize>min(MC, roundUp(M, MR)) * kc * 4;
  if (!bPacked) bytes += <usize>min(NC, roundUp(N, NR)) * kc * 4;
  const gemv = TILE_BYTES + gemvScratchBytes(M, N, K);
  return max(bytes, gemv);
}

/**
 * C[m0..m1) x [n0..n1) = epilogue(op(A) . op(B)), op(A) M x K, op(B) K x N, all f32, ld* in elements.
 * aPacked / bPacked: the operand was pre-packed by gemmF32PackA / gemmF32PackB (then ld and trans are
 * ignored). epi: epilogue block (0 for none; see epilogue_f32.ts). scratch: gemmF32ScratchBytes bytes,
 * 16-byte aligned, private to this call. The sub-range lets workers split one product; with packed
 * operands a split at multiples of gemmF32TileRows / gemmF32TileCols avoids recomputing edge tiles.
 */
export function gemmF32(
  M: i32, N: i32, K: i32,
  a: usize, lda: i32, transA: i32, aPacked: i32,
  b: usize, ldb: i32, transB: i32, bPacked: i32,
  c: usize, ldc: i32, epi: usize, scratch: usize,
  m0: i32, m1: i32, n0: i32, n1: i32,
): void {
  m1 = min(m1, M);
  n1 = min(n1, N);
  if (m0 >= m1 || n0 >= n1) return;
  if (epilogueBiasIsC(epi, c, ldc)) {
    // In place: C = act(alpha A.B + beta C). Pre-scale C, then accumulate the product onto it.
    const epiCopy = scratch + EPI_COPY;
    if (!epilogueInPlacePrepare(epi, c, ldc, m0, m1, n0, n1, epiCopy) || K == 0) return;
    gemmF32Blocked(M, N, K, a, lda, transA, aPacked, b, ldb, transB, bPacked, c, ldc, epiCopy, 0, scratch, m0, m1, n0, n1, true);
    return;
  }
  if (K == 0) {
    for (let i = m0; i < m1; i++) memory.fill(c + ((<usize>i * <usize>ldc + <usize>n0) << 2), 0, <usize>(n1 - n0) << 2);
    applyEpilogueF32(epi, c, ldc, m0, m1, n0, n1, 0);
    return;
  }
  // The GEMV loops sum in another order than the blocked kernel: choose by the whole problem, not by
  // the sub-range, so that a thread split (which may leave a 1-row chunk) gives the same bits.
  if (M == 1) {
    gemvRowF32(M, N, K, a, lda, transA, aPacked, b, ldb, transB, bPacked, c, ldc, epi, scratch + TILE_BYTES, m0, n0, n1);
    return;
  }
  if (N == 1) {
    gemvColumnF32(M, N, K, a, lda, transA, aPacked, b, ldb, transB, bPacked, c, ldc, epi, scratch + TILE_BYTES, n0, m0, m1);
    return;
  }
  gemmF32Blocked(M, N, K, a, lda, transA, aPacked, b, ldb, transB, bPacked, c, ldc, epi, 0, scratch, m0, m1, n0, n1, false);
}
