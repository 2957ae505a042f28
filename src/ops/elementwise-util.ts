// Broadcasting loops shared by the elementwise families (binary, unary, activation, reduce).
// util.ts's broadcastMap computes everything in float64; these add the paths that must stay
// exact: int64/uint64 arithmetic in BigInt (ids, INT64_MAX slice sentinels) and bit-preserving selects.
import type { ValueType } from '../graph/ir.js';
import { allocData, packedBits, type DType } from '../tensor/dtype.js';
import { fromNumbers, readBits, toNumbers, writeBits } from '../tensor/convert.js';
import { broadcastDims, type Dim } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { InferContext } from './registry.js';
import { broadcastIndex } from './util.js';

/** Element values in a space where the op is exact: BigInt for int64/uint64, float64 otherwise. */
export type Values = Float64Array | BigInt64Array | BigUint64Array;
export type BigValues = BigInt64Array | BigUint64Array;

export function isBigDType(d: DType): d is 'int64' | 'uint64' {
  return d === 'int64' || d === 'uint64';
}

export function exactValues(t: Tensor): Values {
  return isBigDType(t.type) ? (t.data as BigValues) : toNumbers(t);
}

/** Builds a tensor from exact values; BigInt values go straight into int64/uint64 storage (wrapping modulo 2^64). */
export function fromValues(dtype: DType, vals: Values, dims: readonly number[]): Tensor {
  if (!(vals instanceof Float64Array)) {
    if (dtype === 'int64') return new Tensor('int64', vals instanceof BigInt64Array ? vals : BigInt64Array.from(vals), dims);
    if (dtype === 'uint64') return new Tensor('uint64', vals instanceof BigUint64Array ? vals : BigUint64Array.from(vals), dims);
    return fromNumbers(dtype, Array.from(vals as ArrayLike<bigint>, Number), dims);
  }
  return fromNumbers(dtype, vals, dims);
}

/** A fresh BigInt array for int64 or uint64 results; storing wraps modulo 2^64. */
export function allocBig(dtype: 'int64' | 'uint64', size: number): BigValues {
  return dtype === 'int64' ? new BigInt64Array(size) : new BigUint64Array(size);
}

/** Broadcast output dims of the given tensors, with the node named in the error. */
export function broadcastAll(tensors: readonly Tensor[], where: string): number[] {
  let dims: number[] = [];
  try {
    for (const t of tensors) dims = broadcastDims(dims, t.dims);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  return dims;
}

/** Output-to-input index map, or null when the input already has the output's dims (identity). */
export function indexMap(t: Tensor, outDims: readonly number[]): Int32Array | null {
  const same = t.dims.length === outDims.length && t.dims.every((d, i) => d === outDims[i]);
  return same ? null : broadcastIndex(t.dims, outDims);
}

export interface Broadcast {
  dims: number[];
  size: number;
  maps: (Int32Array | null)[];
}

export function planBroadcast(tensors: readonly Tensor[], where: string): Broadcast {
  const dims = broadcastAll(tensors, where);
  let size = 1;
  for (const d of dims) size *= d;
  return { dims, size, maps: tensors.map((t) => indexMap(t, dims)) };
}

/** out[i] = fn(a, b) over broadcast inputs in float64, rounded once to `outType`. */
export function binaryNumbers(
  a: Tensor, b: Tensor, outType: DType, fn: (x: number, y: number) => number, where: string,
): Tensor {
  const { dims, size, maps: [ma, mb] } = planBroadcast([a, b], where);
  const va = toNumbers(a);
  const vb = toNumbers(b);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = fn(va[ma ? ma[i]! : i]!, vb[mb ? mb[i]! : i]!);
  return fromNumbers(outType, out, dims);
}

/**
 * int64 (or uint64) op the same -> that dtype exactly; the BigInt64Array/BigUint64Array storage
 * wraps results modulo 2^64 like ONNX runtimes.
 */
export function binaryBigInts(a: Tensor, b: Tensor, fn: (x: bigint, y: bigint) => bigint, where: string): Tensor {
  const { dims, size, maps: [ma, mb] } = planBroadcast([a, b], where);
  const dtype = a.type as 'int64' | 'uint64';
  const va = a.data as BigValues;
  const vb = b.data as BigValues;
  const out = allocBig(dtype, size);
  for (let i = 0; i < size; i++) out[i] = fn(va[ma ? ma[i]! : i]!, vb[mb ? mb[i]! : i]!);
  return new Tensor(dtype, out, dims);
}

/** Elementwise predicate over same-dtype inputs; int64 compares as BigInt so huge values stay distinct. */
export function binaryPredicate(
  a: Tensor, b: Tensor, fn: (x: number | bigint, y: number | bigint) => boolean, where: string,
): Tensor<'bool'> {
  const { dims, size, maps: [ma, mb] } = planBroadcast([a, b], where);
  const va = exactValues(a);
  const vb = exactValues(b);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = fn(va[ma ? ma[i]! : i]!, vb[mb ? mb[i]! : i]!) ? 1 : 0;
  return new Tensor('bool', out, dims);
}

/** Unary map that keeps int64/uint64 exact: `big` runs on them, `num` in float64 otherwise. */
export function unaryExact(x: Tensor, num: (v: number) => number, big: (v: bigint) => bigint): Tensor {
  if (isBigDType(x.type)) {
    const src = x.data as BigValues;
    const out = allocBig(x.type, src.length);
    for (let i = 0; i < src.length; i++) out[i] = big(src[i]!);
    return new Tensor(x.type, out, x.dims);
  }
  const v = toNumbers(x);
  for (let i = 0; i < v.length; i++) v[i] = num(v[i]!);
  return fromNumbers(x.type, v, x.dims);
}

/**
 * A tensor of `dtype` whose element i is element `picks[i]` of `sources[which[i]]` (source 0 when
 * `which` is null), copied bit for bit: float16 NaN payloads, int64 beyond 2^53 and packed
 * sub-byte elements all survive. Used by Where and by reductions that select an element (ReduceMax/Min).
 */
export function gatherElements(
  dtype: DType, dims: readonly number[], sources: readonly Tensor[], which: Uint8Array | null, picks: Int32Array,
): Tensor {
  const size = picks.length;
  const out = allocData(dtype, size);
  const src = (i: number) => sources[which ? which[i]! : 0]!.data;
  const bits = packedBits(dtype);
  if (bits !== 0) {
    for (let i = 0; i < size; i++) writeBits(out as Uint8Array, i, bits, readBits(src(i) as Uint8Array, picks[i]!, bits));
  } else {
    const o = out as { [k: number]: number | bigint };
    for (let i = 0; i < size; i++) o[i] = (src(i) as { [k: number]: number | bigint })[picks[i]!]!;
  }
  return new Tensor(dtype, out, dims);
}

/** Same-shape output type for unary ops (dtype optionally replaced). */
export function sameShape(ctx: InferContext, dtype?: DType): ValueType[] {
  const t = ctx.inputs[0];
  if (!t) throw new Error(`${ctx.where}: input 0 is missing`);
  return [{ dtype: dtype ?? t.dtype, shape: t.shape }];
}

/** Throws when a concrete shape is not the given one (used where broadcasting is one-way). */
export function requireDims(actual: readonly Dim[], expected: readonly Dim[], what: string, where: string): void {
  const ok = actual.length === expected.length && actual.every((d, i) => d === expected[i] || typeof d !== 'number' || typeof expected[i] !== 'number');
  if (!ok) throw new Error(`${where}: ${what} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
}
