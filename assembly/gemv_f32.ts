// Matrix-vector products for batch-1 GEMMs: one row of C (x . B) or one column of C (A . x).
// These are memory-bound: every matrix element is used once, so the loops stream the matrix exactly
// once in its stored order and keep the short vector and the accumulators in registers. The main case,
// x . W with W pre-packed into NR-column panels, reads the packed weight front to back.
import { applyEpilogueF32 } from './epilogue_f32';
import { MR, NR } from './pack_f32';

/** Scratch bytes the GEMV paths need (a gathered input vector and a column result). */
export function gemvScratchBytes(M: i32, N: i32, K: i32): usize {
  return (<usize>(K + max(M, N) + 16) << 2) + 64;
}

/** Copies n floats spaced strideBytes apart to contiguous dst. */
function gather(src: usize, strideBytes: usize, n: i32, dst: usize): void {
  for (let i = 0; i < n; i++) {
    store<f32>(dst + (<usize>i << 2), load<f32>(src));
    src += strideBytes;
  }
}

// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(s, i32x4.shuffle(s, s, 1, 0, 3, 2)), 0);
}

/**
 * out[0..8*np) = x[0..K) . panels, for np consecutive 8-wide panels of K rows (panelBytes apart).
 * Four panels share each broadcast of x and one induction variable; their eight accumulators keep
 * eight independent FMA chains in flight, enough to stream the weights at L2/L3 bandwidth.
 */
function panels8(x: usize, K: i32, p: usize, panelBytes: usize, np: i32, out: usize): void {
  let q = 0;
  const end = <usize>K << 5;
  for (; q + 4 <= np; q += 4) {
    const p0 = p + <usize>q * panelBytes;
    const p1 = p0 + panelBytes;
    const p2 = p1 + panelBytes;
    const p3 = p2 + panelBytes;
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    let s4 = f32x4.splat(0);
    let s5 = f32x4.splat(0);
    let s6 = f32x4.splat(0);
    let s7 = f32x4.splat(0);
    let off: usize = 0;
    do {
      const xv = v128.load32_splat(x + (off >> 3));
      s0 = madd(xv, v128.load(p0 + off), s0);
      s1 = madd(xv, v128.load(p0 + off, 16), s1);
      s2 = madd(xv, v128.load(p1 + off), s2);
      s3 = madd(xv, v128.load(p1 + off, 16), s3);
      s4 = madd(xv, v128.load(p2 + off), s4);
      s5 = madd(xv, v128.load(p2 + off, 16), s5);
      s6 = madd(xv, v128.load(p3 + off), s6);
      s7 = madd(xv, v128.load(p3 + off, 16), s7);
      off += 32;
    } while (off < end);
    const o = out + (<usize>q << 5);
    v128.store(o, s0);
    v128.store(o, s1, 16);
    v128.store(o, s2, 32);
    v128.store(o, s3, 48);
    v128.store(o, s4, 64);
    v128.store(o, s5, 80);
    v128.store(o, s6, 96);
    v128.store(o, s7, 112);
  }
  for (; q < np; q++) {
    // Remaining panels one at a time, with two k-steps in separate accumulators.
    const pa = p + <usize>q * panelBytes;
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    let k = 0;
    for (; k + 2 <= K; k += 2) {
      const o = <usize>k << 5;
      const x0 = v128.load32_splat(x + (<usize>k << 2));
      const x1 = v128.load32_splat(x + (<usize>k << 2), 4);
      s0 = madd(x0, v128.load(pa + o), s0);
      s1 = madd(x0, v128.load(pa + o, 16), s1);
      s2 = madd(x1, v128.load(pa + o, 32), s2);
      s3 = madd(x1, v128.load(pa + o, 48), s3);
    }
    if (k < K) {
      const o = <usize>k << 5;
      const x0 = v128.load32_splat(x + (<usize>k << 2));
      s0 = madd(x0, v128.load(pa + o), s0);
      s1 = madd(x0, v128.load(pa + o, 16), s1);
    }
    const o = out + (<usize>q << 5);
    v128.store(o, f32x4.add(s0, s2));
    v128.store(o, f32x4.add(s1, s3), 16);
  }
}

/** out[0..4) = panel(4 rows, K steps) . x for one packed-A panel. */
function panel4(x: usize, K: i32, p: usize, out: usize): void {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let k = 0;
  for (; k + 2 <= K; k += 2) {
    s0 = madd(v128.load32_splat(x + (<usize>k << 2)), v128.load(p), s0);
    s1 = madd(v128.load32_splat(x + (<usize>k << 2), 4), v128.load(p, 16), s1);
    p += 32;
  }
  if (k < K) s0 = madd(v128.load32_splat(x + (<usize>k << 2)), v128.load(p), s0);
  v128.store(out, f32x4.add(s0, s1));
}

