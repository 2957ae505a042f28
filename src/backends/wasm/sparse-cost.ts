// The cost model behind sparsify's choice of a weight's layout on the WASM backend: the time of a
// MatMul / Gemm with a constant W [N, K] (as output rows by reduction) run by each of the kernels
// ops/sparse.ts would pick for that layout, for `batch` activation rows:
//   dense  M = 1: d1 N K            M > 1: ceil(M / 4) d4 N K     (the GEMM runs 4-row tiles)
//   csr    M <= SPMV_MAX_ROWS: M (cNnz nnz + cRow N)              else ceil(M / 4) sNnz nnz (SpMM)
//   bsr    M <= SPMV_MAX_ROWS: M (bBlock blocks + bGroup N / 4)   else as csr
//   2:4    M <= NM_MAX_ROWS:   M n24 N K / 8                      else as dense
// (nnz: non-zeros; blocks: the 4x1 blocks of spmvBsr4.) The coefficients, in nanoseconds, come from
// micro-benchmarks of the kernels on this host: once per shape class (N and K rounded to powers of
// two, clamped to [64, 4096], and the batch, above 4 rounded to a power of two up to 256), cached, on synthetic weights of the class's
// shape (random at two densities for csr and bsr, so that the per-row term separates from the
// per-element one). A caller that wants a reproducible choice passes its own table.
import { seededRandom } from '../../tensor/seeded-random.js';
import { bestVariant, instantiate, type WasmInstance } from './loader.js';
import { gemmF32, gemmF32Exports, gemmF32ScratchBytes, packBBytesF32, packBF32 } from './kernels/gemm-f32.js';
import {
  bsr4PlacedBytes, csrPlacedBytes, placeBsr4, placeCsr, placeNm24, repackBsr4, repackCsr, repackNm24, sparseExports, spmmCsr, spmvBsr4, spmvCsr,
} from './kernels/sparse.js';
import { NM_MAX_ROWS, SPMV_MAX_ROWS } from './ops/sparse.js';
import { csrFromDense } from '../../tensor/sparse-csr.js';
import { nmFromDense } from '../../tensor/sparse-nm.js';
import { Tensor } from '../../tensor/tensor.js';

/** The layouts sparsify chooses between. */
export type WeightLayout = 'dense' | 'csr' | 'bsr' | '2:4';

/** Nanoseconds per unit of each kernel (see the header for the formulas). */
export interface SparseCostTable {
  dense: { d1: number; d4: number };
  csr: { cNnz: number; cRow: number; sNnz: number };
  bsr: { bBlock: number; bGroup: number };
  nm24: { n24: number };
}

/** What the model needs of one weight. */
export interface WeightStats {
  /** Output rows (N) and reduction length (K). */
  N: number;
  K: number;
  nnz: number;
  /** 4x1 blocks (groups of 4 output rows by one column with a non-zero). */
  blocks: number;
  /** Whether every group of 4 along K keeps at most 2 non-zeros (and K is a multiple of 4). */
  is24: boolean;
}

/** Predicted nanoseconds per call of each layout; layouts the weight cannot take are absent. */
export function predictCosts(t: SparseCostTable, w: WeightStats, batch: number): Partial<Record<WeightLayout, number>> {
  const { N, K } = w;
  const M = batch;
  const dense = M === 1 ? t.dense.d1 * N * K : Math.ceil(M / 4) * t.dense.d4 * N * K;
  const csr = M <= SPMV_MAX_ROWS ? M * (t.csr.cNnz * w.nnz + t.csr.cRow * N) : Math.ceil(M / 4) * t.csr.sNnz * w.nnz;
  const out: Partial<Record<WeightLayout, number>> = { dense, csr };
  out.bsr = M <= SPMV_MAX_ROWS ? M * (t.bsr.bBlock * w.blocks + t.bsr.bGroup * Math.ceil(N / 4)) : csr;
  if (w.is24) out['2:4'] = M <= NM_MAX_ROWS ? M * t.nm24.n24 * (N * K) / 8 : dense;
  return out;
}

// ---- calibration ----------------------------------------------------------------------------------

const tables = new Map<string, SparseCostTable>();

const bucket = (n: number): number => Math.min(4096, Math.max(64, 2 ** Math.round(Math.log2(Math.max(1, n)))));
/**
 * Batches up to 4 are measured as they are (the GEMV and per-row paths); larger ones at a power of
 * two up to 256 rows, since every formula above scales with their 4-row tiles.
 */
