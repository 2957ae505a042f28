// Data movement for any element size (1, 2, 4 or 8 bytes), bit for bit: one strided copy serves
// Transpose, Slice, Concat, Split, Expand, Tile and Pad's interior; gatherRows serves Gather with
// indices only known at run time. Descriptors are written by src/backends/wasm/kernels/movement.ts.
import { descDim, descOuterOffset, descRank, descStride } from './strided';

@inline function copyRow<T>(src: usize, dst: usize, n: i32, ss: i32, ds: i32): void {
  const size = <isize>sizeof<T>();
  if (ss == 1 && ds == 1) {
    memory.copy(dst, src, <usize>n * <usize>size);
    return;
  }
  if (ss == 0) {
    const v = load<T>(src);
    for (let i = 0; i < n; i++) store<T>(dst + <usize>(<isize>(i * ds) * size), v);
    return;
  }
  for (let i = 0; i < n; i++) store<T>(dst + <usize>(<isize>(i * ds) * size), load<T>(src + <usize>(<isize>(i * ss) * size)));
}

function copyRows<T>(src: usize, dst: usize, desc: usize, o0: i32, o1: i32): void {
  const size = <isize>sizeof<T>();
  const rank = descRank(desc);
  const n = descDim(desc, rank - 1);
  const ss = descStride(desc, rank, 0, rank - 1);
  const ds = descStride(desc, rank, 1, rank - 1);
  if (rank == 1) {
    if (o0 < o1) copyRow<T>(src, dst, n, ss, ds);
    return;
  }
  const rows = descDim(desc, rank - 2);
  const rs = descStride(desc, rank, 0, rank - 2);
  const rd = descStride(desc, rank, 1, rank - 2);
  let o = o0;
  while (o < o1) {
    const q = o / rows;
    let j = o % rows;
    let offS = descOuterOffset(desc, rank, 0, q) + j * rs;
    let offD = descOuterOffset(desc, rank, 1, q) + j * rd;
    for (; j < rows && o < o1; j++, o++) {
      copyRow<T>(src + <usize>(<isize>offS * size), dst + <usize>(<isize>offD * size), n, ss, ds);
      offS += rs;
      offD += rd;
    }
  }
}

/**
 * dst[offsets of operand 1] = src[offsets of operand 0] over the descriptor's dims, rows [o0, o1)
 * (a row = all dims but the innermost). Strides in elements; negative source strides walk
 * backwards (Slice with negative steps); a zero source stride repeats (Expand).
 */
export function copyStrided(elemSize: i32, src: usize, dst: usize, desc: usize, o0: i32, o1: i32): void {
  switch (elemSize) {
    case 1: copyRows<u8>(src, dst, desc, o0, o1); break;
    case 2: copyRows<u16>(src, dst, desc, o0, o1); break;
    case 4: copyRows<u32>(src, dst, desc, o0, o1); break;
    case 8: copyRows<u64>(src, dst, desc, o0, o1); break;
    default: unreachable();
  }
}

/**
 * Gather along an axis: data viewed as [outer, axisLen, inner] (inner in bytes), indices of
 * i32 (idx64 = 0) or i64, output [outer, nIdx, inner], outer indices [o0, o1). Negative indices
 * count from the end. Returns 0, or 1 + the position of the first out-of-range index (nothing
 * is read out of bounds).
 */
export function gatherRows(
  src: usize, idx: usize, idx64: i32, dst: usize, axisLen: i32, nIdx: i32, innerBytes: i32, o0: i32, o1: i32,
): i32 {
  // Validate first so an error leaves no half-written output behind.
  for (let j = 0; j < nIdx; j++) {
    const k: i64 = idx64 ? load<i64>(idx + (<usize>j << 3)) : <i64>load<i32>(idx + (<usize>j << 2));
    if (k < -<i64>axisLen || k >= <i64>axisLen) return j + 1;
  }
  const inner = <usize>innerBytes;
  for (let o = o0; o < o1; o++) {
    const so = src + <usize>o * <usize>axisLen * inner;
    const dOut = dst + <usize>o * <usize>nIdx * inner;
    for (let j = 0; j < nIdx; j++) {
      let k = idx64 ? <i32>load<i64>(idx + (<usize>j << 3)) : load<i32>(idx + (<usize>j << 2));
      if (k < 0) k += axisLen;
      memory.copy(dOut + <usize>j * inner, so + <usize>k * inner, inner);
    }
  }
  return 0;
}
