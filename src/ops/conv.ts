// Convolutions: Conv, ConvTranspose, ConvInteger. The loop nests are shared with QLinearConv
// (qlinear.ts), which feeds them zero-point-corrected integers held exactly in float64.
import type { ValueType } from '../graph/ir.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { DType } from '../tensor/dtype.js';
import type { Dim, Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AttrSpec, Attrs } from './attrs.js';
import {
  CONV_ATTRS, forwardGeometry, forwardSpatialDims, lift3, readWindow, validRange,
  type Geometry3, type WindowParams,
} from './conv-util.js';
import { defineOp, type InferContext } from './registry.js';
import { FLOAT_TYPES, inputType } from './util.js';

/** Sizes of one grouped convolution problem on concrete tensors. */
export interface ConvProblem {
  batch: number;
  inChannels: number;
  outChannels: number;
  group: number;
  geo: Geometry3;
}

/**
 * Direct convolution: out[n, m] += sum over (c in group, kernel taps) of w * x. For each output
 * row the loops run over input channels and kernel taps, and the innermost loop is a strided
 * multiply-add along that row with bounds precomputed per tap (no per-element checks). Output
 * channels of one group go four at a time, so each input value loaded feeds four accumulating
 * rows, all of which stay in L1 cache (about twice as fast as one channel at a time).
 * `out` must be zero-filled (or pre-loaded with the bias); it is accumulated into.
 */
export function convForward(x: Float64Array, w: Float64Array, out: Float64Array, p: ConvProblem): void {
  const { batch: N, inChannels: C, outChannels: M, group: G, geo } = p;
  const [ID, IH, IW] = geo.inSize;
  const [OD, OH, OW] = geo.outSize;
  const [KD, KH, KW] = geo.kernel;
  const [sd, sh, sw] = geo.strides;
  const [dd, dh, dw] = geo.dilations;
  const [pd, ph, pw] = geo.padBegin;
  const cg = C / G;
  const mg = M / G;
  const inPlane = ID * IH * IW;
  const outPlane = OD * OH * OW;
  const kSize = KD * KH * KW;
  const wChan = cg * kSize; // weights per output channel
  const rw = ranges(KW, OW, sw, pw, dw, IW);

  /** Accumulates output channels m..m+nb-1 (nb is 4 or 1) of image n from input channels at xG. */
  const channels = (n: number, m: number, nb: number, xG: number): void => {
    for (let od = 0; od < OD; od++) {
      for (let oh = 0; oh < OH; oh++) {
        const o0 = (n * M + m) * outPlane + (od * OH + oh) * OW;
        const o1 = o0 + outPlane;
        const o2 = o1 + outPlane;
        const o3 = o2 + outPlane;
        for (let ic = 0; ic < cg; ic++) {
          const xBase = xG + ic * inPlane;
          const wBase = m * wChan + ic * kSize;
          for (let kd = 0; kd < KD; kd++) {
            const id = od * sd - pd + kd * dd;
            if (id < 0 || id >= ID) continue;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - ph + kh * dh;
              if (ih < 0 || ih >= IH) continue;
              const xRow = xBase + (id * IH + ih) * IW - pw;
              const wTap = wBase + (kd * KH + kh) * KW;
              for (let kw = 0; kw < KW; kw++) {
                const lo = rw[2 * kw]!;
                const hi = rw[2 * kw + 1]!;
                let xi = xRow + kw * dw + lo * sw;
                const w0 = w[wTap + kw]!;
                if (nb === 4) {
                  const w1 = w[wTap + kw + wChan]!;
                  const w2 = w[wTap + kw + 2 * wChan]!;
                  const w3 = w[wTap + kw + 3 * wChan]!;
                  for (let ow = lo; ow < hi; ow++) {
                    const xv = x[xi]!;
                    out[o0 + ow]! += w0 * xv;
                    out[o1 + ow]! += w1 * xv;
                    out[o2 + ow]! += w2 * xv;
                    out[o3 + ow]! += w3 * xv;
                    xi += sw;
                  }
                } else {
                  for (let ow = lo; ow < hi; ow++) {
                    out[o0 + ow]! += w0 * x[xi]!;
                    xi += sw;
                  }
                }
              }
            }
          }
        }
      }
    }
  };

  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const xG = (n * C + g * cg) * inPlane;
      let m = g * mg;
      const mEnd = m + mg;
      for (; m + 4 <= mEnd; m += 4) channels(n, m, 4, xG);
      for (; m < mEnd; m++) channels(n, m, 1, xG);
    }
  }
  poisonPaddedTaps(w, out, p);
}

