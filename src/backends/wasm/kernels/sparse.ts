// Typed wrapper over the sparse kernels (assembly/sparse.ts, sparse_nm.ts): one-time repacks of
// Kiln's CSR and N:M layouts into what the kernels read, and the calls. The repacks return host
// arrays; the caller places them in linear memory (planned once, like packed weights).
import type { CsrLayout } from '../../../tensor/sparse-csr.js';
import { nmIndexBits, readNmIndex, type NmLayout } from '../../../tensor/sparse-nm.js';
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

export interface SparseExports {
  spmvCsr(
    rowPtr: number, colIdx: number, vals: number, valKind: number, scales: number, scalePerRow: number,
    x: number, y: number, r0: number, r1: number, idx16: number,
  ): void;
  spmmCsr(
    rowPtr: number, colIdx: number, vals: number, valKind: number, scales: number, scalePerRow: number,
    B: number, ldb: number, C: number, ldc: number, r0: number, r1: number, n0: number, n1: number, idx16: number,
  ): void;
  gemv24ScratchBytes(K: number): number;
  gemv24Prepare(x: number, K: number, table: number): void;
  gemv24F32(vals: number, codes: number, K: number, rows: number, table: number, y: number, r0: number, r1: number): void;
  spmvBsr4(blkPtr: number, blkCol: number, vals: number, x: number, y: number, N: number, g0: number, g1: number, idx16: number): void;
  spmvStageX(x: number, K: number): void;
}

export function sparseExports(ex: KilnWasmExports): SparseExports {
  return familyExports<SparseExports>(ex, 'sparse', ['spmvCsr', 'spmmCsr', 'gemv24ScratchBytes', 'gemv24Prepare', 'gemv24F32', 'spmvBsr4', 'spmvStageX']);
}

// ---- CSR ------------------------------------------------------------------------------------------

/** How colIdx stores columns: 0 i32 columns, 1 u16 columns, 2 u16 byte offsets (column * 4). */
export type CsrIndexMode = 0 | 1 | 2;

/** Columns up to which colIdx holds byte offsets (the SpMV then reads x from the module's staged copy). */
export const CSR_BYTE_OFFSET_MAX_COLS = 4096;

/**
 * CSR as the kernels read it: u16 byte offsets (column * 4) up to CSR_BYTE_OFFSET_MAX_COLS columns,
 * u16 column indices up to 65536, i32 above.
 */
export interface CsrKernelData {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Uint16Array | Int32Array;
  idxMode: CsrIndexMode;
  /** f32 values, or int8 values with `scales` (one per row, or one per tensor). */
  values: Float32Array | Int8Array;
  scales?: Float32Array;
}

/**
 * One-time repack of a CSR layout (dtype float32, or int8 with quantization scales: one per tensor
 * or one per row, zero point 0 so that an absent element is a real zero).
 */
export function repackCsr(l: CsrLayout, int8Scales?: Float32Array): CsrKernelData {
  const rows = l.dims[0]!;
  const cols = l.dims.slice(1).reduce((a, b) => a * b, 1);
  const idxMode: CsrIndexMode = cols <= CSR_BYTE_OFFSET_MAX_COLS ? 2 : cols <= 65536 ? 1 : 0;
  const colIdx = idxMode === 2 ? Uint16Array.from(l.colIdx, (c) => c * 4) : idxMode === 1 ? Uint16Array.from(l.colIdx) : Int32Array.from(l.colIdx);
  if (l.dtype === 'float32') return { rows, cols, rowPtr: l.rowPtr, colIdx, idxMode, values: l.values as Float32Array };
  if (l.dtype === 'int8') {
    if (!int8Scales || (int8Scales.length !== 1 && int8Scales.length !== rows)) {
      throw new Error(`sparse CSR int8: need 1 or ${rows} scales`);
    }
    return { rows, cols, rowPtr: l.rowPtr, colIdx, idxMode, values: l.values as Int8Array, scales: int8Scales };
  }
  throw new Error(`sparse CSR kernels take float32 or int8 values, got ${l.dtype}`);
}

/** Where a placed CsrKernelData lives in linear memory. */
export interface CsrPlaced {
  data: CsrKernelData;
  rowPtr: number;
  colIdx: number;
  vals: number;
  /** f32 scales (int8 values only), else 0. */
  scales: number;
}

/** Byte sizes of the four arrays, for the caller's memory plan. */
export function csrPlacedBytes(d: CsrKernelData): { rowPtr: number; colIdx: number; vals: number; scales: number } {
  return { rowPtr: d.rowPtr.byteLength, colIdx: d.colIdx.byteLength, vals: d.values.byteLength, scales: d.scales?.byteLength ?? 0 };
}

