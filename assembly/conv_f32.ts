// f32 Conv2D, NCHW, with every ONNX attribute (groups, dilations, strides, explicit pads; the JS
// wrapper turns auto_pad into pads). Three paths:
//  - GEMM: per image and group, Y_g[CoutG, Ho*Wo] = W_g[CoutG, CinG*kh*kw] . im2col(X_g), with W_g
//    pre-packed once and im2col written straight into the GEMM's packed-B panel layout, one block of
//    output pixels at a time (bounded scratch). 1x1 / stride 1 / no pad convs skip im2col: X_g already
//    is the [CinG, H*W] matrix.
//  - depthwise (CinG == 1, groups > 1): a direct kernel, since a GEMM with one row per group wastes
//    most of a 4x8 tile; 3x3 with stride 1 or 2 has a vectorized interior.
// Bias and activation come from the same epilogue block as the GEMM (bias mode BIAS_ROW over Cout).
import { applyEpilogueF32 } from './epilogue_f32';
import { gemmF32Blocked, gemmF32ScratchBytes } from './gemm_f32';
import { MR, NR, packAPanels, roundUp } from './pack_f32';

// Descriptor: 16 i32 written by the JS wrapper (see kernels/conv-f32.ts).
const D_N: usize = 0;
const D_CIN: usize = 4;
const D_H: usize = 8;
const D_W: usize = 12;
const D_COUT: usize = 16;
const D_GROUPS: usize = 20;
const D_KH: usize = 24;
const D_KW: usize = 28;
const D_SH: usize = 32;
const D_SW: usize = 36;
const D_DH: usize = 40;
const D_DW: usize = 44;
const D_PT: usize = 48;
const D_PL: usize = 52;
const D_HO: usize = 56;
const D_WO: usize = 60;

const METHOD_IM2COL: i32 = 0;
const METHOD_POINTWISE: i32 = 1;
const METHOD_DEPTHWISE: i32 = 2;

/** Bytes of a conv descriptor. */
export function convF32DescBytes(): i32 {
  return 64;
}

// @ts-ignore: decorator
@inline
function d(desc: usize, off: usize): i32 {
  return load<i32>(desc + off);
}

/** 0: im2col + GEMM, 1: GEMM directly on the input (1x1), 2: direct depthwise. */
export function convF32Method(desc: usize): i32 {
  const groups = d(desc, D_GROUPS);
  const cinG = d(desc, D_CIN) / groups;
  if (groups > 1 && cinG == 1) return METHOD_DEPTHWISE;
  if (d(desc, D_KH) == 1 && d(desc, D_KW) == 1 && d(desc, D_SH) == 1 && d(desc, D_SW) == 1 &&
    d(desc, D_PT) == 0 && d(desc, D_PL) == 0 && d(desc, D_HO) == d(desc, D_H) && d(desc, D_WO) == d(desc, D_W)) {
    return METHOD_POINTWISE;
  }
  return METHOD_IM2COL;
}

/** Bytes of the pre-packed weights (convF32PackWeights). */
export function convF32PackedWeightBytes(desc: usize): usize {
  const groups = d(desc, D_GROUPS);
  const coutG = d(desc, D_COUT) / groups;
  const kg = (d(desc, D_CIN) / groups) * d(desc, D_KH) * d(desc, D_KW);
  if (convF32Method(desc) == METHOD_DEPTHWISE) return <usize>d(desc, D_COUT) * <usize>kg * 4;
  return <usize>groups * <usize>roundUp(coutG, MR) * <usize>kg * 4;
}

/** Packs ONNX weights W[Cout, CinG, kh, kw] for the chosen method (once, at session compile time). */
export function convF32PackWeights(desc: usize, w: usize, dst: usize): void {
  const groups = d(desc, D_GROUPS);
  const coutG = d(desc, D_COUT) / groups;
  const kg = (d(desc, D_CIN) / groups) * d(desc, D_KH) * d(desc, D_KW);
  if (convF32Method(desc) == METHOD_DEPTHWISE) {
    memory.copy(dst, w, <usize>d(desc, D_COUT) * <usize>kg * 4);
    return;
  }
  const groupBytes = <usize>roundUp(coutG, MR) * <usize>kg * 4;
  for (let g = 0; g < groups; g++) {
    packAPanels(w + <usize>g * <usize>coutG * <usize>kg * 4, kg, 0, coutG, kg, dst + <usize>g * groupBytes);
  }
}

