// Resize (opset 19): nearest / linear / cubic, every coordinate transformation mode, antialias,
// axes and keep_aspect_ratio_policy. It follows the ONNX reference implementation (op_resize.py),
// computed separably: one axis at a time, each output coordinate with precomputed taps. That is
// equivalent to the reference's per-element recursion because every tap set sums to one.
import type { ValueType } from '../graph/ir.js';
import { fromNumbers, toIntList, toNumbers } from '../tensor/convert.js';
import { validateDims, type Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Attrs } from './attrs.js';
import { normalizeAxes } from './layout-util.js';
import { defineOp, type InferContext } from './registry.js';
import { FLOAT_TYPES, INDEX_TYPES, inputType, NUMERIC_TYPES } from './util.js';

const oneOf = (values: string[]) => (v: unknown) => (values.includes(v as string) ? undefined : `must be one of ${values.join(', ')}`);
const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];

interface ResizeOptions {
  mode: string;
  transform: string;
  nearestMode: string;
  cubicA: number;
  antialias: boolean;
  excludeOutside: boolean;
  extrapolation: number;
}

function optionsOf(attrs: Attrs, where: string): ResizeOptions {
  const o: ResizeOptions = {
    mode: attrs.string('mode'),
    transform: attrs.string('coordinate_transformation_mode'),
    nearestMode: attrs.string('nearest_mode'),
    cubicA: attrs.float('cubic_coeff_a'),
    antialias: attrs.int('antialias') !== 0,
    excludeOutside: attrs.int('exclude_outside') !== 0,
    extrapolation: attrs.float('extrapolation_value'),
  };
  if (o.antialias && o.mode === 'nearest') throw new Error(`${where}: antialias is not defined for nearest mode`);
  return o;
}

// ---- interpolation taps: weights for the n input samples around a source coordinate ----

/** Weights for ratio in (0, 1] over samples base - n/2 + 1 .. base + n/2 (n even). */
function tapWeights(o: ResizeOptions, ratio: number, scale: number): number[] {
  if (o.mode === 'nearest') {
    if (ratio === 1) return [0, 1];
    switch (o.nearestMode) {
      case 'round_prefer_ceil': return ratio < 0.5 ? [1, 0] : [0, 1];
      case 'floor': return [1, 0];
      case 'ceil': return [0, 1];
      default: return ratio <= 0.5 ? [1, 0] : [0, 1];
    }
  }
  const s = Math.min(scale, 1);
  if (o.mode === 'linear') {
    if (!o.antialias) return [1 - ratio, ratio];
    // Antialiasing widens the triangle filter by 1/scale when downsampling.
    const start = Math.floor(-1 / s) + 1;
    const w = Array.from({ length: 2 - 2 * start }, (_, i) => Math.min(Math.max(1 - Math.abs((start + i - ratio) * s), 0), 1));
    return normalize(w);
  }
  const a = o.cubicA;
  const kernel = (x: number): number => {
    x = Math.abs(x);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  };
  if (!o.antialias) return [kernel(ratio + 1), kernel(ratio), kernel(1 - ratio), kernel(2 - ratio)];
  const start = Math.floor(-2 / s) + 1;
  return normalize(Array.from({ length: 2 - 2 * start }, (_, i) => kernel(s * (start + i - ratio))));
}

function normalize(w: number[]): number[] {
  const sum = w.reduce((p, q) => p + q, 0);
  return w.map((v) => v / sum);
}

/** Source coordinate of output position x along one axis, or undefined to extrapolate. */
function sourceCoord(o: ResizeOptions, x: number, inLen: number, outLen: number, scale: number, roi: [number, number]): number | undefined {
  const outWidth = scale * inLen;
  switch (o.transform) {
    case 'align_corners': return outWidth === 1 ? 0 : (x * (inLen - 1)) / (outWidth - 1);
    case 'asymmetric': return x / scale;
    // The spec text says 0 for a single output, the reference (which made the test data) uses -0.5
    // (onnx/onnx#4275); they differ only for cubic.
    case 'pytorch_half_pixel': return outWidth === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (inLen / 2) * (1 - outLen / outWidth);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'tf_crop_and_resize': {
      const [r0, r1] = roi;
      const c = (outWidth === 1 ? ((r1 - r0) * (inLen - 1)) / 2 : (x * (r1 - r0) * (inLen - 1)) / (outWidth - 1)) + r0 * (inLen - 1);
      return c < 0 || c > inLen - 1 ? undefined : c;
    }
    default: return (x + 0.5) / scale - 0.5;
  }
}

