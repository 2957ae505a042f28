// Direct depthwise 3x3 int8 convolution (NCHW, one image): MobileNetV2-int8 spends much of its time
// here, and im2col + GEMM with M = 1 per group would waste the 4x8 tile. Per channel the input plane
// is first widened to i16 with the input zero point subtracted and zero borders added (so padding
// contributes nothing and the inner loop has no bounds checks). Each kernel row is then two
// i32x4.dot_i16x8_s on plain unaligned loads, with no shuffles: taps (w0, w1) against the i16 pairs
// (x[2m], x[2m+1]) and (w2, 0) against (x[2m+2], x[2m+3]) give 4 outputs at stride 2; at stride 1
// the same loads at a one-element offset give the odd outputs, interleaved once per 8 outputs.
// Output: int32 (ConvInteger) or requantized u8/s8 with per-channel multipliers (QLinearConv).
import {
  requantBand32, requantBase32, requantExact, requantF32x4, requantLim32, requantMagic32, requantNegLim32, requantValue32,
} from './requant_i8';

/** Scratch bytes for one call: the padded i16 plane plus 32 elements of over-read slack. */
export function dwConv3x3I8ScratchBytes(H: i32, W: i32, pt: i32, pl: i32, pb: i32, pr: i32): usize {
  return planeBytes(H, W, pt, pl, pb, pr) + PENDING_BYTES;
}

@inline function planeBytes(H: i32, W: i32, pt: i32, pl: i32, pb: i32, pr: i32): usize {
  return (<usize>(H + pt + pb) * <usize>(W + pl + pr + 32) * 2 + 64 + 7) & ~(<usize>7);
}

/**
 * Groups of 8 outputs whose requantization met a value within about 2^-12 of a .5 (about 1 lane in
 * 2000, more with exact ties) are listed (channel, row, column) after the plane and redone exactly
 * once every channel is done, so that the hot loops hold no call (a call inside them, even one
 * never taken, makes V8 spill the loop's vector constants). A full list redoes every row.
 */
const PENDING_MAX: i32 = 4095;
const PENDING_BYTES: usize = 16 + <usize>PENDING_MAX * 16;

/**
 * Channels [c0, c1) of a depthwise 3x3 convolution with stride 1 or 2 and dilation 1.
 * x: [C, H, W] bytes (signed when xSigned), zero point zx. w: [C, 3, 3] bytes, zero points zw
 * (int32, zwLen 1 or C; 0 = none). Output [C, OH, OW] at out: outKind 0 int32, 1 u8, 2 s8, with
 * bias (int32 per channel, 0 = none), mult (the multiplier block of requant_i8.ts, per channel
 * with multPerChan entries per array when multPerChan > 0) and zp (int32 per tensor, 0 = none) as in gemmI8. scratch: dwConv3x3I8ScratchBytes bytes, private to the caller.
 */
