// TopK: the k largest (or smallest) elements along an axis, with their int64 indices.
// Ties keep the lower index first (the ONNX reference's stable order); NaN counts as larger than
// every number, as numpy's sort places it. int64/uint64 compare as BigInt so large values stay exact.
import { toIntList, toNumbers } from '../tensor/convert.js';
import { sizeOfDims } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { axisIn, constInts, takeElements } from './layout-util.js';
import { defineOp } from './registry.js';
import { WIDE_NUMERIC_TYPES } from './wide-types.js';
import { inputType } from './util.js';

defineOp({
  name: 'TopK',
  inputs: [{ name: 'X', types: WIDE_NUMERIC_TYPES }, { name: 'K', types: ['int64'] }],
  outputs: [{ name: 'Values' }, { name: 'Indices' }],
  attrs: {
    axis: { type: 'int', default: -1 },
    largest: { type: 'int', default: 1, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
    sorted: { type: 'int', default: 1, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype }, { dtype: 'int64' }];
    const axis = axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    const k = constInts(ctx, 1);
    if (k) checkK(k, x.shape[axis], ctx.where);
    const shape = x.shape.map((d, i) => (i === axis ? (k ? k[0]! : ctx.unknownDim()) : d));
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }];
  },
  reference: ([x, kT], ctx) => {
    const dims = x!.dims;
    const axis = axisIn(ctx.attrs.int('axis'), dims.length, ctx.where);
    const k = checkK(toIntList(kT!), dims[axis]!, ctx.where);
    const largest = ctx.attrs.int('largest') === 1;
    const n = dims[axis]!;
    const outer = sizeOfDims(dims.slice(0, axis));
    const inner = sizeOfDims(dims.slice(axis + 1));
    const big = x!.type === 'int64' || x!.type === 'uint64';
    const nums = big ? undefined : toNumbers(x!);
    const bigs = big ? (x!.data as BigInt64Array | BigUint64Array) : undefined;
    // Sign of (a before b) for the requested direction; ties fall through to index order.
    const cmpNum = (a: number, b: number): number => {
      const an = a !== a, bn = b !== b;
      if (an || bn) return an === bn ? 0 : an ? -1 : 1; // NaN is the largest
      return a === b ? 0 : a > b ? -1 : 1;
    };
    const outDims = dims.map((d, i) => (i === axis ? k : d));
    const picks = new Int32Array(outer * k * inner);
    const indices = new BigInt64Array(picks.length);
    const order = new Array<number>(n);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        for (let j = 0; j < n; j++) order[j] = j;
        order.sort((p, q) => {
          const a = base + p * inner, b = base + q * inner;
          let c: number;
          if (bigs) c = bigs[a]! === bigs[b]! ? 0 : bigs[a]! > bigs[b]! ? -1 : 1;
          else c = cmpNum(nums![a]!, nums![b]!);
          return (largest ? c : -c) || p - q;
        });
        for (let j = 0; j < k; j++) {
          const at = (o * k + j) * inner + i;
          picks[at] = base + order[j]! * inner;
          indices[at] = BigInt(order[j]!);
        }
      }
    }
    return [takeElements(x!, picks, outDims), new Tensor('int64', indices, outDims)];
  },
});

function checkK(k: readonly number[], axisSize: number | string | undefined, where: string): number {
  if (k.length !== 1) throw new Error(`${where}: K must hold exactly one value, got ${k.length}`);
  const v = k[0]!;
  if (v < 0) throw new Error(`${where}: K must be non-negative, got ${v}`);
  if (typeof axisSize === 'number' && v > axisSize) throw new Error(`${where}: K = ${v} exceeds the axis size ${axisSize}`);
  return v;
}
