// f32 ConvTranspose for 1 to 3 spatial axes (lifted to 3 by the JS side), NC(D)HW, every ONNX
// attribute (groups, strides, dilations, pads resolved from auto_pad / output_padding /
// output_shape by the JS side, which may make a pad negative).
//
// Per image and group: cols[(m, tap), pixel] = W_g^T . X_g (a GEMM with the pre-packed W^T as A and
// the input itself as B, one block of input pixels at a time so cols stays in L2), then col2im adds
// each cols row into the output pixels its tap reaches. Y starts at the bias; the activation runs
// last over the finished box.
//
// A call covers output channels [m0, m1) and the output range [t0, t1) along one spatial axis (the
// descriptor's split axis); it computes only the input pixels that reach that box and writes only
// inside it, so threads never share output bytes. Every output element receives its contributions
// in one fixed order, by (input row, kd, kh, kw) with rows cut into segments at absolute multiples
// of the block width: whatever the ranges, the sums are bit-identical to one call over everything.
import { ACT_NONE, BIAS_NONE, epilogueRegion } from './epilogue_f32';
import { gemmF32Blocked, gemmF32ScratchBytes } from './gemm_f32';
import { MR, NR, packAPanels, roundUp } from './pack_f32';

// Descriptor: i32 words written by src/backends/wasm/kernels/conv-transpose-f32.ts (P0, P1 are f32).
const T_N = 0, T_C = 1, T_M = 2, T_G = 3, T_ID = 4, T_IH = 5, T_IW = 6, T_OD = 7, T_OH = 8, T_OW = 9;
const T_KD = 10, T_KH = 11, T_KW = 12, T_SD = 13, T_SH = 14, T_SW = 15, T_DD = 16, T_DH = 17, T_DW = 18;
const T_PD = 19, T_PH = 20, T_PW = 21, T_SPLIT = 22, T_ACT = 23, T_P0 = 24, T_P1 = 25, T_BIAS = 26;
const DESC_WORDS = 27;
/** Floats of cols per block: 256 KB, an L2-resident working set whatever the rows are. */
const BLOCK_FLOATS = 65536;

// @ts-ignore: decorator
@inline
function t(desc: usize, i: i32): i32 {
  return load<i32>(desc + (<usize>i << 2));
}

/** i32 words of the descriptor convTransposeF32 reads. */
export function convTransposeF32DescWords(): i32 {
  return DESC_WORDS;
}

// @ts-ignore: decorator
@inline
function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return a % b != 0 && a < 0 ? q - 1 : q;
}

// @ts-ignore: decorator
@inline
function ceilDiv(a: i32, b: i32): i32 {
  return -floorDiv(-a, b);
}

/** GEMM rows per group: one per (output channel of the group, kernel tap). */
function groupRows(desc: usize): i32 {
  return (t(desc, T_M) / t(desc, T_G)) * t(desc, T_KD) * t(desc, T_KH) * t(desc, T_KW);
}

/** Input pixels per GEMM block; fixed by the geometry (never by a call's ranges), a multiple of NR. */
function blockCols(desc: usize): i32 {
  const cols = (BLOCK_FLOATS / max(groupRows(desc), 1)) / NR * NR;
  return min(max(cols, NR), 4096);
}

/** Bytes of the pre-packed weights: per group, W_g^T in packed-A panels. */
export function convTransposeF32PackedWeightBytes(desc: usize): usize {
  const g = t(desc, T_G);
  return <usize>g * <usize>roundUp(groupRows(desc), MR) * <usize>(t(desc, T_C) / g) * 4;
}

/** Packs ONNX weights W[C, M / group, k...] as W_g^T [(m, tap), c] per group. */
export function convTransposeF32PackWeights(desc: usize, w: usize, dst: usize): void {
  const groups = t(desc, T_G);
  const cg = t(desc, T_C) / groups;
  const rows = groupRows(desc);
  const groupBytes = <usize>roundUp(rows, MR) * <usize>cg * 4;
  for (let g = 0; g < groups; g++) {
    // Element (r, c) of W_g^T is W[g cg + c][r]: the transposed layout with lda = rows.
    packAPanels(w + <usize>g * <usize>cg * <usize>rows * 4, rows, 1, rows, cg, dst + <usize>g * groupBytes);
  }
}

function gemmScratch(desc: usize): usize {
  const cg = t(desc, T_C) / t(desc, T_G);
  return (gemmF32ScratchBytes(groupRows(desc), blockCols(desc), cg, 1, 0) + 63) & ~63;
}

