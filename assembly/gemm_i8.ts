// int8 GEMM with int32 accumulation: C[m, n] = sum_k (L[m, k] - zL) * (R[k, n] - zR), written as raw
// int32 (MatMulInteger, ConvInteger) or requantized to u8/s8 (QLinearMatMul, QLinearConv).
//
// Both operands are packed first (gemm_i8_pack.ts): L into panels of MR = 4 rows, R into panels of
// NR = 8 columns. A panel is a header (per-row/column correction terms) followed by "words": one
// word = 4 bytes = one k-group of one row/column, ordered [k-group][row or column in panel].
//
// Two paths, picked when the weights are packed:
//  path 0 (both builds): values widened to i16 with their zero points already subtracted at pack
//    time ((x - z) fits i16 for any u8/s8 x and z), so a k-group is 2 values, the inner loop is
//    i32x4.dot_i16x8_s + i32x4.add, and no correction terms are needed.
//  path 1 (relaxed build): i16x8.relaxed_dot_i8x16_i7x16_s on 4-value k-groups. It is exact only when
//    one operand lies in [0, 127]: x86 lowers it to pmaddubsw, which reads that operand as unsigned
//    and would saturate i16 pair sums for larger values. So the weight operand is packed as
//    (w - zw + t) with a per-row/column offset t that brings it into [0, 127] (possible only when a
//    row/column of w - zw spans at most 127: 7-bit weights; the packer checks and reports), and the
//    activation operand as s8 (x - 128 for u8). The offsets are undone in the epilogue with the row and
//    column sums kept in the panel headers (see gemm_i8_pack.ts):
//      acc = dot' - S_L[m] * t_R[n] + t_L[m] * U_R[n],  U_R = K * t_R - S_R.
//    Per 16 multiply-adds path 1 issues 3 vector ops (pmaddubsw, pmaddwd by ones, add) against 4 for
//    path 0; both use two multiplier-pipe ops, so path 1 wins only on issue width (~105 vs ~80
//    GOP/s in the micro-kernel on Zen 4) but needs 7-bit weights. Full-range int8 weights use path 0.

import {
  requantBand32, requantBase32, requantExact, requantF32x4, requantLim32, requantMagic32, requantNegLim32, requantValue32,
} from './requant_i8';

export const GEMM_I8_MR: i32 = 4;
export const GEMM_I8_NR: i32 = 8;

/** Bytes of the LHS panel header: S_L[MR] then t_L[MR] (i32). */
export const LHS_HEADER: i32 = 32;
/** Bytes of the RHS panel header: t_R[NR] then U_R[NR] (i32). */
export const RHS_HEADER: i32 = 64;

/** K rounded up so every panel holds whole unrolled k-steps: 8 for path 0, 16 for path 1. */
export function gemmI8PaddedK(k: i32, path: i32): i32 {
  return path == 1 ? (k + 15) & ~15 : (k + 7) & ~7;
}

/** k values per 4-byte word. */
@inline export function kGroupOf(path: i32): i32 {
  return path == 1 ? 4 : 2;
}

export function gemmI8LhsPanelBytes(k: i32, path: i32): i32 {
  return LHS_HEADER + (gemmI8PaddedK(k, path) / kGroupOf(path)) * GEMM_I8_MR * 4;
}

export function gemmI8RhsPanelBytes(k: i32, path: i32): i32 {
  return RHS_HEADER + (gemmI8PaddedK(k, path) / kGroupOf(path)) * GEMM_I8_NR * 4;
}

/** Bytes of a packed LHS for an M x K operand. */
export function gemmI8LhsBytes(m: i32, k: i32, path: i32): usize {
  return <usize>((m + GEMM_I8_MR - 1) / GEMM_I8_MR) * <usize>gemmI8LhsPanelBytes(k, path);
}

/** Bytes of a packed RHS for a K x N operand. */
export function gemmI8RhsBytes(k: i32, n: i32, path: i32): usize {
  return <usize>((n + GEMM_I8_NR - 1) / GEMM_I8_NR) * <usize>gemmI8RhsPanelBytes(k, path);
}