/** Output pixels per im2col block: keeps the packed block near 512 KB (L2) whatever K is. */
function im2colBlockCols(kg: i32): i32 {
  const cols = (131072 / max(kg, 1)) / NR * NR;
  return min(max(cols, NR), 1024);
}

/** Scratch bytes convF32 needs (any channel / pixel sub-range needs at most this much). */
export function convF32ScratchBytes(desc: usize): usize {
  const method = convF32Method(desc);
  if (method == METHOD_DEPTHWISE) return 64;
  const groups = d(desc, D_GROUPS);
  const coutG = d(desc, D_COUT) / groups;
  const kg = (d(desc, D_CIN) / groups) * d(desc, D_KH) * d(desc, D_KW);
  const p = d(desc, D_HO) * d(desc, D_WO);
  if (method == METHOD_POINTWISE) return gemmF32ScratchBytes(coutG, p, kg, 1, 0);
  const cols = min(im2colBlockCols(kg), roundUp(p, NR));
  return gemmF32ScratchBytes(coutG, cols, kg, 1, 1) + <usize>kg * <usize>cols * 4 + 64;
}

/**
 * Y = conv(X) for output channels [co0, co1) and output pixels [p0, p1) (pixel = oy * Wo + ox) of
 * every image; the two ranges let a thread pool split one conv. wPacked: convF32PackWeights output;
 * epi: epilogue block (bias mode BIAS_ROW for the conv bias) or 0.
 */
export function convF32(desc: usize, x: usize, wPacked: usize, y: usize, epi: usize, scratch: usize, co0: i32, co1: i32, p0: i32, p1: i32): void {
  const n = d(desc, D_N);
  const cin = d(desc, D_CIN);
  const h = d(desc, D_H);
  const wd = d(desc, D_W);
  const cout = d(desc, D_COUT);
  const groups = d(desc, D_GROUPS);
  const ho = d(desc, D_HO);
  const wo = d(desc, D_WO);
  const p = ho * wo;
  co1 = min(co1, cout);
  p1 = min(p1, p);
  if (co0 >= co1 || p0 >= p1) return;
  const method = convF32Method(desc);
  const cinG = cin / groups;
  const coutG = cout / groups;
  const kg = cinG * d(desc, D_KH) * d(desc, D_KW);
  const xImage = <usize>cin * <usize>h * <usize>wd * 4;
  const yImage = <usize>cout * <usize>p * 4;
  if (method == METHOD_DEPTHWISE) {
    for (let b = 0; b < n; b++) depthwise(desc, x + <usize>b * xImage, wPacked, y + <usize>b * yImage, epi, co0, co1, p0, p1);
    return;
  }
  const groupW = <usize>roundUp(coutG, MR) * <usize>kg * 4;
  const cols = min(im2colBlockCols(kg), roundUp(p, NR));
  const gemmScratch = scratch;
  const colBuf = scratch + ((gemmF32ScratchBytes(coutG, cols, kg, 1, 1) + 63) & ~63);
  for (let b = 0; b < n; b++) {
    for (let g = co0 / coutG; g * coutG < co1; g++) {
      // Rows of this group that fall in [co0, co1), relative to the group.
      const m0 = max(co0 - g * coutG, 0);
      const m1 = min(co1 - g * coutG, coutG);
      const xg = x + <usize>b * xImage + <usize>g * <usize>cinG * <usize>h * <usize>wd * 4;
      const yg = y + <usize>b * yImage + <usize>g * <usize>coutG * <usize>p * 4;
      const wg = wPacked + <usize>g * groupW;
      if (method == METHOD_POINTWISE) {
        gemmF32Blocked(coutG, p, kg, wg, kg, 0, 1, xg, p, 0, 0, yg, p, epi, g * coutG, gemmScratch, m0, m1, p0, p1, false);
        continue;
      }
      for (let pb = p0; pb < p1; pb += cols) {
        const nc = min(cols, p1 - pb);
        im2colPanels(desc, xg, pb, nc, colBuf);
        gemmF32Blocked(coutG, nc, kg, wg, kg, 0, 1, colBuf, nc, 0, 1, yg + (<usize>pb << 2), p, epi, g * coutG, gemmScratch, m0, m1, 0, nc, false);
      }
    }
  }
}

