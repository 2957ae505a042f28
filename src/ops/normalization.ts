// Normalizations: BatchNormalization (inference and training mode), LayerNormalization,
// RMSNormalization, InstanceNormalization, GroupNormalization, MeanVarianceNormalization and
// LpNormalization. Each one assigns every element to a statistics group (a row, a channel, an
// (n, c) pair ...) through an index map, takes two-pass moments per group in float64, and applies
// an affine transform; the output is rounded once to X's dtype.
import type { ValueType } from '../graph/ir.js';
import { dtypeOfOnnxCode, type DType } from '../tensor/dtype.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { broadcastDims, normalizeAxis, type Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { requireDims, sameShape } from './elementwise-util.js';
import { defineOp, type InferContext } from './registry.js';
import { broadcastIndex, broadcastInferred, FLOAT_TYPES, inputType } from './util.js';

// ---- shared pieces ----------------------------------------------------------------------------

interface Moments {
  mean: Float64Array;
  variance: Float64Array;
}

/** Population mean and variance per group; `group[i]` names element i's group. */
function moments(v: Float64Array, group: Int32Array, groups: number): Moments {
  const mean = new Float64Array(groups);
  const count = new Float64Array(groups);
  for (let i = 0; i < v.length; i++) {
    mean[group[i]!]! += v[i]!;
    count[group[i]!]!++;
  }
  for (let g = 0; g < groups; g++) mean[g]! /= count[g]!;
  const variance = new Float64Array(groups);
  for (let i = 0; i < v.length; i++) {
    const d = v[i]! - mean[group[i]!]!;
    variance[group[i]!]! += d * d;
  }
  for (let g = 0; g < groups; g++) variance[g]! /= count[g]!;
  return { mean, variance };
}

/** Group map where consecutive runs of `runLength` elements form groups, cycling through `groups`. */
function runGroups(size: number, runLength: number, groups: number): Int32Array {
  const g = new Int32Array(size);
  for (let i = 0; i < size; i++) g[i] = Math.floor(i / runLength) % groups;
  return g;
}

/** Channel (axis 1) of every element of an N x C x ... tensor. */
function channelMap(dims: readonly number[]): Int32Array {
  const spatial = dims.slice(2).reduce((a, b) => a * b, 1);
  return runGroups(dims.reduce((a, b) => a * b, 1), spatial, dims[1]!);
}

function checkRank2(x: Tensor, where: string): number {
  if (x.dims.length < 2) throw new Error(`${where}: X must have shape N x C x ..., got [${x.dims.join(', ')}]`);
  return x.dims[1]!;
}

/** Values of a per-channel parameter, checked to hold exactly `c` elements. */
function perChannel(t: Tensor, c: number, what: string, where: string): Float64Array {
  if (t.size !== c) throw new Error(`${where}: ${what} has shape [${t.dims.join(', ')}], expected ${c} elements (one per channel)`);
  return toNumbers(t);
}