// ---- epilogue state -------------------------------------------------------------------------
// Globals are per instance, so workers sharing one memory do not see each other's call state.

let gOut: usize = 0;
let gLdo: i32 = 0;
/** 0: int32, 1: uint8, 2: int8. */
let gKind: i32 = 0;
let gBias: usize = 0;
let gMult: usize = 0;
let gMultPerChan: bool = false;
/** Bytes between the m, p and y_scale arrays of the multiplier block (see requant_i8.ts). */
let gMultStride: usize = 8;
let gZp: usize = 0;
let gZpPerChan: bool = false;
/** Channel axis of bias / per-channel multipliers / zero points: 0 rows, 1 columns. */
let gAxisCols: bool = false;
let gM0: i32 = 0;
let gM1: i32 = 0;
let gN0: i32 = 0;
let gN1: i32 = 0;
let gK: i32 = 0;

/**
 * C[m0..m1, n0..n1) of the product of packed operands (any sub-range; workers may split rows or
 * columns). `path` must match how both operands were packed; `outKind` 0 writes int32 at
 * out + (m * ldo + n) * 4, 1/2 write u8/s8 at out + m * ldo + n after requantizing
 *   y = saturate(roundHalfEven((acc + bias) * p / y_scale) + zp), exactly (requant_i8.ts).
 * bias (int32, 0 = none) is per channel; mult (the multiplier block of requant_i8.ts) and zp
 * (int32) are per tensor when multPerChan / zpPerChan is 0, else per channel, multPerChan giving
 * the block's entries per array; the channel axis is rows when axisCols == 0, else columns.
 * Per-column arrays are read 8 at a time: give them room for N rounded up to 8 entries.
 */
export function gemmI8(
  lhs: usize, rhs: usize, M: i32, N: i32, K: i32, path: i32,
  m0: i32, m1: i32, n0: i32, n1: i32,
  out: usize, ldo: i32, outKind: i32,
  bias: usize, mult: usize, multPerChan: i32, zp: usize, zpPerChan: i32, axisCols: i32,
): void {
  if (m1 > M) m1 = M;
  if (n1 > N) n1 = N;
  if (m0 >= m1 || n0 >= n1) return;
  gOut = out; gLdo = ldo; gKind = outKind; gBias = bias; gMult = mult; gMultPerChan = multPerChan != 0;
  gMultStride = multPerChan > 0 ? <usize>multPerChan << 3 : 8;
  gZp = zp; gZpPerChan = zpPerChan != 0; gAxisCols = axisCols != 0;
  gM0 = m0; gM1 = m1; gN0 = n0; gN1 = n1; gK = K;
  const lhsPanel = <usize>gemmI8LhsPanelBytes(K, path);
  const rhsPanel = <usize>gemmI8RhsPanelBytes(K, path);
  const kg = gemmI8PaddedK(K, path) / kGroupOf(path);
  const mp0 = m0 / GEMM_I8_MR;
  const mp1 = (m1 + GEMM_I8_MR - 1) / GEMM_I8_MR;
  const np0 = n0 / GEMM_I8_NR;
  const np1 = (n1 + GEMM_I8_NR - 1) / GEMM_I8_NR;
  // Rows are taken in blocks whose packed LHS fits comfortably in L2 (1 MiB per core here), so
  // each RHS panel (<= 32 KiB for K <= 2048) stays in L1 while the block's LHS panels stream by.
  let blk = <i32>(<usize>(256 * 1024) / lhsPanel);
  if (blk < 1) blk = 1;
  for (let mb = mp0; mb < mp1; mb += blk) {
    const mbEnd = min(mb + blk, mp1);
    for (let np = np0; np < np1; np++) {
      const b = rhs + <usize>np * rhsPanel;
      for (let mp = mb; mp < mbEnd; mp++) {
        const a = lhs + <usize>mp * lhsPanel;
        if (path == 1) {
          if (ASC_FEATURE_RELAXED_SIMD) tileDot(a, b, kg, mp * GEMM_I8_MR, np * GEMM_I8_NR);
          else unreachable();
        } else {
          tileI16(a, b, kg, mp * GEMM_I8_MR, np * GEMM_I8_NR);
        }
      }
    }
  }
}

