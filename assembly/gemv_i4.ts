// int4 weight-only GEMV/GEMM: y[m, n] = sum_k x[m, k] * (q[n, k] - z[n, b]) * s[n, b] with signed int4
// weights q in blocks of 32 along K (b = k / 32), f32 scales s and optional zero points z.
//
// Two kernels over two packed formats (gemvI4Pack picks by `format`):
//  format 0, gemvI4F32: f32 activations as given; each weight is dequantized in registers. A block's
//    16 bytes are read as 4 i32 lanes holding 8 nibbles each, nibble j of lane L being k = 4j + L,
//    so one shift pair (shl, arithmetic shr) yields the signed weights for x[4j .. 4j+3] and one
//    convert makes them f32. Exact f32 arithmetic, but ~1 vector op per weight, so it is only
//    faster than an f32 GEMV where that one is bound by memory traffic (large matrices).
//  format 1, gemvI4Q8: activations quantized per block of 32 to int8 (symmetric, one f32 scale per
//    block; onnxruntime's MatMulNBits accuracy_level 4 does the same), then integer dot products:
//    Rows go in groups of 8 (two halves of 4 sharing the x loads); a half's block is 64 bytes P0..P3
//    where byte 4r + j of Pt holds u = q + 8 in [0, 15] of row r at k = 4t + j (low nibble) and
//    k = 16 + 4t + j (high nibble). So
//    each 16-byte vector of nibbles, multiplied by one broadcast quad of x_q, gives the 4 rows' dots
//    in the 4 i32 lanes directly, with no horizontal reduction. Relaxed build:
//    i16x8.relaxed_dot_i8x16_i7x16_s(x_q, u) is exact (u is 4-bit) and its i16 pair sums are at
//    most 2 * 127 * 15, so all 8 steps of a block add in i16 before one widening. SIMD build: u
//    widened to i16 against x_q quads widened once per call, i32x4.dot_i16x8_s.
//    The +8 offset and zero points are undone with per-block sums of x_q:
//      dot(q - z) = dot(u) - (8 + z) * sum(x_q).

const BLOCK: i32 = 32;

@inline function blocksOf(K: i32): i32 {
  return (K + BLOCK - 1) / BLOCK;
}

/** Bytes of packed weights for an N x K matrix in `format` (0: f32 kernel, 1: int8-activation kernel). */
export function gemvI4PackedBytes(K: i32, N: i32, format: i32): usize {
  const nb = <usize>blocksOf(K);
  const rows = <usize>(format == 1 ? (N + 7) & ~7 : N);
  return rows * nb * (16 + 4 + 4);
}

/**
 * Packs int4 weights once. Element (n, k) is nibble n * sn + k * sk of `src` (byte e >> 1, low
 * nibble first, signed), so both [N, K] (sn = K, sk = 1) and [K, N] (sn = 1, sk = N) layouts work.
 * Scale (n, b) is the f32 at scales + 4 * (n * ssn + b * ssb); zero points (int32, 0 = none) use the
 * same indexing. Rows/blocks past N/K are zero.
 */
