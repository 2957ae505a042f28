// QuantizeLinear / DequantizeLinear between f32 and 8-bit integers, and onnxruntime's QLinearAdd /
// QLinearMul, 16 elements per step. Every step is the float32 arithmetic of the reference kernels
// (src/ops/quantize.ts, src/ops/qlinear.ts) so the results are bit-identical: f32 division and
// multiplication, f32x4.nearest (round half to even), clamping in f32 before the conversion. A NaN
// survives the clamps and truncates to 0, as the reference's NaN does when stored into a typed
// array. The clamps are pmin / pmax, which keep a NaN in the first operand as min / max do (and
// differ from them only in the sign of a zero, which does not change the integer); V8 makes
// min / max several instructions each for the NaN and -0 rules. The relaxed build converts with
// relaxed_trunc (one instruction; its NaN result is unspecified, so NaN lanes are zeroed first),
// the plain build with trunc_sat (NaN -> 0 by definition, but several instructions in V8).

/** Clamped, rounded f32 lanes (integral or NaN) -> int32, NaN -> 0. */
// @ts-ignore: decorator
@inline
function toI32(v: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_trunc_f32x4_s(v128.and(v, f32x4.eq(v, v)));
  return i32x4.trunc_sat_f32x4_s(v);
}

/** Clamped, rounded f32 lanes -> 16 bytes: `signed` picks int8 over uint8 saturation. */
// @ts-ignore: decorator
@inline
function narrow16(a: v128, b: v128, c: v128, d: v128, signed: bool): v128 {
  const lo = i16x8.narrow_i32x4_s(toI32(a), toI32(b));
  const hi = i16x8.narrow_i32x4_s(toI32(c), toI32(d));
  return signed ? i8x16.narrow_i16x8_s(lo, hi) : i8x16.narrow_i16x8_u(lo, hi);
}

/** One f32 value already rounded: clamp (NaN kept), then truncate (NaN -> 0). */
// @ts-ignore: decorator
@inline
function clampToInt(v: f32, lo: f32, hi: f32): i32 {
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return v != v ? 0 : <i32>v;
}

/**
 * y[i] = clamp(nearest(x[i] / scale) + zp, lo, hi) for n f32 values into bytes (int8 when
 * `signed`); a sub-range is the same call on offset pointers.
 */
export function quantizeLinearF32(x: usize, y: usize, n: i32, scale: f32, zp: i32, signed: i32): void {
  const lo: f32 = signed ? -128 : 0;
  const hi: f32 = signed ? 127 : 255;
  const vs = f32x4.splat(scale);
  const vz = f32x4.splat(<f32>zp);
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const q0 = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.div(v128.load(p), vs)), vz), vlo), vhi);
    const q1 = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.div(v128.load(p, 16), vs)), vz), vlo), vhi);
    const q2 = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.div(v128.load(p, 32), vs)), vz), vlo), vhi);
    const q3 = f32x4.pmin(f32x4.pmax(f32x4.add(f32x4.nearest(f32x4.div(v128.load(p, 48), vs)), vz), vlo), vhi);
    v128.store(y + <usize>i, narrow16(q0, q1, q2, q3, signed != 0));
  }
  const fz = <f32>zp;
  for (; i < n; i++) {
    const v = nearest<f32>(load<f32>(x + (<usize>i << 2)) / scale) + fz;
    store<i8>(y + <usize>i, <i8>clampToInt(v, lo, hi));
  }
}

/** 16 bytes at p widened to four f32x4 lanes groups, each minus zp. */
// @ts-ignore: decorator
@inline
function widen(p: usize, signed: bool, vz: v128, part: i32): v128 {
  const b = v128.load(p);
  const h = part < 2 ? (signed ? i16x8.extend_low_i8x16_s(b) : i16x8.extend_low_i8x16_u(b)) : (signed ? i16x8.extend_high_i8x16_s(b) : i16x8.extend_high_i8x16_u(b));
  const w = (part & 1) == 0 ? i32x4.extend_low_i16x8_s(h) : i32x4.extend_high_i16x8_s(h);
  return f32x4.sub(f32x4.convert_i32x4_s(w), vz);
}

// @ts-ignore: decorator
@inline
function loadQ8(p: usize, signed: bool): f32 {
  return signed ? <f32>load<i8>(p) : <f32>load<u8>(p);
}