/**
 * Conv is defined on the zero-padded input (the ONNX reference pads with np.pad), so a NaN or
 * infinite weight over a padded position contributes w * 0 = NaN. The loops above skip padded
 * taps (they add only zeros for finite weights); this adds what they skipped for the non-finite
 * weights, which are rare, so the common case pays one scan of W.
 */
function poisonPaddedTaps(w: Float64Array, out: Float64Array, p: ConvProblem): void {
  let finite = true;
  for (let i = 0; i < w.length && finite; i++) finite = Number.isFinite(w[i]!);
  if (finite) return;
  const { batch: N, inChannels: C, outChannels: M, group: G, geo } = p;
  const [ID, IH, IW] = geo.inSize;
  const [OD, OH, OW] = geo.outSize;
  const [KD, KH, KW] = geo.kernel;
  const kSize = KD * KH * KW;
  const cg = C / G;
  const outPlane = OD * OH * OW;
  const inside = (o: number, k: number, axis: 0 | 1 | 2, size: number) => {
    const i = o * geo.strides[axis]! - geo.padBegin[axis]! + k * geo.dilations[axis]!;
    return i >= 0 && i < size;
  };
  for (let m = 0; m < M; m++) {
    for (let t = 0; t < cg * kSize; t++) {
      if (Number.isFinite(w[m * cg * kSize + t]!)) continue;
      const k = t % kSize;
      const kd = Math.floor(k / (KH * KW));
      const kh = Math.floor(k / KW) % KH;
      const kw = k % KW;
      for (let od = 0; od < OD; od++) {
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            if (inside(od, kd, 0, ID) && inside(oh, kh, 1, IH) && inside(ow, kw, 2, IW)) continue;
            for (let n = 0; n < N; n++) out[(n * M + m) * outPlane + (od * OH + oh) * OW + ow] = NaN;
          }
        }
      }
    }
  }
}

/** Per kernel tap k, the [lo, hi) range of outputs whose input tap is in bounds, packed in pairs. */
function ranges(K: number, outCount: number, stride: number, pad: number, dilation: number, size: number): Int32Array {
  const r = new Int32Array(2 * K);
  for (let k = 0; k < K; k++) {
    const [lo, hi] = validRange(outCount, stride, pad, k * dilation, size);
    r[2 * k] = lo;
    r[2 * k + 1] = hi;
  }
  return r;
}

/** Checks X/W agree for a forward conv and resolves the problem size. */
export function convProblem(xDims: readonly number[], wDims: readonly number[], attrs: Attrs, where: string): ConvProblem {
  const rank = xDims.length;
  if (rank < 3) throw new Error(`${where}: X must have rank >= 3 (N, C, spatial...), got [${xDims.join(', ')}]`);
  if (wDims.length !== rank) throw new Error(`${where}: W has rank ${wDims.length} but X has rank ${rank}`);
  const group = attrs.int('group');
  const C = xDims[1]!;
  const M = wDims[0]!;
  if (C !== wDims[1]! * group) {
    throw new Error(`${where}: X has ${C} channels but W [${wDims.join(', ')}] with group ${group} expects ${wDims[1]! * group}`);
  }
  if (M % group !== 0) throw new Error(`${where}: ${M} output channels are not divisible by group ${group}`);
  const p = readWindow(attrs, rank - 2, where, wDims.slice(2));
  return { batch: xDims[0]!, inChannels: C, outChannels: M, group, geo: forwardGeometry(xDims.slice(2), p, false, where) };
}

