// Stride descriptors for the broadcasting and copying kernels (assembly/strided.ts reads them):
// i32 words [rank, dims[rank], strides of operand 0[rank], strides of operand 1[rank], ...],
// strides in elements. Built once at plan time; dims are collapsed first so kernels walk as few
// and as long rows as possible.
import { stridesOf } from '../../../tensor/shape.js';

/** A walk over `dims` with one stride list per operand (elements, may be 0 or negative). */
export interface StridedWalk {
  dims: number[];
  strides: number[][];
}

/** Strides that read a contiguous tensor of `inDims` broadcast (numpy rules) to `outDims`. */
export function broadcastStrides(inDims: readonly number[], outDims: readonly number[]): number[] {
  const own = stridesOf(inDims);
  const shift = outDims.length - inDims.length;
  if (shift < 0) throw new Error(`cannot broadcast [${inDims.join(', ')}] to [${outDims.join(', ')}]`);
  return outDims.map((d, i) => {
    const k = i - shift;
    if (k < 0) return 0;
    const n = inDims[k]!;
    if (n === d) return n === 1 ? 0 : own[k]!;
    if (n === 1) return 0;
    throw new Error(`cannot broadcast [${inDims.join(', ')}] to [${outDims.join(', ')}]`);
  });
}

/**
 * Drops size-1 dims and merges neighbours that every operand walks contiguously (outer stride =
 * inner stride * inner size; broadcast 0s merge with 0s). The result has rank >= 1.
 */
export function collapseWalk(walk: StridedWalk): StridedWalk {
  const ops = walk.strides.length;
  const dims: number[] = [];
  const strides: number[][] = Array.from({ length: ops }, () => []);
  for (let d = walk.dims.length - 1; d >= 0; d--) {
    const n = walk.dims[d]!;
    if (n === 1) continue;
    // dims[0] is the outermost group so far; d sits just outside it.
    if (dims.length > 0 && walk.strides.every((s, k) => s[d] === strides[k]![0]! * dims[0]!)) {
      dims[0] = dims[0]! * n;
    } else {
      dims.unshift(n);
      walk.strides.forEach((s, k) => strides[k]!.unshift(s[d]!));
    }
  }
  if (dims.length === 0) return { dims: [1], strides: walk.strides.map(() => [0]) };
  return { dims, strides };
}

/** The i32 words of a walk's descriptor. */
export function walkDescriptor(walk: StridedWalk): Int32Array {
  const rank = walk.dims.length;
  const words = new Int32Array(1 + rank * (1 + walk.strides.length));
  words[0] = rank;
  words.set(walk.dims, 1);
  walk.strides.forEach((s, k) => words.set(s, 1 + rank * (1 + k)));
  return words;
}

/** Rows of a walk: every dim but the innermost (the range kernels split over threads). */
export function walkRows(walk: StridedWalk): number {
  let rows = 1;
  for (let i = 0; i < walk.dims.length - 1; i++) rows *= walk.dims[i]!;
  return rows;
}

/** Elements of dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * A broadcasting walk over `outDims` for inputs of the given dims (output contiguous, not an
 * operand). Innermost strides come out as 0 or 1, as the elementwise kernels require.
 */
export function broadcastWalk(outDims: readonly number[], inputs: readonly (readonly number[])[]): StridedWalk {
  return collapseWalk({ dims: [...outDims], strides: inputs.map((d) => broadcastStrides(d, outDims)) });
}

/** Where several walk descriptors sit in a kernel's persistent memory (each 16-byte aligned). */
export interface DescriptorLayout {
  offsets: number[];
  bytes: number;
  /** Writes every descriptor at `base` + its offset (a PreparedKernel's init). */
  write(mem: { i32(ptr: number, length: number): Int32Array }, base: number): void;
}

export function layoutDescriptors(descs: readonly Int32Array[]): DescriptorLayout {
  const offsets: number[] = [];
  let bytes = 0;
  for (const d of descs) {
    offsets.push(bytes);
    bytes += Math.ceil((d.length * 4) / 16) * 16;
  }
  return { offsets, bytes, write: (mem, base) => descs.forEach((d, i) => mem.i32(base + offsets[i]!, d.length).set(d)) };
}
