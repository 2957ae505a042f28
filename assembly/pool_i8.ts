// MaxPool and GlobalMaxPool on int8 / uint8 tensors (what the QDQ lowering leaves between quantized
// convs), over planes [p0, p1) so a caller can split a call over threads. Same geometry descriptor
// as pool.ts (1 to 3 spatial axes lifted to 3, every window attribute). A window with no tap
// inside the input gives the type's lowest value, as the reference's -inf rounds to it.
//
// Interior output columns (every tap inside the input row) go 16 per vector for strides 1 and 2
// (stride 2: the even bytes of two loads, the second one byte back so nothing past the last tap
// is read), or 8 per vector when a row has fewer than 16 (mnist-8's 14-wide rows: stride 2 takes
// the odd bytes of one load that starts a byte before the first tap, still inside linear memory);
// other strides take a scalar loop with the window bounds hoisted, and borders a checked scalar
// loop. Max is exact, so re-doing overlapping columns is harmless.

// Geometry descriptor words (the G_* order of pool.ts, written by src/backends/wasm/kernels/pool.ts).
const G_ID = 0, G_IH = 1, G_IW = 2, G_OD = 3, G_OH = 4, G_OW = 5, G_KD = 6, G_KH = 7, G_KW = 8;
const G_SD = 9, G_SH = 10, G_SW = 11, G_DD = 12, G_DH = 13, G_DW = 14, G_PD = 15, G_PH = 16, G_PW = 17;

// @ts-ignore: decorator
@inline
function g(geom: usize, i: i32): i32 {
  return load<i32>(geom + (<usize>i << 2));
}

/** First tap k with 0 <= start + k dil. */
// @ts-ignore: decorator
@inline
function firstTap(start: i32, dil: i32): i32 {
  return start >= 0 ? 0 : (-start + dil - 1) / dil;
}

/** One past the last tap k < K with start + k dil < size. */
// @ts-ignore: decorator
@inline
function endTap(start: i32, dil: i32, size: i32, K: i32): i32 {
  return start > size - 1 ? 0 : min((size - 1 - start) / dil + 1, K);
}

// @ts-ignore: decorator
@inline
function vmax<T>(a: v128, b: v128): v128 {
  return isSigned<T>() ? i8x16.max_s(a, b) : i8x16.max_u(a, b);
}

/** 8 taps of consecutive output columns in the low half, the first at p, for stride 1 or 2. */
// @ts-ignore: decorator
@inline
function taps8(p: usize, sw: i32): v128 {
  if (sw == 1) return v128.load64_zero(p);
  const v = v128.load(p - 1);
  return v128.shuffle<u8>(v, v, 1, 3, 5, 7, 9, 11, 13, 15, 1, 3, 5, 7, 9, 11, 13, 15);
}

/** 16 taps of consecutive output columns, the first at p, for stride 1 or 2. */
// @ts-ignore: decorator
@inline
function taps16(p: usize, sw: i32): v128 {
  if (sw == 1) return v128.load(p);
  return v128.shuffle<u8>(v128.load(p), v128.load(p, 15), 0, 2, 4, 6, 8, 10, 12, 14, 17, 19, 21, 23, 25, 27, 29, 31);
}