export function outDimsOf(p: ConvProblem, spatialRank: number): number[] {
  return [p.batch, p.outChannels, ...p.geo.outSize.slice(3 - spatialRank)];
}

/** Output buffer pre-loaded with a per-channel bias (zeros without one). */
export function biasedOutput(p: ConvProblem, bias: Float64Array | undefined, where: string): Float64Array {
  const plane = p.geo.outSize[0] * p.geo.outSize[1] * p.geo.outSize[2];
  const out = new Float64Array(p.batch * p.outChannels * plane);
  if (!bias) return out;
  if (bias.length !== p.outChannels) throw new Error(`${where}: bias has ${bias.length} values, expected ${p.outChannels}`);
  for (let n = 0; n < p.batch; n++) {
    for (let m = 0; m < p.outChannels; m++) out.fill(bias[m]!, (n * p.outChannels + m) * plane, (n * p.outChannels + m + 1) * plane);
  }
  return out;
}

/** Shape rule shared by Conv, ConvInteger and QLinearConv (X and W at the given input indices). */
export function inferConvShape(ctx: InferContext, xi: number, wi: number): Shape | undefined {
  const x = inputType(ctx, xi).shape;
  const w = inputType(ctx, wi).shape;
  const rank = x?.length ?? w?.length;
  if (rank === undefined) return undefined;
  if (rank < 3) throw new Error(`${ctx.where}: X must have rank >= 3 (N, C, spatial...), got rank ${rank}`);
  if (x && w && w.length !== rank) throw new Error(`${ctx.where}: W has rank ${w.length} but X has rank ${rank}`);
  const group = ctx.attrs.int('group');
  const C = x?.[1];
  const wc = w?.[1];
  if (typeof C === 'number' && typeof wc === 'number' && C !== wc * group) {
    throw new Error(`${ctx.where}: X has ${C} channels but W with group ${group} expects ${wc * group}`);
  }
  const M: Dim = w?.[0] ?? ctx.unknownDim();
  if (typeof M === 'number' && M % group !== 0) throw new Error(`${ctx.where}: ${M} output channels are not divisible by group ${group}`);
  const kernelFromW: Dim[] = w ? w.slice(2) : new Array<Dim>(rank - 2).fill('?');
  const p = readWindow(ctx.attrs, rank - 2, ctx.where, kernelFromW);
  const spatial = x ? forwardSpatialDims(x.slice(2), p, false, ctx.where, ctx.unknownDim) : kernelFromW.map(() => ctx.unknownDim());
  return [x?.[0] ?? ctx.unknownDim(), M, ...spatial];
}

defineOp({
  name: 'Conv',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'W', types: FLOAT_TYPES }, { name: 'B', optional: true, types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: CONV_ATTRS,
  inferShape: (ctx) => {
    const shape = inferConvShape(ctx, 0, 1);
    checkBiasShape(ctx, 2, shape?.[1] ?? '?');
    return [{ dtype: sameFloat(ctx), shape }];
  },
  reference: ([x, w, b], ctx) => {
    if (x!.type !== w!.type || (b && b.type !== x!.type)) throw new Error(`${ctx.where}: X, W and B must share one dtype`);
    const p = convProblem(x!.dims, w!.dims, ctx.attrs, ctx.where);
    const out = biasedOutput(p, b ? biasVector(b, ctx.where) : undefined, ctx.where);
    convForward(toNumbers(x!), toNumbers(w!), out, p);
    return [fromNumbers(x!.type, out, outDimsOf(p, x!.dims.length - 2))];
  },
});

