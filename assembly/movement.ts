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

/**
 * Four destination rows of n elements, row r reading source column r (source stride ss between
 * columns' elements, destination stride rd between rows), 4x4 tiles transposed in registers.
 */
function transpose4Rows(src: usize, dst: usize, n: i32, ss: i32, rd: i32): void {
  const sStep = <usize>(<isize>ss << 2);
  const dRow = <usize>(<isize>rd << 2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = src + <usize>(<isize>(i * ss) << 2);
    const v0 = v128.load(p);
    const v1 = v128.load(p + sStep);
    const v2 = v128.load(p + 2 * sStep);
    const v3 = v128.load(p + 3 * sStep);
    const t0 = v128.shuffle<u32>(v0, v1, 0, 4, 1, 5);
    const t1 = v128.shuffle<u32>(v0, v1, 2, 6, 3, 7);
    const t2 = v128.shuffle<u32>(v2, v3, 0, 4, 1, 5);
    const t3 = v128.shuffle<u32>(v2, v3, 2, 6, 3, 7);
    const d = dst + (<usize>i << 2);
    v128.store(d, v128.shuffle<u32>(t0, t2, 0, 1, 4, 5));
    v128.store(d + dRow, v128.shuffle<u32>(t0, t2, 2, 3, 6, 7));
    v128.store(d + 2 * dRow, v128.shuffle<u32>(t1, t3, 0, 1, 4, 5));
    v128.store(d + 3 * dRow, v128.shuffle<u32>(t1, t3, 2, 3, 6, 7));
  }
  for (; i < n; i++) {
    const p = src + <usize>(<isize>(i * ss) << 2);
    const d = dst + (<usize>i << 2);
    store<u32>(d, load<u32>(p));
    store<u32>(d + dRow, load<u32>(p, 4));
    store<u32>(d + 2 * dRow, load<u32>(p, 8));
    store<u32>(d + 3 * dRow, load<u32>(p, 12));
  }
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
  // A 2-D transpose in the last two dims (rows contiguous in the source, columns contiguous in
  // the destination) of 4-byte elements goes through 4x4 register transposes.
  const tiled = sizeof<T>() == 4 && rs == 1 && ds == 1 && ss != 0 && ss != 1;
  let o = o0;
  while (o < o1) {
    const q = o / rows;
    let j = o % rows;
    let offS = descOuterOffset(desc, rank, 0, q) + j * rs;
    let offD = descOuterOffset(desc, rank, 1, q) + j * rd;
    if (tiled) {
      for (; j + 4 <= rows && o + 4 <= o1; j += 4, o += 4) {
        transpose4Rows(src + <usize>(<isize>offS * size), dst + <usize>(<isize>offD * size), n, ss, rd);
        offS += 4 * rs;
        offD += 4 * rd;
      }
    }
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
