// Requantization shared by the int8 kernels (not re-exported from index.ts: its helpers take v128).
//
// Multiplier block (written by src/backends/wasm/kernels/gemm-i8.ts): three float64 arrays of
// `stride` bytes each, m = p / y_scale (the fast multiplier), p = x_scale * w_scale (exact) and
// y_scale, one entry per channel (or one per tensor, stride 8). The result is exactly
// round_half_even(acc * p / y_scale), as src/ops/requant-exact.ts computes it: the fast path rounds
// acc * m, which is off only when the exact value lies within ~2^-32 of a .5; such lanes (rare,
// or exact ties) take requantExact, which decides the rounding without error.

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
 * (the same splat for a per-tensor or per-row multiplier). The fast path converts to float64
 * (exact), multiplies once, clamps to [nlim, lim] = +-2^30 (so that adding a zero point cannot
 * wrap before the saturating narrow) and adds magic = 1.5 * 2^52, which rounds to the nearest
 * integer, ties to even, and leaves it in the low 32 bits. When a lane's product lies within
 * `near` (= 0.5 - 2^-20) or more of its rounded value, i.e. close to a .5, the four lanes are redone
 * by requantExact from the block at mp (entries `step` bytes apart per lane, arrays `stride`
 * bytes apart). The constants are parameters because V8 rematerializes a vector constant at every
 * use; callers make them once per tile or row.
 */
@inline export function requant4(
  acc: v128, mLo: v128, mHi: v128, lim: v128, nlim: v128, magic: v128, near: v128, mp: usize, step: usize, stride: usize,
): v128 {
  let lo = f64x2.convert_low_i32x4_s(acc);
  let hi = f64x2.convert_low_i32x4_s(i32x4.shuffle(acc, acc, 2, 3, 2, 3));
  lo = f64x2.pmax(f64x2.pmin(f64x2.mul(lo, mLo), lim), nlim);
  hi = f64x2.pmax(f64x2.pmin(f64x2.mul(hi, mHi), lim), nlim);
  const rlo = f64x2.add(lo, magic);
  const rhi = f64x2.add(hi, magic);
  const dlo = f64x2.abs(f64x2.sub(lo, f64x2.sub(rlo, magic)));
  const dhi = f64x2.abs(f64x2.sub(hi, f64x2.sub(rhi, magic)));
  if (v128.any_true(v128.or(f64x2.ge(dlo, near), f64x2.ge(dhi, near)))) return requantExact4(acc, mp, step, stride);
  return i32x4.shuffle(rlo, rhi, 0, 2, 4, 6);
}

/** The `near` constant of requant4. */
@inline export function requantNear(): v128 {
  return f64x2.splat(0.5 - 1.0 / 1048576.0);
}