const batchBucket = (m: number): number => (m <= 4 ? m : Math.min(256, 2 ** Math.round(Math.log2(m))));

/** The cache key of a weight's shape class. */
export function shapeClass(N: number, K: number, batch: number): string {
  return `wasm:${bestVariant() ?? 'none'}:${bucket(N)}x${bucket(K)}:M${batchBucket(batch)}`;
}

/**
 * The cost table of (N, K, batch)'s shape class, measured on first use (tens of milliseconds per
 * class, longer for the 4096 classes) and cached for the life of the process.
 */
export function calibratedCosts(N: number, K: number, batch: number): SparseCostTable {
  const key = shapeClass(N, K, batch);
  let t = tables.get(key);
  if (!t) {
    t = calibrate(bucket(N), bucket(K), batchBucket(batch));
    tables.set(key, t);
  }
  return t;
}

/** Forgets every measured table (tests). */
export function clearCostCache(): void {
  tables.clear();
}

/**
 * A fresh instance on its own memory for one calibration (the module is compiled once): its memory,
 * up to a few hundred MiB for the 4096 classes, is released with it.
 */
function host(): WasmInstance {
  const variant = bestVariant();
  if (!variant) throw new Error('sparsify: this host runs no Kiln WebAssembly module, so it cannot measure the WASM kernels');
  return instantiate(variant, new WebAssembly.Memory({ initial: 1, maximum: 65536 }));
}

/** Bump allocation over the calibration instance's memory, from its heap base. */
class Bump {
  private top: number;
  constructor(private readonly inst: WasmInstance) {
    this.top = Math.ceil(inst.exports.heapBase() / 64) * 64;
  }
  alloc(bytes: number): number {
    const p = this.top;
    // 64 spare bytes: the kernels may read a vector past a short tail.
    this.top = Math.ceil((p + bytes + 64) / 64) * 64;
    const need = this.top - this.inst.memory.buffer.byteLength;
    if (need > 0) this.inst.memory.grow(Math.ceil(need / 65536));
    return p;
  }
  put(a: Float32Array): number {
    const p = this.alloc(a.byteLength);
    new Float32Array(this.inst.memory.buffer, p, a.length).set(a);
    return p;
  }
}

/** The calibration weights need no quality, only repeatability. */
const rng = seededRandom;

function randomSparse(N: number, K: number, density: number, r: () => number): Float32Array {
  const w = new Float32Array(N * K);
  for (let i = 0; i < w.length; i++) if (r() < density) w[i] = r() * 2 - 1;
  return w;
}

function twoFour(N: number, K: number, r: () => number): Float32Array {
  const w = new Float32Array(N * K);
  for (let i = 0; i < w.length; i += 4) {
    const a = Math.floor(r() * 4);
    const b = (a + 1 + Math.floor(r() * 3)) % 4;
    w[i + a] = r() * 2 - 1;
    w[i + b] = r() * 2 - 1;
  }
  return w;
}

/** Repetitions of fn that take about 1 ms (at least 1). */
function repsFor(fn: () => void): number {
  fn();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const dt = performance.now() - t0;
    if (dt > 0.25 || reps > 1 << 16) return Math.max(1, Math.round((reps * 1) / Math.max(1e-3, dt)));
    reps *= 2;
  }
}

/**
 * Best nanoseconds per call of each fn. The kernels take turns over 9 rounds of ~1 ms each, so a
 * busy spell of a shared machine slows every candidate alike instead of the one measured then; the
 * best round of each is its least disturbed. Each turn starts with an untimed call, so that what is
 * timed is the kernel with its weights as warm as back-to-back runs of a model keep them.
 */
function timeAll(fns: readonly (() => void)[]): number[] {
  const reps = fns.map(repsFor);
  const best = fns.map(() => Infinity);
  for (let round = 0; round < 9; round++) {
    fns.forEach((fn, j) => {
      // One untimed call first: the previous kernel's data has just pushed this one's out of cache.
      fn();
      const s = performance.now();
      for (let i = 0; i < reps[j]!; i++) fn();
      best[j] = Math.min(best[j]!, (performance.now() - s) / reps[j]!);
    });
  }
  return best.map((b) => b * 1e6);
}