/**
 * Writes im2col columns [pb, pb + nc) of one image group (CinG channels at xg) as packed-B panels:
 * panel j holds, for each k = (ci, ky, kx), the NR values of pixels pb + NR j ... (zero past nc).
 */
function im2colPanels(desc: usize, xg: usize, pb: i32, nc: i32, dst: usize): void {
  const h = d(desc, D_H);
  const wd = d(desc, D_W);
  const kh = d(desc, D_KH);
  const kw = d(desc, D_KW);
  const sh = d(desc, D_SH);
  const sw = d(desc, D_SW);
  const dh = d(desc, D_DH);
  const dw = d(desc, D_DW);
  const pt = d(desc, D_PT);
  const pl = d(desc, D_PL);
  const wo = d(desc, D_WO);
  const cinG = d(desc, D_CIN) / d(desc, D_GROUPS);
  const plane = <usize>h * <usize>wd * 4;
  const rowBytes = <usize>wd << 2;
  for (let j = 0; j < nc; j += NR) {
    const cnt = min(NR, nc - j);
    const q = pb + j;
    const oy = q / wo;
    const ox = q - oy * wo;
    // Fast path: the panel's pixels lie in one output row, so each (ci, ky, kx) reads one input row
    // at stride sw (contiguous for sw == 1, every other float for sw == 2).
    const oneRow = cnt == NR && ox + NR <= wo && (sw == 1 || sw == 2);
    for (let ci = 0; ci < cinG; ci++) {
      const xc = xg + <usize>ci * plane;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          if (oneRow) {
            const iy = oy * sh - pt + ky * dh;
            const ix0 = ox * sw - pl + kx * dw;
            const ixLast = ix0 + (NR - 1) * sw;
            if (iy < 0 || iy >= h) {
              v128.store(dst, f32x4.splat(0));
              v128.store(dst, f32x4.splat(0), 16);
            } else if (ix0 >= 0 && ixLast < wd) {
              const src = xc + <usize>iy * rowBytes + (<usize>ix0 << 2);
              if (sw == 1) {
                v128.store(dst, v128.load(src));
                v128.store(dst, v128.load(src, 16), 16);
              } else {
                // Even lanes of 16 floats; the last load ends at the 15th float, which may lie
                // past the row but inside the image or its padding (reads only, then discarded).
                if (ix0 + 16 <= wd) {
                  v128.store(dst, i32x4.shuffle(v128.load(src), v128.load(src, 16), 0, 2, 4, 6));
                  v128.store(dst, i32x4.shuffle(v128.load(src, 32), v128.load(src, 48), 0, 2, 4, 6), 16);
                } else {
                  for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>(c * 2) << 2)));
                }
              }
            } else {
              const rowp = xc + <usize>iy * rowBytes;
              for (let c = 0; c < NR; c++) {
                const ix = ix0 + c * sw;
                store<f32>(dst + (<usize>c << 2), ix >= 0 && ix < wd ? load<f32>(rowp + (<usize>ix << 2)) : 0);
              }
            }
          } else {
            let yy = oy;
            let xx = ox;
            for (let c = 0; c < NR; c++) {
              let v: f32 = 0;
              if (c < cnt) {
                const iy = yy * sh - pt + ky * dh;
                const ix = xx * sw - pl + kx * dw;
                if (iy >= 0 && iy < h && ix >= 0 && ix < wd) v = load<f32>(xc + <usize>iy * rowBytes + (<usize>ix << 2));
                if (++xx == wo) {
                  xx = 0;
                  yy++;
                }
              }
              store<f32>(dst + (<usize>c << 2), v);
            }
          }
          dst += NR << 2;
        }
      }
    }
  }
}