/** out[i] = x[0..K) . row_i, rows ldBytes apart (contiguous rows: dot products, 4 rows at a time). */
function dotRows(x: usize, K: i32, rows: usize, ldBytes: usize, count: i32, out: usize): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const r0 = rows + <usize>i * ldBytes;
    const r1 = r0 + ldBytes;
    const r2 = r1 + ldBytes;
    const r3 = r2 + ldBytes;
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      const xv = v128.load(x + o);
      s0 = madd(xv, v128.load(r0 + o), s0);
      s1 = madd(xv, v128.load(r1 + o), s1);
      s2 = madd(xv, v128.load(r2 + o), s2);
      s3 = madd(xv, v128.load(r3 + o), s3);
    }
    let t0 = hsum(s0);
    let t1 = hsum(s1);
    let t2 = hsum(s2);
    let t3 = hsum(s3);
    for (; k < K; k++) {
      const o = <usize>k << 2;
      const xs = load<f32>(x + o);
      t0 += xs * load<f32>(r0 + o);
      t1 += xs * load<f32>(r1 + o);
      t2 += xs * load<f32>(r2 + o);
      t3 += xs * load<f32>(r3 + o);
    }
    store<f32>(out + (<usize>i << 2), t0);
    store<f32>(out + (<usize>i << 2), t1, 4);
    store<f32>(out + (<usize>i << 2), t2, 8);
    store<f32>(out + (<usize>i << 2), t3, 12);
  }
  for (; i < count; i++) {
    const r0 = rows + <usize>i * ldBytes;
    let s0 = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= K; k += 4) s0 = madd(v128.load(x + (<usize>k << 2)), v128.load(r0 + (<usize>k << 2)), s0);
    let t0 = hsum(s0);
    for (; k < K; k++) t0 += load<f32>(x + (<usize>k << 2)) * load<f32>(r0 + (<usize>k << 2));
    store<f32>(out + (<usize>i << 2), t0);
  }
}

/** out[j] = sum_k x[k] * mat[k][j] for j < count, rows of mat ldBytes apart (16 columns at a time). */
function axpyCols(x: usize, K: i32, mat: usize, ldBytes: usize, count: i32, out: usize): void {
  let j = 0;
  for (; j + 16 <= count; j += 16) {
    let m = mat + (<usize>j << 2);
    let s0 = f32x4.splat(0);
    let s1 = f32x4.splat(0);
    let s2 = f32x4.splat(0);
    let s3 = f32x4.splat(0);
    for (let k = 0; k < K; k++) {
      const xv = v128.load32_splat(x + (<usize>k << 2));
      s0 = madd(xv, v128.load(m), s0);
      s1 = madd(xv, v128.load(m, 16), s1);
      s2 = madd(xv, v128.load(m, 32), s2);
      s3 = madd(xv, v128.load(m, 48), s3);
      m += ldBytes;
    }
    const o = out + (<usize>j << 2);
    v128.store(o, s0);
    v128.store(o, s1, 16);
    v128.store(o, s2, 32);
    v128.store(o, s3, 48);
  }
  for (; j + 4 <= count; j += 4) {
    let m = mat + (<usize>j << 2);
    let s0 = f32x4.splat(0);
    for (let k = 0; k < K; k++) {
      s0 = madd(v128.load32_splat(x + (<usize>k << 2)), v128.load(m), s0);
      m += ldBytes;
    }
    v128.store(out + (<usize>j << 2), s0);
  }
  for (; j < count; j++) {
    let m = mat + (<usize>j << 2);
    let t: f32 = 0;
    for (let k = 0; k < K; k++) {
      t += load<f32>(x + (<usize>k << 2)) * load<f32>(m);
      m += ldBytes;
    }
    store<f32>(out + (<usize>j << 2), t);
  }
}