export function dwConv3x3I8(
  x: usize, C: i32, H: i32, W: i32, xSigned: i32, zx: i32,
  w: usize, wSigned: i32, zw: usize, zwLen: i32,
  stride: i32, pt: i32, pl: i32, pb: i32, pr: i32, OH: i32, OW: i32,
  out: usize, outKind: i32, bias: usize, mult: usize, multPerChan: i32, zp: usize,
  scratch: usize, c0: i32, c1: i32,
): void {
  const Hp = H + pt + pb;
  const Wp = W + pl + pr + 32;
  // The output zero point rides in the float32 magic (requant_i8.ts).
  const magic = requantMagic32(zp ? load<i32>(zp) : 0);
  const lim = requantLim32();
  const nlim = requantNegLim32();
  const base = requantBase32();
  const multStride: usize = multPerChan > 0 ? <usize>multPerChan << 3 : 8;
  const pending = scratch + planeBytes(H, W, pt, pl, pb, pr);
  store<i32>(pending, 0);
  for (let c = c0; c < c1; c++) {
    widenPlane(x + <usize>c * <usize>H * <usize>W, H, W, xSigned != 0, zx, pt, pl, Hp, Wp, scratch);
    // Kernel rows as i16 pairs: P = (w0, w1) repeated, Q = (w2, 0) repeated.
    const z = zw ? load<i32>(zw + (zwLen == 1 ? 0 : <usize>c << 2)) : 0;
    const wp = w + <usize>c * 9;
    const p0 = pairOf(wp, 0, wSigned != 0, z), q0 = tapOf(wp, 2, wSigned != 0, z);
    const p1 = pairOf(wp, 3, wSigned != 0, z), q1 = tapOf(wp, 5, wSigned != 0, z);
    const p2 = pairOf(wp, 6, wSigned != 0, z), q2 = tapOf(wp, 8, wSigned != 0, z);
    const bv = i32x4.splat(bias ? load<i32>(bias + (<usize>c << 2)) : 0);
    const mv = v128.load32_splat(mult + 3 * multStride + (multPerChan ? <usize>c << 3 : 0));
    const rowBytes = <usize>Wp << 1;
    for (let oh = 0; oh < OH; oh++) {
      const r0 = scratch + <usize>(oh * stride) * rowBytes;
      const r1 = r0 + rowBytes;
      const r2 = r1 + rowBytes;
      const orow = <usize>c * <usize>OH * <usize>OW + <usize>oh * <usize>OW;
      for (let ow = 0; ow < OW; ow += 8) {
        let lo: v128, hi: v128;
        if (stride == 1) {
          // Even outputs from pairs at x[ow + 2m], odd ones from pairs one element later.
          const off = <usize>ow << 1;
          let e = rowAt(r0 + off, p0, q0);
          e = i32x4.add(e, rowAt(r1 + off, p1, q1));
          e = i32x4.add(e, rowAt(r2 + off, p2, q2));
          let o = rowAt(r0 + off + 2, p0, q0);
          o = i32x4.add(o, rowAt(r1 + off + 2, p1, q1));
          o = i32x4.add(o, rowAt(r2 + off + 2, p2, q2));
          lo = i32x4.shuffle(e, o, 0, 4, 1, 5);
          hi = i32x4.shuffle(e, o, 2, 6, 3, 7);
        } else {
          const off = <usize>ow << 2;
          lo = rowAt(r0 + off, p0, q0);
          lo = i32x4.add(lo, rowAt(r1 + off, p1, q1));
          lo = i32x4.add(lo, rowAt(r2 + off, p2, q2));
          hi = rowAt(r0 + off + 16, p0, q0);
          hi = i32x4.add(hi, rowAt(r1 + off + 16, p1, q1));
          hi = i32x4.add(hi, rowAt(r2 + off + 16, p2, q2));
        }
        const n = min(8, OW - ow);
        if (outKind == 0) {
          const p = out + ((orow + <usize>ow) << 2);
          storeI32x(p, lo, min(n, 4));
          if (n > 4) storeI32x(p + 16, hi, n - 4);
        } else {
          const ga = requantF32x4(i32x4.add(lo, bv), mv, lim, nlim, magic);
          const gb = requantF32x4(i32x4.add(hi, bv), mv, lim, nlim, magic);
          // A lane near a .5 leaves a 0 in the band: the group is listed and redone exactly after
          // all channels, so the rare exact path costs no registers or calls here.
          if (!i32x4.all_true(i32x4.min_u(requantBand32(ga), requantBand32(gb)))) {
            const k = load<i32>(pending);
            if (k < PENDING_MAX) {
              const e = pending + 16 + (<usize>k << 4);
              store<i32>(e, c);
              store<i32>(e, oh, 4);
              store<i32>(e, ow, 8);
            }
            store<i32>(pending, k + 1);
          }
          const qa = requantValue32(ga, base);
          const qb = requantValue32(gb, base);
          const h = i16x8.narrow_i32x4_s(qa, qb);
          const b = outKind == 1 ? i8x16.narrow_i16x8_u(h, h) : i8x16.narrow_i16x8_s(h, h);
          const p = out + orow + <usize>ow;
          if (n == 8) v128.store64_lane(p, b, 0);
          else {
            let bits = i64x2.extract_lane(b, 0);
            for (let j = 0; j < n; j++) {
              store<u8>(p + <usize>j, <u8>bits);
              bits >>>= 8;
            }
          }
        }
      }
    }
  }
  const count = load<i32>(pending);
  if (outKind == 0 || count == 0) return;
  // A full list (pathological data): every output again.
  if (count > PENDING_MAX) {
    for (let c = c0; c < c1; c++) {
      for (let oh = 0; oh < OH; oh++) exactRow(x, H, W, xSigned != 0, zx, w, wSigned != 0, zw, zwLen, stride, pt, pl, OH, OW, out, outKind, bias, mult, multPerChan, zp, c, oh, 0, OW);
    }
    return;
  }
  for (let k = 0; k < count; k++) {
    const e = pending + 16 + (<usize>k << 4);
    const ow = load<i32>(e, 8);
    exactRow(x, H, W, xSigned != 0, zx, w, wSigned != 0, zw, zwLen, stride, pt, pl, OH, OW, out, outKind, bias, mult, multPerChan, zp,
      load<i32>(e), load<i32>(e, 4), ow, min(ow + 8, OW));
  }
}

/**
 * Outputs [ow0, ow1) of row oh of channel c again, scalar, from the input bytes (padding reads as x = zx, i.e. 0
 * after subtracting the zero point), requantized by requantExact. Arguments as dwConv3x3I8's.
 */