export function gemvI4Pack(
  src: usize, sn: i32, sk: i32, K: i32, N: i32,
  scales: usize, ssn: i32, ssb: i32, zps: usize, format: i32, dst: usize,
): void {
  const nb = blocksOf(K);
  const rows = format == 1 ? (N + 7) & ~7 : N;
  const wBytes = <usize>rows * <usize>nb * 16;
  const sBase = dst + wBytes;
  const zBase = sBase + <usize>rows * <usize>nb * 4;
  for (let n = 0; n < rows; n++) {
    for (let b = 0; b < nb; b++) {
      let s: f32 = 0;
      let z = 0;
      if (n < N) {
        const si = <usize>(n * ssn + b * ssb) << 2;
        s = load<f32>(scales + si);
        if (zps) z = load<i32>(zps + si);
      }
      // Block record: format 0, 16 bytes at (n * nb + b) * 16; format 1, the 8-row group's 128 bytes
      // at (n / 8 * nb + b) * 128: vectors (h, t) at (4h + t) * 16 for rows 4h..4h+3, this row's
      // bytes being 4r..4r+3 of each (r = n % 4).
      const rec = format == 1
        ? dst + (<usize>((n >> 3) * nb + b) << 7)
        : dst + (<usize>(n * nb + b) << 4);
      if (format != 1 || (n & 7) == 0) for (let i = 0; i < (format == 1 ? 128 : 16); i++) store<u8>(rec + <usize>i, 0);
      for (let j = 0; j < BLOCK; j++) {
        const k = b * BLOCK + j;
        let q = 0;
        if (n < N && k < K) {
          const e = n * sn + k * sk;
          const byte = <i32>load<u8>(src + <usize>(e >> 1));
          const nib = (e & 1) ? byte >> 4 : byte & 15;
          q = nib >= 8 ? nib - 16 : nib;
        }
        let byteAt: i32, shift: i32, v: i32;
        if (format == 1) {
          // u = q + 8 (padding q = 0 multiplies x_q = 0). k = j: vector t = (j & 15) >> 2, byte 4r + (j & 3).
          byteAt = ((((n >> 2) & 1) * 4 + ((j & 15) >> 2)) << 4) + ((n & 3) << 2) + (j & 3);
          shift = j < 16 ? 0 : 4;
          v = q + 8;
        } else {
          // k = 4 * nib + lane: lane L = j & 3 in bytes 4L..4L+3, nibble jn = j >> 2 at bits 4 * jn.
          const lane = j & 3;
          const jn = j >> 2;
          byteAt = lane * 4 + (jn >> 1);
          shift = (jn & 1) * 4;
          v = q & 15;
        }
        const p = rec + <usize>byteAt;
        store<u8>(p, <u8>(<i32>load<u8>(p) | ((v & 15) << shift)));
      }
      if (format == 1) {
        const g = <usize>(((n >> 3) * nb + b) * 8 + (n & 7)) << 2;
        store<f32>(sBase + g, s);
        store<i32>(zBase + g, 8 + z);
      } else {
        const g = <usize>(n * nb + b) << 2;
        store<f32>(sBase + g, s);
        store<f32>(zBase + g, <f32>z * s);
      }
    }
  }
}

// ---- format 0: f32 activations -----------------------------------------------------------------

/** Scratch for gemvI4F32: each activation row copied and zero-padded to whole blocks, plus block sums. */
export function gemvI4F32ScratchBytes(K: i32, M: i32): usize {
  const nb = <usize>blocksOf(K);
  return <usize>M * nb * (BLOCK * 4 + 4) + 64;
}

/**
 * y[m, n] for m in [0, M), n in [n0, n1): x row m at x + m * ldx * 4, y row m at y + m * ldy * 4.
 * hasZp: the weights were packed with zero points. scratch: gemvI4F32ScratchBytes(K, M) bytes.
 */
export function gemvI4F32(
  packed: usize, K: i32, N: i32, x: usize, ldx: i32, M: i32, y: usize, ldy: i32,
  n0: i32, n1: i32, hasZp: i32, scratch: usize,
): void {
  if (n1 > N) n1 = N;
  const nb = blocksOf(K);
  const kp = nb * BLOCK;
  const xs = scratch;
  const sums = scratch + <usize>M * <usize>kp * 4;
  for (let m = 0; m < M; m++) prepareF32(x + <usize>m * <usize>ldx * 4, K, nb, xs + <usize>m * <usize>kp * 4, hasZp ? sums + <usize>(m * nb) * 4 : 0);
  const sBase = packed + <usize>N * <usize>nb * 16;
  const zBase = sBase + <usize>N * <usize>nb * 4;
  for (let m = 0; m < M; m++) {
    const xm = xs + <usize>m * <usize>kp * 4;
    const ym = y + <usize>m * <usize>ldy * 4;
    let n = n0;
    for (; n + 1 < n1; n += 2) {
      const r = <usize>n * <usize>nb;
      let acc0 = f32x4.splat(0), acc1 = acc0;
      let w = packed + (r << 4);
      let s = sBase + (r << 2);
      const rowStride = <usize>nb << 4;
      const sStride = <usize>nb << 2;
      let xp = xm;
      for (let b = 0; b < nb; b++) {
        acc0 = fma(blockDot(v128.load(w), xp), v128.load32_splat(s), acc0);
        acc1 = fma(blockDot(v128.load(w + rowStride), xp), v128.load32_splat(s + sStride), acc1);
        w += 16;
        s += 4;
        xp += BLOCK * 4;
      }
      let y0 = hsum(acc0), y1 = hsum(acc1);
      if (hasZp) {
        y0 -= zeroCorrection(zBase + (r << 2), sums + <usize>(m * nb) * 4, nb);
        y1 -= zeroCorrection(zBase + ((r + <usize>nb) << 2), sums + <usize>(m * nb) * 4, nb);
      }
      store<f32>(ym + (<usize>n << 2), y0);
      store<f32>(ym + (<usize>n << 2), y1, 4);
    }
    if (n < n1) {
      const r = <usize>n * <usize>nb;
      let acc = f32x4.splat(0);
      for (let b = 0; b < nb; b++) {
        acc = fma(blockDot(v128.load(packed + ((r + <usize>b) << 4)), xm + <usize>b * BLOCK * 4), v128.load32_splat(sBase + ((r + <usize>b) << 2)), acc);
      }
      let y0 = hsum(acc);
      if (hasZp) y0 -= zeroCorrection(zBase + (r << 2), sums + <usize>(m * nb) * 4, nb);
      store<f32>(ym + (<usize>n << 2), y0);
    }
  }
}