// ---- depthwise ----------------------------------------------------------------------------------

/**
 * Direct depthwise conv of one image: output channel c reads input channel c / mult. Pixels in
 * [p0, p1) are computed row by row; the interior of 3x3 stride-1/2 rows is vectorized, borders and
 * other shapes go through the bounds-checked scalar loop.
 */
function depthwise(desc: usize, x: usize, w: usize, y: usize, epi: usize, co0: i32, co1: i32, p0: i32, p1: i32): void {
  const h = d(desc, D_H);
  const wd = d(desc, D_W);
  const kh = d(desc, D_KH);
  const kw = d(desc, D_KW);
  const sh = d(desc, D_SH);
  const sw = d(desc, D_SW);
  const dh = d(desc, D_DH);
  const dw = d(desc, D_DW);
  const pt = d(desc, D_PT);
  const pl = d(desc, D_PL);
  const ho = d(desc, D_HO);
  const wo = d(desc, D_WO);
  const mult = d(desc, D_COUT) / d(desc, D_GROUPS);
  const p = ho * wo;
  const fast3 = kh == 3 && kw == 3 && dh == 1 && dw == 1 && (sw == 1 || sw == 2);
  // Output columns whose three taps all lie inside the row: ox * sw - pl >= 0 and ox * sw - pl + 2 < W.
  // Stride 2 reads one float past the last tap (the shifted load pair), so its bound keeps one more.
  const lastTap = sw == 1 ? wd - 3 + pl : wd - 4 + pl;
  const oxLo = fast3 ? (pl + sw - 1) / sw : wo;
  const oxHi = fast3 && lastTap >= 0 ? max(oxLo, min(wo, lastTap / sw + 1)) : oxLo;
  for (let c = co0; c < co1; c++) {
    const xc = x + <usize>(c / mult) * <usize>h * <usize>wd * 4;
    const wc = w + <usize>(c * kh * kw) * 4;
    const yc = y + <usize>c * <usize>p * 4;
    const oyA = p0 / wo;
    const oyB = (p1 - 1) / wo;
    for (let oy = oyA; oy <= oyB; oy++) {
      const xa = oy == oyA ? p0 - oy * wo : 0;
      const xb = oy == oyB ? p1 - oy * wo : wo;
      const iy0 = oy * sh - pt;
      const yrow = yc + (<usize>(oy * wo) << 2);
      if (fast3 && iy0 >= 0 && iy0 + 2 < h && oxHi - oxLo >= 4) {
        const va = max(xa, oxLo);
        const vb = min(xb, oxHi);
        dwScalar(xc, wc, yrow, h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oy, xa, min(xb, va));
        let ox = va;
        const r0 = xc + (<usize>iy0 * <usize>wd << 2);
        if (sw == 1) ox = dw3x3s1(r0, <usize>wd << 2, wc, yrow, ox - pl, ox, vb);
        else ox = dw3x3s2(r0, <usize>wd << 2, wc, yrow, ox * 2 - pl, ox, vb);
        dwScalar(xc, wc, yrow, h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oy, ox, xb);
      } else {
        dwScalar(xc, wc, yrow, h, wd, kh, kw, sh, sw, dh, dw, pt, pl, oy, xa, xb);
      }
    }
    if (epi != 0) {
      // One row of the [Cout, P] output matrix: per-row bias is this channel's bias.
      applyEpilogueF32(epi, y, p, c, c + 1, p0, p1, 0);
    }
  }
}

/** Bounds-checked depthwise for output row oy, columns [xa, xb). */
function dwScalar(
  xc: usize, wc: usize, yrow: usize, h: i32, wd: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32,
  pt: i32, pl: i32, oy: i32, xa: i32, xb: i32,
): void {
  for (let ox = xa; ox < xb; ox++) {
    let s: f32 = 0;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - pt + ky * dh;
      if (iy < 0 || iy >= h) continue;
      const row = xc + (<usize>iy * <usize>wd << 2);
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * sw - pl + kx * dw;
        if (ix < 0 || ix >= wd) continue;
        s += load<f32>(wc + (<usize>(ky * kw + kx) << 2)) * load<f32>(row + (<usize>ix << 2));
      }
    }
    store<f32>(yrow + (<usize>ox << 2), s);
  }
}

// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * 3x3 stride 1 over rows r0, r0 + ld, r0 + 2 ld: outputs [ox, oxEnd) in steps of 4 while a whole
 * vector fits; ix0 is the input column of output ox's first tap. Returns the first column not done.
 */
function dw3x3s1(r0: usize, ld: usize, wc: usize, yrow: usize, ix0: i32, ox: i32, oxEnd: i32): i32 {
  const w0 = v128.load32_splat(wc);
  const w1 = v128.load32_splat(wc, 4);
  const w2 = v128.load32_splat(wc, 8);
  const w3 = v128.load32_splat(wc, 12);
  const w4 = v128.load32_splat(wc, 16);
  const w5 = v128.load32_splat(wc, 20);
  const w6 = v128.load32_splat(wc, 24);
  const w7 = v128.load32_splat(wc, 28);
  const w8 = v128.load32_splat(wc, 32);
  let a = r0 + (<usize>ix0 << 2);
  let o = yrow + (<usize>ox << 2);
  for (; ox + 4 <= oxEnd; ox += 4) {
    let s = f32x4.mul(w0, v128.load(a));
    s = madd(w1, v128.load(a, 4), s);
    s = madd(w2, v128.load(a, 8), s);
    const b = a + ld;
    s = madd(w3, v128.load(b), s);
    s = madd(w4, v128.load(b, 4), s);
    s = madd(w5, v128.load(b, 8), s);
    const c = b + ld;
    s = madd(w6, v128.load(c), s);
    s = madd(w7, v128.load(c, 4), s);
    s = madd(w8, v128.load(c, 8), s);
    v128.store(o, s);
    a += 16;
    o += 16;
  }
  return ox;
}

/** 3x3 stride 2: even/odd lanes of 8 consecutive inputs give taps 0 and 1, inputs shifted by 2 tap 2. */
function dw3x3s2(r0: usize, ld: usize, wc: usize, yrow: usize, ix0: i32, ox: i32, oxEnd: i32): i32 {
  const w0 = v128.load32_splat(wc);
  const w1 = v128.load32_splat(wc, 4);
  const w2 = v128.load32_splat(wc, 8);
  const w3 = v128.load32_splat(wc, 12);
  const w4 = v128.load32_splat(wc, 16);
  const w5 = v128.load32_splat(wc, 20);
  const w6 = v128.load32_splat(wc, 24);
  const w7 = v128.load32_splat(wc, 28);
  const w8 = v128.load32_splat(wc, 32);
  let a = r0 + (<usize>ix0 << 2);
  let o = yrow + (<usize>ox << 2);
  // Per vector the loads cover inputs ix0 .. ix0 + 9; the caller's bound keeps them inside the row.
  for (; ox + 4 <= oxEnd; ox += 4) {
    let s = f32x4.splat(0);
    let r = a;
    for (let ky = 0; ky < 3; ky++) {
      const v0 = v128.load(r);
      const v1 = v128.load(r, 16);
      const v2 = v128.load(r, 8);
      const v3 = v128.load(r, 24);
      const ev = i32x4.shuffle(v0, v1, 0, 2, 4, 6);
      const od = i32x4.shuffle(v0, v1, 1, 3, 5, 7);
      const e2 = i32x4.shuffle(v2, v3, 0, 2, 4, 6);
      if (ky == 0) {
        s = madd(w0, ev, s);
        s = madd(w1, od, s);
        s = madd(w2, e2, s);
      } else if (ky == 1) {
        s = madd(w3, ev, s);
        s = madd(w4, od, s);
        s = madd(w5, e2, s);
      } else {
        s = madd(w6, ev, s);
        s = madd(w7, od, s);
        s = madd(w8, e2, s);
      }
      r += ld;
    }
    v128.store(o, s);
    a += 32;
    o += 16;
  }
  return ox;
}
