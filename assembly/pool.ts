// Pooling over NCHW-style planes, f32: MaxPool and AveragePool with every window attribute
// (kernel, strides, dilations, explicit/auto pads, ceil_mode, count_include_pad), 1 to 3 spatial
// axes lifted to 3 by the caller, and the global forms. Kernels take a plane range [p0, p1)
// (plane = one (n, c) pair) so a caller can split a call over threads.
//
// Interior output columns, whose windows lie wholly inside the input row, run 4 outputs per
// vector (stride 1: one load per tap; stride 2: two loads and an even-lane shuffle; other
// strides: lane loads), each stride its own loop. Border columns and windows touching padding take a scalar path.
// Max follows the reference: the first valid tap seeds the result and later taps replace it when
// greater (pmax), so NaN taps after the first are skipped exactly as the reference skips them.

// Geometry descriptor, i32 (written by src/backends/wasm/kernels/pool.ts).
const G_ID = 0, G_IH = 1, G_IW = 2, G_OD = 3, G_OH = 4, G_OW = 5, G_KD = 6, G_KH = 7, G_KW = 8;
const G_SD = 9, G_SH = 10, G_SW = 11, G_DD = 12, G_DH = 13, G_DW = 14, G_PD = 15, G_PH = 16, G_PW = 17;
const G_ED = 18, G_EH = 19, G_EW = 20, G_INCLUDE_PAD = 21;
/** i32 words in the geometry descriptor. */
const GEOM_WORDS = 22;

@inline function g(geom: usize, i: i32): i32 {
  return load<i32>(geom + (<usize>i << 2));
}

/** Words the JS side must write for poolF32's geometry descriptor. */
export function poolGeometryWords(): i32 {
  return GEOM_WORDS;
}

/** First tap index k in [0, K) with 0 <= start + k*dil (start may be negative). */
@inline function firstTap(start: i32, dil: i32): i32 {
  if (start >= 0) return 0;
  return dil == 1 ? -start : (-start + dil - 1) / dil; // no division in the common case
}

/** One past the last tap k < K with start + k*dil < size. */
@inline function endTap(start: i32, dil: i32, size: i32, K: i32): i32 {
  if (start > size - 1) return 0;
  const e = dil == 1 ? size - start : (size - 1 - start) / dil + 1;
  return e < K ? e : K;
}

/** Taps of a window along one axis inside [-padBegin, size + padEnd) (count_include_pad's count). */
@inline function paddedTaps(start: i32, K: i32, dil: i32, size: i32, padBegin: i32, padEnd: i32): i32 {
  const lo = firstTap(start + padBegin, dil);
  const hi = endTap(start + padBegin, dil, size + padBegin + padEnd, K);
  return hi > lo ? hi - lo : 0;
}

class MaxK {}
class AvgK {}

@inline function isMax<K>(): bool {
  return idof<K>() == idof<MaxK>();
}

/**
 * Scalar window at output column ow over the rows listed implicitly by (kd, kh) ranges.
 * Returns the pooled value (max: -inf with no taps; avg: sum / count, NaN for count 0).
 */
@inline function scalarWindow<K>(
  xp: usize, geom: usize, d0: i32, kdLo: i32, kdHi: i32, h0: i32, khLo: i32, khHi: i32, ow: i32, countDH: i32, paddedDH: i32,
): f32 {
  const IH = g(geom, G_IH), IW = g(geom, G_IW), KW = g(geom, G_KW), dd = g(geom, G_DD), dh = g(geom, G_DH), dw = g(geom, G_DW);
  const w0 = ow * g(geom, G_SW) - g(geom, G_PW);
  const kwLo = firstTap(w0, dw);
  const kwHi = endTap(w0, dw, IW, KW);
  if (isMax<K>()) {
    // No valid tap: -inf. Otherwise seed with the first tap, then pmax (v > acc ? v : acc) in
    // lane 0: branch-free, where a scalar compare would mispredict on every new maximum.
    if (kdHi <= kdLo || khHi <= khLo || kwHi <= kwLo) return -Infinity;
    let m = v128.load32_zero(xp + (<usize>(((d0 + kdLo * dd) * IH + h0 + khLo * dh) * IW + w0 + kwLo * dw) << 2));
    for (let kd = kdLo; kd < kdHi; kd++) {
      for (let kh = khLo; kh < khHi; kh++) {
        const row = xp + (<usize>(((d0 + kd * dd) * IH + h0 + kh * dh) * IW + w0) << 2);
        for (let kw = kwLo; kw < kwHi; kw++) m = f32x4.pmax(m, v128.load32_zero(row + (<usize>(kw * dw) << 2)));
      }
    }
    return f32x4.extract_lane(m, 0);
  }
  let acc: f32 = 0;
  for (let kd = kdLo; kd < kdHi; kd++) {
    for (let kh = khLo; kh < khHi; kh++) {
      const row = xp + (<usize>(((d0 + kd * dd) * IH + h0 + kh * dh) * IW + w0) << 2);
      for (let kw = kwLo; kw < kwHi; kw++) acc += load<f32>(row + (<usize>(kw * dw) << 2));
    }
  }
  const cw = kwHi > kwLo ? kwHi - kwLo : 0;
  const count = g(geom, G_INCLUDE_PAD)
    ? paddedDH * paddedTaps(w0, KW, dw, IW, g(geom, G_PW), g(geom, G_EW))
    : countDH * cw;
  return acc / <f32>count;
}

