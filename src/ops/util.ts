// Shared building blocks for op definitions: dtype sets, type checks, broadcasting loops.
import type { ValueType } from '../graph/ir.js';
import type { DType } from '../tensor/dtype.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { broadcastDims, broadcastShapes, stridesOf, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { InferContext } from './registry.js';

export const FLOAT_TYPES: readonly DType[] = ['float32', 'float16', 'float64'];
export const INT_TYPES: readonly DType[] = ['int32', 'int64', 'int8', 'uint8'];
export const NUMERIC_TYPES: readonly DType[] = [...FLOAT_TYPES, ...INT_TYPES];
export const ALL_TYPES: readonly DType[] = [...NUMERIC_TYPES, 'bool', 'int4'];
export const QUANT_TYPES: readonly DType[] = ['int8', 'uint8', 'int4'];
export const INDEX_TYPES: readonly DType[] = ['int32', 'int64'];

/** The type of input i, which must be present. */
export function inputType(ctx: InferContext, i: number): ValueType {
  const t = ctx.inputs[i];
  if (!t) throw new Error(`${ctx.where}: input ${i} is missing`);
  return t;
}

/** Requires inputs at the given indices to share one dtype and returns it. */
export function sameDType(ctx: InferContext, indices: readonly number[]): DType {
  const first = inputType(ctx, indices[0]!).dtype;
  for (const i of indices) {
    const t = ctx.inputs[i];
    if (t && t.dtype !== first) {
      throw new Error(`${ctx.where}: input ${i} has dtype ${t.dtype} but input ${indices[0]} has ${first}`);
    }
  }
  return first;
}

/** Output shape of a broadcasting op over the present inputs (undefined when any rank is unknown). */
export function broadcastInferred(ctx: InferContext, indices: readonly number[]): Shape | undefined {
  let out: Shape = [];
  for (const i of indices) {
    const s = ctx.inputs[i]?.shape;
    if (!s) return undefined;
    try {
      out = broadcastShapes(out, s);
    } catch (e) {
      throw new Error(`${ctx.where}: ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * Maps each output flat index to a flat index of an input broadcast to `outDims`.
 * Returned as an Int32Array so kernels index inputs without recomputing coordinates.
 */
export function broadcastIndex(inDims: readonly number[], outDims: readonly number[]): Int32Array {
  const rank = outDims.length;
  const size = outDims.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(size);
  const inStrides = stridesOf(inDims);
  const eff = new Array<number>(rank).fill(0);
  for (let d = 0; d < rank; d++) {
    const id = d - (rank - inDims.length);
    if (id >= 0 && inDims[id]! !== 1) eff[d] = inStrides[id]!;
  }
  const coord = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < size; i++) {
    idx[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      coord[d]!++;
      off += eff[d]!;
      if (coord[d]! < outDims[d]!) break;
      off -= eff[d]! * outDims[d]!;
      coord[d] = 0;
    }
  }
  return idx;
}

/** Applies fn elementwise over broadcast inputs, computing in float64. */
export function broadcastMap(inputs: readonly Tensor[], outType: DType, fn: (...xs: number[]) => number): Tensor {
  let outDims: number[] = [];
  for (const t of inputs) outDims = broadcastDims(outDims, t.dims);
  const vals = inputs.map((t) => toNumbers(t));
  const maps = inputs.map((t) => broadcastIndex(t.dims, outDims));
  const size = outDims.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = vals[k]![maps[k]![i]!]!;
    out[i] = fn(...args);
  }
  return fromNumbers(outType, out, outDims);
}

/** Unary map computing in float64, rounding to the output dtype. */
export function unaryMap(x: Tensor, outType: DType, fn: (v: number) => number): Tensor {
  const v = toNumbers(x);
  for (let i = 0; i < v.length; i++) v[i] = fn(v[i]!);
  return fromNumbers(outType, v, x.dims);
}

/** Saturating cast into an integer range, rounding half to even (used by quantization ops). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function clampTo(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function rangeOf(dtype: DType): [number, number] {
  switch (dtype) {
    case 'int8': return [-128, 127];
    case 'uint8': return [0, 255];
    case 'int4': return [-8, 7];
    case 'int32': return [-(2 ** 31), 2 ** 31 - 1];
    default: throw new Error(`no integer range for ${dtype}`);
  }
}

/** Wraps integer results like the typed array of dtype (two's complement). */
export function wrapInt(dtype: DType, x: number): number {
  switch (dtype) {
    case 'int8': return (x << 24) >> 24;
    case 'uint8': return x & 0xff;
    case 'int32': return x | 0;
    default: return x;
  }
}
