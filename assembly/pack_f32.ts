// Packing of f32 GEMM operands into the micro-kernel's panel layouts.
//
// A (M x K) is cut into panels of MR rows; a panel stores, for each k, its MR values contiguously
// (k-major), so the micro-kernel reads one broadcast per row and k from consecutive addresses.
// B (K x N) is cut into panels of NR columns; a panel stores, for each k, its NR values contiguously.
// Panels past the matrix edge are zero-filled, so the micro-kernel never needs an edge case.
// A pre-packed weight covers all of K in each panel (panel stride K * MR floats); the GEMM then reads
// the KC-block [pc, pc + kc) of panel p at p * K * MR + pc * MR. Blocks packed on the fly use the same
// layout with K replaced by kc.

/** Rows of a packed-A panel: the micro-tile height. */
export const MR: i32 = 4;
/** Columns of a packed-B panel: the micro-tile width (two f32x4 vectors). */
export const NR: i32 = 8;

// @ts-ignore: decorator
@inline
export function roundUp(x: i32, m: i32): i32 {
  return ((x + m - 1) / m) * m;
}

/**
 * Packs the m x kc block of A whose element (i, k) lives at src + 4 * (transA ? k * lda + i : i * lda + k)
 * into ceil(m / MR) panels of kc * MR floats at dst.
 */
export function packAPanels(src: usize, lda: i32, transA: i32, m: i32, kc: i32, dst: usize): void {
  const ld = <usize>lda << 2;
  for (let i0 = 0; i0 < m; i0 += MR) {
    const rows = min(MR, m - i0);
    if (transA) {
      // A^T is stored: the MR values for one k are already adjacent.
      let s = src + (<usize>i0 << 2);
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(s));
          s += ld;
          dst += 16;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let i = 0; i < MR; i++) store<f32>(dst + (<usize>i << 2), i < rows ? load<f32>(s + (<usize>i << 2)) : 0);
          s += ld;
          dst += 16;
        }
      }
      continue;
    }
    const r0 = src + <usize>i0 * ld;
    if (rows == MR) {
      const r1 = r0 + ld;
      const r2 = r1 + ld;
      const r3 = r2 + ld;
      let k = 0;
      // 4x4 transposes: four row loads become the four k-columns of the panel.
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        const a = v128.load(r0 + o);
        const b = v128.load(r1 + o);
        const c = v128.load(r2 + o);
        const d = v128.load(r3 + o);
        const ab0 = i32x4.shuffle(a, b, 0, 4, 1, 5);
        const cd0 = i32x4.shuffle(c, d, 0, 4, 1, 5);
        const ab1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
        const cd1 = i32x4.shuffle(c, d, 2, 6, 3, 7);
        v128.store(dst, i32x4.shuffle(ab0, cd0, 0, 1, 4, 5));
        v128.store(dst, i32x4.shuffle(ab0, cd0, 2, 3, 6, 7), 16);
        v128.store(dst, i32x4.shuffle(ab1, cd1, 0, 1, 4, 5), 32);
        v128.store(dst, i32x4.shuffle(ab1, cd1, 2, 3, 6, 7), 48);
        dst += 64;
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2;
        store<f32>(dst, load<f32>(r0 + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
        dst += 16;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let i = 0; i < MR; i++) {
          store<f32>(dst + (<usize>i << 2), i < rows ? load<f32>(r0 + <usize>i * ld + (<usize>k << 2)) : 0);
        }
        dst += 16;
      }
    }
  }
}

/**
 * Packs the kc x n block of B whose element (k, j) lives at src + 4 * (transB ? j * ldb + k : k * ldb + j)
 * into ceil(n / NR) panels of kc * NR floats at dst.
 */
export function packBPanels(src: usize, ldb: i32, transB: i32, kc: i32, n: i32, dst: usize): void {
  const ld = <usize>ldb << 2;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const cols = min(NR, n - j0);
    if (!transB) {
      let s = src + (<usize>j0 << 2);
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(s));
          v128.store(dst, v128.load(s, 16), 16);
          s += ld;
          dst += 32;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let j = 0; j < NR; j++) store<f32>(dst + (<usize>j << 2), j < cols ? load<f32>(s + (<usize>j << 2)) : 0);
          s += ld;
          dst += 32;
        }
      }
      continue;
    }
    // B^T is stored: column j of B is row j of the source; transpose 4x4 blocks from two row quads.
    const q0 = src + <usize>j0 * ld;
    if (cols == NR) {
      const q1 = q0 + ld;
      const q2 = q1 + ld;
      const q3 = q2 + ld;
      const q4 = q3 + ld;
      const q5 = q4 + ld;
      const q6 = q5 + ld;
      const q7 = q6 + ld;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        transpose4Store(v128.load(q0 + o), v128.load(q1 + o), v128.load(q2 + o), v128.load(q3 + o), dst, 32);
        transpose4Store(v128.load(q4 + o), v128.load(q5 + o), v128.load(q6 + o), v128.load(q7 + o), dst + 16, 32);
        dst += 128;
      }
      for (; k < kc; k++) {
        for (let j = 0; j < NR; j++) store<f32>(dst + (<usize>j << 2), load<f32>(q0 + <usize>j * ld + (<usize>k << 2)));
        dst += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(dst + (<usize>j << 2), j < cols ? load<f32>(q0 + <usize>j * ld + (<usize>k << 2)) : 0);
        }
        dst += 32;
      }
    }
  }
}