/** Per output position: n source indices and weights (weight 0 = unused tap), or outside (extrapolate). */
export interface AxisTaps { n: number; index: Int32Array; weight: Float64Array; outside: Uint8Array }

function axisTaps(o: ResizeOptions, inLen: number, outLen: number, scale: number, roi: [number, number]): AxisTaps {
  const n = tapWeights(o, 0.5, scale).length;
  const taps: AxisTaps = { n, index: new Int32Array(outLen * n), weight: new Float64Array(outLen * n), outside: new Uint8Array(outLen) };
  const pad = Math.ceil(n / 2);
  for (let x = 0; x < outLen; x++) {
    const c = sourceCoord(o, x, inLen, outLen, scale, roi);
    if (c === undefined) { taps.outside[x] = 1; continue; }
    const fl = Math.floor(c);
    const base = fl === c ? fl - 1 : fl;
    const w = tapWeights(o, c - base, scale);
    // The reference picks the n nearest samples of the edge-padded line; near its ends that window shifts inward.
    const first = Math.min(Math.max(base - n / 2 + 1 + pad, 0), inLen + 2 * pad - n) - pad;
    if (o.excludeOutside) {
      for (let k = 0; k < n; k++) if (first + k < 0 || first + k >= inLen) w[k] = 0;
      const sum = w.reduce((p, q) => p + q, 0);
      for (let k = 0; k < n; k++) w[k] = w[k]! / sum;
    }
    for (let k = 0; k < n; k++) {
      taps.index[x * n + k] = Math.min(Math.max(first + k, 0), inLen - 1);
      taps.weight[x * n + k] = w[k]!;
    }
  }
  return taps;
}

/** Resamples one axis of row-major data. */
function resizeAxis(src: Float64Array, dims: number[], axis: number, outLen: number, taps: AxisTaps, extrapolation: number): Float64Array {
  const outer = dims.slice(0, axis).reduce((p, q) => p * q, 1);
  const inner = dims.slice(axis + 1).reduce((p, q) => p * q, 1);
  const inLen = dims[axis]!;
  const out = new Float64Array(outer * outLen * inner);
  const { n, index, weight, outside } = taps;
  for (let b = 0; b < outer; b++) {
    for (let x = 0; x < outLen; x++) {
      const o = (b * outLen + x) * inner;
      if (outside[x]) { out.fill(extrapolation, o, o + inner); continue; }
      for (let k = 0; k < n; k++) {
        const w = weight[x * n + k]!;
        if (w === 0) continue;
        const s = (b * inLen + index[x * n + k]!) * inner;
        for (let i = 0; i < inner; i++) out[o + i] = out[o + i]! + w * src[s + i]!;
      }
    }
  }
  return out;
}

// ---- output size ----