function axisIn(axis: number, rank: number, where: string): number {
  try {
    return normalizeAxis(axis, rank);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

/** Index map of a parameter that broadcasts one way onto X's dims (LayerNorm/RMSNorm scale, bias). */
function paramMap(p: Tensor, x: Tensor, what: string, where: string): Int32Array {
  let both: number[];
  try {
    both = broadcastDims(x.dims, p.dims);
  } catch {
    throw new Error(`${where}: ${what} of shape [${p.dims.join(', ')}] does not broadcast to X [${x.dims.join(', ')}]`);
  }
  requireDims(both, x.dims, `${what} broadcast against X`, where);
  return broadcastIndex(p.dims, x.dims);
}

function inferParam(ctx: InferContext, i: number, what: string): void {
  const x = ctx.inputs[0]?.shape;
  const both = ctx.inputs[i] ? broadcastInferred(ctx, [0, i]) : undefined;
  if (x && both) requireDims(both, x, `${what} broadcast against X`, ctx.where);
}

/** stash_type: the ONNX code of the dtype statistics are kept in. Kiln always computes in float64. */
function stashDType(code: number, where: string): DType {
  const d = dtypeOfOnnxCode(code);
  if (!d || !FLOAT_TYPES.includes(d)) throw new Error(`${where}: stash_type ${code} is not a float type (1 float32, 10 float16, 11 float64, 16 bfloat16)`);
  return d;
}

const epsilon = { type: 'float', default: 1e-5 } as const;

// ---- BatchNormalization -----------------------------------------------------------------------

defineOp({
  name: 'BatchNormalization',
  inputs: [
    { name: 'X', types: FLOAT_TYPES },
    { name: 'scale', types: FLOAT_TYPES },
    { name: 'B', types: FLOAT_TYPES },
    { name: 'input_mean', types: FLOAT_TYPES },
    { name: 'input_var', types: FLOAT_TYPES },
  ],
  outputs: [{ name: 'Y' }, { name: 'running_mean', optional: true }, { name: 'running_var', optional: true }],
  attrs: { epsilon, momentum: { type: 'float', default: 0.9 }, training_mode: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (x.shape && x.shape.length < 2) throw new Error(`${ctx.where}: X must have shape N x C x ..., got [${x.shape.join(', ')}]`);
    // The reference checks each statistic's size; checking known shapes here refuses a corrupt
    // model at plan time on every backend (a kernel that trusts the size reads past it).
    const c = x.shape?.[1];
    if (typeof c === 'number') {
      ['scale', 'B', 'input_mean', 'input_var'].forEach((what, k) => {
        const dims = ctx.inputs[k + 1]?.shape;
        if (dims && dims.every((d) => typeof d === 'number') && (dims as number[]).reduce((a, b) => a * b, 1) !== c) {
          throw new Error(`${ctx.where}: ${what} has shape [${dims.join(', ')}], expected ${c} elements (one per channel)`);
        }
      });
    }
    const stat: ValueType = { dtype: inputType(ctx, 3).dtype, shape: x.shape ? [x.shape[1]!] : [ctx.unknownDim()] };
    return [{ dtype: x.dtype, shape: x.shape }, stat, { ...stat }];
  },
  reference: ([x, scaleT, biasT, meanT, varT], ctx) => {
    const c = checkRank2(x!, ctx.where);
    const eps = ctx.attrs.float('epsilon');
    const scale = perChannel(scaleT!, c, 'scale', ctx.where);
    const bias = perChannel(biasT!, c, 'B', ctx.where);
    const inMean = perChannel(meanT!, c, 'input_mean', ctx.where);
    const inVar = perChannel(varT!, c, 'input_var', ctx.where);
    const v = toNumbers(x!);
    const ch = channelMap(x!.dims);
    const training = ctx.attrs.int('training_mode') !== 0;
    // Training mode normalizes with this batch's statistics (population variance) and blends them
    // into the running ones: running = input * momentum + batch * (1 - momentum).
    const { mean, variance } = training ? moments(v, ch, c) : { mean: inMean, variance: inVar };
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const k = ch[i]!;
      out[i] = ((v[i]! - mean[k]!) / Math.sqrt(variance[k]! + eps)) * scale[k]! + bias[k]!;
    }
    const m = ctx.attrs.float('momentum');
    const blend = (input: Float64Array, batch: Float64Array) => (training ? input.map((r, k) => r * m + batch[k]! * (1 - m)) : input);
    return [
      fromNumbers(x!.type, out, x!.dims),
      fromNumbers(meanT!.type, blend(inMean, mean), [c]),
      fromNumbers(varT!.type, blend(inVar, variance), [c]),
    ];
  },
});

// ---- LayerNormalization / RMSNormalization ----------------------------------------------------

/** Shape of the per-row statistics: X's dims before `axis`, then 1s. */
function statShape(shape: readonly Dim[], axis: number): Dim[] {
  return shape.map((d, i) => (i < axis ? d : 1));
}

defineOp({
  name: 'LayerNormalization',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'Scale', types: FLOAT_TYPES }, { name: 'B', types: FLOAT_TYPES, optional: true }],
  outputs: [{ name: 'Y' }, { name: 'Mean', optional: true }, { name: 'InvStdDev', optional: true }],
  attrs: { axis: { type: 'int', default: -1 }, epsilon, stash_type: { type: 'int', default: 1 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const stash = stashDType(ctx.attrs.int('stash_type'), ctx.where);
    inferParam(ctx, 1, 'Scale');
    inferParam(ctx, 2, 'B');
    if (!x.shape) return [{ dtype: x.dtype }, { dtype: stash }, { dtype: stash }];
    const axis = axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    const stat = statShape(x.shape, axis);
    return [{ dtype: x.dtype, shape: x.shape }, { dtype: stash, shape: stat }, { dtype: stash, shape: [...stat] }];
  },
  reference: ([x, scaleT, biasT], ctx) => {
    const stash = stashDType(ctx.attrs.int('stash_type'), ctx.where);
    const axis = axisIn(ctx.attrs.int('axis'), x!.dims.length, ctx.where);
    const rowLen = x!.dims.slice(axis).reduce((a, b) => a * b, 1);
    const rows = x!.size / Math.max(rowLen, 1);
    const v = toNumbers(x!);
    const { mean, variance } = moments(v, runGroups(v.length, rowLen, rows), rows);
    const eps = ctx.attrs.float('epsilon');
    const inv = variance.map((s) => 1 / Math.sqrt(s + eps));
    const scale = toNumbers(scaleT!);
    const sMap = paramMap(scaleT!, x!, 'Scale', ctx.where);
    const bias = biasT ? toNumbers(biasT) : undefined;
    const bMap = biasT ? paramMap(biasT, x!, 'B', ctx.where) : undefined;
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const r = Math.floor(i / rowLen);
      out[i] = (v[i]! - mean[r]!) * inv[r]! * scale[sMap[i]!]! + (bias ? bias[bMap![i]!]! : 0);
    }
    const stat = statShape(x!.dims, axis) as number[];
    return [fromNumbers(x!.type, out, x!.dims), fromNumbers(stash, mean, stat), fromNumbers(stash, inv, stat)];
  },
});

