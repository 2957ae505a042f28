// Requantization shared by the int8 kernels (not re-exported from index.ts: its helpers take v128).
//
// Multiplier block (written by src/backends/wasm/kernels/gemm-i8.ts): four arrays of `stride` bytes
// each, one entry per channel (or one per tensor, stride 8): float64 m = p / y_scale, float64
// p = x_scale * w_scale (exact), float64 y_scale, and m32 = fround(m) as float32 in the low half of
// each 8-byte entry (so that a pointer offset by channels moves every array alike). The result is exactly round_half_even(acc * p / y_scale), as
// src/ops/requant-exact.ts computes it: the fast path (requantF32x4) rounds acc * m32 on a fixed-
// point grid, which can be off only when the exact value lies within about 2^-12 of a .5; such
// lanes (rare, or exact ties) take requantExact, which decides the rounding without error.

const SPLITTER: f64 = 134217729.0; // 2^27 + 1
/** requant-exact.ts's REQUANT_LIMIT: beyond it every output saturates. */
const LIMIT: f64 = 1048576.0;

@inline function twoProductError(a: f64, b: f64, hi: f64): f64 {
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
}

/** round_half_even(acc * p / ys) exactly (see requant-exact.ts), clamped to +-2^30. */
export function requantExact(acc: i32, m: f64, p: f64, ys: f64): i32 {
  const a = <f64>acc;
  const r = a * m;
  if (!(ys > 0) || !(abs(r) < LIMIT) || !isFinite(ys)) {
    return <i32>nearest(max(min(r, 1073741824.0), -1073741824.0));
  }
  const k = floor(r);
  const hi = a * p;
  const d = (hi - (k + 0.5) * ys) + twoProductError(a, p, hi);
  const ki = <i32>k;
  if (d > 0) return ki + 1;
  if (d < 0) return ki;
  return (ki & 1) == 0 ? ki : ki + 1;
}

/**
 * The float32 fast path. Block array 3 (at mult + 3 * stride) holds m32 = fround(m) as float32
 * values (entries 8 bytes apart). Per lane: y = clamp(acc * m32, +-256) + magic, magic =
 * 1.5 * 2^11 + 0.5 + zp + 2^-12 (requantMagic32), so y stays in [2^11, 2^12), where float32 values
 * are multiples of 2^-12: the bits G of y hold v + 0.5 + zp in fixed point with 12 fraction bits,
 * offset by one unit. The result is requantValue32(G) = floor(v + 0.5) + zp (round half up on the
 * grid) unless G's fraction bits are 0 or 1 (requantBand32: v within about 2^-12 of a .5). The
 * error of v = acc * m32 (three float32 roundings, 3 * 2^-24 relative, 0.19 grid units at
 * |v| = 256) plus the grid's half unit stays under 0.69 units, so outside the band this is the
 * exact rounding; lanes in the band (about 1 in 2000, or exact ties) are redone by requantExact.
 * Beyond +-256 every 8-bit output saturates whatever its zero point (-128..255), and the clamped
 * value saturates the same way. Four lanes per float32 op, against two for float64.
 */
@inline export function requantF32x4(acc: v128, m: v128, lim: v128, nlim: v128, magic: v128): v128 {
  const v = f32x4.mul(f32x4.convert_i32x4_s(acc), m);
  return f32x4.add(f32x4.pmax(f32x4.pmin(v, lim), nlim), magic);
}

/** floor(v + 0.5) + zp from requantF32x4's G: G >> 12 less the magic's integer part (0x45400). */
@inline export function requantValue32(g: v128, base: v128): v128 {
  return i32x4.sub(i32x4.shr_s(g, 12), base);
}

/** The base constant of requantValue32: the bits of 1.5 * 2^11, shifted right by 12. */
@inline export function requantBase32(): v128 {
  return i32x4.splat(0x45400);
}

/**
 * G's 12 fraction bits without the lowest one: 0 in the lanes within the band around a .5.
 * Kernels fold these with i32x4.min_u and test i32x4.all_true once per group.
 */
@inline export function requantBand32(g: v128): v128 {
  return i32x4.shr_u(i32x4.shl(g, 20), 21);
}

/** The magic constant of requantF32x4 for output zero point zp (exact in float32 for |zp| <= 512). */
@inline export function requantMagic32(zp: i32): v128 {
  return f32x4.splat(<f32>3072.500244140625 + <f32>zp);
}

/** The lim constant of requantF32x4 (+256). */
@inline export function requantLim32(): v128 {
  return f32x4.splat(256.0);
}

/** The nlim constant of requantF32x4 (-256). */
@inline export function requantNegLim32(): v128 {
  return f32x4.splat(-256.0);
}
