// LpPool and GlobalLpPool, f32, over planes [p0, p1) (plane = one (n, c) pair) so a caller can
// split a call over threads. Same geometry descriptor as pool.ts (1 to 3 spatial axes lifted to
// 3, every window attribute). Like the reference, a window sums |x|^p over its taps inside the
// input (padding adds zeros) and returns sum^(1/p). Sums run in f64 (|x| and x*x of an f32 are
// exact there; other p go through f64 pow), so the one rounding to f32 at the end dominates the
// error whatever the window or plane size, as in the float64 reference.

// Geometry descriptor words (the G_* order of pool.ts, written by src/backends/wasm/kernels/pool.ts).
const G_ID = 0, G_IH = 1, G_IW = 2, G_OD = 3, G_OH = 4, G_OW = 5, G_KD = 6, G_KH = 7, G_KW = 8;
const G_SD = 9, G_SH = 10, G_SW = 11, G_DD = 12, G_DH = 13, G_DW = 14, G_PD = 15, G_PH = 16, G_PW = 17;

// @ts-ignore: decorator
@inline
function g(geom: usize, i: i32): i32 {
  return load<i32>(geom + (<usize>i << 2));
}

/** Taps k in [0, K) with 0 <= start + k dil < size, as [lo, hi) packed lo | hi << 16 (K < 65536). */
// @ts-ignore: decorator
@inline
function tapRange(start: i32, dil: i32, size: i32, K: i32): i32 {
  const lo = start >= 0 ? 0 : (-start + dil - 1) / dil;
  const hi = start > size - 1 ? 0 : min((size - 1 - start) / dil + 1, K);
  return hi > lo ? lo | (hi << 16) : 0;
}

/** |v|^p, exact for p = 1 and 2. */
// @ts-ignore: decorator
@inline
function powAbs(v: f64, p: i32, fp: f64): f64 {
  if (p == 1) return Math.abs(v);
  if (p == 2) return v * v;
  return Math.pow(Math.abs(v), fp);
}

// @ts-ignore: decorator
@inline
function finish(acc: f64, p: i32): f32 {
  if (p == 1) return <f32>acc;
  if (p == 2) return <f32>Math.sqrt(acc);
  return <f32>Math.pow(acc, 1.0 / <f64>p);
}

/** LpPool over planes [p0, p1); `geom` as in pool.ts's poolF32, p >= 1. */
export function lpPoolF32(x: usize, y: usize, geom: usize, p: i32, p0: i32, p1: i32): void {
  const ID = g(geom, G_ID), IH = g(geom, G_IH), IW = g(geom, G_IW);
  const OD = g(geom, G_OD), OH = g(geom, G_OH), OW = g(geom, G_OW);
  const KD = g(geom, G_KD), KH = g(geom, G_KH), KW = g(geom, G_KW);
  const sd = g(geom, G_SD), sh = g(geom, G_SH), sw = g(geom, G_SW);
  const dd = g(geom, G_DD), dh = g(geom, G_DH), dw = g(geom, G_DW);
  const pd = g(geom, G_PD), ph = g(geom, G_PH), pw = g(geom, G_PW);
  const inPlane = ID * IH * IW;
  const outPlane = OD * OH * OW;
  const fp = <f64>p;
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + (<usize>pl * <usize>inPlane << 2);
    let yo = y + (<usize>pl * <usize>outPlane << 2);
    for (let od = 0; od < OD; od++) {
      const d0 = od * sd - pd;
      const rd = tapRange(d0, dd, ID, KD);
      for (let oh = 0; oh < OH; oh++) {
        const h0 = oh * sh - ph;
        const rh = tapRange(h0, dh, IH, KH);
        for (let ow = 0; ow < OW; ow++) {
          const w0 = ow * sw - pw;
          const rw = tapRange(w0, dw, IW, KW);
          const kwLo = rw & 0xffff, kwHi = rw >>> 16;
          let acc: f64 = 0;
          for (let kd = rd & 0xffff; kd < (rd >>> 16); kd++) {
            for (let kh = rh & 0xffff; kh < (rh >>> 16); kh++) {
              const row = xp + (<usize>(((d0 + kd * dd) * IH + h0 + kh * dh) * IW + w0) << 2);
              for (let kw = kwLo; kw < kwHi; kw++) acc += powAbs(<f64>load<f32>(row + (<usize>(kw * dw) << 2)), p, fp);
            }
          }
          store<f32>(yo, finish(acc, p));
          yo += 4;
        }
      }
    }
  }
}

/** GlobalLpPool: y[pl] = (sum over plane pl of |x|^p)^(1/p), n elements a plane, pl in [p0, p1). */
export function globalLpPoolF32(x: usize, y: usize, n: i32, p: i32, p0: i32, p1: i32): void {
  const fp = <f64>p;
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + (<usize>pl * <usize>n << 2);
    let acc: f64 = 0;
    for (let i = 0; i < n; i++) acc += powAbs(<f64>load<f32>(xp + (<usize>i << 2)), p, fp);
    store<f32>(y + (<usize>pl << 2), finish(acc, p));
  }
}