function planes<T>(x: usize, y: usize, geom: usize, p0: i32, p1: i32): void {
  const ID = g(geom, G_ID), IH = g(geom, G_IH), IW = g(geom, G_IW);
  const OD = g(geom, G_OD), OH = g(geom, G_OH), OW = g(geom, G_OW);
  const KD = g(geom, G_KD), KH = g(geom, G_KH), KW = g(geom, G_KW);
  const sd = g(geom, G_SD), sh = g(geom, G_SH), sw = g(geom, G_SW);
  const dd = g(geom, G_DD), dh = g(geom, G_DH), dw = g(geom, G_DW);
  const pd = g(geom, G_PD), ph = g(geom, G_PH), pw = g(geom, G_PW);
  const lowest: T = isSigned<T>() ? <T>-128 : <T>0;
  const inPlane = <usize>ID * <usize>IH * <usize>IW;
  const outPlane = <usize>OD * <usize>OH * <usize>OW;
  // Interior columns: every tap inside the row.
  const span = (KW - 1) * dw;
  let owHi = IW - 1 + pw - span >= 0 ? (IW - 1 + pw - span) / sw + 1 : 0;
  if (owHi > OW) owHi = OW;
  let owLo = min((pw + sw - 1) / sw, owHi);
  const lanes = (sw == 1 || sw == 2) ? (owHi - owLo >= 16 ? 16 : owHi - owLo >= 8 ? 8 : 0) : 0;
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + <usize>pl * inPlane;
    const yp = y + <usize>pl * outPlane;
    for (let od = 0; od < OD; od++) {
      const d0 = od * sd - pd;
      const kdLo = firstTap(d0, dd), kdHi = endTap(d0, dd, ID, KD);
      for (let oh = 0; oh < OH; oh++) {
        const h0 = oh * sh - ph;
        const khLo = firstTap(h0, dh), khHi = endTap(h0, dh, IH, KH);
        const yrow = yp + <usize>(od * OH + oh) * <usize>OW;
        if (kdHi <= kdLo || khHi <= khLo) {
          memory.fill(yrow, <u8>lowest, <usize>OW);
          continue;
        }
        for (let ow = 0; ow < owLo; ow++) store<T>(yrow + <usize>ow, scalarWindow<T>(xp, geom, d0, kdLo, kdHi, h0, khLo, khHi, ow));
        if (lanes == 16) {
          let ow = owLo;
          for (;;) {
            if (ow + 16 > owHi) ow = owHi - 16;
            const col = <usize>(ow * sw - pw);
            let acc = i8x16.splat(<i8>lowest);
            for (let kd = kdLo; kd < kdHi; kd++) {
              for (let kh = khLo; kh < khHi; kh++) {
                const row = xp + <usize>((d0 + kd * dd) * IH + h0 + kh * dh) * <usize>IW + col;
                for (let kw = 0; kw < KW; kw++) acc = vmax<T>(acc, taps16(row + <usize>(kw * dw), sw));
              }
            }
            v128.store(yrow + <usize>ow, acc);
            ow += 16;
            if (ow >= owHi) break;
          }
        } else if (lanes == 8) {
          let ow = owLo;
          for (;;) {
            if (ow + 8 > owHi) ow = owHi - 8;
            const col = <usize>(ow * sw - pw);
            let acc = i8x16.splat(<i8>lowest);
            for (let kd = kdLo; kd < kdHi; kd++) {
              for (let kh = khLo; kh < khHi; kh++) {
                const row = xp + <usize>((d0 + kd * dd) * IH + h0 + kh * dh) * <usize>IW + col;
                for (let kw = 0; kw < KW; kw++) acc = vmax<T>(acc, taps8(row + <usize>(kw * dw), sw));
              }
            }
            v128.store64_lane(yrow + <usize>ow, acc, 0);
            ow += 8;
            if (ow >= owHi) break;
          }
        } else {
          // Interior columns one at a time, every tap known to be inside the row.
          for (let ow = owLo; ow < owHi; ow++) {
            const col = <usize>(ow * sw - pw);
            let m: i32 = <i32>lowest;
            for (let kd = kdLo; kd < kdHi; kd++) {
              for (let kh = khLo; kh < khHi; kh++) {
                const row = xp + <usize>((d0 + kd * dd) * IH + h0 + kh * dh) * <usize>IW + col;
                for (let kw = 0; kw < KW; kw++) m = max(m, <i32>load<T>(row + <usize>(kw * dw)));
              }
            }
            store<T>(yrow + <usize>ow, <T>m);
          }
        }
        for (let ow = owHi; ow < OW; ow++) store<T>(yrow + <usize>ow, scalarWindow<T>(xp, geom, d0, kdLo, kdHi, h0, khLo, khHi, ow));
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function scalarWindow<T>(xp: usize, geom: usize, d0: i32, kdLo: i32, kdHi: i32, h0: i32, khLo: i32, khHi: i32, ow: i32): T {
  const IH = g(geom, G_IH), IW = g(geom, G_IW), KW = g(geom, G_KW);
  const dd = g(geom, G_DD), dh = g(geom, G_DH), dw = g(geom, G_DW);
  const w0 = ow * g(geom, G_SW) - g(geom, G_PW);
  const kwLo = firstTap(w0, dw), kwHi = endTap(w0, dw, IW, KW);
  let m: T = isSigned<T>() ? <T>-128 : <T>0;
  for (let kd = kdLo; kd < kdHi; kd++) {
    for (let kh = khLo; kh < khHi; kh++) {
      const row = xp + <usize>((d0 + kd * dd) * IH + h0 + kh * dh) * <usize>IW + <usize>w0;
      for (let kw = kwLo; kw < kwHi; kw++) {
        const v = load<T>(row + <usize>(kw * dw));
        if (v > m) m = v;
      }
    }
  }
  return m;
}

/** MaxPool over planes [p0, p1) of int8 (signed != 0) or uint8 data; `geom` as in pool.ts. */
export function maxPoolI8(x: usize, y: usize, geom: usize, signed: i32, p0: i32, p1: i32): void {
  if (signed) planes<i8>(x, y, geom, p0, p1);
  else planes<u8>(x, y, geom, p0, p1);
}

function globalPlanes<T>(x: usize, y: usize, n: i32, p0: i32, p1: i32): void {
  const lowest: T = isSigned<T>() ? <T>-128 : <T>0;
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + <usize>pl * <usize>n;
    let acc = i8x16.splat(<i8>lowest);
    let i = 0;
    for (; i + 16 <= n; i += 16) acc = vmax<T>(acc, v128.load(xp + <usize>i));
    let m: T = lowest;
    for (let l = 0; l < 16; l++) {
      const v: T = isSigned<T>() ? <T>i8x16.extract_lane_s(acc, 0) : <T>i8x16.extract_lane_u(acc, 0);
      if (v > m) m = v;
      acc = v128.shuffle<u8>(acc, acc, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0);
    }
    for (; i < n; i++) {
      const v = load<T>(xp + <usize>i);
      if (v > m) m = v;
    }
    store<T>(y + <usize>pl, m);
  }
}

/** GlobalMaxPool: y[pl] = max of plane pl (n elements, int8 or uint8), pl in [p0, p1). */
export function globalMaxPoolI8(x: usize, y: usize, n: i32, signed: i32, p0: i32, p1: i32): void {
  if (signed) globalPlanes<i8>(x, y, n, p0, p1);
  else globalPlanes<u8>(x, y, n, p0, p1);
}