/** sum over blocks of (z * s) * sum(x in block). */
function zeroCorrection(zs: usize, sums: usize, nb: i32): f32 {
  let c: f32 = 0;
  for (let b = 0; b < nb; b++) c += load<f32>(zs + (<usize>b << 2)) * load<f32>(sums + (<usize>b << 2));
  return c;
}

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Nibble j of every lane, sign-extended and converted: the weights for x[4j .. 4j+3]. */
@inline function nib(v: v128, j: i32): v128 {
  if (j == 7) return f32x4.convert_i32x4_s(i32x4.shr_s(v, 28));
  return f32x4.convert_i32x4_s(i32x4.shr_s(i32x4.shl(v, 28 - 4 * j), 28));
}

/** sum_j w_j * x_j over one block, as 4 partial lanes (two chains for latency). */
@inline function blockDot(v: v128, xp: usize): v128 {
  let a = f32x4.mul(nib(v, 0), v128.load(xp));
  let b = f32x4.mul(nib(v, 1), v128.load(xp, 16));
  a = fma(nib(v, 2), v128.load(xp, 32), a);
  b = fma(nib(v, 3), v128.load(xp, 48), b);
  a = fma(nib(v, 4), v128.load(xp, 64), a);
  b = fma(nib(v, 5), v128.load(xp, 80), b);
  a = fma(nib(v, 6), v128.load(xp, 96), a);
  b = fma(nib(v, 7), v128.load(xp, 112), b);
  return f32x4.add(a, b);
}

@inline function hsum(v: v128): f32 {
  const t = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1);
}

/** Copies K floats and zero-pads to nb blocks; block sums when sums != 0. */
function prepareF32(x: usize, K: i32, nb: i32, dst: usize, sums: usize): void {
  const kp = nb * BLOCK;
  let k = 0;
  for (; k + 4 <= K; k += 4) v128.store(dst + (<usize>k << 2), v128.load(x + (<usize>k << 2)));
  for (; k < K; k++) store<f32>(dst + (<usize>k << 2), load<f32>(x + (<usize>k << 2)));
  for (; k < kp; k++) store<f32>(dst + (<usize>k << 2), 0);
  if (sums) {
    for (let b = 0; b < nb; b++) {
      let s = f32x4.splat(0);
      for (let j = 0; j < BLOCK; j += 4) s = f32x4.add(s, v128.load(dst + (<usize>(b * BLOCK + j) << 2)));
      store<f32>(sums + (<usize>b << 2), hsum(s));
    }
  }
}

// ---- format 1: int8-quantized activations ------------------------------------------------------

/**
 * Scratch for gemvI4Q8: per activation row and block, 32 int8 values, an f32 scale, an i32 sum and
 * (used by the SIMD build) the 8 quads widened to i16 and repeated, 128 bytes.
 */
export function gemvI4Q8ScratchBytes(K: i32, M: i32): usize {
  return <usize>M * <usize>blocksOf(K) * (BLOCK + 8 + 128) + 64;
}

