// CumProd (opset 26): running product along one axis, optionally exclusive (each output leaves out
// its own element, starting from 1) and/or reversed. Floats multiply in float64 and round once;
// 32-bit integers wrap like the typed arrays (Math.imul keeps the low bits exact), and 64-bit
// integers multiply as BigInt wrapped to 64 bits.
import { fromNumbers, toIntList, toNumbers } from '../tensor/convert.js';
import { allocData, type DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { sameShape } from './elementwise-util.js';
import { normalizeAxes } from './layout-util.js';
import { defineOp } from './registry.js';
import { INDEX_TYPES } from './util.js';

const TYPES: readonly DType[] = ['float32', 'float16', 'float64', 'bfloat16', 'int32', 'int64', 'uint32', 'uint64'];

defineOp({
  name: 'CumProd',
  inputs: [{ name: 'x', types: TYPES }, { name: 'axis', types: INDEX_TYPES }],
  outputs: [{ name: 'y' }],
  attrs: {
    exclusive: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
    reverse: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
  },
  inferShape: (ctx) => {
    const a = ctx.inputs[1]?.shape;
    if (a && !(a.length === 0 || (a.length === 1 && (a[0] === 1 || typeof a[0] === 'string')))) {
      throw new Error(`${ctx.where}: axis must be a scalar, got shape [${a.join(', ')}]`);
    }
    const rank = ctx.inputs[0]?.shape?.length;
    const axis = ctx.constant(1);
    if (rank !== undefined && axis && axis.size === 1) normalizeAxes(toIntList(axis), rank, ctx.where);
    return sameShape(ctx);
  },
  reference: ([x, axisT], ctx) => {
    if (axisT!.size !== 1) throw new Error(`${ctx.where}: axis must be a scalar, got shape [${axisT!.dims.join(', ')}]`);
    const dims = x!.dims;
    const axis = normalizeAxes(toIntList(axisT!), dims.length, ctx.where)[0]!;
    const exclusive = ctx.attrs.int('exclusive') === 1;
    const reverse = ctx.attrs.int('reverse') === 1;
    const len = dims[axis]!;
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
    /** Runs `step(index, first)` along every line in scan order. */
    const scan = (step: (i: number, first: boolean) => void) => {
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          for (let s = 0; s < len; s++) step(o * len * inner + (reverse ? len - 1 - s : s) * inner + i, s === 0);
        }
      }
    };
    const type = x!.type;
    if (type === 'int64' || type === 'uint64') {
      const src = x!.data as BigInt64Array | BigUint64Array;
      const out = allocData(type, src.length) as BigInt64Array | BigUint64Array;
      let acc = 1n;
      scan((i, first) => {
        if (first) acc = 1n;
        if (exclusive) { out[i] = acc; acc = BigInt.asIntN(64, acc * src[i]!); } else { acc = BigInt.asIntN(64, acc * src[i]!); out[i] = acc; }
      });
      return [new Tensor(type, out, dims)];
    }
    const src = toNumbers(x!);
    const out = new Float64Array(src.length);
    // int32/uint32 products exceed 2^53; imul keeps the 32 low bits the wrap needs.
    const mul = type === 'int32' || type === 'uint32' ? (a: number, b: number) => Math.imul(a, b) : (a: number, b: number) => a * b;
    let acc = 1;
    scan((i, first) => {
      if (first) acc = 1;
      if (exclusive) { out[i] = acc; acc = mul(acc, src[i]!); } else { acc = mul(acc, src[i]!); out[i] = acc; }
    });
    return [fromNumbers(type, type === 'uint32' ? out.map((v) => v >>> 0) : out, dims)];
  },
});