/** Per-axis scale and output size from `scales` or `sizes`, applying axes and the aspect-ratio policy. */
function plan(dims: readonly number[], scalesIn: number[] | undefined, sizesIn: number[] | undefined, attrs: Attrs, where: string): { scales: number[]; sizes: number[] } {
  const rank = dims.length;
  const axes = attrs.has('axes') ? normalizeAxes(attrs.ints('axes'), rank, where) : dims.map((_, i) => i);
  if ((scalesIn === undefined) === (sizesIn === undefined)) throw new Error(`${where}: exactly one of scales and sizes must be given`);
  const given = (scalesIn ?? sizesIn)!;
  if (given.length !== axes.length) throw new Error(`${where}: ${scalesIn ? 'scales' : 'sizes'} has ${given.length} entries for ${axes.length} axes`);
  if (scalesIn) {
    if (scalesIn.some((s) => !(s > 0 && s < Infinity))) throw new Error(`${where}: scales [${scalesIn.join(', ')}] must be positive and finite`);
    const scales = dims.map(() => 1);
    axes.forEach((a, i) => { scales[a] = scalesIn[i]!; });
    return { scales, sizes: checkSizes(dims.map((d, i) => Math.floor(scales[i]! * d)), where) };
  }
  if (sizesIn!.some((s) => s < 0)) throw new Error(`${where}: sizes [${sizesIn!.join(', ')}] must be non-negative`);
  const sizes = [...dims];
  axes.forEach((a, i) => { sizes[a] = sizesIn![i]!; });
  let scales = sizes.map((s, i) => s / dims[i]!);
  const policy = attrs.string('keep_aspect_ratio_policy');
  if (policy !== 'stretch') {
    const picked = axes.map((a) => scales[a]!);
    const s = policy === 'not_larger' ? Math.min(...picked) : Math.max(...picked);
    scales = dims.map((_, i) => (axes.includes(i) ? s : 1));
    axes.forEach((a) => { sizes[a] = Math.floor(s * dims[a]! + 0.5); });
  }
  return { scales, sizes: checkSizes(sizes, where) };
}

/** Scales and sizes are data: the output they ask for is bounded before any tap table is built. */
function checkSizes(sizes: number[], where: string): number[] {
  validateDims(sizes, `${where}: output`);
  return sizes;
}

/** The float values of an optional input, treating an empty tensor as absent (older opsets pass one). */
function optionalValues(t: Tensor | undefined): number[] | undefined {
  return t && t.size > 0 ? Array.from(toNumbers(t)) : undefined;
}

function roiPerAxis(rank: number, roi: number[] | undefined, attrs: Attrs, where: string): [number, number][] {
  const out: [number, number][] = Array.from({ length: rank }, () => [0, 1]);
  if (!roi) return out;
  const axes = attrs.has('axes') ? normalizeAxes(attrs.ints('axes'), rank, where) : out.map((_, i) => i);
  if (roi.length !== 2 * axes.length) throw new Error(`${where}: roi has ${roi.length} entries, expected ${2 * axes.length}`);
  axes.forEach((a, i) => { out[a] = [roi[i]!, roi[i + axes.length]!]; });
  return out;
}

/** One resampled axis: data [outer, inLen, inner] becomes [outer, outLen, inner]. */
export interface ResizePass { axis: number; inLen: number; outLen: number; taps: AxisTaps }

/** A Resize lowered for concrete input dims: the axes it resamples (in the reference's order) and their taps. */
export interface ResizeLowering { outDims: number[]; passes: ResizePass[]; extrapolation: number }

/**
 * The backend-neutral plan of one Resize node: every backend applies these passes (each axis's taps
 * weigh whole slices of the data), so they all resample exactly like the reference. Throws the
 * reference's errors for bad attributes, scales, sizes or roi.
 */
export function lowerResize(
  dims: readonly number[], roiT: Tensor | undefined, scalesT: Tensor | undefined, sizesT: Tensor | undefined, attrs: Attrs, where: string,
): ResizeLowering {
  const o = optionsOf(attrs, where);
  const sizesIn = sizesT && sizesT.size > 0 ? toIntList(sizesT) : undefined;
  const { scales, sizes } = plan(dims, optionalValues(scalesT), sizesIn, attrs, where);
  const roi = roiPerAxis(dims.length, o.transform === 'tf_crop_and_resize' ? optionalValues(roiT) : undefined, attrs, where);
  const passes: ResizePass[] = [];
  for (let axis = 0; axis < dims.length; axis++) {
    const identity = scales[axis] === 1 && sizes[axis] === dims[axis] && o.transform !== 'tf_crop_and_resize';
    if (identity) continue;
    if (dims[axis] === 0 && sizes[axis]! > 0) throw new Error(`${where}: cannot resize an empty axis ${axis} to ${sizes[axis]}`);
    passes.push({ axis, inLen: dims[axis]!, outLen: sizes[axis]!, taps: axisTaps(o, dims[axis]!, sizes[axis]!, scales[axis]!, roi[axis]!) });
  }
  return { outDims: sizes, passes, extrapolation: o.extrapolation };
}

