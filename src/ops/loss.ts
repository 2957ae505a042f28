// Classification losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (its log-softmax
// followed by the same gather). Inputs are [N, C] or [N, C, d1, ...] with targets [N] or
// [N, d1, ...]; 'mean' divides by the summed weights of the targets that are not ignored.
import { fromNumbers, toIntList, toNumbers } from '../tensor/convert.js';
import { sizeOfDims, type Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ValueType } from '../graph/ir.js';
import { defineOp, type InferContext } from './registry.js';
import { FLOAT_TYPES, INDEX_TYPES, inputType } from './util.js';

const REDUCTIONS = ['none', 'sum', 'mean'];
const lossAttrs = {
  reduction: { type: 'string', default: 'mean', validate: (v: unknown) => (REDUCTIONS.includes(v as string) ? undefined : 'must be none, sum or mean') },
  ignore_index: { type: 'int' },
} as const;

function lossType(ctx: InferContext): ValueType {
  const x = inputType(ctx, 0);
  const t = inputType(ctx, 1).shape;
  const w = ctx.inputs[2];
  if (w && w.dtype !== x.dtype) throw new Error(`${ctx.where}: weight has dtype ${w.dtype} but scores ${x.dtype}`);
  if (x.shape) checkShapes(x.shape, t, w?.shape, ctx.where);
  if (ctx.attrs.string('reduction') !== 'none') return { dtype: x.dtype, shape: [] };
  return { dtype: x.dtype, shape: t ?? (x.shape ? [x.shape[0]!, ...x.shape.slice(2)] : undefined) };
}

function checkShapes(x: readonly Dim[], t: readonly Dim[] | undefined, w: readonly Dim[] | undefined, where: string): void {
  if (x.length < 2) throw new Error(`${where}: scores must have rank >= 2 ([N, C, ...]), got rank ${x.length}`);
  const expected = [x[0]!, ...x.slice(2)];
  if (t && (t.length !== expected.length || t.some((d, i) => typeof d === 'number' && typeof expected[i] === 'number' && d !== expected[i]))) {
    throw new Error(`${where}: target has shape [${t.join(', ')}], expected [${expected.join(', ')}]`);
  }
  if (w && (w.length !== 1 || (typeof w[0] === 'number' && typeof x[1] === 'number' && w[0] !== x[1]))) {
    throw new Error(`${where}: weight must be 1-D of length C = ${x[1]}, got [${w.join(', ')}]`);
  }
}

/**
 * The loss from log-probabilities `logp` laid out [N, C, D]: -w[t] * logp[n, t, d] per target,
 * then reduced. Returns float64 values and the output dims.
 */
function nll(logp: Float64Array, dims: readonly number[], target: Tensor, weight: Tensor | undefined, ctx: { attrs: { string(n: string): string; has(n: string): boolean; int(n: string): number }; where: string }): { values: Float64Array; dims: number[] } {
  checkShapes(dims, target.dims, weight?.dims, ctx.where);
  const n = dims[0]!, c = dims[1]!;
  const d = sizeOfDims(dims.slice(2));
  const t = toIntList(target);
  const w = weight ? toNumbers(weight) : undefined;
  const ignore = ctx.attrs.has('ignore_index') ? ctx.attrs.int('ignore_index') : undefined;
  const loss = new Float64Array(n * d);
  let weightSum = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      const cls = t[i * d + k]!;
      if (cls === ignore) continue;
      if (cls < 0 || cls >= c) throw new Error(`${ctx.where}: target ${cls} is outside [0, ${c}) and is not ignore_index`);
      const wt = w ? w[cls]! : 1;
      loss[i * d + k] = -wt * logp[(i * c + cls) * d + k]!;
      weightSum += wt;
    }
  }
  const reduction = ctx.attrs.string('reduction');
  if (reduction === 'none') return { values: loss, dims: [...target.dims] };
  let sum = 0;
  for (const v of loss) sum += v;
  return { values: Float64Array.of(reduction === 'sum' ? sum : sum / weightSum), dims: [] };
}

defineOp({
  name: 'NegativeLogLikelihoodLoss',
  inputs: [{ name: 'input', types: FLOAT_TYPES }, { name: 'target', types: INDEX_TYPES }, { name: 'weight', types: FLOAT_TYPES, optional: true }],
  outputs: [{ name: 'loss' }],
  attrs: lossAttrs,
  inferShape: (ctx) => [lossType(ctx)],
  reference: ([x, target, weight], ctx) => {
    const r = nll(toNumbers(x!), x!.dims, target!, weight, ctx);
    return [fromNumbers(x!.type, r.values, r.dims)];
  },
});

defineOp({
  name: 'SoftmaxCrossEntropyLoss',
  inputs: [{ name: 'scores', types: FLOAT_TYPES }, { name: 'labels', types: INDEX_TYPES }, { name: 'weights', types: FLOAT_TYPES, optional: true }],
  outputs: [{ name: 'output' }, { name: 'log_prob', optional: true }],
  attrs: lossAttrs,
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    return [lossType(ctx), { dtype: x.dtype, shape: x.shape }];
  },
  reference: ([x, target, weight], ctx) => {
    const dims = x!.dims;
    if (dims.length < 2) throw new Error(`${ctx.where}: scores must have rank >= 2 ([N, C, ...]), got rank ${dims.length}`);
    const logp = logSoftmaxAxis1(toNumbers(x!), dims);
    const r = nll(logp, dims, target!, weight, ctx);
    return [fromNumbers(x!.type, r.values, r.dims), fromNumbers(x!.type, logp, dims)];
  },
});

/** log_softmax over axis 1 of [N, C, D...], stable (max subtracted). */
function logSoftmaxAxis1(v: Float64Array, dims: readonly number[]): Float64Array {
  const n = dims[0]!, c = dims[1]!;
  const d = sizeOfDims(dims.slice(2));
  const out = new Float64Array(v.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      let max = -Infinity;
      for (let j = 0; j < c; j++) max = Math.max(max, v[(i * c + j) * d + k]!);
      let sum = 0;
      for (let j = 0; j < c; j++) sum += Math.exp(v[(i * c + j) * d + k]! - max);
      const lse = max + Math.log(sum);
      for (let j = 0; j < c; j++) out[(i * c + j) * d + k] = v[(i * c + j) * d + k]! - lse;
    }
  }
  return out;
}