/**
 * Quantizes activation rows (x row m at x + m * ldx * 4) into scratch: per block of 32, scale
 * s = max|x| / 127 and x_q = round_half_even(x * (127 / max|x|)). Call once per activation, then
 * gemvI4Q8 (possibly several times over column ranges).
 */
export function gemvI4Q8Prepare(x: usize, ldx: i32, K: i32, M: i32, scratch: usize): void {
  const nb = blocksOf(K);
  const qBase = scratch;
  const sBase = scratch + <usize>M * <usize>nb * BLOCK;
  const cBase = sBase + <usize>M * <usize>nb * 4;
  for (let m = 0; m < M; m++) {
    const xr = x + <usize>m * <usize>ldx * 4;
    for (let b = 0; b < nb; b++) {
      const k0 = b * BLOCK;
      const cnt = min(BLOCK, K - k0);
      let mx: f32 = 0;
      for (let j = 0; j < cnt; j++) mx = max(mx, abs(load<f32>(xr + (<usize>(k0 + j) << 2))));
      const inv: f32 = mx > 0 ? <f32>127 / mx : 0;
      const q = qBase + <usize>(m * nb + b) * BLOCK;
      let sum = 0;
      if (cnt == BLOCK) {
        const iv = f32x4.splat(inv);
        for (let j = 0; j < BLOCK; j += 16) {
          const p = xr + (<usize>(k0 + j) << 2);
          const a = quant4(v128.load(p), iv), b2 = quant4(v128.load(p, 16), iv);
          const c = quant4(v128.load(p, 32), iv), d = quant4(v128.load(p, 48), iv);
          const h = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b2), i16x8.narrow_i32x4_s(c, d));
          v128.store(q + <usize>j, h);
          const s4 = i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(h));
          sum += i32x4.extract_lane(s4, 0) + i32x4.extract_lane(s4, 1) + i32x4.extract_lane(s4, 2) + i32x4.extract_lane(s4, 3);
        }
      } else {
        for (let j = 0; j < BLOCK; j++) {
          let v = 0;
          if (j < cnt) v = <i32>nearest<f32>(load<f32>(xr + (<usize>(k0 + j) << 2)) * inv);
          store<i8>(q + <usize>j, <i8>v);
          sum += v;
        }
      }
      store<f32>(sBase + (<usize>(m * nb + b) << 2), mx / <f32>127);
      store<i32>(cBase + (<usize>(m * nb + b) << 2), sum);
      if (!ASC_FEATURE_RELAXED_SIMD) {
        // x16[t] = quad t widened to i16 twice over: the multiplier of both row pairs in dot_i16x8_s.
        const x16 = cBase + <usize>M * <usize>nb * 4 + (<usize>(m * nb + b) << 7);
        for (let t = 0; t < 8; t++) v128.store(x16 + (<usize>t << 4), i16x8.extend_low_i8x16_s(v128.load32_splat(q + (<usize>t << 2))));
      }
    }
  }
}

@inline function quant4(v: v128, inv: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v, inv)));
}

/**
 * y[m, n] for m in [0, M), n in [n0, n1) (n0 a multiple of 8) from weights packed with format 1 and
 * activations prepared by gemvI4Q8Prepare into `scratch`.
 */
