// Sparse kernel micro-benchmark, single thread, both module variants:
//   node --experimental-wasm-relaxed-simd bench/sparse-micro.mjs [filter]
// Batch-1 GEMV y = W x over an N x N matrix: Kiln's dense f32 GEMV (gemmF32 with M = 1, W
// prepacked) against CSR at 90% unstructured sparsity (f32 and int8 values, u16 column indices) and
// 2:4 structured sparsity, same run (CSR SpMV on u16 byte offsets and the staged x, as the runtime
// runs it up to 4096 columns); plus SpMM (W sparse times a dense [N, 64] block) against the
// dense GEMM. Speedups use the median over CPU time (this machine is shared). "GOP/s" counts the
// dense-equivalent 2*N*N (x cols) so rows compare directly.
import { modules, rateTable, timer } from './lib/micro.mjs';

const filter = process.argv[2] ?? '';
const time = timer(80, 15);
const { report, json } = rateTable({ unit: 'GOP/s', nameWidth: 40, cpuLabel: 'cpu', perCall: 'us', versus: 'dense' });

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

/** CSR of an n x n matrix at the given density: [rowPtr, colIdx (u16), f32 values, int8 values]. */
function csr(n, density) {
  const rowPtr = new Int32Array(n + 1);
  const cols = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (Math.random() < density) cols.push(c);
    rowPtr[r + 1] = cols.length;
  }
  const colIdx = Uint16Array.from(cols);
  const vals = random(cols.length);
  const q = new Int8Array(cols.length).map(() => Math.floor(Math.random() * 255) - 127);
  return { rowPtr, colIdx, vals, q };
}

/** Random 2:4 rows in the repacked kernel form (see assembly/sparse_nm.ts) and as CSR. */
function nm24(n) {
  const kg2 = n / 8;
  const vals = random(n * kg2 * 4);
  const codes = new Uint16Array(n * kg2).map(() => (Math.floor(Math.random() * 6) * 6 + Math.floor(Math.random() * 6)) * 16);
  const pairs = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]];
  const rowPtr = new Int32Array(n + 1);
  const colIdx = new Uint16Array(n * n / 2);
  let k = 0;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < kg2; i++) {
      const code = codes[r * kg2 + i] / 16;
      for (const [h, c] of [[0, Math.floor(code / 6)], [1, code % 6]]) {
        for (const p of pairs[c]) colIdx[k++] = 8 * i + 4 * h + p;
      }
    }
    rowPtr[r + 1] = k;
  }
  return { vals, codes, csr: { rowPtr, colIdx, vals } };
}

// Every block is followed by 16 spare bytes.
for (const w of modules({ slack: 16 })) {
  const { variant, ex, alloc, put, reset } = w;
  if (typeof ex.gemmF32 !== 'function') { console.log('no gemmF32 in this build: dense baseline missing'); continue; }

  for (const n of [1024, 4096]) {
    if (!`GEMV ${n}`.includes(filter) && filter !== '') continue;
    reset();
    const x = put(random(n));
    const y = alloc(n * 4);
    const wt = put(random(n * n));
    const wp = alloc(ex.gemmF32PackBBytes(n, n));
    ex.gemmF32PackB(n, n, wt, n, 1, wp);
    const scratch = alloc(ex.gemmF32ScratchBytes(1, n, n, 0, 1));
    const dense = time(() => ex.gemmF32(1, n, n, x, n, 0, 0, wp, n, 1, 1, y, n, 0, scratch, 0, 1, 0, n));
    report(variant, `GEMV ${n}x${n} dense f32`, 2 * n * n, dense);
    reset();
    const x2 = put(random(n));
    const y2 = alloc(n * 4);
    const s = csr(n, 0.1);
    const rp = put(s.rowPtr);
    const ci = put(s.colIdx);
    const vf = put(s.vals);
    const vq = put(s.q);
    const sc = put(Float32Array.of(0.01));
    // u16 byte offsets (column * 4, up to 4096 columns) with x staged in the module, as the runtime runs it.
    const co = put(Uint16Array.from(s.colIdx, (c) => c * 4));
    const mode = n <= 4096 ? 2 : 1;
    const idx = mode === 2 ? co : ci;
    report(variant, `GEMV ${n}x${n} CSR 90% f32`, 2 * n * n, time(() => { ex.spmvStageX(x2, n); ex.spmvCsr(rp, idx, vf, 0, 0, 0, x2, y2, 0, n, mode); }), { base: dense });
    report(variant, `GEMV ${n}x${n} CSR 90% int8`, 2 * n * n, time(() => { ex.spmvStageX(x2, n); ex.spmvCsr(rp, idx, vq, 1, sc, 0, x2, y2, 0, n, mode); }), { base: dense });
    const t = nm24(n);
    const v24 = put(t.vals);
    const c24 = put(t.codes);
    const table = alloc(ex.gemv24ScratchBytes(n));
    report(variant, `GEMV ${n}x${n} 2:4 f32`, 2 * n * n, time(() => {
      ex.gemv24Prepare(x2, n, table);
      ex.gemv24F32(v24, c24, n, n, table, y2, 0, n);
    }), { base: dense });
  }

  // SpMM: W [n, n] sparse times X [n, 64] dense, against the dense GEMM of the same shapes.
  for (const n of [1024]) {
    const N = 64;
    if (!`SpMM ${n}`.includes(filter) && filter !== '') continue;
    reset();
    const Wd = put(random(n * n));
    const X = put(random(n * N));
    const C = alloc(n * N * 4);
    const gs = alloc(ex.gemmF32ScratchBytes(n, N, n, 0, 0));
    const dense = time(() => ex.gemmF32(n, N, n, Wd, n, 0, 0, X, N, 0, 0, C, N, 0, gs, 0, n, 0, N));
    report(variant, `SpMM ${n}x${n} . ${n}x${N} dense GEMM`, 2 * n * n * N, dense);
    const s = csr(n, 0.1);
    const rp = put(s.rowPtr), ci = put(s.colIdx), vf = put(s.vals);
    report(variant, `SpMM ${n}x${n} . ${n}x${N} CSR 90%`, 2 * n * n * N, time(() => ex.spmmCsr(rp, ci, vf, 0, 0, 0, X, N, C, N, 0, n, 0, N, 1)), { base: dense });
    const t = nm24(n);
    const rp2 = put(t.csr.rowPtr), ci2 = put(t.csr.colIdx), vf2 = put(t.csr.vals);
    report(variant, `SpMM ${n}x${n} . ${n}x${N} 2:4 (as CSR)`, 2 * n * n * N, time(() => ex.spmmCsr(rp2, ci2, vf2, 0, 0, 0, X, N, C, N, 0, n, 0, N, 1)), { base: dense });
  }
}

json('SPARSE_BENCH_JSON');
