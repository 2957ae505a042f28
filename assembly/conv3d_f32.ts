// f32 Conv with three spatial axes, NCDHW, every ONNX attribute (groups, strides, dilations, pads
// resolved by the JS side). Per image and group: Y_g[CoutG, OD*OH*OW] = W_g . im2col(X_g), W_g
// pre-packed once, im2col written straight into the GEMM's packed-B panels one block of output
// pixels at a time (bounded scratch). The 1-D and 2-D convs use conv_f32.ts.
// Bias and activation come from the standard epilogue block (bias mode BIAS_ROW over Cout).
import { gemmF32Blocked, gemmF32ScratchBytes } from './gemm_f32';
import { im2colRunS1, im2colRunS2, im2colZeroPanels, MR, NR, packAPanels, roundUp } from './pack_f32';

// Descriptor: i32 words written by src/backends/wasm/kernels/conv3d-f32.ts.
const C_N = 0, C_CIN = 1, C_COUT = 2, C_G = 3, C_ID = 4, C_IH = 5, C_IW = 6, C_OD = 7, C_OH = 8, C_OW = 9;
const C_KD = 10, C_KH = 11, C_KW = 12, C_SD = 13, C_SH = 14, C_SW = 15, C_DD = 16, C_DH = 17, C_DW = 18;
const C_PD = 19, C_PH = 20, C_PW = 21;
const DESC_WORDS = 22;

// @ts-ignore: decorator
@inline
function c(desc: usize, i: i32): i32 {
  return load<i32>(desc + (<usize>i << 2));
}

/** i32 words of the descriptor conv3dF32 reads. */
export function conv3dF32DescWords(): i32 {
  return DESC_WORDS;
}

/** GEMM depth per group: CinG * kd * kh * kw. */
function depth(desc: usize): i32 {
  return (c(desc, C_CIN) / c(desc, C_G)) * c(desc, C_KD) * c(desc, C_KH) * c(desc, C_KW);
}

/** Output pixels per im2col block: keeps the packed block near 512 KB whatever K is. */
function blockCols(kg: i32): i32 {
  const cols = (131072 / max(kg, 1)) / NR * NR;
  return min(max(cols, NR), 1024);
}

/** Bytes of the pre-packed weights. */
export function conv3dF32PackedWeightBytes(desc: usize): usize {
  const groups = c(desc, C_G);
  return <usize>groups * <usize>roundUp(c(desc, C_COUT) / groups, MR) * <usize>depth(desc) * 4;
}

/** Packs ONNX weights W[Cout, CinG, kd, kh, kw] into per-group packed-A panels. */
export function conv3dF32PackWeights(desc: usize, w: usize, dst: usize): void {
  const groups = c(desc, C_G);
  const coutG = c(desc, C_COUT) / groups;
  const kg = depth(desc);
  const groupBytes = <usize>roundUp(coutG, MR) * <usize>kg * 4;
  for (let g = 0; g < groups; g++) {
    packAPanels(w + <usize>g * <usize>coutG * <usize>kg * 4, kg, 0, coutG, kg, dst + <usize>g * groupBytes);
  }
}

function gemmScratch(desc: usize): usize {
  const kg = depth(desc);
  const coutG = c(desc, C_COUT) / c(desc, C_G);
  return (gemmF32ScratchBytes(coutG, blockCols(kg), kg, 1, 1) + 63) & ~63;
}

/** Scratch bytes conv3dF32 needs: GEMM scratch and one packed column block. */
export function conv3dF32ScratchBytes(desc: usize): usize {
  const kg = depth(desc);
  const cols = blockCols(kg);
  return gemmScratch(desc) + <usize>kg * <usize>cols * 4 + 64;
}

/**
 * Y = conv(X) for output channels [co0, co1) and output pixels [p0, p1) (pixel = (od OH + oh) OW
 * + ow) of every image. wPacked: conv3dF32PackWeights output; epi: epilogue block or 0.
 */
export function conv3dF32(desc: usize, x: usize, wPacked: usize, y: usize, epi: usize, scratch: usize, co0: i32, co1: i32, p0: i32, p1: i32): void {
  const n = c(desc, C_N);
  const cin = c(desc, C_CIN);
  const cout = c(desc, C_COUT);
  const groups = c(desc, C_G);
  const p = c(desc, C_OD) * c(desc, C_OH) * c(desc, C_OW);
  co1 = min(co1, cout);
  p1 = min(p1, p);
  if (co0 >= co1 || p0 >= p1) return;
  const cinG = cin / groups;
  const coutG = cout / groups;
  const kg = depth(desc);
  const cols = blockCols(kg);
  const inPlane = <usize>c(desc, C_ID) * <usize>c(desc, C_IH) * <usize>c(desc, C_IW);
  const colBuf = scratch + gemmScratch(desc);
  const groupW = <usize>roundUp(coutG, MR) * <usize>kg * 4;
  for (let b = 0; b < n; b++) {
    for (let g = co0 / coutG; g * coutG < co1; g++) {
      const m0 = max(co0 - g * coutG, 0);
      const m1 = min(co1 - g * coutG, coutG);
      const xg = x + (<usize>(b * cin + g * cinG) * inPlane << 2);
      const yg = y + (<usize>(b * cout + g * coutG) * <usize>p << 2);
      const wg = wPacked + <usize>g * groupW;
      for (let pb = p0; pb < p1; pb += cols) {
        const nc = min(cols, p1 - pb);
        im2col3d(desc, xg, pb, nc, colBuf);
        gemmF32Blocked(coutG, nc, kg, wg, kg, 0, 1, colBuf, nc, 0, 1, yg + (<usize>pb << 2), p, epi, g * coutG, scratch, m0, m1, 0, nc, false);
      }
    }
  }
}

