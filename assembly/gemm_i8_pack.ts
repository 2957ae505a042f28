// Packing for gemm_i8.ts, plus an int8 im2col that feeds it.
//
// Roles (how a value x with zero point z is stored):
//   role 0 (path 0):              v = x - z as i16, k-groups of 2. Headers stay zero.
//   role 1 (path 1, activations): v = x - 128 (u8) or x (s8) as s8, offset t = z - 128 (u8) or z (s8).
//   role 2 (path 1, weights):     v = x - z + t as u7 with t = -min_k(x - z) per row/column; fails
//                                 (returns 0) when a row/column of x - z spans more than 127.
// Every value is stored as v = x - z + t, so sum_k (xL - zL)(xR - zR) = dot(v) - S_L t_R + t_L U_R
// with S = sum_k v over the real K and U_R = K t_R - S_R (headers; see gemm_i8.ts). Padding beyond K
// or beyond the last row/column is zero. Activations (per call) have SIMD fast paths; weights
// (packed once) go through the plain scalar packer.
import {
  GEMM_I8_MR, GEMM_I8_NR, LHS_HEADER, RHS_HEADER,
  gemmI8LhsPanelBytes, gemmI8PaddedK, gemmI8RhsPanelBytes, kGroupOf,
} from './gemm_i8';

