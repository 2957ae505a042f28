// Pooling: AveragePool, MaxPool (with optional Indices), LpPool and their Global forms.
// Windows are resolved by conv-util.ts; every rank is lifted to three spatial axes.
import type { ValueType } from '../graph/ir.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { DType } from '../tensor/dtype.js';
import { validateDims, type Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AttrSpec, Attrs } from './attrs.js';
import { forwardAxis, forwardSpatialDims, lift3, readWindow, WINDOW_ATTRS } from './conv-util.js';
import { defineOp, type InferContext } from './registry.js';
import { FLOAT_TYPES, inputType, rangeOf } from './util.js';

type PoolKind = 'avg' | 'max' | 'lp';

const flag = (name: string) => ({
  type: 'int',
  default: 0,
  validate: (v: unknown) => (v === 0 || v === 1 ? undefined : `${name} must be 0 or 1`),
}) satisfies AttrSpec;

const POOL_ATTRS = { ...WINDOW_ATTRS, ceil_mode: flag('ceil_mode') } satisfies Record<string, AttrSpec>;
const P_ATTR = {
  type: 'int',
  default: 2,
  validate: (v: unknown) => ((v as number) >= 1 ? undefined : 'p must be >= 1'),
} satisfies AttrSpec;

const MAXPOOL_TYPES: readonly DType[] = [...FLOAT_TYPES, 'int8', 'uint8'];

/** Resolved pooling problem on concrete dims (spatial axes lifted to three). */
export interface PoolPlan {
  planes: number;
  inSize: [number, number, number];
  outSize: [number, number, number];
  kernel: [number, number, number];
  strides: [number, number, number];
  dilations: [number, number, number];
  padBegin: [number, number, number];
  padEnd: [number, number, number];
}

/** Resolves a pool's window attributes into per-axis geometry (shared with the WASM pool kernels). */
export function poolPlan(dims: readonly number[], attrs: Attrs, where: string): PoolPlan {
  if (dims.length < 3) throw new Error(`${where}: X must have rank >= 3 (N, C, spatial...), got [${dims.join(', ')}]`);
  const p = readWindow(attrs, dims.length - 2, where);
  const ceil = attrs.int('ceil_mode') === 1;
  const axes = dims.slice(2).map((d, i) => forwardAxis(d, p, i, ceil, where));
  // Pads and strides come from the file; with a symbolic input only this run knows the size.
  validateDims([dims[0]!, dims[1]!, ...axes.map((a) => a.out)], `${where}: output`);
  return {
    planes: dims[0]! * dims[1]!,
    inSize: lift3(dims.slice(2), 1),
    outSize: lift3(axes.map((a) => a.out), 1),
    kernel: lift3(p.kernel, 1),
    strides: lift3(p.strides, 1),
    dilations: lift3(p.dilations, 1),
    padBegin: lift3(axes.map((a) => a.padBegin), 0),
    padEnd: lift3(axes.map((a) => a.padEnd), 0),
  };
}

/**
 * Per output index along one axis: how many window taps land inside the input (at [2o]) and
 * inside the padded extent (at [2o + 1]). The ceil_mode overhang past the end padding is in neither.
 */
function axisTaps(O: number, K: number, stride: number, dil: number, size: number, padBegin: number, padEnd: number): Int32Array {
  const r = new Int32Array(2 * O);
  for (let o = 0; o < O; o++) {
    const start = o * stride - padBegin;
    const [a, b] = tapRange(start, K, dil, 0, size);
    const [c, d] = tapRange(start, K, dil, -padBegin, size + padEnd);
    r[2 * o] = b - a;
    r[2 * o + 1] = d - c;
  }
  return r;
}

/**
 * The taps k in [0, K) whose position start + k * dil lies in [lo, hi), as [first, end). Loops
 * visit only these: a kernel_shape of 10^9 over a 32-wide input (the file decides it) would
 * otherwise cost 10^9 skipped taps per output.
 */
function tapRange(start: number, K: number, dil: number, lo: number, hi: number): [number, number] {
  const first = start >= lo ? 0 : Math.ceil((lo - start) / dil);
  const end = hi - 1 < start ? 0 : Math.min(K, Math.floor((hi - 1 - start) / dil) + 1);
  return first < end ? [first, end] : [0, 0];
}

interface PoolOptions {
  kind: PoolKind;
  countIncludePad: boolean;
  p: number;
  /** Fill an int64-valued index per output (flattened over the whole input, row- or column-major). */
  indices?: Float64Array;
  storageOrder: number;
}