function inferResize(ctx: InferContext): ValueType[] {
  const x = inputType(ctx, 0);
  const scalesT = ctx.inputs[2] ? ctx.constant(2) : undefined;
  const sizesT = ctx.inputs[3] ? ctx.constant(3) : undefined;
  // Which of scales and sizes is given is known before any run unless a non-constant input could
  // still turn out empty (an empty tensor counts as absent).
  const given = (i: number, t: Tensor | undefined) => (ctx.inputs[i] ? (t ? t.size > 0 : undefined) : false);
  const [hasScales, hasSizes] = [given(2, scalesT), given(3, sizesT)];
  if ((hasScales === false && hasSizes === false) || (hasScales === true && hasSizes === true)) {
    throw new Error(`${ctx.where}: exactly one of scales and sizes must be given`);
  }
  if (!x.shape) return [{ dtype: x.dtype }];
  const shape = x.shape;
  const known = shape.every((d): d is number => typeof d === 'number');
  const scales = optionalValues(scalesT);
  const sizes = sizesT && sizesT.size > 0 ? toIntList(sizesT) : undefined;
  if (known && (scales || sizes)) return [{ dtype: x.dtype, shape: plan(shape, scales, sizes, ctx.attrs, ctx.where).sizes }];
  // Symbolic input: axes that keep scale 1 keep their dim; the rest are unknown.
  const axes = ctx.attrs.has('axes') ? normalizeAxes(ctx.attrs.ints('axes'), shape.length, ctx.where) : shape.map((_, i) => i);
  const out = shape.map((d, i): Dim => {
    const k = axes.indexOf(i);
    if (k < 0) return d;
    if (scales && scales[k] === 1 && ctx.attrs.string('keep_aspect_ratio_policy') === 'stretch') return d;
    if (sizes && ctx.attrs.string('keep_aspect_ratio_policy') === 'stretch') return sizes[k]!;
    return ctx.unknownDim();
  });
  return [{ dtype: x.dtype, shape: out }];
}

defineOp({
  name: 'Resize',
  inputs: [
    { name: 'X', types: [...NUMERIC_TYPES, 'bool'] },
    { name: 'roi', optional: true, types: FLOAT_TYPES },
    { name: 'scales', optional: true, types: ['float32'] },
    { name: 'sizes', optional: true, types: INDEX_TYPES },
  ],
  outputs: [{ name: 'Y' }],
  attrs: {
    antialias: { type: 'int', default: 0 },
    axes: { type: 'ints' },
    coordinate_transformation_mode: { type: 'string', default: 'half_pixel', validate: oneOf(TRANSFORMS) },
    cubic_coeff_a: { type: 'float', default: -0.75 },
    exclude_outside: { type: 'int', default: 0 },
    extrapolation_value: { type: 'float', default: 0 },
    keep_aspect_ratio_policy: { type: 'string', default: 'stretch', validate: oneOf(['stretch', 'not_larger', 'not_smaller']) },
    mode: { type: 'string', default: 'nearest', validate: oneOf(['nearest', 'linear', 'cubic']) },
    nearest_mode: { type: 'string', default: 'round_prefer_floor', validate: oneOf(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) },
  },
  inferShape: inferResize,
  reference: ([x, roiT, scalesT, sizesT], ctx) => {
    const low = lowerResize(x!.dims, roiT, scalesT, sizesT, ctx.attrs, ctx.where);
    const dims = [...x!.dims];
    let data = toNumbers(x!);
    for (const p of low.passes) {
      data = resizeAxis(data, dims, p.axis, p.outLen, p.taps, low.extrapolation);
      dims[p.axis] = p.outLen;
    }
    return [fromNumbers(x!.type, data, dims)];
  },
});
