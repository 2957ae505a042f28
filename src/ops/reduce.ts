// Reductions: ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp (axes as an optional
// int64 input, opset 18), ArgMax/ArgMin and CumSum.
// A reduction maps every input element to one output element: the input index of the keepdims
// output is exactly the broadcast of the output (size 1 on reduced axes) back to the input shape,
// so util.broadcastIndex gives that map and each kernel is a single pass over the input.
import type { ValueType } from '../graph/ir.js';
import { isIntegerDType, type DType } from '../tensor/dtype.js';
import { fromNumbers, toIntList, toNumbers } from '../tensor/convert.js';
import { normalizeAxis, type Dim, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { allocBig, exactValues, gatherElements, isBigDType, sameShape, type BigValues } from './elementwise-util.js';
import { defineOp, type InferContext } from './registry.js';
import { broadcastIndex, INDEX_TYPES, inputType, NUMERIC_TYPES, rangeOf } from './util.js';

// ---- axes -------------------------------------------------------------------------------------

/** Normalized, sorted, duplicate-free axes; a clear error otherwise. */
function normalizeAxes(axes: readonly number[], rank: number, where: string): number[] {
  // A scalar has no axis to name (normalizeAxis itself lets axis 0 through at rank 0).
  if (rank === 0 && axes.length > 0) throw new Error(`${where}: axis ${axes[0]} is out of range for rank 0`);
  const out = axes.map((a) => {
    try {
      return normalizeAxis(a, rank);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  });
  if (new Set(out).size !== out.length) throw new Error(`${where}: axes [${axes.join(', ')}] repeat an axis`);
  return out.sort((a, b) => a - b);
}

/**
 * The axes to reduce. Empty axes mean all axes, unless noop_with_empty_axes: then no axis is
 * reduced and each element is its own group, so ReduceSum returns the input but ReduceSumSquare
 * returns x^2 and ReduceL1 |x|, as the ONNX reference and onnxruntime do.
 */
function planAxes(axes: number[] | undefined, rank: number, noopWithEmpty: boolean, where: string): number[] {
  if (!axes || axes.length === 0) return noopWithEmpty ? [] : Array.from({ length: rank }, (_, i) => i);
  return normalizeAxes(axes, rank, where);
}

function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

// ---- ReduceX ----------------------------------------------------------------------------------

const reduceAttrs = {
  keepdims: { type: 'int', default: 1 },
  noop_with_empty_axes: { type: 'int', default: 0 },
} as const;

function inferReduce(ctx: InferContext, outDType?: DType): ValueType[] {
  const x = inputType(ctx, 0);
  const dtype = outDType ?? x.dtype;
  const keep = ctx.attrs.int('keepdims') !== 0;
  const noopEmpty = ctx.attrs.int('noop_with_empty_axes') !== 0;
  if (!x.shape) return [{ dtype }];
  const axesType = ctx.inputs[1];
  const axesValue = axesType ? ctx.constant(1) : undefined;
  if (axesType && !axesValue) {
    // Axes known only at run time: with keepdims the rank survives and dims of 1 stay 1.
    if (keep) return [{ dtype, shape: x.shape.map((d) => (d === 1 ? 1 : ctx.unknownDim())) }];
    const n = axesType.shape?.length === 1 ? axesType.shape[0] : undefined;
    if (typeof n === 'number' && n > 0) return [{ dtype, shape: Array.from({ length: x.shape.length - n }, () => ctx.unknownDim()) }];
    return [{ dtype }];
  }
  const axes = planAxes(axesValue ? toIntList(axesValue) : undefined, x.shape.length, noopEmpty, ctx.where);
  return [{ dtype, shape: reducedShape(x.shape, axes, keep) }];
}

interface Reduction {
  name: string;
  /** Reduces the float64 values; `map[i]` is the output slot of input element i. */
  run(v: Float64Array, map: Int32Array, outSize: number, count: number): Float64Array;
}

/** Sum of f(v) per output slot. */
function accumulate(v: Float64Array, map: Int32Array, outSize: number, f: (x: number) => number): Float64Array {
  const acc = new Float64Array(outSize);
  for (let i = 0; i < v.length; i++) acc[map[i]!]! += f(v[i]!);
  return acc;
}

const identity = (x: number) => x;

const REDUCTIONS: Reduction[] = [
  { name: 'ReduceMean', run: (v, m, n, count) => accumulate(v, m, n, identity).map((s) => s / count) },
  { name: 'ReduceL1', run: (v, m, n) => accumulate(v, m, n, Math.abs) },
  { name: 'ReduceL2', run: (v, m, n) => accumulate(v, m, n, (x) => x * x).map(Math.sqrt) },
  { name: 'ReduceSumSquare', run: (v, m, n) => accumulate(v, m, n, (x) => x * x) },
  { name: 'ReduceLogSum', run: (v, m, n) => accumulate(v, m, n, identity).map(Math.log) },
  {
    name: 'ReduceProd',
    run: (v, m, n) => {
      const acc = new Float64Array(n).fill(1);
      for (let i = 0; i < v.length; i++) acc[m[i]!]! *= v[i]!;
      return acc;
    },
  },
  {
    // Subtracting the per-slot maximum keeps exp from overflowing. A slot whose maximum is not
    // finite is that maximum: NaN, +inf, or -inf (all -inf, or empty).
    name: 'ReduceLogSumExp',
    run: (v, m, n) => {
      const max = new Float64Array(n).fill(-Infinity);
      for (let i = 0; i < v.length; i++) {
        const cur = max[m[i]!]!;
        if (cur === cur && !(v[i]! <= cur)) max[m[i]!] = v[i]!;
      }
      const sum = new Float64Array(n);
      for (let i = 0; i < v.length; i++) {
        const mx = max[m[i]!]!;
        if (Number.isFinite(mx)) sum[m[i]!]! += Math.exp(v[i]! - mx);
      }
      return max.map((mx, o) => (Number.isFinite(mx) ? mx + Math.log(sum[o]!) : mx));
    },
  },
];

function defineReduce(name: string, types: readonly DType[], kernel: (x: Tensor, keptDims: number[], count: number) => Tensor): void {
  defineOp({
    name,
    inputs: [{ name: 'data', types }, { name: 'axes', types: ['int64'], optional: true }],
    outputs: [{ name: 'reduced' }],
    attrs: reduceAttrs,
    inferShape: (ctx) => inferReduce(ctx),
    reference: ([x, axesT], ctx) => {
      const keep = ctx.attrs.int('keepdims') !== 0;
      const axes = planAxes(axesT ? toIntList(axesT) : undefined, x!.dims.length, ctx.attrs.int('noop_with_empty_axes') !== 0, ctx.where);
      const kept = x!.dims.map((d, i) => (axes.includes(i) ? 1 : d));
      let count = 1;
      for (const a of axes) count *= x!.dims[a]!;
      const out = kernel(x!, kept, count);
      return [out.reshape(reducedShape(x!.dims, axes, keep) as number[])];
    },
  });
}

for (const r of REDUCTIONS) {
  defineReduce(r.name, NUMERIC_TYPES, (x, kept, count) => {
    const outSize = kept.reduce((a, b) => a * b, 1);
    return fromNumbers(x.type, r.run(toNumbers(x), broadcastIndex(kept, x.dims), outSize, count), kept);
  });
}

// ReduceSum accumulates int64/uint64 in BigInt so large ids and counts stay exact (and wrap).
defineReduce('ReduceSum', NUMERIC_TYPES, (x, kept) => {
  const map = broadcastIndex(kept, x.dims);
  const outSize = kept.reduce((a, b) => a * b, 1);
  if (isBigDType(x.type)) {
    const src = x.data as BigValues;
    const acc = allocBig(x.type, outSize);
    for (let i = 0; i < src.length; i++) acc[map[i]!] = acc[map[i]!]! + src[i]!;
    return new Tensor(x.type, acc, kept);
  }
  return fromNumbers(x.type, accumulate(toNumbers(x), map, outSize, identity), kept);
});

// ReduceMax/Min pick an element and copy it bit for bit; NaN wins like numpy's max. An empty
// reduction yields the identity: -inf/+inf for floats, the dtype's extreme for integers.
function defineExtreme(name: 'ReduceMax' | 'ReduceMin'): void {
  const isMax = name === 'ReduceMax';
  defineReduce(name, [...NUMERIC_TYPES, 'bool'], (x, kept) => {
    const map = broadcastIndex(kept, x.dims);
    const outSize = kept.reduce((a, b) => a * b, 1);
    const v = exactValues(x);
    const best = new Int32Array(outSize).fill(-1);
    for (let i = 0; i < v.length; i++) {
      const o = map[i]!;
      const b = best[o]!;
      if (b < 0) { best[o] = i; continue; }
      const cur = v[b]!;
      const cand = v[i]!;
      if (cur !== cur) continue;
      if (cand !== cand || (isMax ? cand > cur : cand < cur)) best[o] = i;
    }
    if (outSize > 0 && best[0]! < 0) {
      // Every slot is empty (the reduced count is 0): fill with the identity of max/min.
      if (x.type === 'int64') return new Tensor('int64', new BigInt64Array(outSize).fill(isMax ? -(2n ** 63n) : 2n ** 63n - 1n), kept);
      if (x.type === 'uint64') return new Tensor('uint64', new BigUint64Array(outSize).fill(isMax ? 0n : 2n ** 64n - 1n), kept);
      return fromNumbers(x.type, new Float64Array(outSize).fill(emptyExtreme(x.type, isMax)), kept);
    }
    return gatherElements(x.type, kept, [x], null, best);
  });
}
defineExtreme('ReduceMax');
defineExtreme('ReduceMin');

function emptyExtreme(dtype: DType, isMax: boolean): number {
  const r: [number, number] = dtype === 'bool' ? [0, 1] : isIntegerDType(dtype) ? rangeOf(dtype) : [-Infinity, Infinity];
  return isMax ? r[0] : r[1];
}

// ---- ArgMax / ArgMin --------------------------------------------------------------------------

function defineArg(name: 'ArgMax' | 'ArgMin'): void {
  const isMax = name === 'ArgMax';
  defineOp({
    name,
    inputs: [{ name: 'data', types: NUMERIC_TYPES }],
    outputs: [{ name: 'reduced' }],
    attrs: { axis: { type: 'int', default: 0 }, keepdims: { type: 'int', default: 1 }, select_last_index: { type: 'int', default: 0 } },
    inferShape: (ctx) => {
      const x = inputType(ctx, 0);
      if (!x.shape) return [{ dtype: 'int64' }];
      const axis = normalizeAxes([ctx.attrs.int('axis')], x.shape.length, ctx.where)[0]!;
      return [{ dtype: 'int64', shape: reducedShape(x.shape, [axis], ctx.attrs.int('keepdims') !== 0) }];
    },
    reference: ([x], ctx) => {
      const dims = x!.dims;
      const axis = normalizeAxes([ctx.attrs.int('axis')], dims.length, ctx.where)[0]!;
      const last = ctx.attrs.int('select_last_index') !== 0;
      const len = dims[axis]!;
      if (len === 0) throw new Error(`${ctx.where}: cannot take ${name} over an empty axis`);
      const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
      const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
      const v = exactValues(x!);
      const out = new BigInt64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * len * inner + i;
          let bestK = 0;
          let best = v[base]!;
          for (let k = 1; k < len; k++) {
            const c = v[base + k * inner]!;
            if (best !== best) break; // the first NaN wins, as in numpy
            const better = c !== c || (isMax ? c > best : c < best) || (last && c === best);
            if (better) { best = c; bestK = k; }
          }
          out[o * inner + i] = BigInt(bestK);
        }
      }
      return [new Tensor('int64', out, reducedShape(dims, [axis], ctx.attrs.int('keepdims') !== 0) as number[])];
    },
  });
}
defineArg('ArgMax');
defineArg('ArgMin');