/**
 * One pass over every output window. Max ignores padding, Avg divides by the in-input tap count
 * (or, with count_include_pad, the taps inside the padded extent, never a ceil_mode overhang),
 * Lp takes (sum |x|^p)^(1/p) over in-input taps (padding contributes zeros).
 */
function poolForward(x: Float64Array, plan: PoolPlan, o: PoolOptions): Float64Array {
  const [ID, IH, IW] = plan.inSize;
  const [OD, OH, OW] = plan.outSize;
  const [KD, KH, KW] = plan.kernel;
  const [sd, sh, sw] = plan.strides;
  const [dd, dh, dw] = plan.dilations;
  const [pd, ph, pw] = plan.padBegin;
  const inPlane = ID * IH * IW;
  const outPlane = OD * OH * OW;
  const out = new Float64Array(plan.planes * outPlane);
  const tapsD = axisTaps(OD, KD, sd, dd, ID, pd, plan.padEnd[0]);
  const tapsH = axisTaps(OH, KH, sh, dh, IH, ph, plan.padEnd[1]);
  const tapsW = axisTaps(OW, KW, sw, dw, IW, pw, plan.padEnd[2]);
  const pick = o.countIncludePad ? 1 : 0;
  for (let c = 0; c < plan.planes; c++) {
    const xBase = c * inPlane;
    for (let od = 0; od < OD; od++) {
      const d0 = od * sd - pd;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = oh * sh - ph;
        for (let ow = 0; ow < OW; ow++) {
          const w0 = ow * sw - pw;
          const oi = c * outPlane + (od * OH + oh) * OW + ow;
          let acc = o.kind === 'max' ? -Infinity : 0;
          let arg = -1;
          const [kd0, kd1] = tapRange(d0, KD, dd, 0, ID);
          const [kh0, kh1] = tapRange(h0, KH, dh, 0, IH);
          const [kw0, kw1] = tapRange(w0, KW, dw, 0, IW);
          for (let kd = kd0; kd < kd1; kd++) {
            const id = d0 + kd * dd;
            for (let kh = kh0; kh < kh1; kh++) {
              const ih = h0 + kh * dh;
              const row = xBase + (id * IH + ih) * IW;
              for (let kw = kw0; kw < kw1; kw++) {
                const iw = w0 + kw * dw;
                const v = x[row + iw]!;
                if (o.kind === 'max') {
                  if (v > acc || arg < 0) {
                    acc = v;
                    arg = o.storageOrder === 0 ? row + iw : xBase + id + ih * ID + iw * ID * IH;
                  }
                } else if (o.kind === 'avg') acc += v;
                else acc += Math.abs(v) ** o.p;
              }
            }
          }
          if (o.kind === 'avg') {
            const count = tapsD[2 * od + pick]! * tapsH[2 * oh + pick]! * tapsW[2 * ow + pick]!;
            acc = count > 0 ? acc / count : NaN;
          } else if (o.kind === 'lp') acc = acc ** (1 / o.p);
          out[oi] = acc;
          if (o.indices) o.indices[oi] = arg;
        }
      }
    }
  }
  return out;
}

function outDims(dims: readonly number[], plan: PoolPlan): number[] {
  return [dims[0]!, dims[1]!, ...plan.outSize.slice(3 - (dims.length - 2))];
}

function inferPoolShape(ctx: InferContext): Dim[] | undefined {
  const x = inputType(ctx, 0).shape;
  if (!x) return undefined;
  if (x.length < 3) throw new Error(`${ctx.where}: X must have rank >= 3 (N, C, spatial...), got rank ${x.length}`);
  const p = readWindow(ctx.attrs, x.length - 2, ctx.where);
  return [x[0]!, x[1]!, ...forwardSpatialDims(x.slice(2), p, ctx.attrs.int('ceil_mode') === 1, ctx.where, ctx.unknownDim)];
}

/** Rounds pooled values into the input dtype; a window without valid taps gives the type's lowest value. */
function toDType(type: DType, v: Float64Array, dims: number[]): Tensor {
  if (type === 'int8' || type === 'uint8') {
    const [lo] = rangeOf(type);
    for (let i = 0; i < v.length; i++) if (v[i] === -Infinity) v[i] = lo;
  }
  return fromNumbers(type, v, dims);
}

defineOp({
  name: 'AveragePool',
  inputs: [{ name: 'X', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: { ...POOL_ATTRS, count_include_pad: flag('count_include_pad') },
  inferShape: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: inferPoolShape(ctx) }],
  reference: ([x], ctx) => {
    const plan = poolPlan(x!.dims, ctx.attrs, ctx.where);
    const countIncludePad = ctx.attrs.int('count_include_pad') === 1;
    const y = poolForward(toNumbers(x!), plan, { kind: 'avg', countIncludePad, p: 1, storageOrder: 0 });
    return [fromNumbers(x!.type, y, outDims(x!.dims, plan))];
  },
});

