// f32 Conv2D, NCHW, with every ONNX attribute (groups, dilations, strides, explicit pads; the JS
// wrapper turns auto_pad into pads). Three paths:
//  - GEMM: per image and group, Y_g[CoutG, Ho*Wo] = W_g[CoutG, CinG*kh*kw] . im2col(X_g), with W_g
//    pre-packed once and im2col written straight into the GEMM's packed-B panel layout, one block of
//    output pixels at a time (bounded scratch). 1x1 / stride 1 / no pad convs skip im2col: X_g already
//    is the [CinG, H*W] matrix.
//  - depthwise (CinG == 1, groups > 1): a direct kernel over a zero-padded copy of each input plane,
//    since a GEMM with one row per group wastes most of a 4x8 tile; 3x3 stride 1 and 2 run one
//    vector pass per kernel row over the channel, other shapes a generic vector loop.
// Bias and activation come from the same epilogue block as the GEMM (bias mode BIAS_ROW over Cout).
import {
  ACT_CLIP, ACT_NONE, ACT_RELU, applyEpilogueF32, BIAS_NONE, epilogueAct, epilogueClampHi, epilogueClampLo, epilogueFusable,
  epilogueP0, epilogueP1, epilogueRegion, epilogueRowBias,
} from './epilogue_f32';
import { gemmF32Blocked, gemmF32ScratchBytes } from './gemm_f32';
import { im2colRunS1, im2colRunS2, im2colZeroPanels, MR, NR, packAPanels, roundUp } from './pack_f32';

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
const METHOD_SHIFTED: i32 = 3;
/** Scratch the shifted method may use for its padded input and extended output (else: im2col). */
const SHIFTED_MAX_BYTES: usize = 2 << 20;

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
  // Stride 1 on narrow rows: im2col panels would straddle output rows (slow, bounds-checked);
  // the shifted method reads every k as one contiguous run of a zero-padded copy instead.
  if (d(desc, D_SH) == 1 && d(desc, D_SW) == 1 && (d(desc, D_WO) % NR != 0 || d(desc, D_WO) < 64) &&
    shiftedPlaneBytes(desc) + shiftedOutBytes(desc) <= SHIFTED_MAX_BYTES) {
    return METHOD_SHIFTED;
  }
  return METHOD_IM2COL;
}

// Shifted method geometry (stride 1). The input is copied into planes of Hp x Wp with the pads
// around it; outputs are computed on an extended Ho x Wp grid (q = oy * Wp + ox, the Wp - Wo extra
// columns are discarded), where tap (ky, kx) of output q is plane element q + ky dh Wp + kx dw.
function shWp(desc: usize): i32 {
  return d(desc, D_WO) + (d(desc, D_KW) - 1) * d(desc, D_DW);
}

function shPlaneFloats(desc: usize): i32 {
  const hp = d(desc, D_HO) + (d(desc, D_KH) - 1) * d(desc, D_DH);
  // Panels read up to 7 floats past the last extended output, plus the largest tap offset.
  return roundUp(hp * shWp(desc) + (d(desc, D_KW) - 1) * d(desc, D_DW) + NR, 4);
}

function shiftedPlaneBytes(desc: usize): usize {
  return <usize>(d(desc, D_CIN) / d(desc, D_GROUPS)) * <usize>shPlaneFloats(desc) * 4;
}