/** Stores the transpose of rows a..d (4x4) as four vectors `stride` bytes apart. */
// @ts-ignore: decorator
@inline
function transpose4Store(a: v128, b: v128, c: v128, d: v128, dst: usize, stride: usize): void {
  const ab0 = i32x4.shuffle(a, b, 0, 4, 1, 5);
  const cd0 = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const ab1 = i32x4.shuffle(a, b, 2, 6, 3, 7);
  const cd1 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(ab0, cd0, 0, 1, 4, 5));
  v128.store(dst + stride, i32x4.shuffle(ab0, cd0, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, i32x4.shuffle(ab1, cd1, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, i32x4.shuffle(ab1, cd1, 2, 3, 6, 7));
}

// ---- pre-packing of constant operands (done once when a session is compiled) --------------------

/** Bytes that gemmF32PackA writes for an M x K operand. */
export function gemmF32PackABytes(M: i32, K: i32): usize {
  return <usize>roundUp(M, MR) * <usize>K * 4;
}

/** Packs all of A (M x K; transA: stored as K x M) for gemmF32 with aPacked = 1. */
export function gemmF32PackA(M: i32, K: i32, src: usize, lda: i32, transA: i32, dst: usize): void {
  packAPanels(src, lda, transA, M, K, dst);
}

/** Bytes that gemmF32PackB writes for a K x N operand. */
export function gemmF32PackBBytes(K: i32, N: i32): usize {
  return <usize>roundUp(N, NR) * <usize>K * 4;
}

/** Packs all of B (K x N; transB: stored as N x K) for gemmF32 with bPacked = 1. */
export function gemmF32PackB(K: i32, N: i32, src: usize, ldb: i32, transB: i32, dst: usize): void {
  packBPanels(src, ldb, transB, K, N, dst);
}

// im2col into B panels (the conv kernels of conv_f32.ts and conv3d_f32.ts): zero panels for rows in
// padding, and runs of panels from one input row: panel r reads inputs ix0 + sw * (NR r + c), c < NR. Panels
// [rLo, rHi) lie inside the row and are plain vector copies (stride 2: even lanes of 16 inputs);
// the few at the row's ends take the checked loop. NR = 8 makes the divisions shifts.

export function im2colZeroPanels(o: usize, panelBytes: usize, run: i32): void {
  for (let r = 0; r < run; r++) {
    v128.store(o, f32x4.splat(0));
    v128.store(o, f32x4.splat(0), 16);
    o += panelBytes;
  }
}

export function im2colRunS1(row: usize, wd: i32, ix0: i32, o: usize, panelBytes: usize, run: i32): void {
  const rLo = min(run, ix0 >= 0 ? 0 : (7 - ix0) >> 3);
  const rHi = max(rLo, min(run, wd - 8 - ix0 >= 0 ? ((wd - 8 - ix0) >> 3) + 1 : 0));
  if (rLo > 0) im2colRunChecked(row, wd, ix0, 1, o, panelBytes, 0, rLo);
  let src = row + (<usize>(ix0 + rLo * 8) << 2);
  let dst = o + <usize>rLo * panelBytes;
  for (let r = rLo; r < rHi; r++) {
    v128.store(dst, v128.load(src));
    v128.store(dst, v128.load(src, 16), 16);
    src += 32;
    dst += panelBytes;
  }
  if (rHi < run) im2colRunChecked(row, wd, ix0, 1, o, panelBytes, rHi, run);
}

export function im2colRunS2(row: usize, wd: i32, ix0: i32, o: usize, panelBytes: usize, run: i32): void {
  const rLo = min(run, ix0 >= 0 ? 0 : (15 - ix0) >> 4);
  const rHi = max(rLo, min(run, wd - 16 - ix0 >= 0 ? ((wd - 16 - ix0) >> 4) + 1 : 0));
  if (rLo > 0) im2colRunChecked(row, wd, ix0, 2, o, panelBytes, 0, rLo);
  let src = row + (<usize>(ix0 + rLo * 16) << 2);
  let dst = o + <usize>rLo * panelBytes;
  for (let r = rLo; r < rHi; r++) {
    v128.store(dst, i32x4.shuffle(v128.load(src), v128.load(src, 16), 0, 2, 4, 6));
    v128.store(dst, i32x4.shuffle(v128.load(src, 32), v128.load(src, 48), 0, 2, 4, 6), 16);
    src += 64;
    dst += panelBytes;
  }
  if (rHi < run) im2colRunChecked(row, wd, ix0, 2, o, panelBytes, rHi, run);
}

function im2colRunChecked(row: usize, wd: i32, ix0: i32, sw: i32, o: usize, panelBytes: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const ix = ix0 + r * NR * sw;
    const dst = o + <usize>r * panelBytes;
    for (let c = 0; c < NR; c++) {
      const x = ix + c * sw;
      store<f32>(dst + (<usize>c << 2), x >= 0 && x < wd ? load<f32>(row + (<usize>x << 2)) : 0);
    }
  }
}
