// Sparse kernels against dense float64 references, both module variants: CSR SpMV and SpMM with f32
// and int8 values (per-row and per-tensor scales), u16 byte offsets, u16 and i32 column indices, empty rows, odd
// shapes, row/column sub-ranges; 2:4 GEMV from Kiln's N:M layout, and 2:4 as CSR through SpMM;
// the 4x1-block GEMV (u16 and i32 columns, row counts that leave a short last group, outputs
// pre-filled with NaN so that an unwritten row or a write past N shows).
import { describe, expect, it } from 'vitest';
import { WasmArena } from '../../src/backends/wasm/kernels/gemm-f32.js';
import {
  bsr4PlacedBytes, csrPlacedBytes, gemv24, nm24ToCsr, placeBsr4, placeCsr, placeNm24, repackBsr4, repackCsr, repackNm24, sparseExports,
  spmmCsr, spmvBsr4, spmvCsr, type CsrPlaced, type SparseExports,
} from '../../src/backends/wasm/kernels/sparse.js';
import { csrFromDense } from '../../src/tensor/sparse-csr.js';
import { nmFromDense } from '../../src/tensor/sparse-nm.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { kernelModule, rngUnit, VARIANTS } from './module-setup.js';

interface Env { ex: SparseExports; arena: WasmArena; mem: WebAssembly.Memory }

function place(env: Env, t: Tensor, scales?: Float32Array): CsrPlaced {
  const d = repackCsr(csrFromDense(t), scales);
  const b = csrPlacedBytes(d);
  return placeCsr(env.mem, d, { rowPtr: env.arena.alloc(b.rowPtr), colIdx: env.arena.alloc(b.colIdx), vals: env.arena.alloc(b.vals), scales: env.arena.alloc(b.scales) });
}

/** A dense rows x cols matrix with about `density` non-zeros, f32 or int8; a few rows left empty. */
function sparseMatrix(rows: number, cols: number, density: number, int8: boolean, r: () => number): Tensor {
  const n = rows * cols;
  const data = int8 ? new Int8Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (Math.floor(i / cols) % 7 === 3) continue;
    if (r() < density) data[i] = int8 ? Math.floor(r() * 255) - 127 || 1 : r() * 2 - 1;
  }
  return new Tensor(int8 ? 'int8' : 'float32', data, [rows, cols]);
}

function check(got: Float32Array, want: Float64Array, mag: Float64Array): void {
  for (let i = 0; i < want.length; i++) {
    const tol = 4e-7 * mag[i]! + 1e-30;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) expect.fail(`[${i}] = ${got[i]}, want ${want[i]} (tolerance ${tol})`);
  }
}

// Up to 4096 columns the kernels get u16 byte offsets (SpMV on the staged x), to 65536 u16 columns, then i32.
const SHAPES: [number, number][] = [[1, 1], [3, 5], [17, 33], [63, 65], [65, 100], [127, 17], [8, 1024], [5, 4096], [3, 4097], [2, 70000]];

