// Shared building blocks for op definitions: dtype sets, type checks, broadcasting loops.
import type { ValueType } from '../graph/ir.js';
import type { DType } from '../tensor/dtype.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { broadcastDims, broadcastShapes, stridesOf, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { InferContext } from './registry.js';

// The sets follow the ONNX type constraints: FLOAT_TYPES is "tensor(float16|float|double|bfloat16)",
// INT_TYPES every full-width integer. Kernels compute through float64 (toNumbers/fromNumbers) and
// keep int64/uint64 exact in BigInt where it matters (elementwise-util.ts).
export const FLOAT_TYPES: readonly DType[] = ['float32', 'float16', 'float64', 'bfloat16'];
export const INT_TYPES: readonly DType[] = ['int32', 'int64', 'int8', 'uint8', 'int16', 'uint16', 'uint32', 'uint64'];
export const SIGNED_INT_TYPES: readonly DType[] = ['int32', 'int64', 'int8', 'int16'];
export const UNSIGNED_INT_TYPES: readonly DType[] = ['uint8', 'uint16', 'uint32', 'uint64'];
export const NUMERIC_TYPES: readonly DType[] = [...FLOAT_TYPES, ...INT_TYPES];
/** Storage-only formats: ops that move elements accept them, arithmetic does not (as in ONNX). */
export const LOW_PRECISION_TYPES: readonly DType[] = [
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0', 'uint4', 'float4e2m1', 'int2', 'uint2',
];
export const ALL_TYPES: readonly DType[] = [...NUMERIC_TYPES, 'bool', 'int4', ...LOW_PRECISION_TYPES];
/** QuantizeLinear / DequantizeLinear's quantized types (T3 / T1 of the spec, int32 aside). */
export const QUANT_TYPES: readonly DType[] = [
  'int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4', 'int2', 'uint2',
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float4e2m1',
];
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
    case 'uint4': return [0, 15];
    case 'int2': return [-2, 1];
    case 'uint2': return [0, 3];
    case 'int16': return [-32768, 32767];
    case 'uint16': return [0, 65535];
    case 'int32': return [-(2 ** 31), 2 ** 31 - 1];
    case 'uint32': return [0, 2 ** 32 - 1];
    // The 64-bit ranges as the nearest doubles (2^63 and 2^64 themselves): for clamping float64 values.
    case 'int64': return [-(2 ** 63), 2 ** 63];
    case 'uint64': return [0, 2 ** 64];
    default: throw new Error(`no integer range for ${dtype}`);
  }
}

/** Wraps integer results like the typed array of dtype (two's complement). */
export function wrapInt(dtype: DType, x: number): number {
  switch (dtype) {
    case 'int8': return (x << 24) >> 24;
    case 'uint8': return x & 0xff;
    case 'int16': return (x << 16) >> 16;
    case 'uint16': return x & 0xffff;
    case 'int32': return x | 0;
    case 'uint32': return x >>> 0;
    default: return x;
  }
}