function exactRow(
  x: usize, H: i32, W: i32, xSigned: bool, zx: i32, w: usize, wSigned: bool, zw: usize, zwLen: i32,
  stride: i32, pt: i32, pl: i32, OH: i32, OW: i32, out: usize, outKind: i32, bias: usize, mult: usize, multPerChan: i32, zp: usize,
  c: i32, oh: i32, ow0: i32, ow1: i32,
): void {
  const lo = outKind == 1 ? 0 : -128;
  const hi = outKind == 1 ? 255 : 127;
  const multStride: usize = multPerChan > 0 ? <usize>multPerChan << 3 : 8;
  const mp = mult + (multPerChan ? <usize>c << 3 : 0);
  const m = load<f64>(mp), p = load<f64>(mp + multStride), ys = load<f64>(mp + 2 * multStride);
  const z = zw ? load<i32>(zw + (zwLen == 1 ? 0 : <usize>c << 2)) : 0;
  const wp = w + <usize>c * 9;
  const xp = x + <usize>c * <usize>H * <usize>W;
  const b = bias ? load<i32>(bias + (<usize>c << 2)) : 0;
  const zpv = zp ? load<i32>(zp) : 0;
  const orow = out + <usize>c * <usize>OH * <usize>OW + <usize>oh * <usize>OW;
  for (let ow = ow0; ow < ow1; ow++) {
    let acc = b;
    for (let i = 0; i < 3; i++) {
      const ih = oh * stride - pt + i;
      if (ih < 0 || ih >= H) continue;
      for (let j = 0; j < 3; j++) {
        const iw = ow * stride - pl + j;
        if (iw < 0 || iw >= W) continue;
        const at = xp + <usize>ih * <usize>W + <usize>iw;
        const xv = (xSigned ? <i32>load<i8>(at) : <i32>load<u8>(at)) - zx;
        acc += xv * tapValue(wp + <usize>(i * 3 + j), wSigned, z);
      }
    }
    store<u8>(orow + <usize>ow, <u8>min(max(requantExact(acc, m, p, ys) + zpv, lo), hi));
  }
}

/**
 * 4 outputs of one kernel row from the i16 pairs at r: (x[2m], x[2m+1]) . (w0, w1) plus
 * (x[2m+2], x[2m+3]) . (w2, 0).
 */
@inline function rowAt(r: usize, p: v128, q: v128): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(v128.load(r), p), i32x4.dot_i16x8_s(v128.load(r, 4), q));
}

@inline function tapValue(p: usize, signed: bool, z: i32): i32 {
  return (signed ? <i32>load<i8>(p) : <i32>load<u8>(p)) - z;
}

@inline function pairOf(w: usize, t: i32, signed: bool, z: i32): v128 {
  const lo = tapValue(w + <usize>t, signed, z) & 0xffff;
  const hi = tapValue(w + <usize>t + 1, signed, z) << 16;
  return i32x4.splat(lo | hi);
}

@inline function tapOf(w: usize, t: i32, signed: bool, z: i32): v128 {
  return i32x4.splat(tapValue(w + <usize>t, signed, z) & 0xffff);
}

function storeI32x(p: usize, v: v128, n: i32): void {
  if (n >= 4) { v128.store(p, v); return; }
  store<i32>(p, i32x4.extract_lane(v, 0));
  if (n > 1) store<i32>(p, i32x4.extract_lane(v, 1), 4);
  if (n > 2) store<i32>(p, i32x4.extract_lane(v, 2), 8);
}

/** Writes (x - zx) as i16 into a zero-bordered [Hp, Wp] plane: rows shifted down by pt, columns right by pl. */
function widenPlane(x: usize, H: i32, W: i32, signed: bool, zx: i32, pt: i32, pl: i32, Hp: i32, Wp: i32, dst: usize): void {
  const zero = i32x4.splat(0);
  const zv = i16x8.splat(<i16>zx);
  const rowBytes = <usize>Wp << 1;
  for (let r = 0; r < Hp; r++) {
    const d = dst + <usize>r * rowBytes;
    const ih = r - pt;
    if (ih < 0 || ih >= H) {
      for (let q: usize = 0; q < rowBytes; q += 16) v128.store(d + q, zero);
      continue;
    }
    // Zero the left border, then W values, then the right border and slack.
    for (let q = 0; q < pl; q++) store<i16>(d + (<usize>q << 1), 0);
    const s = x + <usize>ih * <usize>W;
    const dd = d + (<usize>pl << 1);
    let k = 0;
    for (; k + 8 <= W; k += 8) {
      const v = signed ? v128.load8x8_s(s + <usize>k) : v128.load8x8_u(s + <usize>k);
      v128.store(dd + (<usize>k << 1), i16x8.sub(v, zv));
    }
    for (; k < W; k++) store<i16>(dd + (<usize>k << 1), <i16>((signed ? <i32>load<i8>(s + <usize>k) : <i32>load<u8>(s + <usize>k)) - zx));
    // Right border and slack, 8 at a time: may spill into the next row, which is written after.
    for (let q = pl + W; q < Wp; q += 8) v128.store(d + (<usize>q << 1), zero);
  }
}
