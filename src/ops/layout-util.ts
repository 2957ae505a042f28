// Helpers for ops that move elements without computing on them (reshape, layout, generators).
// Elements are copied as raw typed-array values, never through float64, so int64 stays exact
// and float16 bit patterns (NaN payloads, -0) survive.
import type { DType, TensorData } from '../tensor/dtype.js';
import { allocData, packedBits } from '../tensor/dtype.js';
import { readBits, toIntList, writeBits } from '../tensor/convert.js';
import { MAX_RANK, sizeOfDims, stridesOf, type Dim, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { InferContext } from './registry.js';

/**
 * One raw element: bigint for int64/uint64, the bit pattern for packed dtypes (int4, uint4,
 * float4e2m1, int2, uint2) and float8, the typed-array value otherwise.
 */
export type Scalar = number | bigint;

/** Index access shared by every non-packed backing array; each array only ever receives values of its own kind. */
type Elements = { [i: number]: Scalar; length: number };

export function elementAt(t: Tensor, i: number): Scalar {
  const bits = packedBits(t.type);
  if (bits !== 0) return readBits(t.data as Uint8Array, i, bits);
  return (t.data as Elements)[i]!;
}

/** Zero of a dtype in its raw representation (every dtype's zero is the all-zero pattern). */
export function zeroOf(dtype: DType): Scalar {
  return dtype === 'int64' || dtype === 'uint64' ? 0n : 0;
}

/** Carries per-tensor quantization through ops that only move elements (per-axis would need remapping). */
export function keepQuant<T extends Tensor>(src: Tensor, out: T): T {
  if (src.quant && src.quant.axis === undefined) out.quant = src.quant;
  return out;
}

/**
 * A tensor of src's dtype whose element i is src's element idx[i], or `fill` where idx[i] < 0.
 * Every gather-like op reduces to building such an index map.
 */
export function takeElements(src: Tensor, idx: Int32Array, dims: readonly number[], fill?: Scalar): Tensor {
  const n = idx.length;
  const out = allocData(src.type, n);
  const pad = fill ?? zeroOf(src.type);
  const bits = packedBits(src.type);
  if (bits !== 0) {
    const s = src.data as Uint8Array;
    const o = out as Uint8Array;
    for (let i = 0; i < n; i++) {
      const k = idx[i]!;
      writeBits(o, i, bits, k < 0 ? Number(pad) : readBits(s, k, bits));
    }
  } else {
    const s = src.data as Elements;
    const o = out as Elements;
    for (let i = 0; i < n; i++) {
      const k = idx[i]!;
      o[i] = k < 0 ? pad : s[k]!;
    }
  }
  return keepQuant(src, new Tensor(src.type, out, dims));
}

/** Copies `count` consecutive elements from src[srcOff..] into dst[dstOff..] (same dtype). */
export function copyRun(dtype: DType, dst: TensorData, dstOff: number, src: TensorData, srcOff: number, count: number): void {
  if (count <= 0) return;
  const bits = packedBits(dtype);
  if (bits !== 0) {
    for (let i = 0; i < count; i++) writeBits(dst as Uint8Array, dstOff + i, bits, readBits(src as Uint8Array, srcOff + i, bits));
    return;
  }
  // Both arrays have the same concrete type at run time; the cast only satisfies the union's `set` signature.
  (dst as Float32Array).set((src as Float32Array).subarray(srcOff, srcOff + count), dstOff);
}

/** A tensor with the same elements and new dims (a copy, so outputs never alias inputs). */
export function reshaped(t: Tensor, dims: readonly number[]): Tensor {
  return keepQuant(t, new Tensor(t.type, t.data.slice() as TensorData, dims));
}

/** A tensor filled with one raw value. */
export function filled(dtype: DType, dims: readonly number[], value: Scalar): Tensor {
  const n = sizeOfDims(dims);
  const out = allocData(dtype, n);
  const bits = packedBits(dtype);
  if (bits !== 0) for (let i = 0; i < n; i++) writeBits(out as Uint8Array, i, bits, Number(value));
  else (out as { fill(v: Scalar): unknown }).fill(value);
  return new Tensor(dtype, out, dims);
}

/**
 * Per output axis, the source offset contributed by each coordinate along that axis
 * (-Infinity marks a position outside the source, e.g. padding).
 */
export function axisOffsets(count: number, stride: number, coordOf: (c: number) => number): Float64Array {
  const a = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    const s = coordOf(c);
    a[c] = s < 0 ? -Infinity : s * stride;
  }
  return a;
}