@inline function readQ(p: usize, signed: bool): i32 {
  return signed ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

@inline function zpAt(zp: usize, zpLen: i32, line: i32): i32 {
  return zp == 0 ? 0 : load<i32>(zp + (zpLen == 1 ? 0 : <usize>line << 2));
}

/**
 * Packs lines [l0, l1) (l0 a multiple of the panel width) of an operand whose element (line, k)
 * lives at src + line * strideLine + k * strideK. Returns 0 if role 2 does not fit 7 bits.
 */
function packGeneric(
  src: usize, strideLine: isize, strideK: isize, lines: i32, K: i32, signed: bool,
  zp: usize, zpLen: i32, role: i32, dst: usize, isRhs: bool, l0: i32, l1: i32,
): i32 {
  const path = role == 0 ? 0 : 1;
  const pl = isRhs ? GEMM_I8_NR : GEMM_I8_MR;
  const panelBytes = <usize>(isRhs ? gemmI8RhsPanelBytes(K, path) : gemmI8LhsPanelBytes(K, path));
  const hdr = isRhs ? RHS_HEADER : LHS_HEADER;
  const kp = gemmI8PaddedK(K, path);
  const kgs = kGroupOf(path);
  if (l1 > lines) l1 = lines;
  const p0 = l0 / pl;
  const p1 = (l1 + pl - 1) / pl;
  let ok = 1;
  for (let panel = p0; panel < p1; panel++) {
    const head = dst + <usize>panel * panelBytes;
    const body = head + <usize>hdr;
    for (let l = 0; l < pl; l++) {
      const line = panel * pl + l;
      let t = 0;
      let s = 0;
      const base = src + <usize>(<isize>line * strideLine);
      const z = line < lines ? zpAt(zp, zpLen, line) : 0;
      if (line < lines && role == 2) {
        let lo = 255;
        let hi = -255;
        for (let k = 0; k < K; k++) {
          const d = readQ(base + <usize>(<isize>k * strideK), signed) - z;
          lo = min(lo, d);
          hi = max(hi, d);
        }
        if (K > 0 && hi - lo > 127) ok = 0;
        t = K > 0 ? -lo : 0;
      } else if (line < lines && role == 1) {
        t = signed ? z : z - 128;
      }
      for (let k = 0; k < kp; k++) {
        let v = 0;
        if (line < lines && k < K) {
          v = readQ(base + <usize>(<isize>k * strideK), signed) - z + t;
          s += v;
        }
        const w = body + ((<usize>(k / kgs) * <usize>pl + <usize>l) << 2);
        if (path == 0) store<i16>(w + (<usize>(k & 1) << 1), <i16>v);
        else store<u8>(w + <usize>(k & 3), <u8>v);
      }
      if (isRhs) {
        store<i32>(head + (<usize>l << 2), t);
        store<i32>(head + 32 + (<usize>l << 2), K * t - s);
      } else {
        store<i32>(head + (<usize>l << 2), s);
        store<i32>(head + 16 + (<usize>l << 2), t);
      }
    }
  }
  return ok;
}

/**
 * Packs rows [m0, m1) of the row-major M x K operand at src (row stride ld bytes) as the LHS
 * (m0 a multiple of 4). zp: int32 zero points, zpLen 1 (per tensor) or M (per row); 0 = none.
 * Returns 0 when role 2 was asked for and the rows do not fit 7 bits (the output is then unusable).
 */
export function gemmI8PackLhs(
  src: usize, ld: i32, M: i32, K: i32, signed: i32, zp: usize, zpLen: i32, role: i32,
  dst: usize, m0: i32, m1: i32,
): i32 {
  if (m1 > M) m1 = M;
  if (role == 2 || (zpLen > 1 && zp != 0)) {
    return packGeneric(src, ld, 1, M, K, signed != 0, zp, zpLen, role, dst, false, m0, m1);
  }
  const z = zpAt(zp, 1, 0);
  const full = m0 + ((m1 - m0) / GEMM_I8_MR) * GEMM_I8_MR;
  if (role == 0) packLhsI16(src, ld, K, signed != 0, z, dst, m0, full);
  else packLhsS8(src, ld, K, signed != 0, z, dst, m0, full);
  if (full < m1) packGeneric(src, ld, 1, M, K, signed != 0, zp, zpLen, role, dst, false, full, m1);
  return 1;
}

/**
 * Packs columns [n0, n1) (n0 a multiple of 8) of the row-major K x N operand at src (row stride ld
 * bytes) as the RHS. zp: zpLen 1 (per tensor) or N (per column). Returns 0 as gemmI8PackLhs does.
 */
export function gemmI8PackRhs(
  src: usize, ld: i32, K: i32, N: i32, signed: i32, zp: usize, zpLen: i32, role: i32,
  dst: usize, n0: i32, n1: i32,
): i32 {
  if (n1 > N) n1 = N;
  if (role == 2 || (zpLen > 1 && zp != 0)) {
    return packGeneric(src, 1, ld, N, K, signed != 0, zp, zpLen, role, dst, true, n0, n1);
  }
  const z = zpAt(zp, 1, 0);
  const full = n0 + ((n1 - n0) / GEMM_I8_NR) * GEMM_I8_NR;
  if (role == 0) packRhsI16(src, ld, K, signed != 0, z, dst, n0, full);
  else packRhsS8(src, ld, K, signed != 0, z, dst, n0, full);
  if (full < n1) {
    // The last, partial panel: every real column of it (as packGeneric packs whole panels).
    if (role == 0) packRhsI16Tail(src, ld, K, signed != 0, z, dst, full, min(N, full + GEMM_I8_NR) - full);
    else packGeneric(src, 1, ld, N, K, signed != 0, zp, zpLen, role, dst, true, full, n1);
  }
  return 1;
}

/** As gemmI8PackRhs for an operand stored transposed: N x K row-major (weights as [out, in]). */
export function gemmI8PackRhsT(
  src: usize, ld: i32, K: i32, N: i32, signed: i32, zp: usize, zpLen: i32, role: i32,
  dst: usize, n0: i32, n1: i32,
): i32 {
  return packGeneric(src, ld, 1, N, K, signed != 0, zp, zpLen, role, dst, true, n0, n1);
}

// ---- SIMD fast paths for activations (per-tensor zero point, full panels) ----------------------

@inline function load8x8(p: usize, signed: bool): v128 {
  return signed ? v128.load8x8_s(p) : v128.load8x8_u(p);
}

/** Role 0 LHS: 4 rows x 8 k per step, widened, zero point subtracted, 4x4 word transpose. */
function packLhsI16(src: usize, ld: i32, K: i32, signed: bool, z: i32, dst: usize, m0: i32, m1: i32): void {
  const panelBytes = <usize>gemmI8LhsPanelBytes(K, 0);
  const kp = gemmI8PaddedK(K, 0);
  const zv = i16x8.splat(<i16>z);
  const kFull = K & ~7;
  for (let m = m0; m < m1; m += GEMM_I8_MR) {
    const head = dst + <usize>(m / GEMM_I8_MR) * panelBytes;
    v128.store(head, i32x4.splat(0));
    v128.store(head, i32x4.splat(0), 16);
    const r0 = src + <usize>m * <usize>ld;
    const r1 = r0 + <usize>ld;
    const r2 = r1 + <usize>ld;
    const r3 = r2 + <usize>ld;
    let w = head + LHS_HEADER;
    let k = 0;
    for (; k < kFull; k += 8) {
      const v0 = i16x8.sub(load8x8(r0 + <usize>k, signed), zv);
      const v1 = i16x8.sub(load8x8(r1 + <usize>k, signed), zv);
      const v2 = i16x8.sub(load8x8(r2 + <usize>k, signed), zv);
      const v3 = i16x8.sub(load8x8(r3 + <usize>k, signed), zv);
      transpose4Store(w, v0, v1, v2, v3);
      w += 64;
    }
    for (; k < kp; k += 8) {
      // Tail: at most 7 real values per row, padded with zeros.
      for (let j = 0; j < 8; j++) {
        const kk = k + j;
        const word = w + (<usize>(j >> 1) << 4) + (<usize>(j & 1) << 1);
        store<i16>(word, kk < K ? <i16>(readQ(r0 + <usize>kk, signed) - z) : 0);
        store<i16>(word, kk < K ? <i16>(readQ(r1 + <usize>kk, signed) - z) : 0, 4);
        store<i16>(word, kk < K ? <i16>(readQ(r2 + <usize>kk, signed) - z) : 0, 8);
        store<i16>(word, kk < K ? <i16>(readQ(r3 + <usize>kk, signed) - z) : 0, 12);
      }
      w += 64;
    }
  }
}

/** Role 1 LHS: 4 rows x 16 k per step as s8, row sums in the header. */
function packLhsS8(src: usize, ld: i32, K: i32, signed: bool, z: i32, dst: usize, m0: i32, m1: i32): void {
  const panelBytes = <usize>gemmI8LhsPanelBytes(K, 1);
  const kp = gemmI8PaddedK(K, 1);
  const flip = signed ? i8x16.splat(0) : i8x16.splat(-128);
  const t = signed ? z : z - 128;
  const kFull = K & ~15;
  for (let m = m0; m < m1; m += GEMM_I8_MR) {
    const head = dst + <usize>(m / GEMM_I8_MR) * panelBytes;
    const r0 = src + <usize>m * <usize>ld;
    const r1 = r0 + <usize>ld;
    const r2 = r1 + <usize>ld;
    const r3 = r2 + <usize>ld;
    let s0 = i32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
    let w = head + LHS_HEADER;
    let k = 0;
    for (; k < kFull; k += 16) {
      const v0 = v128.xor(v128.load(r0 + <usize>k), flip);
      const v1 = v128.xor(v128.load(r1 + <usize>k), flip);
      const v2 = v128.xor(v128.load(r2 + <usize>k), flip);
      const v3 = v128.xor(v128.load(r3 + <usize>k), flip);
      s0 = i32x4.add(s0, sumBytes(v0));
      s1 = i32x4.add(s1, sumBytes(v1));
      s2 = i32x4.add(s2, sumBytes(v2));
      s3 = i32x4.add(s3, sumBytes(v3));
      transpose4Store(w, v0, v1, v2, v3);
      w += 64;
    }
    let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
    for (; k < kp; k += 16) {
      for (let j = 0; j < 16; j++) {
        const kk = k + j;
        const word = w + (<usize>(j >> 2) << 4) + <usize>(j & 3);
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        if (kk < K) {
          a0 = readQ(r0 + <usize>kk, signed) - z + t;
          a1 = readQ(r1 + <usize>kk, signed) - z + t;
          a2 = readQ(r2 + <usize>kk, signed) - z + t;
          a3 = readQ(r3 + <usize>kk, signed) - z + t;
        }
        store<u8>(word, <u8>a0);
        store<u8>(word, <u8>a1, 4);
        store<u8>(word, <u8>a2, 8);
        store<u8>(word, <u8>a3, 12);
        t0 += a0; t1 += a1; t2 += a2; t3 += a3;
      }
      w += 64;
    }
    store<i32>(head, t0);
    store<i32>(head, t1, 4);
    store<i32>(head, t2, 8);
    store<i32>(head, t3, 12);
    v128.store(head, i32x4.splat(t), 16);
  }
}

/** Role 0 RHS: 8 columns x 2 k per step, widened and interleaved into k-pairs. */
function packRhsI16(src: usize, ld: i32, K: i32, signed: bool, z: i32, dst: usize, n0: i32, n1: i32): void {
  const panelBytes = <usize>gemmI8RhsPanelBytes(K, 0);
  const kp = gemmI8PaddedK(K, 0);
  const zv = i16x8.splat(<i16>z);
  const zero = i32x4.splat(0);
  for (let n = n0; n < n1; n += GEMM_I8_NR) {
    const head = dst + <usize>(n / GEMM_I8_NR) * panelBytes;
    for (let j = 0; j < 4; j++) v128.store(head + (<usize>j << 4), zero);
    let w = head + RHS_HEADER;
    let p = src + <usize>n;
    let k = 0;
    for (; k + 1 < K; k += 2) {
      const a = i16x8.sub(load8x8(p, signed), zv);
      const b = i16x8.sub(load8x8(p + <usize>ld, signed), zv);
      v128.store(w, i16x8.shuffle(a, b, 0, 8, 1, 9, 2, 10, 3, 11));
      v128.store(w, i16x8.shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15), 16);
      w += 32;
      p += <usize>ld << 1;
    }
    if (k < K) {
      const a = i16x8.sub(load8x8(p, signed), zv);
      v128.store(w, i16x8.shuffle(a, zero, 0, 8, 1, 9, 2, 10, 3, 11));
      v128.store(w, i16x8.shuffle(a, zero, 4, 12, 5, 13, 6, 14, 7, 15), 16);
      w += 32;
      k += 2;
    }
    for (; k < kp; k += 2) {
      v128.store(w, zero);
      v128.store(w, zero, 16);
      w += 32;
    }
  }
}