// ---- CumSum -----------------------------------------------------------------------------------

defineOp({
  name: 'CumSum',
  inputs: [{ name: 'x', types: NUMERIC_TYPES }, { name: 'axis', types: INDEX_TYPES }],
  outputs: [{ name: 'y' }],
  attrs: { exclusive: { type: 'int', default: 0 }, reverse: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const a = ctx.inputs[1]?.shape;
    if (a && !(a.length === 0 || (a.length === 1 && (a[0] === 1 || typeof a[0] === 'string')))) {
      throw new Error(`${ctx.where}: axis must be a scalar, got shape [${a.join(', ')}]`);
    }
    return sameShape(ctx);
  },
  reference: ([x, axisT], ctx) => {
    if (axisT!.size !== 1) throw new Error(`${ctx.where}: axis must be a scalar, got shape [${axisT!.dims.join(', ')}]`);
    const dims = x!.dims;
    const axis = normalizeAxes(toIntList(axisT!), dims.length, ctx.where)[0]!;
    const exclusive = ctx.attrs.int('exclusive') !== 0;
    const reverse = ctx.attrs.int('reverse') !== 0;
    const len = dims[axis]!;
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
    // Visits each line along the axis in scan order, handing out (read index, write index).
    const scan = (step: (i: number, first: boolean) => void) => {
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          for (let s = 0; s < len; s++) {
            const k = reverse ? len - 1 - s : s;
            step(o * len * inner + k * inner + i, s === 0);
          }
        }
      }
    };
    if (isBigDType(x!.type)) {
      const src = x!.data as BigValues;
      const out = allocBig(x!.type, src.length);
      let acc = 0n;
      scan((i, first) => {
        if (first) acc = 0n;
        if (exclusive) { out[i] = acc; acc += src[i]!; } else { acc += src[i]!; out[i] = acc; }
      });
      return [new Tensor(x!.type, out, dims)];
    }
    const src = toNumbers(x!);
    const out = new Float64Array(src.length);
    let acc = 0;
    scan((i, first) => {
      if (first) acc = 0;
      if (exclusive) { out[i] = acc; acc += src[i]!; } else { acc += src[i]!; out[i] = acc; }
    });
    return [fromNumbers(x!.type, out, dims)];
  },
});