/** 1 when this build can run path 1 (the relaxed int8 dot product). */
export function gemmI8HasDotPath(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// ---- micro-kernels: 4 rows x 8 columns, 8 int32x4 accumulators --------------------------------

@inline function dotI16(acc: v128, a: v128, b: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(a, b));
}

function tileI16(a: usize, b: usize, kg: i32, m: i32, n: i32): void {
  let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let pa = a + LHS_HEADER;
  let pb = b + RHS_HEADER;
  // Each step: one k-pair. A row's pair is broadcast (load32_splat), B holds 4 columns' pairs per vector.
  for (let p = 0; p < kg; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa);
    c00 = dotI16(c00, av, b0); c01 = dotI16(c01, av, b1);
    av = v128.load32_splat(pa, 4);
    c10 = dotI16(c10, av, b0); c11 = dotI16(c11, av, b1);
    av = v128.load32_splat(pa, 8);
    c20 = dotI16(c20, av, b0); c21 = dotI16(c21, av, b1);
    av = v128.load32_splat(pa, 12);
    c30 = dotI16(c30, av, b0); c31 = dotI16(c31, av, b1);
    pa += 16;
    pb += 32;
  }
  // Epilogue constants made once per tile (V8 rematerializes a vector constant at every use).
  const lim = requantLim32();
  const nlim = requantNegLim32();
  const base = requantBase32();
  emitRow(c00, c01, m, n, lim, nlim, base);
  emitRow(c10, c11, m + 1, n, lim, nlim, base);
  emitRow(c20, c21, m + 2, n, lim, nlim, base);
  emitRow(c30, c31, m + 3, n, lim, nlim, base);
}

// Relaxed only: signed operand first, 7-bit operand second; the i16 pair sums are widened by a
// multiply with ones (pmaddwd), cheaper here than the relaxed dot-add, which V8 expands to 5 ops.
@inline function dotI8(acc: v128, s: v128, u: v128): v128 {
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(s, u)));
}

// Which operand is the 7-bit one is recorded in the headers only (t != 0 on that side); the dot is
// symmetric in value, but pmaddubsw is not, so the kernel reads the role from gWeightsOnLhs.
let gWeightsOnLhs: bool = false;

/** Path 1: tells gemmI8 that the LHS holds the 7-bit (weight) operand (conv: weights x im2col). */
export function gemmI8SetWeightsOnLhs(v: i32): void {
  gWeightsOnLhs = v != 0;
}

