// Benchmark operands, generated once per case and shared by every engine, plus the plain-JS
// references the Kiln-only kernels (int4, sparse) are checked against.
import { randomF32, rng } from './onnx-models.js';

export function lazy<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}

/** w[n,k] row-major -> its transpose [k,n]: the MatMul B operand for y[1,n] = x[1,k] @ B. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

/** y[n] = w[n,k] x[k], accumulated in f64. */
export function gemvRef(w: Float32Array, x: Float32Array, n: number, k: number): Float32Array {
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * k;
    for (let j = 0; j < k; j++) s += w[row + j]! * x[j]!;
    y[i] = s;
  }
  return y;
}

/** A dense [n,k] matrix with about `sparsity` of its entries zero, scattered at random. */
export function unstructuredSparse(n: number, k: number, sparsity: number, seed: number): Float32Array {
  const w = randomF32(n * k, seed);
  const r = rng(seed + 1);
  for (let i = 0; i < w.length; i++) if (r() < sparsity) w[i] = 0;
  return w;
}

/** A dense [n,k] matrix where every group of 4 along k holds exactly 2 zeros (N:M 2:4). */
export function twoFourSparse(n: number, k: number, seed: number): Float32Array {
  const w = randomF32(n * k, seed);
  const r = rng(seed + 1);
  for (let g = 0; g < w.length; g += 4) {
    // Keep two of the four positions: pick the first kept index, then a different second one.
    const a = Math.floor(r() * 4);
    const b = (a + 1 + Math.floor(r() * 3)) % 4;
    for (let j = 0; j < 4; j++) if (j !== a && j !== b) w[g + j] = 0;
  }
  return w;
}