class S1 {}
class S2 {}
class SN {}

/**
 * Taps of 4 consecutive output columns, the first at p, for horizontal stride sw. Stride 2 takes
 * the even lanes of elements [0..3] and [3..6], so it never reads past the last tap it uses.
 */
@inline function loadTaps<S>(p: usize, sw: i32): v128 {
  if (idof<S>() == idof<S1>()) return v128.load(p);
  if (idof<S>() == idof<S2>()) return v128.shuffle<f32>(v128.load(p), v128.load(p, 12), 0, 2, 5, 7);
  const s = <usize>sw << 2;
  let v = v128.load32_zero(p);
  v = v128.load_lane<u32>(p + s, v, 1);
  v = v128.load_lane<u32>(p + 2 * s, v, 2);
  return v128.load_lane<u32>(p + 3 * s, v, 3);
}

/**
 * Interior columns [owLo, owHi) of one output row, 4 per vector; a last partial group is done by
 * one more vector shifted back over already-written columns (same values). Needs owHi - owLo >= 4.
 */
@inline function interiorRow<K, S>(
  xp: usize, yrow: usize, geom: usize, d0: i32, kdLo: i32, kdHi: i32, h0: i32, khLo: i32, khHi: i32,
  owLo: i32, owHi: i32, div: v128,
): void {
  const IH = g(geom, G_IH), IW = g(geom, G_IW), KW = g(geom, G_KW);
  const sw = g(geom, G_SW), pw = g(geom, G_PW);
  const dd = g(geom, G_DD), dh = g(geom, G_DH), dw = g(geom, G_DW);
  const rowStep = <usize>(dh * IW) << 2;
  const tapStep = <usize>dw << 2;
  const first = xp + (<usize>(((d0 + kdLo * dd) * IH + h0 + khLo * dh) * IW) << 2);
  let ow = owLo;
  for (;;) {
    if (ow + 4 > owHi) ow = owHi - 4;
    const col = <usize>(ow * sw - pw) << 2;
    // Max seeds with the first tap (re-visiting it is harmless: pmax(v, v) = v).
    let acc = isMax<K>() ? loadTaps<S>(first + col, sw) : f32x4.splat(0);
    for (let kd = kdLo; kd < kdHi; kd++) {
      let row = xp + (<usize>(((d0 + kd * dd) * IH + h0 + khLo * dh) * IW) << 2) + col;
      for (let kh = khLo; kh < khHi; kh++) {
        let tap = row;
        for (let kw = 0; kw < KW; kw++) {
          const v = loadTaps<S>(tap, sw);
          acc = isMax<K>() ? f32x4.pmax(acc, v) : f32x4.add(acc, v);
          tap += tapStep;
        }
        row += rowStep;
      }
    }
    v128.store(yrow + (<usize>ow << 2), isMax<K>() ? acc : f32x4.div(acc, div));
    ow += 4;
    if (ow >= owHi) break;
  }
}

