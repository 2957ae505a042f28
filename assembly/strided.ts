// Reading the broadcast/stride descriptors the JS side writes at plan time (not exported from the
// module). Layout, i32: [rank, dims[rank], strides of operand 0[rank], strides of operand 1[rank],
// ...], strides in elements (negative allowed: reversed slices).

@inline export function descRank(desc: usize): i32 {
  return load<i32>(desc);
}

@inline export function descDim(desc: usize, d: i32): i32 {
  return load<i32>(desc + (<usize>(1 + d) << 2));
}

@inline export function descStride(desc: usize, rank: i32, operand: i32, d: i32): i32 {
  return load<i32>(desc + (<usize>(1 + rank * (1 + operand) + d) << 2));
}

/**
 * Element offset of `operand` at outer coordinate q over dims[0 .. rank-3]. Rows walk the last
 * two dims incrementally; only the dims above them need this division loop, once per block.
 */
export function descOuterOffset(desc: usize, rank: i32, operand: i32, q: i32): i32 {
  let off = 0;
  for (let d = rank - 3; d >= 0; d--) {
    const n = descDim(desc, d);
    off += (q % n) * descStride(desc, rank, operand, d);
    q /= n;
  }
  return off;
}