function shiftedOutBytes(desc: usize): usize {
  return <usize>(d(desc, D_COUT) / d(desc, D_GROUPS)) * <usize>(d(desc, D_HO) * shWp(desc)) * 4;
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
  if (method == METHOD_DEPTHWISE) return <usize>dwPlaneH(desc) * <usize>dwPlaneW(desc) * 4 + 64;
  const groups = d(desc, D_GROUPS);
  const coutG = d(desc, D_COUT) / groups;
  const kg = (d(desc, D_CIN) / groups) * d(desc, D_KH) * d(desc, D_KW);
  const p = d(desc, D_HO) * d(desc, D_WO);
  if (method == METHOD_POINTWISE) return gemmF32ScratchBytes(coutG, p, kg, 1, 0);
  const np = method == METHOD_SHIFTED ? d(desc, D_HO) * shWp(desc) : p;
  const cols = min(im2colBlockCols(kg), roundUp(np, NR));
  const base = ((gemmF32ScratchBytes(coutG, cols, kg, 1, 1) + 63) & ~63) + <usize>kg * <usize>cols * 4 + 64;
  if (method == METHOD_IM2COL) return base;
  return base + shiftedPlaneBytes(desc) + shiftedOutBytes(desc) + 64;
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
    for (let b = 0; b < n; b++) depthwise(desc, x + <usize>b * xImage, wPacked, y + <usize>b * yImage, epi, co0, co1, p0, p1, scratch);
    return;
  }
  const groupW = <usize>roundUp(coutG, MR) * <usize>kg * 4;
  const np = method == METHOD_SHIFTED ? ho * shWp(desc) : p;
  const cols = min(im2colBlockCols(kg), roundUp(np, NR));
  const gemmScratch = scratch;
  const colBuf = scratch + ((gemmF32ScratchBytes(coutG, cols, kg, 1, 1) + 63) & ~63);
  if (method == METHOD_SHIFTED) {
    const xpad = (colBuf + <usize>kg * <usize>cols * 4 + 63) & ~63;
    const cext = (xpad + shiftedPlaneBytes(desc) + 63) & ~63;
    memory.fill(xpad, 0, shiftedPlaneBytes(desc));
    for (let b = 0; b < n; b++) {
      for (let g = co0 / coutG; g * coutG < co1; g++) {
        const xg = x + <usize>b * xImage + <usize>g * <usize>cinG * <usize>h * <usize>wd * 4;
        const yg = y + <usize>b * yImage + <usize>g * <usize>coutG * <usize>p * 4;
        convShiftedGroup(desc, xg, wPacked + <usize>g * groupW, yg, epi, g * coutG,
          max(co0 - g * coutG, 0), min(co1 - g * coutG, coutG), p0, p1, gemmScratch, colBuf, cols, xpad, cext);
      }
    }
    return;
  }
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
 * One image group by the shifted method: pad-copy the input, GEMM over the extended grid rows that
 * hold pixels [p0, p1) (packing each k as a contiguous run), then copy the real columns to Y.
 */