/** Copies the arrays to the given offsets. */
export function placeCsr(mem: WebAssembly.Memory, d: CsrKernelData, at: { rowPtr: number; colIdx: number; vals: number; scales: number }): CsrPlaced {
  const u8 = (p: number, a: ArrayBufferView): void => {
    new Uint8Array(mem.buffer, p, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  u8(at.rowPtr, d.rowPtr);
  u8(at.colIdx, d.colIdx);
  u8(at.vals, d.values);
  if (d.scales) u8(at.scales, d.scales);
  return { data: d, rowPtr: at.rowPtr, colIdx: at.colIdx, vals: at.vals, scales: d.scales ? at.scales : 0 };
}

function csrArgs(p: CsrPlaced): [number, number, number, number, number, number] {
  const d = p.data;
  const int8 = d.values instanceof Int8Array;
  return [p.rowPtr, p.colIdx, p.vals, int8 ? 1 : 0, p.scales, int8 && d.scales!.length > 1 ? 1 : 0];
}

/**
 * y[r0..r1) = A x (x: cols floats at `x`, y: rows floats at `y`). With byte offsets x is staged
 * first (a caller splitting rows over threads stages once, then runs the ranges: see ops/sparse.ts).
 */
export function spmvCsr(ex: SparseExports, a: CsrPlaced, x: number, y: number, r0 = 0, r1 = a.data.rows): void {
  if (a.data.idxMode === 2) ex.spmvStageX(x, a.data.cols);
  ex.spmvCsr(...csrArgs(a), x, y, r0, r1, a.data.idxMode);
}

/** C = A B for dense row-major B [cols, N] (ldb floats) into C [rows, N] (ldc floats). */
export function spmmCsr(
  ex: SparseExports, a: CsrPlaced, B: number, N: number, C: number,
  o: { ldb?: number; ldc?: number; r0?: number; r1?: number; n0?: number; n1?: number } = {},
): void {
  ex.spmmCsr(
    ...csrArgs(a), B, o.ldb ?? N, C, o.ldc ?? N,
    o.r0 ?? 0, o.r1 ?? a.data.rows, o.n0 ?? 0, o.n1 ?? N, a.data.idxMode,
  );
}

// ---- 4x1 blocks -----------------------------------------------------------------------------------

/** W [N, K] in 4x1 blocks as spmvBsr4 reads them (see assembly/sparse.ts). */
export interface Bsr4KernelData {
  N: number;
  K: number;
  /** Per group of 4 rows, its first block; groups = ceil(N / 4). */
  blkPtr: Int32Array;
  blkCol: Uint16Array | Int32Array;
  /** 4 values per block: the group's rows at the block's column (zeros of short groups included). */
  vals: Float32Array;
}

/** The groups of 4 rows of a row-major f32 W [N, K] with one block per column any row of the group uses. */
export function repackBsr4(w: Float32Array, N: number, K: number): Bsr4KernelData {
  const groups = Math.ceil(N / 4);
  const blkPtr = new Int32Array(groups + 1);
  const cols: number[] = [];
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < K; k++) {
      for (let r = 4 * g; r < Math.min(4 * g + 4, N); r++) {
        if (!Object.is(w[r * K + k], 0)) {
          cols.push(k);
          break;
        }
      }
    }
    blkPtr[g + 1] = cols.length;
  }
  const vals = new Float32Array(cols.length * 4);
  for (let g = 0; g < groups; g++) {
    for (let b = blkPtr[g]!; b < blkPtr[g + 1]!; b++) {
      for (let j = 0; j < 4 && 4 * g + j < N; j++) vals[4 * b + j] = w[(4 * g + j) * K + cols[b]!]!;
    }
  }
  return { N, K, blkPtr, blkCol: K <= 65536 ? Uint16Array.from(cols) : Int32Array.from(cols), vals };
}

export interface Bsr4Placed {
  data: Bsr4KernelData;
  blkPtr: number;
  blkCol: number;
  vals: number;
}

export function bsr4PlacedBytes(d: Bsr4KernelData): { blkPtr: number; blkCol: number; vals: number } {
  return { blkPtr: d.blkPtr.byteLength, blkCol: d.blkCol.byteLength, vals: d.vals.byteLength };
}