/** Row m of C, columns [n0, n1): x = row m of op(A). */
export function gemvRowF32(
  M: i32, N: i32, K: i32,
  a: usize, lda: i32, transA: i32, aPacked: i32,
  b: usize, ldb: i32, transB: i32, bPacked: i32,
  c: usize, ldc: i32, epi: usize, scratch: usize, m: i32, n0: i32, n1: i32,
): void {
  let x: usize;
  let xStride: usize;
  if (aPacked) {
    x = a + ((<usize>(m / MR) * <usize>K * MR + <usize>(m % MR)) << 2);
    xStride = MR << 2;
  } else if (transA) {
    x = a + (<usize>m << 2);
    xStride = <usize>lda << 2;
  } else {
    x = a + ((<usize>m * <usize>lda) << 2);
    xStride = 4;
  }
  const tmp = scratch; // 16 floats for an edge panel
  if (xStride != 4) {
    gather(x, xStride, K, scratch + 64);
    x = scratch + 64;
  }
  const y = c + ((<usize>m * <usize>ldc) << 2);
  if (bPacked) {
    const panelBytes = (<usize>K * NR) << 2;
    const p0 = n0 / NR;
    const p1 = n1 / NR; // panels fully below n1
    // Leading partial panel, whole panels straight into C, trailing partial panel.
    let p = p0;
    if (n0 % NR != 0) {
      panels8(x, K, b + <usize>p * panelBytes, panelBytes, 1, tmp);
      const e = min(n1, (p + 1) * NR);
      for (let j = n0; j < e; j++) store<f32>(y + (<usize>j << 2), load<f32>(tmp + (<usize>(j - p * NR) << 2)));
      p++;
    }
    if (p < p1) {
      panels8(x, K, b + <usize>p * panelBytes, panelBytes, p1 - p, y + (<usize>(p * NR) << 2));
      p = p1;
    }
    if (p * NR < n1) {
      panels8(x, K, b + <usize>p * panelBytes, panelBytes, 1, tmp);
      for (let j = max(n0, p * NR); j < n1; j++) store<f32>(y + (<usize>j << 2), load<f32>(tmp + (<usize>(j - p * NR) << 2)));
    }
  } else if (transB) {
    dotRows(x, K, b + ((<usize>n0 * <usize>ldb) << 2), <usize>ldb << 2, n1 - n0, y + (<usize>n0 << 2));
  } else {
    axpyCols(x, K, b + (<usize>n0 << 2), <usize>ldb << 2, n1 - n0, y + (<usize>n0 << 2));
  }
  applyEpilogueF32(epi, c, ldc, m, m + 1, n0, n1, 0);
}

/** Column n of C, rows [m0, m1): x = column n of op(B). */
export function gemvColumnF32(
  M: i32, N: i32, K: i32,
  a: usize, lda: i32, transA: i32, aPacked: i32,
  b: usize, ldb: i32, transB: i32, bPacked: i32,
  c: usize, ldc: i32, epi: usize, scratch: usize, n: i32, m0: i32, m1: i32,
): void {
  let x: usize;
  let xStride: usize;
  if (bPacked) {
    x = b + ((<usize>(n / NR) * <usize>K * NR + <usize>(n % NR)) << 2);
    xStride = NR << 2;
  } else if (transB) {
    x = b + ((<usize>n * <usize>ldb) << 2);
    xStride = 4;
  } else {
    x = b + (<usize>n << 2);
    xStride = <usize>ldb << 2;
  }
  const out = scratch + 64; // results for rows m0.. (plus panel padding), then the gathered x
  const xBuf = out + (<usize>(m1 - m0 + 8) << 2);
  if (xStride != 4) {
    gather(x, xStride, K, xBuf);
    x = xBuf;
  }
  if (aPacked) {
    const panelBytes = (<usize>K * MR) << 2;
    const r0 = (m0 / MR) * MR;
    for (let r = r0; r < m1; r += MR) {
      panel4(x, K, a + <usize>(r / MR) * panelBytes, scratch);
      for (let i = max(r, m0); i < min(r + MR, m1); i++) store<f32>(out + (<usize>(i - m0) << 2), load<f32>(scratch + (<usize>(i - r) << 2)));
    }
  } else if (transA) {
    axpyCols(x, K, a + (<usize>m0 << 2), <usize>lda << 2, m1 - m0, out);
  } else {
    dotRows(x, K, a + ((<usize>m0 * <usize>lda) << 2), <usize>lda << 2, m1 - m0, out);
  }
  const ldcBytes = <usize>ldc << 2;
  let p = c + <usize>m0 * ldcBytes + (<usize>n << 2);
  for (let i = m0; i < m1; i++) {
    store<f32>(p, load<f32>(out + (<usize>(i - m0) << 2)));
    p += ldcBytes;
  }
  applyEpilogueF32(epi, c, ldc, m0, m1, n, n + 1, 0);
}