function convShiftedGroup(
  desc: usize, xg: usize, wg: usize, yg: usize, epi: usize, biasRow0: i32, m0: i32, m1: i32, p0: i32, p1: i32,
  gemmScratch: usize, colBuf: usize, cols: i32, xpad: usize, cext: usize,
): void {
  const h = d(desc, D_H);
  const wd = d(desc, D_W);
  const kh = d(desc, D_KH);
  const kw = d(desc, D_KW);
  const dh = d(desc, D_DH);
  const dw = d(desc, D_DW);
  const pt = d(desc, D_PT);
  const pl = d(desc, D_PL);
  const ho = d(desc, D_HO);
  const wo = d(desc, D_WO);
  const cinG = d(desc, D_CIN) / d(desc, D_GROUPS);
  const coutG = d(desc, D_COUT) / d(desc, D_GROUPS);
  const kg = cinG * kh * kw;
  const wp = shWp(desc);
  const plane = <usize>shPlaneFloats(desc) << 2;
  const ldp = <usize>wp << 2;
  const extN = ho * wp;
  // Interior of each padded plane; the zero borders were written once for the whole call.
  for (let ci = 0; ci < cinG; ci++) {
    copyRows(xg + <usize>ci * <usize>h * <usize>wd * 4, wd, 0, h, xpad + <usize>ci * plane + <usize>pt * ldp + (<usize>pl << 2), ldp);
  }
  const oyA = p0 / wo;
  const oyB = (p1 - 1) / wo;
  const qa = oyA * wp;
  const qb = oyB * wp + wo;
  const panelBytes = (<usize>kg * NR) << 2;
  for (let q0 = qa; q0 < qb; q0 += cols) {
    const nc = min(cols, qb - q0);
    const npan = (nc + NR - 1) / NR;
    // Pack: B[k][q] = plane_ci[q + ky dh wp + kx dw], a contiguous run for every k.
    let dk = colBuf;
    for (let ci = 0; ci < cinG; ci++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          let src = xpad + <usize>ci * plane + ((<usize>(q0 + ky * dh * wp + kx * dw)) << 2);
          let dst = dk;
          for (let j = 0; j < npan; j++) {
            v128.store(dst, v128.load(src));
            v128.store(dst, v128.load(src, 16), 16);
            src += NR << 2;
            dst += panelBytes;
          }
          dk += NR << 2;
        }
      }
    }
    gemmF32Blocked(coutG, nc, kg, wg, kg, 0, 1, colBuf, nc, 0, 1, cext + (<usize>q0 << 2), extN, epi, biasRow0, gemmScratch, m0, m1, 0, nc, false);
  }
  // Keep the Wo real columns of each extended row.
  const p = ho * wo;
  for (let m = m0; m < m1; m++) {
    const crow = cext + (<usize>m * <usize>extN << 2);
    const yrow = yg + (<usize>m * <usize>p << 2);
    for (let oy = oyA; oy <= oyB; oy++) {
      const xa = oy == oyA ? p0 - oy * wo : 0;
      const xb = oy == oyB ? p1 - oy * wo : wo;
      const s = crow + (<usize>(oy * wp) << 2);
      const t = yrow + (<usize>(oy * wo) << 2);
      let j = xa;
      for (; j + 4 <= xb; j += 4) v128.store(t + (<usize>j << 2), v128.load(s + (<usize>j << 2)));
      for (; j < xb; j++) store<f32>(t + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
    }
  }
}

/**
 * Writes im2col columns [pb, pb + nc) of one image group (CinG channels at xg) as packed-B panels:
 * panel j holds, for each k = (ci, ky, kx), the NR values of pixels pb + NR j ... (zero past nc).
 * The loop runs k outermost and, inside, over runs of panels that lie in one output row: a run
 * reads one input row at stride sw, so each panel is two vector loads and stores (stride 1) or
 * four loads and two shuffles (stride 2), and row/column arithmetic is done once per run.
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
  const kg = cinG * kh * kw;
  const plane = <usize>h * <usize>wd * 4;
  const rowBytes = <usize>wd << 2;
  const panelBytes = (<usize>kg * NR) << 2;
  const np = (nc + NR - 1) / NR;
  const fullPanels = nc / NR;
  // Output position of the block's first pixel; runs below advance it without dividing.
  const oy0 = pb / wo;
  const ox0 = pb - oy0 * wo;
  const fast = sw == 1 || sw == 2;
  let dk = dst;
  for (let ci = 0; ci < cinG; ci++) {
    const xc = xg + <usize>ci * plane;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        let j = 0;
        let oy = oy0;
        let ox = ox0;
        while (j < np) {
          const o = dk + <usize>j * panelBytes;
          if (fast && j < fullPanels && ox + NR <= wo) {
            // A run of whole panels inside output row oy.
            const run = min(fullPanels - j, (wo - ox) >> 3);
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= h) {
              im2colZeroPanels(o, panelBytes, run);
            } else if (sw == 1) {
              im2colRunS1(xc + <usize>iy * rowBytes, wd, ox - pl + kx * dw, o, panelBytes, run);
            } else {
              im2colRunS2(xc + <usize>iy * rowBytes, wd, ox * 2 - pl + kx * dw, o, panelBytes, run);
            }
            j += run;
            ox += run * NR;
          } else {
            im2colPanelChecked(xc, h, wd, sh, sw, dh, dw, pt, pl, wo, ky, kx, oy, ox, min(NR, nc - j * NR), o);
            j++;
            ox += NR;
          }
          while (ox >= wo) {
            ox -= wo;
            oy++;
          }
        }
        dk += NR << 2;
      }
    }
  }
}


/** One panel (cnt valid pixels from output position (oy, ox) on, possibly across rows), bounds-checked. */
function im2colPanelChecked(
  xc: usize, h: i32, wd: i32, sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, wo: i32,
  ky: i32, kx: i32, oy: i32, ox: i32, cnt: i32, o: usize,
): void {
  let yy = oy;
  let xx = ox;
  for (let c = 0; c < NR; c++) {
    let v: f32 = 0;
    if (c < cnt) {
      const iy = yy * sh - pt + ky * dh;
      const ix = xx * sw - pl + kx * dw;
      if (iy >= 0 && iy < h && ix >= 0 && ix < wd) v = load<f32>(xc + ((<usize>iy * <usize>wd + <usize>ix) << 2));
      if (++xx == wo) {
        xx = 0;
        yy++;
      }
    }
    store<f32>(o + (<usize>c << 2), v);
  }
}