// RMSNormalization (opset 23): y = x / sqrt(mean(x^2 over axis..end) + epsilon) * scale.
defineOp({
  name: 'RMSNormalization',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'scale', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: { axis: { type: 'int', default: -1 }, epsilon, stash_type: { type: 'int', default: 1 } },
  inferShape: (ctx) => {
    stashDType(ctx.attrs.int('stash_type'), ctx.where);
    const x = inputType(ctx, 0);
    if (x.shape) axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    inferParam(ctx, 1, 'scale');
    return sameShape(ctx);
  },
  reference: ([x, scaleT], ctx) => {
    stashDType(ctx.attrs.int('stash_type'), ctx.where);
    const axis = axisIn(ctx.attrs.int('axis'), x!.dims.length, ctx.where);
    const rowLen = x!.dims.slice(axis).reduce((a, b) => a * b, 1);
    const rows = x!.size / Math.max(rowLen, 1);
    const v = toNumbers(x!);
    const meanSquare = new Float64Array(rows);
    for (let i = 0; i < v.length; i++) meanSquare[Math.floor(i / rowLen)]! += v[i]! * v[i]!;
    const eps = ctx.attrs.float('epsilon');
    const inv = meanSquare.map((s) => 1 / Math.sqrt(s / rowLen + eps));
    const scale = toNumbers(scaleT!);
    const sMap = paramMap(scaleT!, x!, 'scale', ctx.where);
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv[Math.floor(i / rowLen)]! * scale[sMap[i]!]!;
    return [fromNumbers(x!.type, out, x!.dims)];
  },
});

// ---- InstanceNormalization / GroupNormalization -----------------------------------------------