export function placeBsr4(mem: WebAssembly.Memory, d: Bsr4KernelData, at: { blkPtr: number; blkCol: number; vals: number }): Bsr4Placed {
  const u8 = (p: number, a: ArrayBufferView): void => {
    new Uint8Array(mem.buffer, p, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  u8(at.blkPtr, d.blkPtr);
  u8(at.blkCol, d.blkCol);
  u8(at.vals, d.vals);
  return { data: d, ...at };
}

/** y = W x (x: K floats, y: N floats), groups of 4 rows [g0, g1). */
export function spmvBsr4(ex: SparseExports, w: Bsr4Placed, x: number, y: number, g0 = 0, g1 = w.data.blkPtr.length - 1): void {
  ex.spmvBsr4(w.blkPtr, w.blkCol, w.vals, x, y, w.data.N, g0, g1, w.data.blkCol instanceof Uint16Array ? 1 : 0);
}

// ---- 2:4 ------------------------------------------------------------------------------------------

/** 2:4 weights as gemv24F32 reads them (see assembly/sparse_nm.ts). */
export interface Nm24KernelData {
  rows: number;
  K: number;
  vals: Float32Array;
  codes: Uint16Array;
}

const PAIR_CODE: Record<string, number> = { '0,1': 0, '0,2': 1, '0,3': 2, '1,2': 3, '1,3': 4, '2,3': 5 };

function checkNm24(l: NmLayout): [number, number] {
  if (l.n !== 2 || l.m !== 4) throw new Error(`2:4 kernels need n = 2, m = 4, got ${l.n}:${l.m}`);
  if (l.dims.length !== 2 || l.axis !== 1) throw new Error('2:4 kernels need a 2-D [rows, K] layout grouped along axis 1');
  if (l.dtype !== 'float32') throw new Error(`2:4 kernels take float32 values, got ${l.dtype}`);
  return [l.dims[0]!, l.dims[1]!];
}

/** Pairs of groups per chunk of the kernel's chunk-major order (GEMV24_CHUNK_PAIRS in sparse_nm.ts). */
const CHUNK_PAIRS = 32;

/** One-time repack of a float32 [rows, K] 2:4 layout (groups along K) for gemv24F32. */
export function repackNm24(l: NmLayout): Nm24KernelData {
  const [rows, K] = checkNm24(l);
  const groups = K / 4;
  const kg2 = Math.ceil(K / 8);
  const bits = nmIndexBits(4);
  const src = l.values as Float32Array;
  const vals = new Float32Array(rows * kg2 * 4);
  const codes = new Uint16Array(rows * kg2);
  // Position of (row r, pair i) in chunk-major order.
  const at = (r: number, i: number): number => {
    const c0 = i - (i % CHUNK_PAIRS);
    const len = Math.min(CHUNK_PAIRS, kg2 - c0);
    return rows * c0 + r * len + (i - c0);
  };
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < kg2; i++) {
      const o = at(r, i);
      let code = 0;
      for (let h = 0; h < 2; h++) {
        const g = 2 * i + h;
        let c = 0;
        if (g < groups) {
          const slot = (r * groups + g) * 2;
          const p0 = readNmIndex(l.indices, slot, bits);
          const p1 = readNmIndex(l.indices, slot + 1, bits);
          c = PAIR_CODE[`${p0},${p1}`]!;
          vals[o * 4 + 2 * h] = src[slot]!;
          vals[o * 4 + 2 * h + 1] = src[slot + 1]!;
        }
        code = code * 6 + c;
      }
      codes[o] = code * 16;
    }
  }
  return { rows, K, vals, codes };
}

/** The same 2:4 weights as CSR (column = 4 * group + position), for the SpMM kernel (batched GEMM). */
export function nm24ToCsr(l: NmLayout): CsrLayout {
  const [rows, K] = checkNm24(l);
  const groups = K / 4;
  const bits = nmIndexBits(4);
  const nnz = rows * groups * 2;
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  const src = l.values as Float32Array;
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < groups * 2; s++) {
      const slot = r * groups * 2 + s;
      colIdx[slot] = 4 * (s >> 1) + readNmIndex(l.indices, slot, bits);
      values[slot] = src[slot]!;
    }
    rowPtr[r + 1] = (r + 1) * groups * 2;
  }
  return { kind: 'csr', dtype: 'float32', dims: [rows, K], rowPtr, colIdx, values };
}

export interface Nm24Placed {
  data: Nm24KernelData;
  vals: number;
  codes: number;
}

export function placeNm24(mem: WebAssembly.Memory, d: Nm24KernelData, vals: number, codes: number): Nm24Placed {
  new Float32Array(mem.buffer, vals, d.vals.length).set(d.vals);
  new Uint16Array(mem.buffer, codes, d.codes.length).set(d.codes);
  return { data: d, vals, codes };
}

/** y = W x for repacked 2:4 W. scratch: gemv24ScratchBytes(K) bytes (the x table), private to the call. */
export function gemv24(ex: SparseExports, w: Nm24Placed, x: number, y: number, scratch: number, r0 = 0, r1 = w.data.rows): void {
  ex.gemv24Prepare(x, w.data.K, scratch);
  ex.gemv24F32(w.vals, w.codes, w.data.K, w.data.rows, scratch, y, r0, r1);
}