// ---- depthwise ----------------------------------------------------------------------------------

/** Width (floats) of the zero-padded input plane: every tap of every 4-output vector lies inside. */
function dwPlaneW(desc: usize): i32 {
  const need = (d(desc, D_WO) + 4) * d(desc, D_SW) + (d(desc, D_KW) - 1) * d(desc, D_DW) + 8;
  return roundUp(max(need, d(desc, D_PL) + d(desc, D_W)), 4);
}

function dwPlaneH(desc: usize): i32 {
  const need = (d(desc, D_HO) - 1) * d(desc, D_SH) + (d(desc, D_KH) - 1) * d(desc, D_DH) + 1;
  return max(need, d(desc, D_PT) + d(desc, D_H));
}

/**
 * Direct depthwise conv of one image: output channel c reads input channel c / mult. The input
 * channel is first copied into a zero-padded plane in scratch (borders stay zero across channels),
 * so every output row is computed by vector code with no bounds checks; bias and activation are
 * applied in registers before the store.
 */
function depthwise(desc: usize, x: usize, w: usize, y: usize, epi: usize, co0: i32, co1: i32, p0: i32, p1: i32, plane: usize): void {
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
  const wp = dwPlaneW(desc);
  const ld = <usize>wp << 2;
  memory.fill(plane, 0, <usize>dwPlaneH(desc) * ld);
  const fuse = epilogueFusable(epi);
  const act = fuse ? epilogueAct(epi) : ACT_NONE;
  const p0v = epilogueP0(epi);
  const p1v = epilogueP1(epi);
  const oyA = p0 / wo;
  const oyB = (p1 - 1) / wo;
  // Input rows the output rows [oyA, oyB] read.
  const iyA = max(0, oyA * sh - pt);
  const iyB = min(h, oyB * sh - pt + (kh - 1) * dh + 1);
  const s3 = kh == 3 && kw == 3 && dh == 1 && dw == 1;
  const s3c = s3 && (sw == 1 || sw == 2);
  const clampAct = act == ACT_NONE || act == ACT_RELU || act == ACT_CLIP;
  const lo: f32 = clampAct ? epilogueClampLo(epi) : -Infinity;
  const hi: f32 = clampAct ? epilogueClampHi(epi) : Infinity;
  let loaded = -1;
  for (let c = co0; c < co1; c++) {
    const src = c / mult;
    if (src != loaded) {
      copyRows(x + <usize>src * <usize>h * <usize>wd * 4, wd, iyA, iyB, plane + <usize>pt * ld + (<usize>pl << 2), ld);
      loaded = src;
    }
    const wc = w + <usize>(c * kh * kw) * 4;
    const yc = y + <usize>c * <usize>p * 4;
    const bias = fuse ? epilogueRowBias(epi, c) : 0;
    if (s3c) {
      // One pass over the channel's output rows per kernel row, accumulating in the output (in L1):
      // three weights and three inputs live at a time. Nine weights plus nine inputs in one loop
      // body spill, because V8 issues all of an iteration's loads before its arithmetic and has
      // only 15 xmm registers.
      const rowStep = <usize>sh * ld;
      const r0 = plane + <usize>(oyA * sh) * ld;
      if (sw == 1) {
        dwPass3s1First(r0, rowStep, wc, yc, wo, oyA, oyB, p0, p1, bias);
        dwPass3s1Mid(r0 + ld, rowStep, wc + 12, yc, wo, oyA, oyB, p0, p1);
        dwPass3s1Last(r0 + 2 * ld, rowStep, wc + 24, yc, wo, oyA, oyB, p0, p1, lo, hi);
      } else {
        dwPass3s2First(r0, rowStep, wc, yc, wo, oyA, oyB, p0, p1, bias);
        dwPass3s2Mid(r0 + ld, rowStep, wc + 12, yc, wo, oyA, oyB, p0, p1);
        dwPass3s2Last(r0 + 2 * ld, rowStep, wc + 24, yc, wo, oyA, oyB, p0, p1, lo, hi);
      }
    } else {
      for (let oy = oyA; oy <= oyB; oy++) {
        const xa = oy == oyA ? p0 - oy * wo : 0;
        const xb = oy == oyB ? p1 - oy * wo : wo;
        // Padded coordinates: input row oy * sh - pt + ky * dh is plane row oy * sh + ky * dh.
        dwGenericRow(plane + <usize>(oy * sh) * ld, ld, wc, yc + (<usize>(oy * wo) << 2), xa, xb, kh, kw, sw, dh, dw, bias);
      }
    }
    // Relu / Clip are applied by the last 3x3 pass; other activations (and other kernel shapes) run
    // as a second pass over the channel's outputs while they are in L1.
    if (!fuse) applyEpilogueF32(epi, y, p, c, c + 1, p0, p1, 0);
    else if (act != ACT_NONE && !(s3c && clampAct)) epilogueRegion(act, p0v, p1v, 1, 0, 0, BIAS_NONE, 0, y, p, c, c + 1, p0, p1, 0);
  }
}

