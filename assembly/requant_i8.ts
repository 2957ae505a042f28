// Requantization shared by the int8 kernels (not re-exported from index.ts: its helpers take v128).
//
// Multiplier block (written by src/backends/wasm/kernels/gemm-i8.ts): three float64 arrays of
// `stride` bytes each, m = p / y_scale (the fast multiplier), p = x_scale * w_scale (exact) and
// y_scale, one entry per channel (or one per tensor, stride 8). The result is exactly
// round_half_even(acc * p / y_scale), as src/ops/requant-exact.ts computes it: the fast path rounds
// acc * m in fixed point, which can be off only when the exact value lies within 2^-19 of a .5;
// such groups (rare, or exact ties) take requantExact, which decides the rounding without error.

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

/** Four lanes through requantExact; lane j's block entries are at mp + j * step. */
function requantExact4(acc: v128, mp: usize, step: usize, stride: usize): v128 {
  let out = i32x4.splat(0);
  out = i32x4.replace_lane(out, 0, requantExact(i32x4.extract_lane(acc, 0), load<f64>(mp), load<f64>(mp + stride), load<f64>(mp + 2 * stride)));
  mp += step;
  out = i32x4.replace_lane(out, 1, requantExact(i32x4.extract_lane(acc, 1), load<f64>(mp), load<f64>(mp + stride), load<f64>(mp + 2 * stride)));
  mp += step;
  out = i32x4.replace_lane(out, 2, requantExact(i32x4.extract_lane(acc, 2), load<f64>(mp), load<f64>(mp + stride), load<f64>(mp + 2 * stride)));
  mp += step;
  out = i32x4.replace_lane(out, 3, requantExact(i32x4.extract_lane(acc, 3), load<f64>(mp), load<f64>(mp + stride), load<f64>(mp + 2 * stride)));
  return out;
}

/**
 * round_half_even(acc * p / ys) for 4 lanes: lanes 0-1 use multiplier pair mLo, lanes 2-3 mHi
 * (the same splat for a per-tensor or per-row multiplier). Fast path (requantFixed4): acc * m in
 * float64, clamped to [nlim, lim] = +-1000 (beyond that every 8-bit output saturates, whatever the
 * zero point), plus magic = 1.5 * 2^31 + 0.5 + 4 * 2^-21, which rounds to multiples of 2^-21 and
 * leaves G = (acc * m + 0.5) * 2^21 + 4 in the low 32 bits (fixed point, |G| < 2^31). The result is
 * G >> 21 unless G's 21 fraction bits are below 8 (requantBand), i.e. acc * m lies within about
 * 2^-19 of a .5: the float64 product errs by under 2^-40 and the grid by 2^-22, so outside that
 * band the fixed-point rounding is the exact one. Groups with such a lane (rare, or exact ties) are
 * redone by requantExact from the block at mp (entries `step` bytes apart per lane, arrays `stride`
 * bytes apart). The constants are parameters because V8 rematerializes a vector constant at every
 * use; callers make them once (requantLim, requantNegLim, requantMagic).
 */
@inline export function requant4(
  acc: v128, mLo: v128, mHi: v128, lim: v128, nlim: v128, magic: v128, mp: usize, step: usize, stride: usize,
): v128 {
  let lo = f64x2.convert_low_i32x4_s(acc);
  let hi = f64x2.convert_low_i32x4_s(i32x4.shuffle(acc, acc, 2, 3, 2, 3));
  lo = f64x2.add(f64x2.pmax(f64x2.pmin(f64x2.mul(lo, mLo), lim), nlim), magic);
  hi = f64x2.add(f64x2.pmax(f64x2.pmin(f64x2.mul(hi, mHi), lim), nlim), magic);
  const g = i32x4.shuffle(lo, hi, 0, 2, 4, 6);
  if (!i32x4.all_true(requantBand(g))) return requantExact4(acc, mp, step, stride);
  return i32x4.shr_s(g, 21);
}

/**
 * requant4's fast path alone, for kernels that keep the exact path out of their inner loop: G per
 * lane (round with i32x4.shr_s(G, 21)); lanes where requantBand(G) is 0 must be redone with
 * requantExact.
 */
@inline export function requantFixed4(acc: v128, m: v128, lim: v128, nlim: v128, magic: v128): v128 {
  let lo = f64x2.convert_low_i32x4_s(acc);
  let hi = f64x2.convert_low_i32x4_s(i32x4.shuffle(acc, acc, 2, 3, 2, 3));
  lo = f64x2.add(f64x2.pmax(f64x2.pmin(f64x2.mul(lo, m), lim), nlim), magic);
  hi = f64x2.add(f64x2.pmax(f64x2.pmin(f64x2.mul(hi, m), lim), nlim), magic);
  return i32x4.shuffle(lo, hi, 0, 2, 4, 6);
}

/**
 * G's 21 fraction bits without the lowest 3 (no constant needed): 0 in the lanes within the band
 * around a .5. Kernels fold these with i32x4.min_u and test i32x4.all_true once per row.
 */
@inline export function requantBand(g: v128): v128 {
  return i32x4.shr_u(i32x4.shl(g, 11), 14);
}

/** The lim constant of requant4 (+1000). */
@inline export function requantLim(): v128 {
  return f64x2.splat(1000.0);
}

/** The nlim constant of requant4 (-1000). */
@inline export function requantNegLim(): v128 {
  return f64x2.splat(-1000.0);
}

/** The magic constant of requant4: 1.5 * 2^31 + 0.5 + 4 * 2^-21 (exact in float64). */
@inline export function requantMagic(): v128 {
  return f64x2.splat(3221225472.5000019073486328125);
}
