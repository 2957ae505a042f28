// Requantization shared by the int8 kernels (not re-exported from index.ts: its helpers take v128).

/**
 * round_half_even(f64(acc) * m) for 4 lanes, in float64 so the result matches a float64 reference
 * exactly (f64(acc) is exact; the product rounds once). Adding magic = 1.5 * 2^52 rounds to the
 * nearest integer, ties to even, and leaves it in the low 32 bits of the sum (valid for |v| < 2^51),
 * which replaces nearest + trunc_sat (V8 expands the latter to ~5 instructions). The product is
 * clamped to [nlim, lim] = +-2^30 first so that adding a zero point cannot wrap before the
 * saturating narrow. The constants are parameters because V8 rematerializes a vector constant at
 * every use (3 instructions); callers make them once per tile or row.
 */
@inline export function scaleRound4k(acc: v128, m: v128, lim: v128, nlim: v128, magic: v128): v128 {
  let lo = f64x2.convert_low_i32x4_s(acc);
  let hi = f64x2.convert_low_i32x4_s(i32x4.shuffle(acc, acc, 2, 3, 2, 3));
  lo = f64x2.add(f64x2.pmax(f64x2.pmin(f64x2.mul(lo, m), lim), nlim), magic);
  hi = f64x2.add(f64x2.pmax(f64x2.pmin(f64x2.mul(hi, m), lim), nlim), magic);
  return i32x4.shuffle(lo, hi, 0, 2, 4, 6);
}