function sameFloat(ctx: InferContext): DType {
  const d = inputType(ctx, 0).dtype;
  ctx.inputs.forEach((t, i) => {
    if (t && t.dtype !== d) throw new Error(`${ctx.where}: input ${i} has dtype ${t.dtype} but X has ${d}`);
  });
  return d;
}

/**
 * B (input `bi`) must be 1-D with one value per output channel. Checked in the shape rule so that
 * every backend refuses a wrong bias at plan time, not only the reference kernel at run time.
 */
function checkBiasShape(ctx: InferContext, bi: number, M: Dim): void {
  const shape = ctx.inputs[bi]?.shape;
  if (!shape) return;
  if (shape.length !== 1) throw new Error(`${ctx.where}: B must be 1-D (one value per output channel), got shape [${shape.join(', ')}]`);
  const n = shape[0];
  if (typeof n === 'number' && typeof M === 'number' && n !== M) {
    throw new Error(`${ctx.where}: B has ${n} values but there are ${M} output channels`);
  }
}

function biasVector(b: Tensor, where: string): Float64Array {
  if (b.dims.length !== 1) throw new Error(`${where}: bias must be 1-D, got [${b.dims.join(', ')}]`);
  return toNumbers(b);
}

// ---- ConvInteger ----------------------------------------------------------------------------

const INT8_TYPES: readonly DType[] = ['uint8', 'int8'];

/** Subtracts a per-tensor (size 1) zero point in place. */
export function subtractScalarZeroPoint(v: Float64Array, zp: Tensor | undefined, what: string, where: string): void {
  if (!zp) return;
  if (zp.size !== 1) throw new Error(`${where}: ${what} must be a scalar (per-tensor), got [${zp.dims.join(', ')}]`);
  const z = toNumbers(zp)[0]!;
  if (z !== 0) for (let i = 0; i < v.length; i++) v[i]! -= z;
}

/** Subtracts a weight zero point that is per-tensor or per output channel (axis 0) in place. */
export function subtractChannelZeroPoint(v: Float64Array, wDims: readonly number[], zp: Tensor | undefined, what: string, where: string): void {
  if (!zp) return;
  if (zp.size === 1) return subtractScalarZeroPoint(v, zp, what, where);
  const M = wDims[0]!;
  if (zp.dims.length !== 1 || zp.size !== M) {
    throw new Error(`${where}: ${what} must be a scalar or a 1-D tensor of ${M} values (one per output channel), got [${zp.dims.join(', ')}]`);
  }
  const z = toNumbers(zp);
  const per = M === 0 ? 0 : v.length / M;
  for (let m = 0; m < M; m++) {
    const zm = z[m]!;
    for (let i = m * per; i < (m + 1) * per; i++) v[i]! -= zm;
  }
}

export function checkZeroPointType(zp: Tensor | undefined, data: Tensor, what: string, where: string): void {
  if (zp && zp.type !== data.type) throw new Error(`${where}: ${what} has dtype ${zp.type} but its data has ${data.type}`);
}

/** ConvInteger's zero points at plan time: x's per tensor, w's per tensor or one per output channel. */
function checkZeroPointShapes(ctx: InferContext, M: Dim): void {
  const xz = ctx.inputs[2]?.shape;
  if (xz && xz.some((d) => typeof d === 'number' && d !== 1)) {
    throw new Error(`${ctx.where}: x_zero_point must be a scalar (per-tensor), got shape [${xz.join(', ')}]`);
  }
  const wz = ctx.inputs[3]?.shape;
  if (!wz || wz.every((d) => d === 1)) return;
  const n = wz[0];
  if (wz.length !== 1 || (typeof n === 'number' && typeof M === 'number' && n !== M && n !== 1)) {
    throw new Error(`${ctx.where}: w_zero_point must be a scalar or a 1-D tensor of ${M} values (one per output channel), got shape [${wz.join(', ')}]`);
  }
}