defineOp({
  name: 'InstanceNormalization',
  inputs: [{ name: 'input', types: FLOAT_TYPES }, { name: 'scale', types: FLOAT_TYPES }, { name: 'B', types: FLOAT_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { epsilon },
  inferShape: (ctx) => {
    const s = inputType(ctx, 0).shape;
    if (s && s.length < 2) throw new Error(`${ctx.where}: input must have shape N x C x ..., got [${s.join(', ')}]`);
    return sameShape(ctx);
  },
  reference: ([x, scaleT, biasT], ctx) => {
    const c = checkRank2(x!, ctx.where);
    const scale = perChannel(scaleT!, c, 'scale', ctx.where);
    const bias = perChannel(biasT!, c, 'B', ctx.where);
    const n = x!.dims[0]!;
    const spatial = x!.dims.slice(2).reduce((a, b) => a * b, 1);
    const v = toNumbers(x!);
    const { mean, variance } = moments(v, runGroups(v.length, spatial, n * c), n * c);
    const eps = ctx.attrs.float('epsilon');
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const g = Math.floor(i / spatial);
      const k = g % c;
      out[i] = ((v[i]! - mean[g]!) / Math.sqrt(variance[g]! + eps)) * scale[k]! + bias[k]!;
    }
    return [fromNumbers(x!.type, out, x!.dims)];
  },
});

// GroupNormalization (opset 21): scale and bias hold one value per channel. Opset 18's form, with
// one value per group, is also accepted when its size tells it apart (num_groups != C).
defineOp({
  name: 'GroupNormalization',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'scale', types: FLOAT_TYPES }, { name: 'bias', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: { epsilon, num_groups: { type: 'int', required: true }, stash_type: { type: 'int', default: 1 } },
  inferShape: (ctx) => {
    const s = inputType(ctx, 0).shape;
    if (s && s.length < 2) throw new Error(`${ctx.where}: X must have shape N x C x ..., got [${s.join(', ')}]`);
    stashDType(ctx.attrs.int('stash_type'), ctx.where);
    return sameShape(ctx);
  },
  reference: ([x, scaleT, biasT], ctx) => {
    const c = checkRank2(x!, ctx.where);
    const groups = ctx.attrs.int('num_groups');
    if (groups <= 0 || c % groups !== 0) throw new Error(`${ctx.where}: num_groups ${groups} must be positive and divide the ${c} channels`);
    const perGroupParams = scaleT!.size === groups && groups !== c;
    const paramCount = perGroupParams ? groups : c;
    const scale = perChannel(scaleT!, paramCount, 'scale', ctx.where);
    const bias = perChannel(biasT!, paramCount, 'bias', ctx.where);
    const spatial = x!.dims.slice(2).reduce((a, b) => a * b, 1);
    const groupLen = (c / groups) * spatial;
    const n = x!.dims[0]!;
    const v = toNumbers(x!);
    const { mean, variance } = moments(v, runGroups(v.length, groupLen, n * groups), n * groups);
    const eps = ctx.attrs.float('epsilon');
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const g = Math.floor(i / groupLen);
      const k = perGroupParams ? g % groups : Math.floor(i / spatial) % c;
      out[i] = ((v[i]! - mean[g]!) / Math.sqrt(variance[g]! + eps)) * scale[k]! + bias[k]!;
    }
    return [fromNumbers(x!.type, out, x!.dims)];
  },
});

// ---- MeanVarianceNormalization / LpNormalization ----------------------------------------------

// MVN follows the ONNX function body: (x - mean) / (sqrt(variance) + 1e-9) over `axes`.
defineOp({
  name: 'MeanVarianceNormalization',
  inputs: [{ name: 'X', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: { axes: { type: 'ints', default: [0, 2, 3] } },
  inferShape: (ctx) => sameShape(ctx),
  reference: ([x], ctx) => {
    const rank = x!.dims.length;
    const axes = ctx.attrs.ints('axes').map((a) => axisIn(a, rank, ctx.where));
    const kept = x!.dims.map((d, i) => (axes.includes(i) ? 1 : d));
    const groups = kept.reduce((a, b) => a * b, 1);
    const map = broadcastIndex(kept, x!.dims);
    const v = toNumbers(x!);
    const { mean, variance } = moments(v, map, groups);
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = (v[i]! - mean[map[i]!]!) / (Math.sqrt(variance[map[i]!]!) + 1e-9);
    return [fromNumbers(x!.type, out, x!.dims)];
  },
});

// LpNormalization: x / ||x||_p along one axis. A zero norm leaves the (all-zero) line at zero
// instead of 0/0, as onnxruntime does.
defineOp({
  name: 'LpNormalization',
  inputs: [{ name: 'input', types: FLOAT_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: {
    axis: { type: 'int', default: -1 },
    p: { type: 'int', default: 2, validate: (v) => (v === 1 || v === 2 ? undefined : 'must be 1 or 2') },
  },
  inferShape: (ctx) => {
    const s = inputType(ctx, 0).shape;
    if (s) axisIn(ctx.attrs.int('axis'), s.length, ctx.where);
    return sameShape(ctx);
  },
  reference: ([x], ctx) => {
    const axis = axisIn(ctx.attrs.int('axis'), x!.dims.length, ctx.where);
    const p = ctx.attrs.int('p');
    const kept = x!.dims.map((d, i) => (i === axis ? 1 : d));
    const map = broadcastIndex(kept, x!.dims);
    const v = toNumbers(x!);
    const norm = new Float64Array(kept.reduce((a, b) => a * b, 1));
    for (let i = 0; i < v.length; i++) norm[map[i]!]! += p === 1 ? Math.abs(v[i]!) : v[i]! * v[i]!;
    if (p === 2) for (let k = 0; k < norm.length; k++) norm[k] = Math.sqrt(norm[k]!);
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const nrm = norm[map[i]!]!;
      out[i] = nrm === 0 ? 0 : v[i]! / nrm;
    }
    return [fromNumbers(x!.type, out, x!.dims)];
  },
});
