// Sparse kernels over Kiln's CSR layout (src/tensor/sparse-csr.ts) after a one-time repack that
// only narrows column indices to u16 when the matrix has at most 65536 columns (idx16 = 1), which
// cuts the index traffic in half, or, up to 4096 columns, stores u16 byte offsets (column * 4,
// idx16 = 2). Values are f32, or int8 with an f32 scale per row (or per tensor).
//
// With byte offsets SpMV reads x from a static buffer (SPMV_X, filled by spmvStageX) whose address
// is a constant: the offset is the whole address arithmetic (the buffer is the load's immediate),
// and four offsets come in one i64 load. That leaves 12 loads per 8 non-zeros instead of 18, and
// loads are what bounds this kernel on x86 (about 11% faster at 1024x1024, 90% zeros).
//
// SpMV y = A x: WASM SIMD has no gather, so 4 nonzeros at a time build one x vector with
// v128.load32_lane (one instruction each) and meet 4 contiguous values in a multiply-add; two
// accumulators hide the add latency. SpMM C = A B (B dense, row-major): each nonzero broadcasts
// into up to 8 vectors of one B row, so there is no gather at all. spmvBsr4 runs 4x1 blocks (4 output
// rows by one column) with a broadcast of x instead of a gather.
// The 2:4 structured kernels live in sparse_nm.ts.

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function colAt(colIdx: usize, k: i32, idx16: bool): usize {
  return idx16 ? <usize>load<u16>(colIdx + (<usize>k << 1)) : <usize>load<i32>(colIdx + (<usize>k << 2));
}

// Column indices and values are read from a pointer that advances, with literal offsets that V8
// folds into the loads (AssemblyScript needs literals there, hence the spelled-out variants).
@inline function i0(p: usize, idx16: bool): usize { return idx16 ? <usize>load<u16>(p) : <usize>load<i32>(p); }
@inline function i1(p: usize, idx16: bool): usize { return idx16 ? <usize>load<u16>(p, 2) : <usize>load<i32>(p, 4); }
@inline function i2(p: usize, idx16: bool): usize { return idx16 ? <usize>load<u16>(p, 4) : <usize>load<i32>(p, 8); }
@inline function i3(p: usize, idx16: bool): usize { return idx16 ? <usize>load<u16>(p, 6) : <usize>load<i32>(p, 12); }
@inline function i4(p: usize, idx16: bool): usize { return idx16 ? <usize>load<u16>(p, 8) : <usize>load<i32>(p, 16); }
@inline function i5(p: usize, idx16: bool): usize { return idx16 ? <usize>load<u16>(p, 10) : <usize>load<i32>(p, 20); }
@inline function i6(p: usize, idx16: bool): usize { return idx16 ? <usize>load<u16>(p, 12) : <usize>load<i32>(p, 24); }
@inline function i7(p: usize, idx16: bool): usize { return idx16 ? <usize>load<u16>(p, 14) : <usize>load<i32>(p, 28); }

/** x at the column indices 0..3 of the run at p, as one vector. */
@inline function gatherLo(x: usize, p: usize, idx16: bool): v128 {
  let v = v128.load32_zero(x + (i0(p, idx16) << 2));
  v = v128.load32_lane(x + (i1(p, idx16) << 2), v, 1);
  v = v128.load32_lane(x + (i2(p, idx16) << 2), v, 2);
  return v128.load32_lane(x + (i3(p, idx16) << 2), v, 3);
}

/** x at the column indices 4..7 of the run at p. */
@inline function gatherHi(x: usize, p: usize, idx16: bool): v128 {
  let v = v128.load32_zero(x + (i4(p, idx16) << 2));
  v = v128.load32_lane(x + (i5(p, idx16) << 2), v, 1);
  v = v128.load32_lane(x + (i6(p, idx16) << 2), v, 2);
  return v128.load32_lane(x + (i7(p, idx16) << 2), v, 3);
}

@inline function i8ToF32(v: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v)));
}

/** Values 0..3 / 4..7 of the run at p as f32. */
@inline function valsLo(p: usize, int8: bool): v128 {
  return int8 ? i8ToF32(v128.load32_zero(p)) : v128.load(p);
}
@inline function valsHi(p: usize, int8: bool): v128 {
  return int8 ? i8ToF32(v128.load32_zero(p, 4)) : v128.load(p, 16);
}

/**
 * x for SpMV with byte offsets (idx16 = 2), at a constant address. 4096 floats (16 KiB) keep the
 * module's static data inside the one initial page the loaders give it; wider matrices use u16
 * column indices (at 4096 columns x no longer stays in L1 anyway, and DRAM bounds the kernel).
 */