defineOp({
  name: 'ConvInteger',
  inputs: [
    { name: 'x', types: INT8_TYPES },
    { name: 'w', types: INT8_TYPES },
    { name: 'x_zero_point', optional: true, types: INT8_TYPES },
    { name: 'w_zero_point', optional: true, types: INT8_TYPES },
  ],
  outputs: [{ name: 'y' }],
  attrs: CONV_ATTRS,
  inferShape: (ctx) => {
    for (const [zi, di] of [[2, 0], [3, 1]] as const) {
      const z = ctx.inputs[zi];
      if (z && z.dtype !== inputType(ctx, di).dtype) throw new Error(`${ctx.where}: input ${zi} (zero point) must have the dtype of input ${di}`);
    }
    const shape = inferConvShape(ctx, 0, 1);
    checkZeroPointShapes(ctx, shape?.[1] ?? '?');
    return [{ dtype: 'int32', shape }];
  },
  reference: ([x, w, xzp, wzp], ctx) => {
    checkZeroPointType(xzp, x!, 'x_zero_point', ctx.where);
    checkZeroPointType(wzp, w!, 'w_zero_point', ctx.where);
    const p = convProblem(x!.dims, w!.dims, ctx.attrs, ctx.where);
    const xv = toNumbers(x!);
    const wv = toNumbers(w!);
    subtractScalarZeroPoint(xv, xzp, 'x_zero_point', ctx.where);
    subtractChannelZeroPoint(wv, w!.dims, wzp, 'w_zero_point', ctx.where);
    const out = biasedOutput(p, undefined, ctx.where);
    convForward(xv, wv, out, p);
    return [fromNumbers('int32', out, outDimsOf(p, x!.dims.length - 2))];
  },
});

// ---- ConvTranspose --------------------------------------------------------------------------

const CONV_TRANSPOSE_ATTRS = {
  ...CONV_ATTRS,
  output_padding: { type: 'ints' },
  output_shape: { type: 'ints' },
} satisfies Record<string, AttrSpec>;

interface TransposeAxis {
  out: number;
  padBegin: number;
}

/** Reads output_padding and output_shape (spatial part; a full-rank output_shape is accepted too). */
function transposeExtras(attrs: Attrs, spatialRank: number, where: string): { outputPadding: number[]; outputShape?: number[] } {
  const op = attrs.optInts('output_padding') ?? new Array<number>(spatialRank).fill(0);
  if (op.length !== spatialRank) throw new Error(`${where}: 'output_padding' has ${op.length} values, expected ${spatialRank}`);
  if (op.some((v) => v < 0)) throw new Error(`${where}: 'output_padding' values must be >= 0`);
  let os = attrs.optInts('output_shape');
  if (os !== undefined) {
    if (os.length === spatialRank + 2) os = os.slice(2);
    if (os.length !== spatialRank) throw new Error(`${where}: 'output_shape' has ${os.length} values, expected ${spatialRank}`);
    if (os.some((v) => v < 0)) throw new Error(`${where}: 'output_shape' values must be >= 0`);
  }
  return os ? { outputPadding: op, outputShape: os } : { outputPadding: op };
}

/**
 * Output size and leading pad of one ConvTranspose axis. With output_shape (or SAME auto_pad,
 * where the output is input*stride) the pads are derived from the requested size and split as the
 * spec says: SAME_UPPER puts the smaller half first, anything else the larger half.
 */
function transposeAxis(inSize: number, p: WindowParams, axis: number, outputPadding: number, outputShape: number | undefined): TransposeAxis {
  const rank = p.kernel.length;
  const s = p.strides[axis]!;
  const eff = (p.kernel[axis]! - 1) * p.dilations[axis]! + 1;
  const natural = s * (inSize - 1) + outputPadding + eff;
  const same = p.autoPad === 'SAME_UPPER' || p.autoPad === 'SAME_LOWER';
  if (outputShape !== undefined || same) {
    const out = outputShape ?? inSize * s;
    const total = natural - out;
    const half = Math.floor(total / 2);
    return { out, padBegin: p.autoPad === 'SAME_UPPER' ? half : total - half };
  }
  const pb = p.autoPad === 'VALID' ? 0 : p.pads[axis]!;
  const pe = p.autoPad === 'VALID' ? 0 : p.pads[axis + rank]!;
  return { out: natural - pb - pe, padBegin: pb };
}