/** The first `cols` (1..7) bytes at p widened to i16 lanes, zero point subtracted, other lanes 0. */
@inline function gatherI16(p: usize, cols: i32, signed: bool, zv: v128, mask: v128): v128 {
  let bits: u64 = 0;
  for (let j = 0; j < cols; j++) bits |= <u64>load<u8>(p + <usize>j) << (<u64>j << 3);
  const b = i64x2.splat(bits);
  const h = signed ? i16x8.extend_low_i8x16_s(b) : i16x8.extend_low_i8x16_u(b);
  return v128.and(i16x8.sub(h, zv), mask);
}

/**
 * Role 0 RHS panel of columns [n, n + cols), cols < 8 (a ragged last panel): as packRhsI16, with
 * each row's real bytes gathered (never reading past them) and the missing columns zero, as
 * packGeneric would store them, at a fraction of its per-element cost (a 3x3 conv on a 4 x 5 map
 * has K = 2304 rows of 20 columns: a third of its packing went through packGeneric).
 */
function packRhsI16Tail(src: usize, ld: i32, K: i32, signed: bool, z: i32, dst: usize, n: i32, cols: i32): void {
  const head = dst + <usize>(n / GEMM_I8_NR) * <usize>gemmI8RhsPanelBytes(K, 0);
  const kp = gemmI8PaddedK(K, 0);
  const zv = i16x8.splat(<i16>z);
  const zero = i32x4.splat(0);
  const mask = i16x8.lt_s(i16x8(0, 1, 2, 3, 4, 5, 6, 7), i16x8.splat(<i16>cols));
  for (let j = 0; j < 4; j++) v128.store(head + (<usize>j << 4), zero);
  let w = head + RHS_HEADER;
  let p = src + <usize>n;
  let k = 0;
  for (; k + 1 < K; k += 2) {
    const a = gatherI16(p, cols, signed, zv, mask);
    const b = gatherI16(p + <usize>ld, cols, signed, zv, mask);
    v128.store(w, i16x8.shuffle(a, b, 0, 8, 1, 9, 2, 10, 3, 11));
    v128.store(w, i16x8.shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15), 16);
    w += 32;
    p += <usize>ld << 1;
  }
  if (k < K) {
    const a = gatherI16(p, cols, signed, zv, mask);
    v128.store(w, i16x8.shuffle(a, zero, 0, 8, 1, 9, 2, 10, 3, 11));
    v128.store(w, i16x8.shuffle(a, zero, 4, 12, 5, 13, 6, 14, 7, 15), 16);
    w += 32;
    k += 2;
  }
  for (; k < kp; k += 2) {
    v128.store(w, zero);
    v128.store(w, zero, 16);
    w += 32;
  }
}