const SPMV_X_FLOATS: i32 = 4096;
const SPMV_X: usize = memory.data(SPMV_X_FLOATS << 2, 64);

/** Copies x (K <= 4096 floats) to the buffer spmvCsr reads with idx16 = 2; call before those runs. */
export function spmvStageX(x: usize, K: i32): void {
  memory.copy(SPMV_X, x, <usize>min(K, SPMV_X_FLOATS) << 2);
}

/** x at the 4 byte offsets packed in w (u16 each). */
@inline function gatherStaged(w: u64): v128 {
  let v = v128.load32_zero(<usize>(<u32>w & 0xffff), SPMV_X);
  v = v128.load32_lane(<usize>(<u32>w >> 16), v, 1, SPMV_X);
  v = v128.load32_lane(<usize>(<u32>(w >> 32) & 0xffff), v, 2, SPMV_X);
  return v128.load32_lane(<usize>(w >> 48), v, 3, SPMV_X);
}

@inline function hsum(v: v128): f32 {
  const t = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1);
}

/**
 * y[r] = scale_r * sum_k vals[k] * x[col[k]] for rows [r0, r1). valKind 0: f32 values (scale
 * ignored); 1: int8 values, f32 scale per row when scalePerRow else scales[0]. idx16 2: colIdx
 * holds u16 byte offsets and x is not read: spmvStageX must have copied it to SPMV_X.
 */
export function spmvCsr(
  rowPtr: usize, colIdx: usize, vals: usize, valKind: i32, scales: usize, scalePerRow: i32,
  x: usize, y: usize, r0: i32, r1: i32, idx16: i32,
): void {
  // Every combination gets its own loop so no flag is tested per nonzero (V8 does not unswitch).
  if (idx16 == 2) {
    if (valKind == 0) for (let r = r0; r < r1; r++) spmvRowStaged(rowPtr, colIdx, vals, false, scales, scalePerRow, y, r);
    else for (let r = r0; r < r1; r++) spmvRowStaged(rowPtr, colIdx, vals, true, scales, scalePerRow, y, r);
  } else if (idx16) {
    if (valKind == 0) for (let r = r0; r < r1; r++) spmvRow(rowPtr, colIdx, vals, false, scales, scalePerRow, x, y, r, true);
    else for (let r = r0; r < r1; r++) spmvRow(rowPtr, colIdx, vals, true, scales, scalePerRow, x, y, r, true);
  } else {
    if (valKind == 0) for (let r = r0; r < r1; r++) spmvRow(rowPtr, colIdx, vals, false, scales, scalePerRow, x, y, r, false);
    else for (let r = r0; r < r1; r++) spmvRow(rowPtr, colIdx, vals, true, scales, scalePerRow, x, y, r, false);
  }
}

@inline function spmvRow(
  rowPtr: usize, colIdx: usize, vals: usize, int8: bool, scales: usize, scalePerRow: i32,
  x: usize, y: usize, r: i32, i16: bool,
): void {
  const k0 = load<i32>(rowPtr + (<usize>r << 2));
  const k1 = load<i32>(rowPtr + (<usize>r << 2), 4);
  let a0 = f32x4.splat(0), a1 = a0;
  let k = k0;
  let tail: f32 = 0;
  // Pointers advance instead of recomputing addresses from k, so the lane offsets are immediates.
  let pi = colIdx + (<usize>k << (i16 ? 1 : 2));
  let pv = vals + (<usize>k << (int8 ? 0 : 2));
  const stepI: usize = i16 ? 16 : 32;
  const stepV: usize = int8 ? 8 : 32;
  for (; k + 8 <= k1; k += 8) {
    a0 = fma(valsLo(pv, int8), gatherLo(x, pi, i16), a0);
    a1 = fma(valsHi(pv, int8), gatherHi(x, pi, i16), a1);
    pi += stepI;
    pv += stepV;
  }
  if (k + 4 <= k1) {
    a0 = fma(valsLo(pv, int8), gatherLo(x, pi, i16), a0);
    k += 4;
  }
  for (; k < k1; k++) tail += valueAt(vals, k, int8 ? 1 : 0) * load<f32>(x + (colAt(colIdx, k, i16) << 2));
  let v = hsum(f32x4.add(a0, a1)) + tail;
  if (int8) v *= load<f32>(scales + (scalePerRow ? <usize>r << 2 : 0));
  store<f32>(y + (<usize>r << 2), v);
}