/**
 * Writes im2col columns [pb, pb + nc) of one image group as packed-B panels: panel j holds, for
 * each k = (ci, kd, kh, kw), the NR values of pixels pb + NR j ... (zero past nc and in padding).
 * As in conv_f32.ts's 2-D im2col, k runs outermost and, inside, runs of whole panels that lie in
 * one output row (od, oh) read one input row at stride sw (vector copies for strides 1 and 2), so
 * row arithmetic and bounds checks happen once per run; other panels are gathered checked.
 */
function im2col3d(desc: usize, xg: usize, pb: i32, nc: i32, dst: usize): void {
  const ID = c(desc, C_ID), IH = c(desc, C_IH), IW = c(desc, C_IW);
  const OH = c(desc, C_OH), OW = c(desc, C_OW);
  const KD = c(desc, C_KD), KH = c(desc, C_KH), KW = c(desc, C_KW);
  const sd = c(desc, C_SD), sh = c(desc, C_SH), sw = c(desc, C_SW);
  const dd = c(desc, C_DD), dh = c(desc, C_DH), dw = c(desc, C_DW);
  const pd = c(desc, C_PD), ph = c(desc, C_PH), pw = c(desc, C_PW);
  const cinG = c(desc, C_CIN) / c(desc, C_G);
  const kg = depth(desc);
  const inPlane = <usize>ID * <usize>IH * <usize>IW;
  const panelBytes = (<usize>kg * NR) << 2;
  const np = (nc + NR - 1) / NR;
  const fullPanels = nc / NR;
  // Output position of the block's first pixel; the runs below advance it without dividing.
  const od0 = pb / (OH * OW);
  const oh0 = pb / OW - od0 * OH;
  const ow0 = pb - (od0 * OH + oh0) * OW;
  const fast = sw == 1 || sw == 2;
  let dk = dst;
  for (let ci = 0; ci < cinG; ci++) {
    const xc = xg + ((<usize>ci * inPlane) << 2);
    for (let kd = 0; kd < KD; kd++) {
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          let j = 0;
          let od = od0, oh = oh0, ow = ow0;
          while (j < np) {
            const o = dk + <usize>j * panelBytes;
            if (fast && j < fullPanels && ow + NR <= OW) {
              const run = min(fullPanels - j, (OW - ow) >> 3);
              const id = od * sd - pd + kd * dd;
              const ih = oh * sh - ph + kh * dh;
              if (<u32>id >= <u32>ID || <u32>ih >= <u32>IH) {
                im2colZeroPanels(o, panelBytes, run);
              } else {
                const row = xc + ((<usize>(id * IH + ih) * <usize>IW) << 2);
                if (sw == 1) im2colRunS1(row, IW, ow - pw + kw * dw, o, panelBytes, run);
                else im2colRunS2(row, IW, ow * 2 - pw + kw * dw, o, panelBytes, run);
              }
              j += run;
              ow += run * NR;
            } else {
              panelChecked(desc, xc, kd, kh, kw, od, oh, ow, min(NR, nc - j * NR), o);
              j++;
              ow += NR;
            }
            while (ow >= OW) {
              ow -= OW;
              if (++oh == OH) {
                oh = 0;
                od++;
              }
            }
          }
          dk += NR << 2;
        }
      }
    }
  }
}


/** One panel (cnt valid pixels from output position (od, oh, ow) on, possibly across rows), bounds-checked. */
function panelChecked(desc: usize, xc: usize, kd: i32, kh: i32, kw: i32, od: i32, oh: i32, ow: i32, cnt: i32, o: usize): void {
  const ID = c(desc, C_ID), IH = c(desc, C_IH), IW = c(desc, C_IW);
  const OH = c(desc, C_OH), OW = c(desc, C_OW);
  const ofsD = kd * c(desc, C_DD) - c(desc, C_PD);
  const ofsH = kh * c(desc, C_DH) - c(desc, C_PH);
  const ofsW = kw * c(desc, C_DW) - c(desc, C_PW);
  const sd = c(desc, C_SD), sh = c(desc, C_SH), sw = c(desc, C_SW);
  for (let l = 0; l < NR; l++) {
    let v: f32 = 0;
    if (l < cnt) {
      const id = od * sd + ofsD;
      const ih = oh * sh + ofsH;
      const iw = ow * sw + ofsW;
      if (<u32>id < <u32>ID && <u32>ih < <u32>IH && <u32>iw < <u32>IW) {
        v = load<f32>(xc + ((<usize>((id * IH + ih) * IW + iw)) << 2));
      }
      if (++ow == OW) {
        ow = 0;
        if (++oh == OH) {
          oh = 0;
          od++;
        }
      }
    }
    store<f32>(o + (<usize>l << 2), v);
  }
}