function poolPlanes<K>(x: usize, y: usize, geom: usize, p0: i32, p1: i32): void {
  const ID = g(geom, G_ID), IH = g(geom, G_IH), IW = g(geom, G_IW);
  const OD = g(geom, G_OD), OH = g(geom, G_OH), OW = g(geom, G_OW);
  const KD = g(geom, G_KD), KH = g(geom, G_KH), KW = g(geom, G_KW);
  const sd = g(geom, G_SD), sh = g(geom, G_SH), sw = g(geom, G_SW);
  const dd = g(geom, G_DD), dh = g(geom, G_DH), dw = g(geom, G_DW);
  const pd = g(geom, G_PD), ph = g(geom, G_PH), pw = g(geom, G_PW);
  const includePad = g(geom, G_INCLUDE_PAD);
  const inPlane = ID * IH * IW;
  const outPlane = OD * OH * OW;
  // Interior columns: every tap inside the row.
  const span = (KW - 1) * dw;
  let owLo = (pw + sw - 1) / sw;
  let owHi = IW - 1 + pw - span >= 0 ? (IW - 1 + pw - span) / sw + 1 : 0;
  if (owHi > OW) owHi = OW;
  if (owLo > owHi) owLo = owHi;
  const vector = owHi - owLo >= 4;
  const vKW = f32x4.splat(<f32>KW);
  for (let p = p0; p < p1; p++) {
    const xp = x + (<usize>(p * inPlane) << 2);
    const yp = y + (<usize>(p * outPlane) << 2);
    for (let od = 0; od < OD; od++) {
      const d0 = od * sd - pd;
      const kdLo = firstTap(d0, dd), kdHi = endTap(d0, dd, ID, KD);
      const cd = kdHi > kdLo ? kdHi - kdLo : 0;
      const cdPad = paddedTaps(d0, KD, dd, ID, pd, g(geom, G_ED));
      for (let oh = 0; oh < OH; oh++) {
        const h0 = oh * sh - ph;
        const khLo = firstTap(h0, dh), khHi = endTap(h0, dh, IH, KH);
        const ch = khHi > khLo ? khHi - khLo : 0;
        const chPad = paddedTaps(h0, KH, dh, IH, ph, g(geom, G_EH));
        const countDH = cd * ch;
        const paddedDH = cdPad * chPad;
        const yrow = yp + (<usize>((od * OH + oh) * OW) << 2);
        // Columns whose windows leave the row, and rows whose windows lie wholly in padding
        // (countDH = 0), take the scalar path; the rest go 4 at a time.
        const vec = vector && countDH > 0;
        const end = vec ? owLo : OW;
        for (let ow = 0; ow < end; ow++) {
          store<f32>(yrow + (<usize>ow << 2), scalarWindow<K>(xp, geom, d0, kdLo, kdHi, h0, khLo, khHi, ow, countDH, paddedDH));
        }
        if (!vec) continue;
        const div = f32x4.mul(f32x4.splat(<f32>(includePad ? paddedDH : countDH)), vKW);
        if (sw == 1) interiorRow<K, S1>(xp, yrow, geom, d0, kdLo, kdHi, h0, khLo, khHi, owLo, owHi, div);
        else if (sw == 2) interiorRow<K, S2>(xp, yrow, geom, d0, kdLo, kdHi, h0, khLo, khHi, owLo, owHi, div);
        else interiorRow<K, SN>(xp, yrow, geom, d0, kdLo, kdHi, h0, khLo, khHi, owLo, owHi, div);
        for (let ow = owHi; ow < OW; ow++) {
          store<f32>(yrow + (<usize>ow << 2), scalarWindow<K>(xp, geom, d0, kdLo, kdHi, h0, khLo, khHi, ow, countDH, paddedDH));
        }
      }
    }
  }
}

/**
 * MaxPool (kind 0) or AveragePool (kind 1) over planes [p0, p1). `geom` points at the i32
 * descriptor: ID IH IW OD OH OW KD KH KW sd sh sw dd dh dw pd ph pw (begin pads) ed eh ew (end
 * pads) count_include_pad.
 */
export function poolF32(kind: i32, x: usize, y: usize, geom: usize, p0: i32, p1: i32): void {
  if (kind == 0) poolPlanes<MaxK>(x, y, geom, p0, p1);
  else poolPlanes<AvgK>(x, y, geom, p0, p1);
}

/**
 * GlobalMaxPool (kind 0) or GlobalAveragePool (kind 1): y[p] = reduce of plane p (n elements)
 * for p in [p0, p1). Max skips NaN like the reference's `v > acc` fold from -inf.
 */
export function globalPoolF32(kind: i32, x: usize, y: usize, n: i32, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const xp = x + (<usize>(p * n) << 2);
    let i = 0;
    let r: f32;
    if (kind == 0) {
      let a0 = f32x4.splat(-Infinity), a1 = a0, a2 = a0, a3 = a0;
      for (; i + 16 <= n; i += 16) {
        const q = xp + (<usize>i << 2);
        a0 = f32x4.pmax(a0, v128.load(q));
        a1 = f32x4.pmax(a1, v128.load(q, 16));
        a2 = f32x4.pmax(a2, v128.load(q, 32));
        a3 = f32x4.pmax(a3, v128.load(q, 48));
      }
      for (; i + 4 <= n; i += 4) a0 = f32x4.pmax(a0, v128.load(xp + (<usize>i << 2)));
      const m = f32x4.pmax(f32x4.pmax(a0, a1), f32x4.pmax(a2, a3));
      r = -Infinity;
      const l0 = f32x4.extract_lane(m, 0), l1 = f32x4.extract_lane(m, 1), l2 = f32x4.extract_lane(m, 2), l3 = f32x4.extract_lane(m, 3);
      if (l0 > r) r = l0;
      if (l1 > r) r = l1;
      if (l2 > r) r = l2;
      if (l3 > r) r = l3;
      for (; i < n; i++) {
        const v = load<f32>(xp + (<usize>i << 2));
        if (v > r) r = v;
      }
    } else {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (; i + 16 <= n; i += 16) {
        const q = xp + (<usize>i << 2);
        a0 = f32x4.add(a0, v128.load(q));
        a1 = f32x4.add(a1, v128.load(q, 16));
        a2 = f32x4.add(a2, v128.load(q, 32));
        a3 = f32x4.add(a3, v128.load(q, 48));
      }
      for (; i + 4 <= n; i += 4) a0 = f32x4.add(a0, v128.load(xp + (<usize>i << 2)));
      const s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
      r = (f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
      for (; i < n; i++) r += load<f32>(xp + (<usize>i << 2));
      r = r / <f32>n;
    }
    store<f32>(y + (<usize>p << 2), r);
  }
}