@inline function spmvRowStaged(
  rowPtr: usize, offs: usize, vals: usize, int8: bool, scales: usize, scalePerRow: i32, y: usize, r: i32,
): void {
  const k0 = load<i32>(rowPtr + (<usize>r << 2));
  const k1 = load<i32>(rowPtr + (<usize>r << 2), 4);
  let a0 = f32x4.splat(0), a1 = a0;
  let k = k0;
  let tail: f32 = 0;
  let pi = offs + (<usize>k << 1);
  let pv = vals + (<usize>k << (int8 ? 0 : 2));
  const stepV: usize = int8 ? 8 : 32;
  for (; k + 8 <= k1; k += 8) {
    a0 = fma(valsLo(pv, int8), gatherStaged(load<u64>(pi)), a0);
    a1 = fma(valsHi(pv, int8), gatherStaged(load<u64>(pi, 8)), a1);
    pi += 16;
    pv += stepV;
  }
  if (k + 4 <= k1) {
    a0 = fma(valsLo(pv, int8), gatherStaged(load<u64>(pi)), a0);
    k += 4;
  }
  for (; k < k1; k++) tail += valueAt(vals, k, int8 ? 1 : 0) * load<f32>(<usize>load<u16>(offs + (<usize>k << 1)), SPMV_X);
  let v = hsum(f32x4.add(a0, a1)) + tail;
  if (int8) v *= load<f32>(scales + (scalePerRow ? <usize>r << 2 : 0));
  store<f32>(y + (<usize>r << 2), v);
}

/**
 * C[r, n] = scale_r * sum_k vals[k] * B[col[k], n] for rows [r0, r1), columns [n0, n1): A sparse
 * (CSR), B dense row-major (ldb floats per row), C row-major (ldc floats). valKind as in spmvCsr;
 * idx16 2 (byte offsets, column * 4) reaches B's row at offset * ldb bytes.
 */
export function spmmCsr(
  rowPtr: usize, colIdx: usize, vals: usize, valKind: i32, scales: usize, scalePerRow: i32,
  B: usize, ldb: i32, C: usize, ldc: i32, r0: i32, r1: i32, n0: i32, n1: i32, idx16: i32,
): void {
  // Bytes from one B row to the next per unit of the stored index (a byte offset is 4 units a column).
  const ldbB: usize = idx16 == 2 ? <usize>ldb : <usize>ldb << 2;
  if (idx16) {
    if (valKind == 0) spmmRows(rowPtr, colIdx, vals, 0, scales, scalePerRow, B, ldbB, C, ldc, r0, r1, n0, n1, true);
    else spmmRows(rowPtr, colIdx, vals, 1, scales, scalePerRow, B, ldbB, C, ldc, r0, r1, n0, n1, true);
  } else {
    if (valKind == 0) spmmRows(rowPtr, colIdx, vals, 0, scales, scalePerRow, B, ldbB, C, ldc, r0, r1, n0, n1, false);
    else spmmRows(rowPtr, colIdx, vals, 1, scales, scalePerRow, B, ldbB, C, ldc, r0, r1, n0, n1, false);
  }
}

@inline function spmmRows(
  rowPtr: usize, colIdx: usize, vals: usize, valKind: i32, scales: usize, scalePerRow: i32,
  B: usize, ldbB: usize, C: usize, ldc: i32, r0: i32, r1: i32, n0: i32, n1: i32, i16: bool,
): void {
  for (let r = r0; r < r1; r++) {
    const k0 = load<i32>(rowPtr + (<usize>r << 2));
    const k1 = load<i32>(rowPtr + (<usize>r << 2), 4);
    const s: f32 = valKind == 0 ? 1 : load<f32>(scales + (scalePerRow ? <usize>r << 2 : 0));
    const crow = C + <usize>r * (<usize>ldc << 2);
    let n = n0;
    // 32 columns (8 accumulators) at a time, then 4, then single columns.
    for (; n + 32 <= n1; n += 32) {
      let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
      const bn = B + (<usize>n << 2);
      for (let k = k0; k < k1; k++) {
        const v = f32x4.splat(valueAt(vals, k, valKind));
        const b = bn + colAt(colIdx, k, i16) * ldbB;
        c0 = fma(v, v128.load(b), c0);
        c1 = fma(v, v128.load(b, 16), c1);
        c2 = fma(v, v128.load(b, 32), c2);
        c3 = fma(v, v128.load(b, 48), c3);
        c4 = fma(v, v128.load(b, 64), c4);
        c5 = fma(v, v128.load(b, 80), c5);
        c6 = fma(v, v128.load(b, 96), c6);
        c7 = fma(v, v128.load(b, 112), c7);
      }
      const sv = f32x4.splat(s);
      const p = crow + (<usize>n << 2);
      v128.store(p, f32x4.mul(c0, sv));
      v128.store(p, f32x4.mul(c1, sv), 16);
      v128.store(p, f32x4.mul(c2, sv), 32);
      v128.store(p, f32x4.mul(c3, sv), 48);
      v128.store(p, f32x4.mul(c4, sv), 64);
      v128.store(p, f32x4.mul(c5, sv), 80);
      v128.store(p, f32x4.mul(c6, sv), 96);
      v128.store(p, f32x4.mul(c7, sv), 112);
    }
    for (; n + 4 <= n1; n += 4) {
      let c0 = f32x4.splat(0);
      const bn = B + (<usize>n << 2);
      for (let k = k0; k < k1; k++) {
        c0 = fma(f32x4.splat(valueAt(vals, k, valKind)), v128.load(bn + colAt(colIdx, k, i16) * ldbB), c0);
      }
      v128.store(crow + (<usize>n << 2), f32x4.mul(c0, f32x4.splat(s)));
    }
    for (; n < n1; n++) {
      let c: f32 = 0;
      const bn = B + (<usize>n << 2);
      for (let k = k0; k < k1; k++) c += valueAt(vals, k, valKind) * load<f32>(bn + colAt(colIdx, k, i16) * ldbB);
      store<f32>(crow + (<usize>n << 2), c * s);
    }
  }
}