/** Scratch bytes convTransposeF32 needs (any range needs at most this much). */
export function convTransposeF32ScratchBytes(desc: usize): usize {
  return gemmScratch(desc) + <usize>groupRows(desc) * <usize>blockCols(desc) * 4 + 64;
}

/** First input index whose taps can reach outputs >= o0 along an axis. */
// @ts-ignore: decorator
@inline
function inFirst(o0: i32, p: i32, k: i32, dl: i32, s: i32): i32 {
  return max(0, ceilDiv(o0 + p - (k - 1) * dl, s));
}

/** One past the last input index whose taps can reach outputs < o1. */
// @ts-ignore: decorator
@inline
function inEnd(o1: i32, p: i32, s: i32, size: i32): i32 {
  return min(size, floorDiv(o1 - 1 + p, s) + 1);
}

/**
 * Y[b, m] for output channels [m0, m1) of every image, restricted to outputs [t0, t1) along the
 * split axis. x: X[N, C, ID, IH, IW]; wPacked: convTransposeF32PackWeights output; y: Y[N, M, OD,
 * OH, OW]; scratch: convTransposeF32ScratchBytes bytes.
 */
export function convTransposeF32(desc: usize, x: usize, wPacked: usize, y: usize, scratch: usize, m0: i32, m1: i32, t0: i32, t1: i32): void {
  const n = t(desc, T_N);
  const C = t(desc, T_C);
  const M = t(desc, T_M);
  const groups = t(desc, T_G);
  const ID = t(desc, T_ID), IH = t(desc, T_IH), IW = t(desc, T_IW);
  const OD = t(desc, T_OD), OH = t(desc, T_OH), OW = t(desc, T_OW);
  const KD = t(desc, T_KD), KH = t(desc, T_KH), KW = t(desc, T_KW);
  const sd = t(desc, T_SD), sh = t(desc, T_SH), sw = t(desc, T_SW);
  const dd = t(desc, T_DD), dh = t(desc, T_DH), dw = t(desc, T_DW);
  const pd = t(desc, T_PD), ph = t(desc, T_PH), pw = t(desc, T_PW);
  m1 = min(m1, M);
  if (m0 >= m1) return;
  // The output box this call owns.
  let od0 = 0, od1 = OD, oh0 = 0, oh1 = OH, ow0 = 0, ow1 = OW;
  const axis = t(desc, T_SPLIT);
  if (axis == 0) {
    od0 = max(t0, 0);
    od1 = min(t1, OD);
  } else if (axis == 1) {
    oh0 = max(t0, 0);
    oh1 = min(t1, OH);
  } else {
    ow0 = max(t0, 0);
    ow1 = min(t1, OW);
  }
  if (od0 >= od1 || oh0 >= oh1 || ow0 >= ow1) return;
  // The input box whose taps reach it.
  const idA = inFirst(od0, pd, KD, dd, sd), idB = inEnd(od1, pd, sd, ID);
  const ihA = inFirst(oh0, ph, KH, dh, sh), ihB = inEnd(oh1, ph, sh, IH);
  const iwA = inFirst(ow0, pw, KW, dw, sw), iwB = inEnd(ow1, pw, sw, IW);
  const cg = C / groups;
  const mg = M / groups;
  const ks = KD * KH * KW;
  const rows = mg * ks;
  const cols = blockCols(desc);
  const colBuf = scratch + gemmScratch(desc);
  const groupW = <usize>roundUp(rows, MR) * <usize>cg * 4;
  const inPlane = ID * IH * IW;
  const outPlane = <usize>OD * <usize>OH * <usize>OW;
  const bias = <usize>load<u32>(desc + (<usize>T_BIAS << 2));
  const act = t(desc, T_ACT);
  const p0 = load<f32>(desc + (<usize>T_P0 << 2));
  const p1 = load<f32>(desc + (<usize>T_P1 << 2));
  // Whole input rows go to one block together when the call owns full rows that fit in a block.
  const wholeRows = iwA == 0 && iwB == IW && IW <= cols;
  boxOd0 = od0; boxOd1 = od1; boxOh0 = oh0; boxOh1 = oh1; boxOw0 = ow0; boxOw1 = ow1;
  for (let b = 0; b < n; b++) {
    for (let g = m0 / mg; g * mg < m1; g++) {
      const ml0 = max(m0 - g * mg, 0);
      const ml1 = min(m1 - g * mg, mg);
      const yg = y + <usize>(b * M + g * mg) * outPlane * 4;
      const xg = x + <usize>(b * C + g * cg) * <usize>inPlane * 4;
      const wg = wPacked + <usize>g * groupW;
      for (let ml = ml0; ml < ml1; ml++) {
        fillBox(yg + <usize>ml * outPlane * 4, OH, OW, bias != 0 ? load<f32>(bias + (<usize>(g * mg + ml) << 2)) : 0);
      }
      if (idA < idB && ihA < ihB && iwA < iwB) {
        for (let id = idA; id < idB; id++) {
          let ih = ihA;
          while (ih < ihB) {
            if (wholeRows) {
              const nr = min(cols / IW, ihB - ih);
              block(desc, xg, wg, yg, colBuf, scratch, ml0, ml1, id, ih, nr, 0, IW);
              ih += nr;
            } else {
              for (let s = (iwA / cols) * cols; s < iwB; s += cols) {
                block(desc, xg, wg, yg, colBuf, scratch, ml0, ml1, id, ih, 1, max(s, iwA), min(s + cols, iwB));
              }
              ih++;
            }
          }
        }
      }
      if (act != ACT_NONE) {
        for (let ml = ml0; ml < ml1; ml++) {
          const yc = yg + <usize>ml * outPlane * 4;
          for (let od = od0; od < od1; od++) {
            epilogueRegion(act, p0, p1, 1, 0, 0, BIAS_NONE, 0, yc + <usize>od * <usize>OH * <usize>OW * 4, OW, oh0, oh1, ow0, ow1, 0);
          }
        }
      }
    }
  }
}

