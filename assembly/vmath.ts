// f32x4 approximations of the transcendental functions the activation, softmax and norm kernels
// need. Not exported from the module: kernel files import them and get them inlined.
// Accuracy targets ~1e-7 relative (a few ulps) so kernels agree with the float64 reference to
// ~1e-6: Cephes-style range reduction plus minimax polynomials, special values handled by selects.
//
// Constants stay v128.const (V8 folds them into RIP-relative operands; splat loads from a table
// measured ~30% slower). Clamps use pmin/pmax (one instruction each on x64) rather than the
// NaN-propagating min/max (about seven), and rounding uses the 1.5 * 2^23 trick rather than
// nearest + trunc_sat.

/** Width markers for kernels that run a line 4 lanes at a time (Full) and its % 4 leftovers one lane at a time (Lane). */
export class Full {}
export class Lane {}

/** Loads 4 lanes (Full) or lane 0 only (Lane: never reads past the end of a line). */
@inline export function ld<W>(p: usize): v128 {
  if (idof<W>() == idof<Full>()) return v128.load(p);
  return v128.load32_zero(p);
}

/** Stores 4 lanes (Full) or lane 0 only (Lane). */
@inline export function st<W>(p: usize, v: v128): void {
  if (idof<W>() == idof<Full>()) v128.store(p, v);
  else v128.store_lane<u32>(p, v, 0);
}

@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/** a*b + c: fused where the relaxed build allows it (either rounding is fine for these polynomials). */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** 2^k for integer lanes k in [-126, 127] (exponent bits placed directly). */
@inline function pow2i(kk: v128): v128 {
  return i32x4.shl(i32x4.add(kk, i32x4.splat(127)), 23);
}

/**
 * e^x. x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2 keeps n*ln2 exact), e^r by the
 * Cephes expf polynomial, then 2^n applied as two factors so results up to overflow (inf) come
 * out right. n is rounded by adding 1.5 * 2^23, which also leaves it as an integer in the low
 * mantissa bits. NaN stays NaN (pmax/pmin keep a NaN first operand).
 * Below x = -87 the result is 0: the true values (< 1.7e-38) are at or below the subnormal range,
 * where x86 takes a ~100-cycle assist per operation; masked softmax logits (-1e4, -inf) land there.
 */
@inline export function vexp(x0: v128): v128 {
  const x = f32x4.pmin(f32x4.pmax(x0, splat(-87.0)), splat(89.0));
  const t = madd(x, splat(1.44269504088896341), splat(12582912.0));
  const magic = splat(12582912.0);
  const n = f32x4.sub(t, magic);
  const ni = i32x4.sub(t, magic);
  let r = madd(n, splat(-0.693359375), x);
  r = madd(n, splat(2.12194440e-4), r);
  let p = splat(1.9875691500e-4);
  p = madd(p, r, splat(1.3981999507e-3));
  p = madd(p, r, splat(8.3334519073e-3));
  p = madd(p, r, splat(4.1665795894e-2));
  p = madd(p, r, splat(1.6666665459e-1));
  p = madd(p, r, splat(5.0000001201e-1));
  p = madd(f32x4.mul(p, r), r, f32x4.add(r, splat(1.0)));
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const y = f32x4.mul(f32x4.mul(p, pow2i(n1)), pow2i(n2));
  return v128.andnot(y, f32x4.lt(x0, splat(-87.0)));
}

