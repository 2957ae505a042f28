// Sparse kernels over Kiln's CSR layout (src/tensor/sparse-csr.ts) after a one-time repack that
// only narrows column indices to u16 when the matrix has at most 65536 columns (idx16 = 1), which
// cuts the index traffic in half. Values are f32, or int8 with an f32 scale per row (or per tensor).
//
// SpMV y = A x: WASM SIMD has no gather, so 4 nonzeros at a time build one x vector with
// v128.load32_lane (one instruction each) and meet 4 contiguous values in a multiply-add; two
// accumulators hide the add latency. SpMM C = A B (B dense, row-major): each nonzero broadcasts
// into up to 8 vectors of one B row, so there is no gather at all.
// The 2:4 structured kernels live in sparse_nm.ts.

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function colAt(colIdx: usize, k: i32, idx16: bool): usize {
  return idx16 ? <usize>load<u16>(colIdx + (<usize>k << 1)) : <usize>load<i32>(colIdx + (<usize>k << 2));
}

/** x[col[k .. k+3]] as one vector. */
@inline function gather4(x: usize, colIdx: usize, k: i32, idx16: bool): v128 {
  let v = v128.load32_zero(x + (colAt(colIdx, k, idx16) << 2));
  v = v128.load32_lane(x + (colAt(colIdx, k + 1, idx16) << 2), v, 1);
  v = v128.load32_lane(x + (colAt(colIdx, k + 2, idx16) << 2), v, 2);
  return v128.load32_lane(x + (colAt(colIdx, k + 3, idx16) << 2), v, 3);
}

/** 4 int8 values at p as f32. */
@inline function i8x4ToF32(p: usize): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p))));
}

@inline function hsum(v: v128): f32 {
  const t = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1);
}

/**
 * y[r] = scale_r * sum_k vals[k] * x[col[k]] for rows [r0, r1). valKind 0: f32 values (scale
 * ignored); 1: int8 values, f32 scale per row when scalePerRow else scales[0].
 */
export function spmvCsr(
  rowPtr: usize, colIdx: usize, vals: usize, valKind: i32, scales: usize, scalePerRow: i32,
  x: usize, y: usize, r0: i32, r1: i32, idx16: i32,
): void {
  const i16 = idx16 != 0;
  for (let r = r0; r < r1; r++) {
    const k0 = load<i32>(rowPtr + (<usize>r << 2));
    const k1 = load<i32>(rowPtr + (<usize>r << 2), 4);
    let a0 = f32x4.splat(0), a1 = a0;
    let k = k0;
    let tail: f32 = 0;
    if (valKind == 0) {
      for (; k + 8 <= k1; k += 8) {
        a0 = fma(v128.load(vals + (<usize>k << 2)), gather4(x, colIdx, k, i16), a0);
        a1 = fma(v128.load(vals + (<usize>k << 2), 16), gather4(x, colIdx, k + 4, i16), a1);
      }
      if (k + 4 <= k1) {
        a0 = fma(v128.load(vals + (<usize>k << 2)), gather4(x, colIdx, k, i16), a0);
        k += 4;
      }
      for (; k < k1; k++) tail += load<f32>(vals + (<usize>k << 2)) * load<f32>(x + (colAt(colIdx, k, i16) << 2));
      store<f32>(y + (<usize>r << 2), hsum(f32x4.add(a0, a1)) + tail);
    } else {
      for (; k + 8 <= k1; k += 8) {
        a0 = fma(i8x4ToF32(vals + <usize>k), gather4(x, colIdx, k, i16), a0);
        a1 = fma(i8x4ToF32(vals + <usize>k + 4), gather4(x, colIdx, k + 4, i16), a1);
      }
      if (k + 4 <= k1) {
        a0 = fma(i8x4ToF32(vals + <usize>k), gather4(x, colIdx, k, i16), a0);
        k += 4;
      }
      for (; k < k1; k++) tail += <f32>load<i8>(vals + <usize>k) * load<f32>(x + (colAt(colIdx, k, i16) << 2));
      const s = load<f32>(scales + (scalePerRow ? <usize>r << 2 : 0));
      store<f32>(y + (<usize>r << 2), s * (hsum(f32x4.add(a0, a1)) + tail));
    }
  }
}

/**
 * C[r, n] = scale_r * sum_k vals[k] * B[col[k], n] for rows [r0, r1), columns [n0, n1): A sparse
 * (CSR), B dense row-major (ldb floats per row), C row-major (ldc floats). valKind as in spmvCsr.
 */
export function spmmCsr(
  rowPtr: usize, colIdx: usize, vals: usize, valKind: i32, scales: usize, scalePerRow: i32,
  B: usize, ldb: i32, C: usize, ldc: i32, r0: i32, r1: i32, n0: i32, n1: i32, idx16: i32,
): void {
  const i16 = idx16 != 0;
  const ldbB = <usize>ldb << 2;
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