// The output box of the running call. Globals are per instance and a call runs to completion on
// its instance, so each thread sees its own box.
let boxOd0: i32 = 0, boxOd1: i32 = 0, boxOh0: i32 = 0, boxOh1: i32 = 0, boxOw0: i32 = 0, boxOw1: i32 = 0;

function fillBox(yc: usize, OH: i32, OW: i32, v: f32): void {
  const vv = f32x4.splat(v);
  for (let od = boxOd0; od < boxOd1; od++) {
    for (let oh = boxOh0; oh < boxOh1; oh++) {
      const row = yc + ((<usize>(od * OH + oh) * <usize>OW) << 2);
      let j = boxOw0;
      for (; j + 4 <= boxOw1; j += 4) v128.store(row + (<usize>j << 2), vv);
      for (; j < boxOw1; j++) store<f32>(row + (<usize>j << 2), v);
    }
  }
}

/**
 * One block: nr input rows starting at (id, ih), each the segment [a, e) (nr > 1 only for whole
 * rows). GEMM its columns for local channels [ml0, ml1), then scatter them into the box.
 */
function block(
  desc: usize, xg: usize, wg: usize, yg: usize, colBuf: usize, gemmScratchPtr: usize,
  ml0: i32, ml1: i32, id: i32, ih: i32, nr: i32, a: i32, e: i32,
): void {
  const C = t(desc, T_C);
  const groups = t(desc, T_G);
  const cg = C / groups;
  const IH = t(desc, T_IH), IW = t(desc, T_IW);
  const OH = t(desc, T_OH), OW = t(desc, T_OW);
  const KD = t(desc, T_KD), KH = t(desc, T_KH), KW = t(desc, T_KW);
  const sd = t(desc, T_SD), sh = t(desc, T_SH), sw = t(desc, T_SW);
  const dd = t(desc, T_DD), dh = t(desc, T_DH), dw = t(desc, T_DW);
  const pd = t(desc, T_PD), ph = t(desc, T_PH), pw = t(desc, T_PW);
  const inPlane = t(desc, T_ID) * IH * IW;
  const outPlane = <usize>t(desc, T_OD) * <usize>OH * <usize>OW;
  const ks = KD * KH * KW;
  const rows = groupRows(desc);
  const segW = e - a;
  const nq = nr * segW;
  const r0 = ml0 * ks;
  const r1 = ml1 * ks;
  // C's row r0 sits at colBuf: the kernel only addresses rows >= r0 (wrapping arithmetic is exact).
  const cBase = colBuf - ((<usize>r0 * <usize>nq) << 2);
  const xb = xg + ((<usize>((id * IH + ih) * IW + a)) << 2);
  gemmF32Blocked(rows, nq, cg, wg, cg, 0, 1, xb, inPlane, 0, 0, cBase, nq, 0, 0, gemmScratchPtr, r0, r1, 0, nq, false);
  for (let ml = ml0; ml < ml1; ml++) {
    const yc = yg + <usize>ml * outPlane * 4;
    const cm = colBuf + ((<usize>(ml * ks - r0) * <usize>nq) << 2);
    for (let rr = 0; rr < nr; rr++) {
      const ihr = ih + rr;
      for (let kd = 0; kd < KD; kd++) {
        const od = id * sd - pd + kd * dd;
        if (od < boxOd0 || od >= boxOd1) continue;
        for (let kh = 0; kh < KH; kh++) {
          const oh = ihr * sh - ph + kh * dh;
          if (oh < boxOh0 || oh >= boxOh1) continue;
          const yrow = yc + ((<usize>(od * OH + oh) * <usize>OW) << 2);
          const tap0 = (kd * KH + kh) * KW;
          // Row of cols for tap (kd, kh, 0), at the first pixel of this input row's segment.
          const crow = cm + ((<usize>tap0 * <usize>nq + <usize>(rr * segW)) << 2);
          if (sw == KW && dw == 1) {
            scatterInterleaved(yrow, crow, nq, KW, a, e, pw, boxOw0, boxOw1);
            continue;
          }
          for (let kw = 0; kw < KW; kw++) {
            const off = kw * dw - pw;
            const lo = max(a, ceilDiv(boxOw0 - off, sw));
            const hi = min(e, floorDiv(boxOw1 - 1 - off, sw) + 1);
            if (lo >= hi) continue;
            scatterRow(yrow + (<usize>(lo * sw + off) << 2), crow + ((<usize>kw * <usize>nq + <usize>(lo - a)) << 2), hi - lo, sw);
          }
        }
      }
    }
  }
}