export function gemvI4Q8(packed: usize, K: i32, N: i32, scratch: usize, M: i32, y: usize, ldy: i32, n0: i32, n1: i32): void {
  if (n1 > N) n1 = N;
  const nb = blocksOf(K);
  const rows = (N + 7) & ~7;
  const sW = packed + <usize>rows * <usize>nb * 16;
  const cW = sW + <usize>rows * <usize>nb * 4;
  const qBase = scratch;
  const sX = scratch + <usize>M * <usize>nb * BLOCK;
  const cX = sX + <usize>M * <usize>nb * 4;
  const low = i8x16.splat(15);
  for (let m = 0; m < M; m++) {
    const xq = qBase + <usize>(m * nb) * BLOCK;
    const xs = sX + <usize>(m * nb) * 4;
    const xsum = cX + <usize>(m * nb) * 4;
    const x16 = cX + <usize>M * <usize>nb * 4 + (<usize>(m * nb) << 7);
    const ym = y + <usize>m * <usize>ldy * 4;
    for (let n = n0 & ~7; n < n1; n += 8) {
      const g = <usize>(n >> 3) * <usize>nb;
      let w = packed + (g << 7);
      let sp = sW + (g << 5);
      let cp = cW + (g << 5);
      let acc0 = f32x4.splat(0), acc1 = acc0;
      for (let b = 0; b < nb; b++) {
        let d0: v128, d1: v128;
        if (ASC_FEATURE_RELAXED_SIMD) {
          const xp = xq + <usize>b * BLOCK;
          d0 = groupDotRelaxed(w, xp, low);
          d1 = groupDotRelaxed(w + 64, xp, low);
        } else {
          const xw = x16 + (<usize>b << 7);
          d0 = groupDotSimd(w, xw, low);
          d1 = groupDotSimd(w + 64, xw, low);
        }
        const xsb = v128.load32_splat(xsum + (<usize>b << 2));
        d0 = i32x4.sub(d0, i32x4.mul(v128.load(cp), xsb));
        d1 = i32x4.sub(d1, i32x4.mul(v128.load(cp, 16), xsb));
        const sx = v128.load32_splat(xs + (<usize>b << 2));
        acc0 = fma(f32x4.mul(f32x4.convert_i32x4_s(d0), v128.load(sp)), sx, acc0);
        acc1 = fma(f32x4.mul(f32x4.convert_i32x4_s(d1), v128.load(sp, 16)), sx, acc1);
        w += 128;
        sp += 32;
        cp += 32;
      }
      const yp = ym + (<usize>n << 2);
      storeRows4(yp, acc0, n, n0, n1);
      storeRows4(yp + 16, acc1, n + 4, n0, n1);
    }
  }
}

function storeRows4(yp: usize, acc: v128, n: i32, n0: i32, n1: i32): void {
  if (n + 4 <= n1 && n >= n0) {
    v128.store(yp, acc);
    return;
  }
  if (n >= n0 && n < n1) store<f32>(yp, f32x4.extract_lane(acc, 0));
  if (n + 1 >= n0 && n + 1 < n1) store<f32>(yp, f32x4.extract_lane(acc, 1), 4);
  if (n + 2 >= n0 && n + 2 < n1) store<f32>(yp, f32x4.extract_lane(acc, 2), 8);
  if (n + 3 >= n0 && n + 3 < n1) store<f32>(yp, f32x4.extract_lane(acc, 3), 12);
}

/** One block of a 4-row group (64 bytes at w) against x_q (32 bytes at xp): the 4 rows' dots of u. */
@inline function groupDotRelaxed(w: usize, xp: usize, low: v128): v128 {
  const p0 = v128.load(w), p1 = v128.load(w, 16), p2 = v128.load(w, 32), p3 = v128.load(w, 48);
  // i16 lanes: sums of 2 products, each |x_q| * u <= 127 * 15; 8 steps stay below 2^15.
  let s = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp), v128.and(p0, low));
  s = i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 4), v128.and(p1, low)));
  s = i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 8), v128.and(p2, low)));
  s = i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 12), v128.and(p3, low)));
  s = i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 16), v128.and(i16x8.shr_u(p0, 4), low)));
  s = i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 20), v128.and(i16x8.shr_u(p1, 4), low)));
  s = i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 24), v128.and(i16x8.shr_u(p2, 4), low)));
  s = i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load32_splat(xp, 28), v128.and(i16x8.shr_u(p3, 4), low)));
  return i32x4.extadd_pairwise_i16x8_s(s);
}

/** SIMD build: nibbles widened to i16 (rows 0-1 low half, rows 2-3 high half) against widened x quads. */
@inline function groupDotSimd(w: usize, x16: usize, low: v128): v128 {
  let a = i32x4.splat(0), b = a;
  for (let t = 0; t < 4; t++) {
    const p = v128.load(w + (<usize>t << 4));
    const lo = v128.and(p, low);
    const hi = v128.and(i16x8.shr_u(p, 4), low);
    const xl = v128.load(x16 + (<usize>t << 4));
    const xh = v128.load(x16 + (<usize>(t + 4) << 4));
    a = i32x4.add(a, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(lo), xl), i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(hi), xh)));
    b = i32x4.add(b, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(lo), xl), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(hi), xh)));
  }
  // a = (row0, row0, row1, row1) partials, b = (row2, row2, row3, row3).
  return i32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
}