function calibrate(N: number, K: number, M: number): SparseCostTable {
  const inst = host();
  const mem = new Bump(inst);
  const sp = sparseExports(inst.exports);
  const gx = gemmF32Exports(inst.exports);
  const r = rng(N * 7919 + K * 31 + M);
  const x = mem.put(Float32Array.from({ length: K * M }, () => r() * 2 - 1));
  const y = mem.alloc(N * Math.max(M, 4) * 4);

  // Dense: the prepacked GEMM over the batch (M = 1 is its GEMV case).
  const wDense = randomSparse(N, K, 1, r);
  const raw = mem.put(wDense);
  const packed = mem.alloc(packBBytesF32(gx, K, N));
  packBF32(gx, K, N, raw, packed, true);
  const scratch = mem.alloc(gemmF32ScratchBytes(gx, M, N, K, false, true));
  const runDense = (): void => gemmF32(gx, { M, N, K, a: x, b: packed, bPacked: true, c: y, scratch });

  // CSR and 4x1 blocks at two densities: time = per element * count + per row * N.
  const rows = Math.min(M, SPMV_MAX_ROWS);
  const fit = (t1: number, c1: number, t2: number, c2: number, perRowCount: number): [number, number] => {
    const per = Math.max(0, (t1 - t2) / Math.max(1, c1 - c2));
    return [per, Math.max(0, (t1 - per * c1) / perRowCount)];
  };
  const csrPoint = (density: number): { nnz: number; blocks: number; spmv: () => void; spmm: () => void; bsr: () => void } => {
    const w = randomSparse(N, K, density, r);
    const d = repackCsr(csrFromDense(new Tensor('float32', w, [N, K])));
    const b = csrPlacedBytes(d);
    const a = placeCsr(inst.memory, d, { rowPtr: mem.alloc(b.rowPtr), colIdx: mem.alloc(b.colIdx), vals: mem.alloc(b.vals), scales: 0 });
    const spmv = (): void => {
      for (let m = 0; m < rows; m++) spmvCsr(sp, a, x + m * K * 4, y + m * N * 4);
    };
    // SpMM on the batch padded to 4 columns (the activations' transposes are left out: they are small).
    const Mp = Math.ceil(M / 4) * 4;
    const xT = mem.put(Float32Array.from({ length: K * Mp }, () => r() * 2 - 1));
    const yT = mem.alloc(N * Mp * 4);
    const spmm = (): void => spmmCsr(sp, a, xT, Mp, yT);
    const bd = repackBsr4(w, N, K);
    const bb = bsr4PlacedBytes(bd);
    const bp = placeBsr4(inst.memory, bd, { blkPtr: mem.alloc(bb.blkPtr), blkCol: mem.alloc(bb.blkCol), vals: mem.alloc(bb.vals) });
    const bsr = (): void => {
      for (let m = 0; m < rows; m++) spmvBsr4(sp, bp, x + m * K * 4, y + m * N * 4);
    };
    return { nnz: d.values.length, blocks: bd.vals.length / 4, spmv, spmm, bsr };
  };
  const hi = csrPoint(0.2);
  const lo = csrPoint(0.04);

  // 2:4 GEMV (x table built per row, as the session does).
  const d24 = repackNm24(nmFromDense(new Tensor('float32', twoFour(N, K, r), [N, K]), 2, 4, 1));
  const w24 = placeNm24(inst.memory, d24, mem.alloc(d24.vals.byteLength), mem.alloc(d24.codes.byteLength));
  const table = mem.alloc(sp.gemv24ScratchBytes(K) >>> 0);
  const run24 = (): void => {
    sp.gemv24Prepare(x, K, table);
    sp.gemv24F32(w24.vals, w24.codes, K, N, table, y, 0, N);
  };

  const spmm = M > SPMV_MAX_ROWS;
  const [tDense, t24, tHi, tLo, tbHi, tbLo, tsHi] = timeAll([runDense, run24, hi.spmv, lo.spmv, hi.bsr, lo.bsr, ...(spmm ? [hi.spmm] : [])]);
  // Only the coefficient of this class's batch is used (the key holds it); both get the same value.
  const perMac = tDense! / ((M === 1 ? 1 : Math.ceil(M / 4)) * N * K);
  const [cNnz, cRow] = fit(tHi! / rows, hi.nnz, tLo! / rows, lo.nnz, N);
  const [bBlock, bGroup] = fit(tbHi! / rows, hi.blocks, tbLo! / rows, lo.blocks, N / 4);
  const sNnz = spmm ? tsHi! / (Math.ceil(M / 4) * hi.nnz) : cNnz;
  return { dense: { d1: perMac, d4: perMac }, csr: { cNnz, cRow, sNnz }, bsr: { bBlock, bGroup }, nm24: { n24: t24! / ((N * K) / 8) } };
}
