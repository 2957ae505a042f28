// DynamicQuantizeLinear's range pass: min(x, 0) and max(x, 0) of n float32 values, 16 lanes per
// step. pmin / pmax keep the accumulator when a lane is NaN (b < a is false), so NaN inputs are
// skipped exactly as the reference's `v < mn` / `v > mx` skip them. The quantizing pass is
// quantizeLinearF32 (quant_f32.ts); scale and zero point are formed on the JS side (src/ops/quantize.ts).

/** Writes min(0, x...) and max(0, x...) as two f32 at out. */
export function minMaxF32(x: usize, n: i32, out: usize): void {
  const zero = f32x4.splat(0);
  let mn0 = zero, mn1 = zero, mn2 = zero, mn3 = zero;
  let mx0 = zero, mx1 = zero, mx2 = zero, mx3 = zero;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
    mn0 = f32x4.pmin(mn0, a); mx0 = f32x4.pmax(mx0, a);
    mn1 = f32x4.pmin(mn1, b); mx1 = f32x4.pmax(mx1, b);
    mn2 = f32x4.pmin(mn2, c); mx2 = f32x4.pmax(mx2, c);
    mn3 = f32x4.pmin(mn3, d); mx3 = f32x4.pmax(mx3, d);
  }
  const mn = f32x4.pmin(f32x4.pmin(mn0, mn1), f32x4.pmin(mn2, mn3));
  const mx = f32x4.pmax(f32x4.pmax(mx0, mx1), f32x4.pmax(mx2, mx3));
  let lo = min(min(f32x4.extract_lane(mn, 0), f32x4.extract_lane(mn, 1)), min(f32x4.extract_lane(mn, 2), f32x4.extract_lane(mn, 3)));
  let hi = max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  store<f32>(out, lo);
  store<f32>(out, hi, 4);
}
