// Typed wrapper over assembly/gemv_i4.ts: int4 weight-only GEMV/GEMM with block-32 f32 scales.
// Two modes (see the assembly file): 'f32' keeps the activations in f32 and dequantizes weights in
// registers (exact, memory-light, ~1 op per weight); 'q8' quantizes each block of 32 activations to
// int8 first (onnxruntime MatMulNBits accuracy_level 4) and uses integer dot products (~2-3x faster).
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

export interface GemvI4Exports {
  gemvI4PackedBytes(K: number, N: number, format: number): number;
  gemvI4Pack(
    src: number, sn: number, sk: number, K: number, N: number,
    scales: number, ssn: number, ssb: number, zps: number, format: number, dst: number,
  ): void;
  gemvI4F32ScratchBytes(K: number, M: number): number;
  gemvI4F32(
    packed: number, K: number, N: number, x: number, ldx: number, M: number, y: number, ldy: number,
    n0: number, n1: number, hasZp: number, scratch: number,
  ): void;
  gemvI4Q8ScratchBytes(K: number, M: number): number;
  gemvI4Q8Prepare(x: number, ldx: number, K: number, M: number, scratch: number): void;
  gemvI4Q8(packed: number, K: number, N: number, scratch: number, M: number, y: number, ldy: number, n0: number, n1: number): void;
}

export function gemvI4Exports(ex: KilnWasmExports): GemvI4Exports {
  return familyExports<GemvI4Exports>(ex, 'gemv-i4', [
    'gemvI4PackedBytes', 'gemvI4Pack', 'gemvI4F32ScratchBytes', 'gemvI4F32', 'gemvI4Q8ScratchBytes', 'gemvI4Q8Prepare', 'gemvI4Q8',
  ]);
}

export type I4Mode = 'f32' | 'q8';

export const I4_BLOCK = 32;

export interface I4WeightPack {
  /** Packed signed int4 bytes (Kiln's int4 layout: element i in byte i >> 1, low nibble first). */
  src: number;
  /** 'nk': weights stored [N, K] (out x in, e.g. MatMulNBits); 'kn': stored [K, N] (a MatMul B). */
  layout: 'nk' | 'kn';
  K: number;
  N: number;
  /** f32 scales per (n, block of 32 along K): [N, nb] for 'nk', [nb, N] for 'kn'. */
  scales: number;
  /** int32 zero points with the scales' layout (0 = none, i.e. symmetric). */
  zeroPoints: number;
  mode: I4Mode;
  dst: number;
}

export function i4PackedBytes(ex: GemvI4Exports, K: number, N: number, mode: I4Mode): number {
  return ex.gemvI4PackedBytes(K, N, mode === 'q8' ? 1 : 0) >>> 0;
}

/** Packs int4 weights once for `mode`. */
export function packI4(ex: GemvI4Exports, w: I4WeightPack): void {
  const nb = Math.ceil(w.K / I4_BLOCK);
  const [sn, sk] = w.layout === 'nk' ? [w.K, 1] : [1, w.N];
  const [ssn, ssb] = w.layout === 'nk' ? [nb, 1] : [1, w.N];
  ex.gemvI4Pack(w.src, sn, sk, w.K, w.N, w.scales, ssn, ssb, w.zeroPoints, w.mode === 'q8' ? 1 : 0, w.dst);
}

export function i4ScratchBytes(ex: GemvI4Exports, K: number, M: number, mode: I4Mode): number {
  return (mode === 'q8' ? ex.gemvI4Q8ScratchBytes(K, M) : ex.gemvI4F32ScratchBytes(K, M)) >>> 0;
}

export interface GemvI4Call {
  packed: number;
  mode: I4Mode;
  /** The weights were packed with zero points ('f32' mode needs to know; 'q8' folds them in). */
  hasZeroPoints: boolean;
  K: number;
  N: number;
  /** Activations [M, K] f32 (row stride ldx elements) and output [M, N] f32 (row stride ldy). */
  x: number;
  ldx?: number;
  M?: number;
  y: number;
  ldy?: number;
  /** i4ScratchBytes(K, M, mode) bytes, private to the call. */
  scratch: number;
  /** Output column range (q8: n0 a multiple of 8). */
  n0?: number;
  n1?: number;
}

/** y = x . W^T for int4 W, single call (prepares the activations, then runs the whole range). */
export function gemvI4(ex: GemvI4Exports, c: GemvI4Call): void {
  const M = c.M ?? 1;
  const ldx = c.ldx ?? c.K;
  const ldy = c.ldy ?? c.N;
  const n0 = c.n0 ?? 0;
  const n1 = c.n1 ?? c.N;
  if (c.mode === 'q8') {
    ex.gemvI4Q8Prepare(c.x, ldx, c.K, M, c.scratch);
    ex.gemvI4Q8(c.packed, c.K, c.N, c.scratch, M, c.y, ldy, n0, n1);
  } else {
    ex.gemvI4F32(c.packed, c.K, c.N, c.x, ldx, M, c.y, ldy, n0, n1, c.hasZeroPoints ? 1 : 0, c.scratch);
  }
}
