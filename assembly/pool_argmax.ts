// MaxPool with its Indices output, f32, over planes [p0, p1) (plane = one (n, c) pair). Same
// geometry descriptor as pool.ts. Follows the reference tap for tap: the first tap inside the input
// seeds the maximum, a later one replaces it only when strictly greater (so ties keep the first
// and NaN after the first tap is skipped); a window with no tap inside gives -inf and index -1.
// An index counts over the whole input tensor: plane * planeSize plus, with storage_order 0, the
// row-major offset in the plane, or with storage_order 1 the reference's column-major one
// (d + h * D + w * D * H). Models rarely ask for Indices, so this is a plain scalar loop.

// Geometry descriptor words (the G_* order of pool.ts, written by src/backends/wasm/kernels/pool.ts).
const G_ID = 0, G_IH = 1, G_IW = 2, G_OD = 3, G_OH = 4, G_OW = 5, G_KD = 6, G_KH = 7, G_KW = 8;
const G_SD = 9, G_SH = 10, G_SW = 11, G_DD = 12, G_DH = 13, G_DW = 14, G_PD = 15, G_PH = 16, G_PW = 17;

// @ts-ignore: decorator
@inline
function g(geom: usize, i: i32): i32 {
  return load<i32>(geom + (<usize>i << 2));
}

/** MaxPool values into y (f32) and flat input indices into idx (i64) for planes [p0, p1). */
export function maxPoolArgF32(x: usize, y: usize, idx: usize, geom: usize, storageOrder: i32, p0: i32, p1: i32): void {
  const ID = g(geom, G_ID), IH = g(geom, G_IH), IW = g(geom, G_IW);
  const OD = g(geom, G_OD), OH = g(geom, G_OH), OW = g(geom, G_OW);
  const KD = g(geom, G_KD), KH = g(geom, G_KH), KW = g(geom, G_KW);
  const sd = g(geom, G_SD), sh = g(geom, G_SH), sw = g(geom, G_SW);
  const dd = g(geom, G_DD), dh = g(geom, G_DH), dw = g(geom, G_DW);
  const pd = g(geom, G_PD), ph = g(geom, G_PH), pw = g(geom, G_PW);
  const inPlane = <i64>ID * <i64>IH * <i64>IW;
  const outPlane = <usize>OD * <usize>OH * <usize>OW;
  for (let pl = p0; pl < p1; pl++) {
    const xp = x + ((<usize>pl * <usize>inPlane) << 2);
    let o = <usize>pl * outPlane;
    for (let od = 0; od < OD; od++) {
      const d0 = od * sd - pd;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = oh * sh - ph;
        for (let ow = 0; ow < OW; ow++) {
          const w0 = ow * sw - pw;
          let m: f32 = -Infinity;
          let arg: i64 = -1;
          for (let kd = 0; kd < KD; kd++) {
            const id = d0 + kd * dd;
            if (<u32>id >= <u32>ID) continue;
            for (let kh = 0; kh < KH; kh++) {
              const ih = h0 + kh * dh;
              if (<u32>ih >= <u32>IH) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = w0 + kw * dw;
                if (<u32>iw >= <u32>IW) continue;
                const v = load<f32>(xp + ((<usize>((id * IH + ih) * IW + iw)) << 2));
                if (v > m || arg < 0) {
                  m = v;
                  arg = storageOrder == 0
                    ? <i64>((id * IH + ih) * IW + iw)
                    : <i64>id + <i64>ih * <i64>ID + <i64>iw * <i64>ID * <i64>IH;
                }
              }
            }
          }
          store<f32>(y + (o << 2), m);
          store<i64>(idx + (o << 3), arg < 0 ? -1 : <i64>pl * inPlane + arg);
          o++;
        }
      }
    }
  }
}