/** One tap over input pixels [i0, i1): y[iw KW + off] += src[iw - a]. */
function addTap(yrow: usize, src: usize, a: i32, i0: i32, i1: i32, KW: i32, off: i32): void {
  for (let iw = i0; iw < i1; iw++) {
    const p = yrow + (<usize>(iw * KW + off) << 2);
    store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>(iw - a) << 2)));
  }
}

/** dst[j sw] += src[j] for j < cnt. */
function scatterRow(dst: usize, src: usize, cnt: i32, sw: i32): void {
  if (sw == 1) {
    let j = 0;
    for (; j + 4 <= cnt; j += 4) {
      const o = <usize>j << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; j < cnt; j++) {
      const o = <usize>j << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
    return;
  }
  const step = <usize>sw << 2;
  for (let j = 0; j < cnt; j++) {
    store<f32>(dst, load<f32>(dst) + load<f32>(src + (<usize>j << 2)));
    dst += step;
  }
}

/**
 * Stride == kernel width, no dilation (the 2x2 stride-2 upsampler): the KW taps of one input pixel
 * fill KW adjacent outputs and no two taps of a row reach the same output, so one pass writes the
 * row as interleaved tap rows (KW == 2 by vector shuffles). Each output gets exactly the one add the
 * per-tap loop would give it, so the result is the same bit for bit.
 */
function scatterInterleaved(yrow: usize, crow: usize, nq: i32, KW: i32, a: i32, e: i32, pw: i32, ow0: i32, ow1: i32): void {
  // Pixels whose every tap lands inside [ow0, ow1): ow = iw KW - pw + kw.
  const lo = max(a, ceilDiv(ow0 + pw, KW));
  const hi = max(lo, min(e, floorDiv(ow1 + pw - KW, KW) + 1));
  const tapBytes = <usize>nq << 2;
  // Border pixels, tap by tap.
  for (let kw = 0; kw < KW; kw++) {
    const off = kw - pw;
    const bLo = max(a, ceilDiv(ow0 - off, KW));
    const bHi = min(e, floorDiv(ow1 - 1 - off, KW) + 1);
    const src = crow + <usize>kw * tapBytes;
    addTap(yrow, src, a, bLo, min(bHi, lo), KW, off);
    addTap(yrow, src, a, max(bLo, hi), bHi, KW, off);
  }
  let iw = lo;
  if (KW == 2) {
    const s0 = crow;
    const s1 = crow + tapBytes;
    for (; iw + 4 <= hi; iw += 4) {
      const o = <usize>(iw - a) << 2;
      const v0 = v128.load(s0 + o);
      const v1 = v128.load(s1 + o);
      const p = yrow + (<usize>(iw * 2 - pw) << 2);
      v128.store(p, f32x4.add(v128.load(p), i32x4.shuffle(v0, v1, 0, 4, 1, 5)));
      v128.store(p, f32x4.add(v128.load(p, 16), i32x4.shuffle(v0, v1, 2, 6, 3, 7)), 16);
    }
  }
  for (; iw < hi; iw++) {
    const p = yrow + (<usize>(iw * KW - pw) << 2);
    const src = crow + (<usize>(iw - a) << 2);
    for (let kw = 0; kw < KW; kw++) {
      const q = p + (<usize>kw << 2);
      store<f32>(q, load<f32>(q) + load<f32>(src + <usize>kw * tapBytes));
    }
  }
}