/** Natural log (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)), polynomial in m-1. */
@inline export function vlog(x: v128): v128 {
  // Subnormals: scale by 2^23 so the exponent field is meaningful.
  const tiny = f32x4.lt(x, splat(1.17549435e-38));
  const bits = v128.bitselect(f32x4.mul(x, splat(8388608.0)), x, tiny);
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(tiny, i32x4.splat(23)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const small = f32x4.lt(m, splat(0.707106781186547524));
  // m < sqrt(1/2): use 2m - 1 and e - 1, keeping the polynomial argument in [-0.29, 0.41].
  e = i32x4.add(e, small); // mask lanes are -1
  m = f32x4.sub(f32x4.add(m, v128.and(m, small)), splat(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let p = splat(7.0376836292e-2);
  p = madd(p, m, splat(-1.1514610310e-1));
  p = madd(p, m, splat(1.1676998740e-1));
  p = madd(p, m, splat(-1.2420140846e-1));
  p = madd(p, m, splat(1.4249322787e-1));
  p = madd(p, m, splat(-1.6668057665e-1));
  p = madd(p, m, splat(2.0000714765e-1));
  p = madd(p, m, splat(-2.4999993993e-1));
  p = madd(p, m, splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = madd(ef, splat(-2.12194440e-4), y);
  y = madd(z, splat(-0.5), y);
  let r = f32x4.add(m, y);
  r = madd(ef, splat(0.693359375), r);
  // Special values: x < 0 or NaN -> NaN, 0 -> -inf, +inf -> +inf.
  r = v128.bitselect(splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
  const inf = splat(Infinity);
  r = v128.bitselect(inf, r, f32x4.eq(x, inf));
  const bad = v128.not(f32x4.ge(x, f32x4.splat(0)));
  return v128.bitselect(splat(NaN), r, bad);
}

/** log(1 + y) for y >= 0 without losing tiny y: log(u) corrected by the rounding of u = 1 + y. */
@inline export function vlog1pPos(y: v128): v128 {
  const one = splat(1.0);
  const u = f32x4.add(y, one);
  const corr = f32x4.div(f32x4.sub(f32x4.sub(u, one), y), u);
  const r = f32x4.sub(vlog(u), corr);
  // u = inf: the correction is NaN; the answer is inf.
  return v128.bitselect(u, r, f32x4.eq(u, splat(Infinity)));
}

/** e^x - 1, accurate near 0 (Taylor to x^8 for |x| < 0.5; no cancellation beyond). */
@inline export function vexpm1(x: v128): v128 {
  let p = splat(2.48015873e-5); // 1/8!, then 1/7! ... 1/2!
  p = madd(p, x, splat(1.98412698e-4));
  p = madd(p, x, splat(1.38888889e-3));
  p = madd(p, x, splat(8.33333333e-3));
  p = madd(p, x, splat(4.16666667e-2));
  p = madd(p, x, splat(1.66666667e-1));
  p = madd(p, x, splat(0.5));
  p = madd(f32x4.mul(p, x), x, x);
  const big = f32x4.sub(vexp(x), splat(1.0));
  return v128.bitselect(p, big, f32x4.lt(f32x4.abs(x), splat(0.5)));
}

/** Logistic function 1 / (1 + e^-x); e^-x overflows to inf for very negative x, giving 0. */
@inline export function vsigmoid(x: v128): v128 {
  const one = splat(1.0);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

/** tanh: Cephes odd polynomial below 0.625 (no cancellation), 1 - 2/(e^{2|x|} + 1) above. */
@inline export function vtanh(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = madd(p, z, splat(2.06390887954e-2));
  p = madd(p, z, splat(-5.37397155531e-2));
  p = madd(p, z, splat(1.33314422036e-1));
  p = madd(p, z, splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  const one = splat(1.0);
  const e = vexp(f32x4.add(ax, ax));
  const large = f32x4.sub(one, f32x4.div(splat(2.0), f32x4.add(e, one)));
  const signed = v128.or(large, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, splat(0.625)));
}

/**
 * erfc(z) for z >= 0 (Numerical Recipes erfcc, Chebyshev fit, fractional error < 1.2e-7):
 * relative accuracy holds far into the tail, which Gelu of negative inputs needs.
 */
@inline export function verfcPos(z: v128): v128 {
  const one = splat(1.0);
  const t = f32x4.div(one, madd(splat(0.5), z, one));
  let p = splat(0.17087277);
  p = madd(p, t, splat(-0.82215223));
  p = madd(p, t, splat(1.48851587));
  p = madd(p, t, splat(-1.13520398));
  p = madd(p, t, splat(0.27886807));
  p = madd(p, t, splat(-0.18628806));
  p = madd(p, t, splat(0.09678418));
  p = madd(p, t, splat(0.37409196));
  p = madd(p, t, splat(1.00002368));
  p = madd(p, t, splat(-1.26551223));
  return f32x4.mul(t, vexp(f32x4.sub(p, f32x4.mul(z, z))));
}

/** erfc on the whole line: erfc(-z) = 2 - erfc(z). */
@inline export function verfc(x: v128): v128 {
  const e = verfcPos(f32x4.abs(x));
  const neg = f32x4.lt(x, f32x4.splat(0));
  return v128.bitselect(f32x4.sub(splat(2.0), e), e, neg);
}

/** erf: Taylor series near 0 (where 1 - erfc would cancel; error < 1e-9 below 0.5), 1 - erfc beyond. */
@inline export function verf(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = splat(1.2055332981789664e-4);
  p = madd(p, z, splat(-8.548325508299338e-4));
  p = madd(p, z, splat(5.223977625442188e-3));
  p = madd(p, z, splat(-2.6866170645131252e-2));
  p = madd(p, z, splat(1.1283791670955126e-1));
  p = madd(p, z, splat(-3.7612638903183754e-1));
  p = madd(p, z, splat(1.1283791670955126));
  const small = f32x4.mul(p, x);
  const big = f32x4.sub(splat(1.0), verfcPos(ax));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, splat(0.5)));
}