/**
 * Transposed convolution as a scatter: every input element adds w * x to the outputs its kernel
 * taps reach. Loop order mirrors convForward with the roles of input and output swapped.
 * W is [C, M/group, k...]; `out` is accumulated into.
 */
export function convTransposeForward(x: Float64Array, w: Float64Array, out: Float64Array, p: ConvProblem): void {
  const { batch: N, inChannels: C, outChannels: M, group: G, geo } = p;
  const [ID, IH, IW] = geo.inSize;
  const [OD, OH, OW] = geo.outSize;
  const [KD, KH, KW] = geo.kernel;
  const [sd, sh, sw] = geo.strides;
  const [dd, dh, dw] = geo.dilations;
  const [pd, ph, pw] = geo.padBegin;
  const cg = C / G;
  const mg = M / G;
  const inPlane = ID * IH * IW;
  const outPlane = OD * OH * OW;
  const kSize = KD * KH * KW;
  // Input index i reaches output o = i*stride - pad + k*dilation: same range helper, roles swapped.
  const rd = ranges(KD, ID, sd, pd, dd, OD);
  const rh = ranges(KH, IH, sh, ph, dh, OH);
  const rw = ranges(KW, IW, sw, pw, dw, OW);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / cg);
      const xBase = (n * C + c) * inPlane;
      for (let mo = 0; mo < mg; mo++) {
        const oBase = (n * M + g * mg + mo) * outPlane;
        const wBase = (c * mg + mo) * kSize;
        for (let kd = 0; kd < KD; kd++) {
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              const wv = w[wBase + (kd * KH + kh) * KW + kw]!;
              const iwLo = rw[2 * kw]!;
              const iwHi = rw[2 * kw + 1]!;
              const owStart = iwLo * sw - pw + kw * dw;
              for (let id = rd[2 * kd]!; id < rd[2 * kd + 1]!; id++) {
                const od = id * sd - pd + kd * dd;
                for (let ih = rh[2 * kh]!; ih < rh[2 * kh + 1]!; ih++) {
                  const oh = ih * sh - ph + kh * dh;
                  let oi = oBase + (od * OH + oh) * OW + owStart;
                  const xRow = xBase + (id * IH + ih) * IW;
                  for (let iw = iwLo; iw < iwHi; iw++) {
                    out[oi]! += wv * x[xRow + iw]!;
                    oi += sw;
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/** Checks X/W agree for a ConvTranspose and resolves the problem size (shared with the WASM kernel). */
export function convTransposeProblem(xDims: readonly number[], wDims: readonly number[], attrs: Attrs, where: string): ConvProblem {
  const rank = xDims.length;
  if (rank < 3) throw new Error(`${where}: X must have rank >= 3 (N, C, spatial...), got [${xDims.join(', ')}]`);
  if (wDims.length !== rank) throw new Error(`${where}: W has rank ${wDims.length} but X has rank ${rank}`);
  const group = attrs.int('group');
  const C = xDims[1]!;
  if (wDims[0] !== C) throw new Error(`${where}: X has ${C} channels but W [${wDims.join(', ')}] expects ${wDims[0]} (W is [C, M/group, k...])`);
  if (C % group !== 0) throw new Error(`${where}: ${C} input channels are not divisible by group ${group}`);
  const p = readWindow(attrs, rank - 2, where, wDims.slice(2));
  const { outputPadding, outputShape } = transposeExtras(attrs, rank - 2, where);
  const axes = xDims.slice(2).map((d, i) => transposeAxis(d, p, i, outputPadding[i]!, outputShape?.[i]));
  axes.forEach((a, i) => {
    if (a.out < 0) throw new Error(`${where}: spatial axis ${i} would have negative size ${a.out} (pads too large)`);
  });
  return {
    batch: xDims[0]!,
    inChannels: C,
    outChannels: wDims[1]! * group,
    group,
    geo: {
      inSize: lift3(xDims.slice(2), 1),
      outSize: lift3(axes.map((a) => a.out), 1),
      kernel: lift3(p.kernel, 1),
      strides: lift3(p.strides, 1),
      dilations: lift3(p.dilations, 1),
      padBegin: lift3(axes.map((a) => a.padBegin), 0),
    },
  };
}

function inferConvTransposeShape(ctx: InferContext): Shape | undefined {
  const x = inputType(ctx, 0).shape;
  const w = inputType(ctx, 1).shape;
  const rank = x?.length ?? w?.length;
  if (rank === undefined) return undefined;
  if (rank < 3) throw new Error(`${ctx.where}: X must have rank >= 3 (N, C, spatial...), got rank ${rank}`);
  if (x && w && w.length !== rank) throw new Error(`${ctx.where}: W has rank ${w.length} but X has rank ${rank}`);
  const group = ctx.attrs.int('group');
  const C = x?.[1];
  if (typeof C === 'number' && typeof w?.[0] === 'number' && w[0] !== C) {
    throw new Error(`${ctx.where}: X has ${C} channels but W expects ${w[0]} (W is [C, M/group, k...])`);
  }
  const cIn = typeof C === 'number' ? C : w?.[0];
  if (typeof cIn === 'number' && cIn % group !== 0) throw new Error(`${ctx.where}: ${cIn} input channels are not divisible by group ${group}`);
  const mg = w?.[1];
  const M: Dim = typeof mg === 'number' ? mg * group : ctx.unknownDim();
  checkBiasShape(ctx, 2, M);
  const kernelFromW: Dim[] = w ? w.slice(2) : new Array<Dim>(rank - 2).fill('?');
  const p = readWindow(ctx.attrs, rank - 2, ctx.where, kernelFromW);
  const { outputPadding, outputShape } = transposeExtras(ctx.attrs, rank - 2, ctx.where);
  const spatial = new Array<Dim>(rank - 2).fill(0).map((_, i): Dim => {
    if (outputShape) return outputShape[i]!;
    const d = x?.[i + 2];
    if (typeof d !== 'number' || Number.isNaN(p.kernel[i]!)) return ctx.unknownDim();
    const out = transposeAxis(d, p, i, outputPadding[i]!, undefined).out;
    if (out < 0) throw new Error(`${ctx.where}: spatial axis ${i} would have negative size ${out} (pads too large)`);
    return out;
  });
  return [x?.[0] ?? ctx.unknownDim(), M, ...spatial];
}

defineOp({
  name: 'ConvTranspose',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'W', types: FLOAT_TYPES }, { name: 'B', optional: true, types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: CONV_TRANSPOSE_ATTRS,
  inferShape: (ctx): ValueType[] => [{ dtype: sameFloat(ctx), shape: inferConvTransposeShape(ctx) }],
  reference: ([x, w, b], ctx) => {
    if (x!.type !== w!.type || (b && b.type !== x!.type)) throw new Error(`${ctx.where}: X, W and B must share one dtype`);
    const p = convTransposeProblem(x!.dims, w!.dims, ctx.attrs, ctx.where);
    const out = biasedOutput(p, b ? biasVector(b, ctx.where) : undefined, ctx.where);
    convTransposeForward(toNumbers(x!), toNumbers(w!), out, p);
    return [fromNumbers(x!.type, out, outDimsOf(p, x!.dims.length - 2))];
  },
});