function tileDot(a: usize, b: usize, kg: i32, m: i32, n: i32): void {
  let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  let pa = a + LHS_HEADER;
  let pb = b + RHS_HEADER;
  if (gWeightsOnLhs) {
    for (let p = 0; p < kg; p++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let av = v128.load32_splat(pa);
      c00 = dotI8(c00, b0, av); c01 = dotI8(c01, b1, av);
      av = v128.load32_splat(pa, 4);
      c10 = dotI8(c10, b0, av); c11 = dotI8(c11, b1, av);
      av = v128.load32_splat(pa, 8);
      c20 = dotI8(c20, b0, av); c21 = dotI8(c21, b1, av);
      av = v128.load32_splat(pa, 12);
      c30 = dotI8(c30, b0, av); c31 = dotI8(c31, b1, av);
      pa += 16;
      pb += 32;
    }
  } else {
    for (let p = 0; p < kg; p++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let av = v128.load32_splat(pa);
      c00 = dotI8(c00, av, b0); c01 = dotI8(c01, av, b1);
      av = v128.load32_splat(pa, 4);
      c10 = dotI8(c10, av, b0); c11 = dotI8(c11, av, b1);
      av = v128.load32_splat(pa, 8);
      c20 = dotI8(c20, av, b0); c21 = dotI8(c21, av, b1);
      av = v128.load32_splat(pa, 12);
      c30 = dotI8(c30, av, b0); c31 = dotI8(c31, av, b1);
      pa += 16;
      pb += 32;
    }
  }
  // Undo the pack-time offsets: acc = dot' - S_L[m] * t_R + t_L[m] * U_R.
  const tR0 = v128.load(b);
  const tR1 = v128.load(b, 16);
  const uR0 = v128.load(b, 32);
  const uR1 = v128.load(b, 48);
  for (let r = 0; r < GEMM_I8_MR; r++) {
    const sl = i32x4.splat(load<i32>(a + (<usize>r << 2)));
    const tl = i32x4.splat(load<i32>(a + 16 + (<usize>r << 2)));
    const fix0 = i32x4.sub(i32x4.mul(tl, uR0), i32x4.mul(sl, tR0));
    const fix1 = i32x4.sub(i32x4.mul(tl, uR1), i32x4.mul(sl, tR1));
    if (r == 0) { c00 = i32x4.add(c00, fix0); c01 = i32x4.add(c01, fix1); }
    else if (r == 1) { c10 = i32x4.add(c10, fix0); c11 = i32x4.add(c11, fix1); }
    else if (r == 2) { c20 = i32x4.add(c20, fix0); c21 = i32x4.add(c21, fix1); }
    else { c30 = i32x4.add(c30, fix0); c31 = i32x4.add(c31, fix1); }
  }
  // Epilogue constants made once per tile (V8 rematerializes a vector constant at every use).
  const lim = requantLim32();
  const nlim = requantNegLim32();
  const base = requantBase32();
  emitRow(c00, c01, m, n, lim, nlim, base);
  emitRow(c10, c11, m + 1, n, lim, nlim, base);
  emitRow(c20, c21, m + 2, n, lim, nlim, base);
  emitRow(c30, c31, m + 3, n, lim, nlim, base);
}

// ---- epilogue ---------------------------------------------------------------------------------

/** Stores one row's 8 accumulators (columns n..n+7), clipped to [gM0, gM1) x [gN0, gN1). */
@inline function emitRow(c0: v128, c1: v128, r: i32, n: i32, lim: v128, nlim: v128, base: v128): void {
  if (r < gM0 || r >= gM1) return;
  const full = n >= gN0 && n + 8 <= gN1;
  if (gKind == 0) {
    const p = gOut + ((<usize>r * <usize>gLdo + <usize>n) << 2);
    if (full) {
      v128.store(p, c0);
      v128.store(p, c1, 16);
    } else {
      storeI32Lanes(p, c0, n);
      storeI32Lanes(p + 16, c1, n + 4);
    }
    return;
  }
  const v = requant8(c0, c1, r, n, lim, nlim, base);
  const p = gOut + <usize>r * <usize>gLdo + <usize>n;
  if (full) {
    v128.store64_lane(p, v, 0);
  } else {
    let bits = i64x2.extract_lane(v, 0);
    for (let j = 0; j < 8; j++) {
      const col = n + j;
      if (col >= gN0 && col < gN1) store<u8>(p + <usize>j, <u8>bits);
      bits >>>= 8;
    }
  }
}

function storeI32Lanes(p: usize, v: v128, n: i32): void {
  if (n >= gN0 && n < gN1) store<i32>(p, i32x4.extract_lane(v, 0));
  if (n + 1 >= gN0 && n + 1 < gN1) store<i32>(p, i32x4.extract_lane(v, 1), 4);
  if (n + 2 >= gN0 && n + 2 < gN1) store<i32>(p, i32x4.extract_lane(v, 2), 8);
  if (n + 3 >= gN0 && n + 3 < gN1) store<i32>(p, i32x4.extract_lane(v, 3), 12);
}