/** y[i] = (x[i] - zp) * scale for n bytes (int8 when `signed`) into f32. */
export function dequantizeLinearF32(x: usize, y: usize, n: i32, scale: f32, zp: i32, signed: i32): void {
  const s = signed != 0;
  const vs = f32x4.splat(scale);
  const vz = f32x4.splat(<f32>zp);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + <usize>i;
    const q = y + (<usize>i << 2);
    v128.store(q, f32x4.mul(widen(p, s, vz, 0), vs));
    v128.store(q, f32x4.mul(widen(p, s, vz, 1), vs), 16);
    v128.store(q, f32x4.mul(widen(p, s, vz, 2), vs), 32);
    v128.store(q, f32x4.mul(widen(p, s, vz, 3), vs), 48);
  }
  const fz = <f32>zp;
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), (loadQ8(x + <usize>i, s) - fz) * scale);
}

/**
 * onnxruntime's QLinearAdd (op 0) / QLinearMul (op 1), every step in f32:
 * va = aS * (a - aZ), vb = bS * (b - bZ), vc = (va op vb) / cS clamped to [lo - cZ, hi - cZ], then
 * c = nearest(vc + cZ). aStep / bStep are 1 (a full operand) or 0 (a single value repeated).
 */
export function qlinearBinaryQ8(
  op: i32, a: usize, aStep: i32, aS: f32, aZ: i32, b: usize, bStep: i32, bS: f32, bZ: i32,
  c: usize, n: i32, cS: f32, cZ: i32, signed: i32,
): void {
  const s = signed != 0;
  const lo: f32 = (s ? <f32>-128 : <f32>0) - <f32>cZ;
  const hi: f32 = (s ? <f32>127 : <f32>255) - <f32>cZ;
  const vaS = f32x4.splat(aS), vbS = f32x4.splat(bS), vcS = f32x4.splat(cS);
  const vaZ = f32x4.splat(<f32>aZ), vbZ = f32x4.splat(<f32>bZ), vcZ = f32x4.splat(<f32>cZ);
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  // A single-valued operand: its dequantized value, splatted once.
  const aOne = f32x4.splat(aS * (loadQ8(a, s) - <f32>aZ));
  const bOne = f32x4.splat(bS * (loadQ8(b, s) - <f32>bZ));
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const pa = a + <usize>i, pb = b + <usize>i;
    const r0 = qlinearLanes(op, aStep ? f32x4.mul(vaS, widen(pa, s, vaZ, 0)) : aOne, bStep ? f32x4.mul(vbS, widen(pb, s, vbZ, 0)) : bOne, vcS, vcZ, vlo, vhi);
    const r1 = qlinearLanes(op, aStep ? f32x4.mul(vaS, widen(pa, s, vaZ, 1)) : aOne, bStep ? f32x4.mul(vbS, widen(pb, s, vbZ, 1)) : bOne, vcS, vcZ, vlo, vhi);
    const r2 = qlinearLanes(op, aStep ? f32x4.mul(vaS, widen(pa, s, vaZ, 2)) : aOne, bStep ? f32x4.mul(vbS, widen(pb, s, vbZ, 2)) : bOne, vcS, vcZ, vlo, vhi);
    const r3 = qlinearLanes(op, aStep ? f32x4.mul(vaS, widen(pa, s, vaZ, 3)) : aOne, bStep ? f32x4.mul(vbS, widen(pb, s, vbZ, 3)) : bOne, vcS, vcZ, vlo, vhi);
    v128.store(c + <usize>i, narrow16(r0, r1, r2, r3, s));
  }
  const fAZ = <f32>aZ, fBZ = <f32>bZ, fCZ = <f32>cZ;
  const loC: f32 = s ? -128 : 0, hiC: f32 = s ? 127 : 255;
  for (; i < n; i++) {
    const va = aS * (loadQ8(a + <usize>(i * aStep), s) - fAZ);
    const vb = bS * (loadQ8(b + <usize>(i * bStep), s) - fBZ);
    let vc: f32 = (op == 0 ? va + vb : va * vb) / cS;
    if (vc < lo) vc = lo;
    if (vc > hi) vc = hi;
    store<i8>(c + <usize>i, <i8>clampToInt(nearest<f32>(vc + fCZ), loC, hiC));
  }
}

// @ts-ignore: decorator
@inline
function qlinearLanes(op: i32, va: v128, vb: v128, vcS: v128, vcZ: v128, vlo: v128, vhi: v128): v128 {
  const vc = f32x4.div(op == 0 ? f32x4.add(va, vb) : f32x4.mul(va, vb), vcS);
  return f32x4.nearest(f32x4.add(f32x4.pmin(f32x4.pmax(vc, vlo), vhi), vcZ));
}