/** Copies rows [iyA, iyB) of a W-wide plane to dst rows (ldBytes apart), vector by vector. */
function copyRows(src: usize, wd: i32, iyA: i32, iyB: i32, dst: usize, ldBytes: usize): void {
  const rowBytes = <usize>wd << 2;
  for (let iy = iyA; iy < iyB; iy++) {
    const s = src + <usize>iy * rowBytes;
    const t = dst + <usize>iy * ldBytes;
    let j = 0;
    for (; j + 4 <= wd; j += 4) v128.store(t + (<usize>j << 2), v128.load(s + (<usize>j << 2)));
    for (; j < wd; j++) store<f32>(t + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
  }
}

// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Stores the first n (1..4) lanes of v at o. */
// @ts-ignore: decorator
@inline
function storeLanes(o: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(o, v);
    return;
  }
  store<f32>(o, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(o, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(o, f32x4.extract_lane(v, 2), 8);
}

/** The first n (1..3) lanes at o, zeros above: the row tail never reads past the row. */
// @ts-ignore: decorator
@inline
function loadLanes(o: usize, n: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(o));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(o, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(o, 8));
  return v;
}

// Depthwise passes: one kernel row of a 3-wide kernel over output rows oyA..oyB (pixels [p0, p1)
// of the channel at yc), x being plane row `row` for oyA and rowStep bytes further per output row.
// mode PASS_FIRST: out = bias + taps; PASS_MID: out += taps; PASS_LAST: out = clamp(out + taps).
// The @inline bodies are instantiated once per mode so the loops carry no mode test.
const PASS_FIRST: i32 = 0;
const PASS_MID: i32 = 1;
const PASS_LAST: i32 = 2;

function dwPass3s1First(row: usize, rowStep: usize, wk: usize, yc: usize, wo: i32, oyA: i32, oyB: i32, p0: i32, p1: i32, bias: f32): void {
  dwPass3s1(row, rowStep, wk, yc, wo, oyA, oyB, p0, p1, PASS_FIRST, bias, 0, 0);
}
function dwPass3s1Mid(row: usize, rowStep: usize, wk: usize, yc: usize, wo: i32, oyA: i32, oyB: i32, p0: i32, p1: i32): void {
  dwPass3s1(row, rowStep, wk, yc, wo, oyA, oyB, p0, p1, PASS_MID, 0, 0, 0);
}
function dwPass3s1Last(row: usize, rowStep: usize, wk: usize, yc: usize, wo: i32, oyA: i32, oyB: i32, p0: i32, p1: i32, lo: f32, hi: f32): void {
  dwPass3s1(row, rowStep, wk, yc, wo, oyA, oyB, p0, p1, PASS_LAST, 0, lo, hi);
}
function dwPass3s2First(row: usize, rowStep: usize, wk: usize, yc: usize, wo: i32, oyA: i32, oyB: i32, p0: i32, p1: i32, bias: f32): void {
  dwPass3s2(row, rowStep, wk, yc, wo, oyA, oyB, p0, p1, PASS_FIRST, bias, 0, 0);
}
function dwPass3s2Mid(row: usize, rowStep: usize, wk: usize, yc: usize, wo: i32, oyA: i32, oyB: i32, p0: i32, p1: i32): void {
  dwPass3s2(row, rowStep, wk, yc, wo, oyA, oyB, p0, p1, PASS_MID, 0, 0, 0);
}
function dwPass3s2Last(row: usize, rowStep: usize, wk: usize, yc: usize, wo: i32, oyA: i32, oyB: i32, p0: i32, p1: i32, lo: f32, hi: f32): void {
  dwPass3s2(row, rowStep, wk, yc, wo, oyA, oyB, p0, p1, PASS_LAST, 0, lo, hi);
}

// @ts-ignore: decorator
@inline
function passStart(o: usize, n: i32, mode: i32, vb: v128): v128 {
  if (mode == PASS_FIRST) return vb;
  return n >= 4 ? v128.load(o) : loadLanes(o, n);
}

// @ts-ignore: decorator
@inline
function passEnd(o: usize, s: v128, n: i32, mode: i32, vlo: v128, vhi: v128): void {
  if (mode == PASS_LAST) s = f32x4.pmin(f32x4.pmax(s, vlo), vhi);
  storeLanes(o, s, n);
}

/** Stride 1: out (+)= w0 x[ox] + w1 x[ox + 1] + w2 x[ox + 2]. */
// @ts-ignore: decorator
@inline
function dwPass3s1(row: usize, rowStep: usize, wk: usize, yc: usize, wo: i32, oyA: i32, oyB: i32, p0: i32, p1: i32, mode: i32, bias: f32, lo: f32, hi: f32): void {
  const w0 = v128.load32_splat(wk);
  const w1 = v128.load32_splat(wk, 4);
  const w2 = v128.load32_splat(wk, 8);
  const vb = f32x4.splat(bias);
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  for (let oy = oyA; oy <= oyB; oy++) {
    const xa = oy == oyA ? p0 - oy * wo : 0;
    const xb = oy == oyB ? p1 - oy * wo : wo;
    const out = yc + (<usize>(oy * wo) << 2);
    for (let ox = xa; ox < xb; ox += 4) {
      const a = row + (<usize>ox << 2);
      const o = out + (<usize>ox << 2);
      const n = xb - ox;
      let s = passStart(o, n, mode, vb);
      s = madd(w0, v128.load(a), s);
      s = madd(w1, v128.load(a, 4), s);
      s = madd(w2, v128.load(a, 8), s);
      passEnd(o, s, n, mode, vlo, vhi);
    }
    row += rowStep;
  }
}

/**
 * Stride 2: from 12 consecutive inputs the even lanes are tap 0, the odd lanes tap 1, and the even
 * lanes shifted by one with the 9th input tap 2.
 */
// @ts-ignore: decorator
@inline
function dwPass3s2(row: usize, rowStep: usize, wk: usize, yc: usize, wo: i32, oyA: i32, oyB: i32, p0: i32, p1: i32, mode: i32, bias: f32, lo: f32, hi: f32): void {
  const w0 = v128.load32_splat(wk);
  const w1 = v128.load32_splat(wk, 4);
  const w2 = v128.load32_splat(wk, 8);
  const vb = f32x4.splat(bias);
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  for (let oy = oyA; oy <= oyB; oy++) {
    const xa = oy == oyA ? p0 - oy * wo : 0;
    const xb = oy == oyB ? p1 - oy * wo : wo;
    const out = yc + (<usize>(oy * wo) << 2);
    for (let ox = xa; ox < xb; ox += 4) {
      const a = row + (<usize>ox << 3);
      const o = out + (<usize>ox << 2);
      const n = xb - ox;
      let s = passStart(o, n, mode, vb);
      const A = v128.load(a);
      const B = v128.load(a, 16);
      const e = i32x4.shuffle(A, B, 0, 2, 4, 6);
      s = madd(w0, e, s);
      s = madd(w1, i32x4.shuffle(A, B, 1, 3, 5, 7), s);
      s = madd(w2, i32x4.shuffle(e, v128.load(a, 32), 1, 2, 3, 4), s);
      passEnd(o, s, n, mode, vlo, vhi);
    }
    row += rowStep;
  }
}

/**
 * Any kernel size, dilation and stride: weights broadcast per tap, inputs gathered per stride.
 * Stride 1 (the 1-D depthwise convs of audio models: long rows, kernels up to ~31 taps) first
 * goes 16 outputs at a time, one weight broadcast feeding four vectors; every output still sums
 * its taps in the same (ky, kx) order from the bias, so the result does not depend on where a
 * row is cut.
 */
function dwGenericRow(
  r0: usize, ld: usize, wc: usize, out: usize, xa: i32, xb: i32, kh: i32, kw: i32, sw: i32, dh: i32, dw: i32,
  bias: f32,
): void {
  const vb = f32x4.splat(bias);
  const colStep = <usize>sw << 2;
  let start = xa;
  if (sw == 1) {
    for (; start + 16 <= xb; start += 16) {
      let s0 = vb, s1 = vb, s2 = vb, s3 = vb;
      for (let ky = 0; ky < kh; ky++) {
        const row = r0 + <usize>(ky * dh) * ld + (<usize>start << 2);
        const wrow = wc + (<usize>(ky * kw) << 2);
        for (let kx = 0; kx < kw; kx++) {
          const wv = v128.load32_splat(wrow + (<usize>kx << 2));
          const a = row + (<usize>(kx * dw) << 2);
          s0 = madd(wv, v128.load(a), s0);
          s1 = madd(wv, v128.load(a, 16), s1);
          s2 = madd(wv, v128.load(a, 32), s2);
          s3 = madd(wv, v128.load(a, 48), s3);
        }
      }
      const o = out + (<usize>start << 2);
      v128.store(o, s0);
      v128.store(o, s1, 16);
      v128.store(o, s2, 32);
      v128.store(o, s3, 48);
    }
  }
  for (let ox = start; ox < xb; ox += 4) {
    let s = vb;
    for (let ky = 0; ky < kh; ky++) {
      const row = r0 + <usize>(ky * dh) * ld + (<usize>(ox * sw) << 2);
      for (let kx = 0; kx < kw; kx++) {
        const wv = v128.load32_splat(wc + (<usize>(ky * kw + kx) << 2));
        const a = row + (<usize>(kx * dw) << 2);
        let v: v128;
        if (sw == 1) {
          v = v128.load(a);
        } else if (sw == 2) {
          v = i32x4.shuffle(v128.load(a), v128.load(a, 16), 0, 2, 4, 6);
        } else {
          v = f32x4.splat(load<f32>(a));
          v = f32x4.replace_lane(v, 1, load<f32>(a + colStep));
          v = f32x4.replace_lane(v, 2, load<f32>(a + 2 * colStep));
          v = f32x4.replace_lane(v, 3, load<f32>(a + 3 * colStep));
        }
        s = madd(wv, v, s);
      }
    }
    storeLanes(out + (<usize>ox << 2), s, xb - ox);
  }
}