@inline function valueAt(vals: usize, k: i32, valKind: i32): f32 {
  return valKind == 0 ? load<f32>(vals + (<usize>k << 2)) : <f32>load<i8>(vals + <usize>k);
}

/**
 * y = W x for W in 4x1 blocks: each group of 4 output rows keeps the columns where any of its rows
 * has a non-zero, one block per such column (u16 column when idx16, else i32; 4 f32 values, the
 * group's rows in order, zeros included). A block costs one broadcast load of x, one value load and
 * one multiply-add with no lane gathering, so it beats CSR when blocks are well filled (block-
 * pruned weights) and stays close to it on unstructured ones (0.86 blocks per non-zero at 90%).
 * Groups [g0, g1); rows at or past N (the padding of the last group) are not written.
 */
export function spmvBsr4(blkPtr: usize, blkCol: usize, vals: usize, x: usize, y: usize, N: i32, g0: i32, g1: i32, idx16: i32): void {
  if (idx16) for (let g = g0; g < g1; g++) bsr4Group(blkPtr, blkCol, vals, x, y, N, g, true);
  else for (let g = g0; g < g1; g++) bsr4Group(blkPtr, blkCol, vals, x, y, N, g, false);
}

@inline function bsr4Group(blkPtr: usize, blkCol: usize, vals: usize, x: usize, y: usize, N: i32, g: i32, i16: bool): void {
  const s0 = load<i32>(blkPtr + (<usize>g << 2));
  const s1 = load<i32>(blkPtr + (<usize>g << 2), 4);
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let pi = blkCol + (<usize>s0 << (i16 ? 1 : 2));
  let pv = vals + (<usize>s0 << 4);
  const stepI: usize = i16 ? 8 : 16;
  let s = s0;
  // Four accumulators: consecutive blocks never wait on each other's multiply-add.
  for (; s + 4 <= s1; s += 4) {
    a0 = fma(v128.load(pv), v128.load32_splat(x + (i0(pi, i16) << 2)), a0);
    a1 = fma(v128.load(pv, 16), v128.load32_splat(x + (i1(pi, i16) << 2)), a1);
    a2 = fma(v128.load(pv, 32), v128.load32_splat(x + (i2(pi, i16) << 2)), a2);
    a3 = fma(v128.load(pv, 48), v128.load32_splat(x + (i3(pi, i16) << 2)), a3);
    pi += stepI;
    pv += 64;
  }
  for (; s < s1; s++) {
    a0 = fma(v128.load(pv), v128.load32_splat(x + (i0(pi, i16) << 2)), a0);
    pi += i16 ? 2 : 4;
    pv += 16;
  }
  const r = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  const r0 = g << 2;
  const yp = y + (<usize>r0 << 2);
  if (r0 + 4 <= N) {
    v128.store(yp, r);
    return;
  }
  store<f32>(yp, f32x4.extract_lane(r, 0));
  if (r0 + 1 < N) store<f32>(yp, f32x4.extract_lane(r, 1), 4);
  if (r0 + 2 < N) store<f32>(yp, f32x4.extract_lane(r, 2), 8);
}