/** Requantizes 8 accumulators of row r, columns n..n+7, to 8 saturated bytes (low half of result). */
function requant8(c0: v128, c1: v128, r: i32, n: i32, lim: v128, nlim: v128, base: v128): v128 {
  if (gBias) {
    if (gAxisCols) {
      c0 = i32x4.add(c0, v128.load(gBias + (<usize>n << 2)));
      c1 = i32x4.add(c1, v128.load(gBias + (<usize>n << 2), 16));
    } else {
      const bv = i32x4.splat(load<i32>(gBias + (<usize>r << 2)));
      c0 = i32x4.add(c0, bv);
      c1 = i32x4.add(c1, bv);
    }
  }
  // Zero points as int32 lanes (for the exact path) and folded into the float32 magic.
  let z0 = i32x4.splat(0), z1 = z0;
  if (gZp) {
    if (gZpPerChan && gAxisCols) {
      z0 = v128.load(gZp + (<usize>n << 2));
      z1 = v128.load(gZp + (<usize>n << 2), 16);
    } else {
      z0 = v128.load32_splat(gZp + (gZpPerChan ? <usize>r << 2 : 0));
      z1 = z0;
    }
  }
  const magic = requantMagic32(0);
  const mg0 = f32x4.add(magic, f32x4.convert_i32x4_s(z0));
  const mg1 = f32x4.add(magic, f32x4.convert_i32x4_s(z1));
  // m32 (array 3 of the multiplier block) per column, or one splat per row / tensor.
  const m32 = gMult + 3 * gMultStride;
  let g0: v128, g1: v128;
  if (gMultPerChan && gAxisCols) {
    // Entries are 8 bytes apart (the float32 in each slot's low half): gather lanes 0 and 2.
    const mp = m32 + (<usize>n << 3);
    g0 = requantF32x4(c0, i32x4.shuffle(v128.load(mp), v128.load(mp, 16), 0, 2, 4, 6), lim, nlim, mg0);
    g1 = requantF32x4(c1, i32x4.shuffle(v128.load(mp, 32), v128.load(mp, 48), 0, 2, 4, 6), lim, nlim, mg1);
  } else {
    const mv = v128.load32_splat(m32 + (gMultPerChan ? <usize>r << 3 : 0));
    g0 = requantF32x4(c0, mv, lim, nlim, mg0);
    g1 = requantF32x4(c1, mv, lim, nlim, mg1);
  }
  let q0: v128, q1: v128;
  if (i32x4.all_true(i32x4.min_u(requantBand32(g0), requantBand32(g1)))) {
    q0 = requantValue32(g0, base);
    q1 = requantValue32(g1, base);
  } else if (gMultPerChan && gAxisCols) {
    const mp = gMult + (<usize>n << 3);
    q0 = requantExact4(c0, z0, mp, 8, gMultStride);
    q1 = requantExact4(c1, z1, mp + 32, 8, gMultStride);
  } else {
    const mp = gMult + (gMultPerChan ? <usize>r << 3 : 0);
    q0 = requantExact4(c0, z0, mp, 0, gMultStride);
    q1 = requantExact4(c1, z1, mp, 0, gMultStride);
  }
  const h = i16x8.narrow_i32x4_s(q0, q1);
  return gKind == 1 ? i8x16.narrow_i16x8_u(h, h) : i8x16.narrow_i16x8_s(h, h);
}

/**
 * Four lanes through requantExact plus the zero points zp (int32 lanes): the slow path of kernels
 * whose band test failed. Lane j's block entries are at mp + j * step, arrays `stride` bytes apart.
 */
function requantExact4(acc: v128, zp: v128, mp: usize, step: usize, stride: usize): v128 {
  let out = i32x4.splat(0);
  out = i32x4.replace_lane(out, 0, requantExact(i32x4.extract_lane(acc, 0), load<f64>(mp), load<f64>(mp + stride), load<f64>(mp + 2 * stride)));
  mp += step;
  out = i32x4.replace_lane(out, 1, requantExact(i32x4.extract_lane(acc, 1), load<f64>(mp), load<f64>(mp + stride), load<f64>(mp + 2 * stride)));
  mp += step;
  out = i32x4.replace_lane(out, 2, requantExact(i32x4.extract_lane(acc, 2), load<f64>(mp), load<f64>(mp + stride), load<f64>(mp + 2 * stride)));
  mp += step;
  out = i32x4.replace_lane(out, 3, requantExact(i32x4.extract_lane(acc, 3), load<f64>(mp), load<f64>(mp + stride), load<f64>(mp + 2 * stride)));
  return i32x4.add(out, zp);
}