/** Role 1 RHS: 8 columns x 4 k per step as s8 quads, column sums in the header. */
function packRhsS8(src: usize, ld: i32, K: i32, signed: bool, z: i32, dst: usize, n0: i32, n1: i32): void {
  const panelBytes = <usize>gemmI8RhsPanelBytes(K, 1);
  const kp = gemmI8PaddedK(K, 1);
  const flip = signed ? i8x16.splat(0) : i8x16.splat(-128);
  const t = signed ? z : z - 128;
  const zero = i32x4.splat(0);
  const ldz = <usize>ld;
  for (let n = n0; n < n1; n += GEMM_I8_NR) {
    const head = dst + <usize>(n / GEMM_I8_NR) * panelBytes;
    let w = head + RHS_HEADER;
    let p = src + <usize>n;
    let s0 = zero, s1 = zero;
    let k = 0;
    for (; k + 3 < K; k += 4) {
      const a = v128.xor(v128.load64_zero(p), flip);
      const b = v128.xor(v128.load64_zero(p + ldz), flip);
      const c = v128.xor(v128.load64_zero(p + 2 * ldz), flip);
      const d = v128.xor(v128.load64_zero(p + 3 * ldz), flip);
      const ab = i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const cd = i8x16.shuffle(c, d, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const lo = i16x8.shuffle(ab, cd, 0, 8, 1, 9, 2, 10, 3, 11);
      const hi = i16x8.shuffle(ab, cd, 4, 12, 5, 13, 6, 14, 7, 15);
      s0 = i32x4.add(s0, sumBytes(lo));
      s1 = i32x4.add(s1, sumBytes(hi));
      v128.store(w, lo);
      v128.store(w, hi, 16);
      w += 32;
      p += ldz << 2;
    }
    if (k < K) {
      // Last partial quad: rows past K read as zero (after the flip, so they add nothing).
      const rem = K - k;
      const a = v128.xor(v128.load64_zero(p), flip);
      const b = rem > 1 ? v128.xor(v128.load64_zero(p + ldz), flip) : zero;
      const c = rem > 2 ? v128.xor(v128.load64_zero(p + 2 * ldz), flip) : zero;
      const ab = i8x16.shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const cz = i8x16.shuffle(c, zero, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const lo = i16x8.shuffle(ab, cz, 0, 8, 1, 9, 2, 10, 3, 11);
      const hi = i16x8.shuffle(ab, cz, 4, 12, 5, 13, 6, 14, 7, 15);
      s0 = i32x4.add(s0, sumBytes(lo));
      s1 = i32x4.add(s1, sumBytes(hi));
      v128.store(w, lo);
      v128.store(w, hi, 16);
      w += 32;
      k += 4;
    }
    for (; k < kp; k += 4) {
      v128.store(w, zero);
      v128.store(w, zero, 16);
      w += 32;
    }
    const sums0 = s0, sums1 = s1;
    const tv = i32x4.splat(t);
    const kt = i32x4.splat(K * t);
    v128.store(head, tv);
    v128.store(head, tv, 16);
    v128.store(head, i32x4.sub(kt, sums0), 32);
    v128.store(head, i32x4.sub(kt, sums1), 48);
  }
}

/** Sums of each 4 consecutive s8 lanes, as i32x4. */
@inline function sumBytes(v: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v));
}