/**
 * Flat source index of every output element, summing per-axis offsets (row-major odometer).
 * Positions whose offset is -Infinity on any axis map to -1.
 */
export function indexFromOffsets(outDims: readonly number[], offsets: readonly Float64Array[], base = 0): Int32Array {
  const rank = outDims.length;
  const size = sizeOfDims(outDims);
  const out = new Int32Array(size);
  if (size === 0) return out;
  if (rank === 0) {
    out[0] = base;
    return out;
  }
  const partial = new Float64Array(rank);
  const coord = new Int32Array(rank);
  partial[0] = base;
  for (let d = 0; d + 1 < rank; d++) partial[d + 1] = partial[d]! + offsets[d]![0]!;
  const last = rank - 1;
  const lastOff = offsets[last]!;
  const n = outDims[last]!;
  let o = 0;
  for (;;) {
    const b = partial[last]!;
    for (let c = 0; c < n; c++) {
      const v = b + lastOff[c]!;
      out[o++] = v >= 0 ? v : -1;
    }
    let d = last - 1;
    while (d >= 0) {
      if (++coord[d]! < outDims[d]!) break;
      coord[d] = 0;
      d--;
    }
    if (d < 0) break;
    for (let k = d; k < last; k++) partial[k + 1] = partial[k]! + offsets[k]![coord[k]!]!;
  }
  return out;
}

/** Permutes axes of raw data laid out with `dims` (Transpose, DepthToSpace, SpaceToDepth). */
export function transposeIndex(dims: readonly number[], perm: readonly number[]): Int32Array {
  const strides = stridesOf(dims);
  const outDims = perm.map((p) => dims[p]!);
  return indexFromOffsets(outDims, perm.map((p, d) => axisOffsets(outDims[d]!, strides[p]!, (c) => c)));
}

/** The integer values of input i when known at compile time. */
export function constInts(ctx: InferContext, i: number): number[] | undefined {
  const t = ctx.constant(i);
  return t ? toIntList(t) : undefined;
}

/** Length of a 1-D input whose values are unknown but whose shape is, e.g. an axes list. */
export function knownLength(ctx: InferContext, i: number): number | undefined {
  const s = ctx.inputs[i]?.shape;
  if (!s) return undefined;
  if (s.length === 0) return 1;
  const n = s[0];
  if (s.length !== 1 || typeof n !== 'number') return undefined;
  // Callers turn this length into a rank or an axis count (Reshape's shape, Unsqueeze's axes):
  // a declared length of 10^9 would otherwise build a shape array of 10^9 entries.
  if (n > MAX_RANK) throw new Error(`${ctx.where}: input ${i} declares ${n} entries, more axes than the ${MAX_RANK} Kiln supports`);
  return n;
}

/** A product of dims split into its known factor and the symbols it contains. */
export interface DimProduct {
  known: number;
  symbols: string[];
}

export function dimProduct(dims: Shape): DimProduct {
  let known = 1;
  const symbols: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') known *= d;
    else symbols.push(d);
  }
  return { known, symbols };
}

/** A product as a single dim when that is possible (all known, or exactly one symbol times 1). */
export function productDim(dims: Shape, unknownDim: () => Dim): Dim {
  const p = dimProduct(dims);
  if (p.known === 0) return 0;
  if (p.symbols.length === 0) return p.known;
  if (p.symbols.length === 1 && p.known === 1) return p.symbols[0]!;
  return unknownDim();
}

/** Normalizes a list of axes against rank, rejecting out-of-range and repeated axes. */
export function normalizeAxes(axes: readonly number[], rank: number, where: string, what = 'axis'): number[] {
  const seen = new Set<number>();
  return axes.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= rank) throw new Error(`${where}: ${what} ${a} is out of range for rank ${rank}`);
    if (seen.has(n)) throw new Error(`${where}: ${what} ${a} is repeated`);
    seen.add(n);
    return n;
  });
}

/** Normalizes one axis with the ctx prefix in the error. */
export function axisIn(axis: number, rank: number, where: string, what = 'axis'): number {
  return normalizeAxes([axis], rank, where, what)[0]!;
}

/** Concrete dims of a type, or undefined when any is symbolic. */
export function concreteDims(shape: Shape | undefined): number[] | undefined {
  return shape && shape.every((d): d is number => typeof d === 'number') ? [...shape] : undefined;
}