defineOp({
  name: 'MaxPool',
  inputs: [{ name: 'X', types: MAXPOOL_TYPES }],
  outputs: [{ name: 'Y' }, { name: 'Indices', optional: true }],
  attrs: { ...POOL_ATTRS, storage_order: flag('storage_order') },
  inferShape: (ctx): ValueType[] => {
    const shape = inferPoolShape(ctx);
    return [{ dtype: inputType(ctx, 0).dtype, shape }, { dtype: 'int64', shape }];
  },
  reference: ([x], ctx) => {
    const plan = poolPlan(x!.dims, ctx.attrs, ctx.where);
    const dims = outDims(x!.dims, plan);
    const wantIdx = ctx.outputCount > 1;
    const indices = wantIdx ? new Float64Array(dims.reduce((a, b) => a * b, 1)) : undefined;
    const opts: PoolOptions = { kind: 'max', countIncludePad: false, p: 1, storageOrder: ctx.attrs.int('storage_order') };
    if (indices) opts.indices = indices;
    const y = poolForward(toNumbers(x!), plan, opts);
    const outs = [toDType(x!.type, y, dims)];
    if (indices) outs.push(fromNumbers('int64', indices, dims));
    return outs;
  },
});

defineOp({
  name: 'LpPool',
  inputs: [{ name: 'X', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: { ...POOL_ATTRS, p: P_ATTR },
  inferShape: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: inferPoolShape(ctx) }],
  reference: ([x], ctx) => {
    const plan = poolPlan(x!.dims, ctx.attrs, ctx.where);
    const y = poolForward(toNumbers(x!), plan, { kind: 'lp', countIncludePad: false, p: ctx.attrs.int('p'), storageOrder: 0 });
    return [fromNumbers(x!.type, y, outDims(x!.dims, plan))];
  },
});

// ---- Global pools: one window covering all spatial axes ---------------------------------------

function globalShape(ctx: InferContext): Dim[] | undefined {
  const x = inputType(ctx, 0).shape;
  if (!x) return undefined;
  if (x.length < 2) throw new Error(`${ctx.where}: X must have rank >= 2 (N, C, spatial...), got rank ${x.length}`);
  return [x[0]!, x[1]!, ...x.slice(2).map(() => 1)];
}

/** Reduces each (n, c) plane with `fold`, then `finish(acc, count)`. */
export function globalReduce(
  x: Tensor,
  where: string,
  init: number,
  fold: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number,
): { values: Float64Array; dims: number[] } {
  if (x.dims.length < 2) throw new Error(`${where}: X must have rank >= 2 (N, C, spatial...), got [${x.dims.join(', ')}]`);
  const planes = x.dims[0]! * x.dims[1]!;
  const plane = x.dims.slice(2).reduce((a, b) => a * b, 1);
  const v = toNumbers(x);
  const out = new Float64Array(planes);
  for (let c = 0; c < planes; c++) {
    let acc = init;
    for (let i = c * plane; i < (c + 1) * plane; i++) acc = fold(acc, v[i]!);
    out[c] = finish(acc, plane);
  }
  return { values: out, dims: [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map(() => 1)] };
}

function defineGlobal(name: string, types: readonly DType[], init: number, fold: (a: number, v: number, p: number) => number,
  finish: (a: number, n: number, p: number) => number, withP = false): void {
  defineOp({
    name,
    inputs: [{ name: 'X', types }],
    outputs: [{ name: 'Y' }],
    attrs: withP ? { p: P_ATTR } : {},
    inferShape: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: globalShape(ctx) }],
    reference: ([x], ctx) => {
      const p = withP ? ctx.attrs.int('p') : 1;
      const r = globalReduce(x!, ctx.where, init, (a, v) => fold(a, v, p), (a, n) => finish(a, n, p));
      return [toDType(x!.type, r.values, r.dims)];
    },
  });
}

defineGlobal('GlobalAveragePool', FLOAT_TYPES, 0, (a, v) => a + v, (a, n) => (n > 0 ? a / n : NaN));
defineGlobal('GlobalMaxPool', MAXPOOL_TYPES, -Infinity, (a, v) => (v > a ? v : a), (a) => a);
defineGlobal('GlobalLpPool', FLOAT_TYPES, 0, (a, v, p) => a + Math.abs(v) ** p, (a, _n, p) => a ** (1 / p), true);