@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/** Stores the 4x4 transpose of four vectors viewed as i32 words: out[j] = [v0[j], v1[j], v2[j], v3[j]]. */
@inline function transpose4Store(w: usize, v0: v128, v1: v128, v2: v128, v3: v128): void {
  const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
  v128.store(w, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(w, i64x2.shuffle(t0, t1, 1, 3), 16);
  v128.store(w, i64x2.shuffle(t2, t3, 0, 2), 32);
  v128.store(w, i64x2.shuffle(t2, t3, 1, 3), 48);
}

// ---- im2col -------------------------------------------------------------------------------------

/**
 * Dense int8 im2col of one image's channels [C, H, W] (bytes at x) into rows k = (c * kh + i) * kw + j
 * of N = OH * OW bytes at dst + k * ldd, out-of-image taps filled with the raw byte `fill` (the input
 * zero point, so padding contributes zero after zero-point subtraction). Rows [k0, k1) only, so
 * workers can split it. ldd must be >= N; 15 bytes past the last row may be written.
 */
export function gemmI8Im2col(
  x: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32,
  pt: i32, pl: i32, OH: i32, OW: i32, fill: i32, dst: usize, ldd: i32, k0: i32, k1: i32,
): void {
  const K = C * kh * kw;
  if (k1 > K) k1 = K;
  const fv = i8x16.splat(<i8>fill);
  // (c, i, j) of row k, stepped with k (three divisions per row cost as much as copying a small row).
  let j = k0 % kw;
  let i = (k0 / kw) % kh;
  let c = k0 / (kw * kh);
  for (let k = k0; k < k1; k++, j++) {
    if (j == kw) {
      j = 0;
      if (++i == kh) { i = 0; c++; }
    }
    const plane = x + <usize>c * <usize>H * <usize>W;
    const row = dst + <usize>k * <usize>ldd;
    // Output columns whose input column lies inside [0, W): ow in [owLo, owHi).
    const off = j * dw - pl;
    let owLo = off >= 0 ? 0 : (-off + sw - 1) / sw;
    let owHi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
    if (owHi > OW) owHi = OW;
    if (owLo > owHi) owLo = owHi;
    for (let oh = 0; oh < OH; oh++) {
      const ih = oh * sh - pt + i * dh;
      const d = row + <usize>oh * <usize>OW;
      if (ih < 0 || ih >= H) {
        fillBytes(d, fv, fill, OW);
        continue;
      }
      if (owLo > 0) fillBytes(d, fv, fill, owLo);
      const s = plane + <usize>ih * <usize>W + <usize>(owLo * sw + off);
      copyStrided(d + <usize>owLo, s, owHi - owLo, sw);
      if (owHi < OW) fillBytes(d + <usize>owHi, fv, fill, OW - owHi);
    }
  }
}

// Short runs (the rows of small feature maps) are written as two overlapping 4-, 8- or 16-byte
// pieces, never touching a byte outside [d, d + n) (other workers may own the next row) nor
// reading outside [s, s + n).
@inline function fillBytes(d: usize, fv: v128, fill: i32, n: i32): void {
  if (n >= 16) {
    let q = 0;
    for (; q + 16 <= n; q += 16) v128.store(d + <usize>q, fv);
    if (q < n) v128.store(d + <usize>(n - 16), fv);
  } else if (n >= 8) {
    v128.store64_lane(d, fv, 0);
    v128.store64_lane(d + <usize>(n - 8), fv, 0);
  } else if (n >= 4) {
    v128.store32_lane(d, fv, 0);
    v128.store32_lane(d + <usize>(n - 4), fv, 0);
  } else {
    for (let q = 0; q < n; q++) store<u8>(d + <usize>q, <u8>fill);
  }
}

function copyStrided(d: usize, s: usize, n: i32, stride: i32): void {
  let q = 0;
  if (stride == 1) {
    if (n >= 16) {
      for (; q + 16 <= n; q += 16) v128.store(d + <usize>q, v128.load(s + <usize>q));
      if (q < n) v128.store(d + <usize>(n - 16), v128.load(s + <usize>(n - 16)));
    } else if (n >= 8) {
      store<u64>(d, load<u64>(s));
      store<u64>(d + <usize>(n - 8), load<u64>(s + <usize>(n - 8)));
    } else if (n >= 4) {
      store<u32>(d, load<u32>(s));
      store<u32>(d + <usize>(n - 4), load<u32>(s + <usize>(n - 4)));
    } else {
      for (; q < n; q++) store<u8>(d + <usize>q, load<u8>(s + <usize>q));
    }
  } else if (stride == 2) {
    // Reads s[2q .. 2q + 15]; the last one needed is s[2(n - 1)], so stop while 2q + 15 <= 2(n - 1).
    for (; 2 * q + 17 <= 2 * n; q += 8) {
      const v = v128.load(s + (<usize>q << 1));
      v128.store64_lane(d + <usize>q, i8x16.shuffle(v, v, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14), 0);
    }
    for (; q < n; q++) store<u8>(d + <usize>q, load<u8>(s + (<usize>q << 1)));
  } else {
    for (; q < n; q++) store<u8>(d + <usize>q, load<u8>(s + <usize>(q * stride)));
  }
}