for (const variant of VARIANTS) {
  describe(`sparse kernels (${variant})`, () => {
    const { memory: mem, exports, arena } = kernelModule(variant);
    const env: Env = { ex: sparseExports(exports), arena: arena(), mem };
    let seed = 11;
    for (const [rows, cols] of SHAPES) {
      for (const density of [0.1, 0.5]) {
        for (const kind of ['f32', 'int8 per-row', 'int8 per-tensor'] as const) {
          it(`CSR ${kind} ${rows}x${cols} density ${density}: SpMV and SpMM`, () => {
            const r = rngUnit(seed++);
            const int8 = kind !== 'f32';
            const t = sparseMatrix(rows, cols, density, int8, r);
            const scales = kind === 'int8 per-row' ? new Float32Array(rows).map(() => 0.01 + r() * 0.1)
              : kind === 'int8 per-tensor' ? Float32Array.of(0.05) : undefined;
            const a = place(env, t, scales);
            expect(a.data.idxMode).toBe(cols <= 4096 ? 2 : cols <= 65536 ? 1 : 0);
            const scaleOf = (row: number): number => (scales ? scales[scales.length === 1 ? 0 : row]! : 1);
            const dense = t.data as Float32Array | Int8Array;

            // SpMV, in two row ranges.
            const x = new Float32Array(cols).map(() => r() * 2 - 1);
            const xp = env.arena.putF32(x);
            const y = env.arena.alloc(rows * 4);
            const mid = rows >> 1;
            spmvCsr(env.ex, a, xp, y, 0, mid);
            spmvCsr(env.ex, a, xp, y, mid, rows);
            const want = new Float64Array(rows);
            const mag = new Float64Array(rows);
            for (let i = 0; i < rows; i++) {
              let sum = 0;
              let abs = 0;
              for (let k = 0; k < cols; k++) {
                const v = dense[i * cols + k]! * scaleOf(i) * x[k]!;
                sum += v;
                abs += Math.abs(v);
              }
              want[i] = sum;
              mag[i] = abs;
            }
            check(new Float32Array(mem.buffer, y, rows), want, mag);

            // SpMM with a B wider than 32 columns and an odd tail, C columns split in two.
            if (cols > 5000) return;
            const N = 37;
            const B = new Float32Array(cols * N).map(() => r() * 2 - 1);
            const bp = env.arena.putF32(B);
            const C = env.arena.alloc(rows * N * 4);
            spmmCsr(env.ex, a, bp, N, C, { n0: 0, n1: 33 });
            spmmCsr(env.ex, a, bp, N, C, { n0: 33, n1: N });
            const wantC = new Float64Array(rows * N);
            const magC = new Float64Array(rows * N);
            for (let i = 0; i < rows; i++) {
              for (let k = 0; k < cols; k++) {
                const av = dense[i * cols + k]! * scaleOf(i);
                if (av === 0) continue;
                for (let j = 0; j < N; j++) {
                  wantC[i * N + j]! += av * B[k * N + j]!;
                  magC[i * N + j]! += Math.abs(av * B[k * N + j]!);
                }
              }
            }
            check(new Float32Array(mem.buffer, C, rows * N), wantC, magC);
          });
        }
      }
    }

    for (const [rows, K] of [[1, 4], [3, 12], [17, 36], [63, 64], [65, 132], [8, 1024]] as const) {
      it(`2:4 ${rows}x${K}: GEMV (x table) and GEMM (as CSR)`, () => {
        const r = rngUnit(seed++);
        const data = new Float32Array(rows * K);
        for (let i = 0; i < rows * K; i += 4) {
          // Keep 2 random positions of each 4 (sometimes leaving a zero among the kept ones).
          const keep = [0, 1, 2, 3].sort(() => r() - 0.5).slice(0, 2);
          for (const p of keep) data[i + p] = r() < 0.1 ? 0 : r() * 2 - 1;
        }
        const t = new Tensor('float32', data, [rows, K]);
        const nm = nmFromDense(t, 2, 4, 1);
        const d = repackNm24(nm);
        const w = placeNm24(mem, d, env.arena.alloc(d.vals.byteLength), env.arena.alloc(d.codes.byteLength));
        const x = new Float32Array(K).map(() => r() * 2 - 1);
        const xp = env.arena.putF32(x);
        const y = env.arena.alloc(rows * 4);
        const scratch = env.arena.alloc(env.ex.gemv24ScratchBytes(K));
        gemv24(env.ex, w, xp, y, scratch);
        const want = new Float64Array(rows);
        const mag = new Float64Array(rows);
        for (let i = 0; i < rows; i++) {
          let sum = 0;
          let abs = 0;
          for (let k = 0; k < K; k++) {
            sum += data[i * K + k]! * x[k]!;
            abs += Math.abs(data[i * K + k]! * x[k]!);
          }
          want[i] = sum;
          mag[i] = abs;
        }
        check(new Float32Array(mem.buffer, y, rows), want, mag);

        const csr = repackCsr(nm24ToCsr(nm));
        const b = csrPlacedBytes(csr);
        const a = placeCsr(mem, csr, { rowPtr: env.arena.alloc(b.rowPtr), colIdx: env.arena.alloc(b.colIdx), vals: env.arena.alloc(b.vals), scales: 0 });
        const N = 9;
        const B = new Float32Array(K * N).map(() => r() * 2 - 1);
        const C = env.arena.alloc(rows * N * 4);
        spmmCsr(env.ex, a, env.arena.putF32(B), N, C);
        const wantC = new Float64Array(rows * N);
        const magC = new Float64Array(rows * N);
        for (let i = 0; i < rows; i++) {
          for (let k = 0; k < K; k++) {
            for (let j = 0; j < N; j++) {
              wantC[i * N + j]! += data[i * K + k]! * B[k * N + j]!;
              magC[i * N + j]! += Math.abs(data[i * K + k]! * B[k * N + j]!);
            }
          }
        }
        check(new Float32Array(mem.buffer, C, rows * N), wantC, magC);
      });
    }

    for (const [rows, cols] of [[1, 1], [3, 5], [4, 8], [17, 33], [63, 65], [130, 100], [5, 70000]] as const) {
      for (const density of [0.1, 0.6]) {
        it(`4x1 blocks ${rows}x${cols} density ${density}: GEMV in two group ranges`, () => {
          const r = rngUnit(seed++);
          const t = sparseMatrix(rows, cols, density, false, r);
          const dense = t.data as Float32Array;
          const d = repackBsr4(dense, rows, cols);
          expect(d.blkCol instanceof Uint16Array).toBe(cols <= 65536);
          const b = bsr4PlacedBytes(d);
          const w = placeBsr4(mem, d, { blkPtr: env.arena.alloc(b.blkPtr), blkCol: env.arena.alloc(b.blkCol), vals: env.arena.alloc(b.vals) });
          const x = new Float32Array(cols).map(() => r() * 2 - 1);
          const xp = env.arena.putF32(x);
          const y = env.arena.alloc((rows + 4) * 4);
          new Float32Array(mem.buffer, y, rows + 4).fill(NaN);
          const groups = Math.ceil(rows / 4);
          spmvBsr4(env.ex, w, xp, y, 0, groups >> 1);
          spmvBsr4(env.ex, w, xp, y, groups >> 1, groups);
          const want = new Float64Array(rows);
          const mag = new Float64Array(rows);
          for (let i = 0; i < rows; i++) {
            for (let k = 0; k < cols; k++) {
              want[i]! += dense[i * cols + k]! * x[k]!;
              mag[i]! += Math.abs(dense[i * cols + k]! * x[k]!);
            }
          }
          const out = new Float32Array(mem.buffer, y, rows + 4);
          check(out.subarray(0, rows), want, mag);
          // Nothing written past the last row.
          for (let i = rows; i < rows + 4; i++) expect(out[i]).toBeNaN();
        });
      }
    }
  });
}
