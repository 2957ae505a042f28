// Typed wrapper over the int8 GEMM exports (assembly/gemm_i8.ts, gemm_i8_pack.ts): packing of
// weights (once) and activations (per call), requantization parameters, and the call itself.
// Pointers are byte offsets into the module's linear memory.
//
// Path choice: path 0 (i16 dot, both builds) always works; path 1 (relaxed int8 dot) needs the
// relaxed build and weights whose rows/columns (minus their zero point) span at most 127, i.e.
// 7-bit weights. packWeightsI8 tries path 1 when allowed and falls back to path 0, recording the
// path; the activations must then be packed for the same path.
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

export interface GemmI8Exports {
  gemmI8(
    lhs: number, rhs: number, M: number, N: number, K: number, path: number,
    m0: number, m1: number, n0: number, n1: number,
    out: number, ldo: number, outKind: number,
    bias: number, mult: number, multPerChan: number, zp: number, zpPerChan: number, axisCols: number,
  ): void;
  gemmI8SetWeightsOnLhs(v: number): void;
  gemmI8HasDotPath(): number;
  gemmI8LhsBytes(M: number, K: number, path: number): number;
  gemmI8RhsBytes(K: number, N: number, path: number): number;
  gemmI8PaddedK(K: number, path: number): number;
  gemmI8PackLhs(src: number, ld: number, M: number, K: number, signed: number, zp: number, zpLen: number, role: number, dst: number, m0: number, m1: number): number;
  gemmI8PackRhs(src: number, ld: number, K: number, N: number, signed: number, zp: number, zpLen: number, role: number, dst: number, n0: number, n1: number): number;
  gemmI8PackRhsT(src: number, ld: number, K: number, N: number, signed: number, zp: number, zpLen: number, role: number, dst: number, n0: number, n1: number): number;
  gemmI8Im2col(
    x: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number,
    pt: number, pl: number, OH: number, OW: number, fill: number, dst: number, ldd: number, k0: number, k1: number,
  ): void;
}

const NAMES = [
  'gemmI8', 'gemmI8SetWeightsOnLhs', 'gemmI8HasDotPath', 'gemmI8LhsBytes', 'gemmI8RhsBytes', 'gemmI8PaddedK',
  'gemmI8PackLhs', 'gemmI8PackRhs', 'gemmI8PackRhsT', 'gemmI8Im2col',
] as const;

export function gemmI8Exports(ex: KilnWasmExports): GemmI8Exports {
  return familyExports<GemmI8Exports>(ex, 'gemm-i8', NAMES);
}

export type Q8Type = 'uint8' | 'int8';
/** 0: i16 dot (any build); 1: relaxed int8 dot with 7-bit weights. */
export type GemmI8Path = 0 | 1;
export type GemmI8Out = 'int32' | Q8Type;

/** Role codes of the packers (see assembly/gemm_i8_pack.ts). */
const ROLE_I16 = 0;
const ROLE_ACT = 1;
const ROLE_WEIGHT = 2;

/** Where a weight operand sits: LHS rows (conv weights [Cout, K]) or RHS columns (MatMul B). */
export type WeightSide = 'lhs' | 'rhs' | 'rhsT';

export interface WeightPackI8 {
  side: WeightSide;
  /** Source bytes: lhs [rows, K] row-major, rhs [K, cols] row-major, rhsT [cols, K] row-major. */
  src: number;
  /** Source row stride in bytes (defaults to dense). */
  ld?: number;
  /** Rows (lhs) or columns (rhs, rhsT) of the weight. */
  lines: number;
  K: number;
  type: Q8Type;
  /** int32 zero points in memory (0 = none) and their count: 1 or `lines`. */
  zp: number;
  zpLen: number;
  dst: number;
  /** Try path 1 (needs the relaxed build); falls back to path 0 when the weights are not 7-bit. */
  allowDot: boolean;
}

/** Bytes to reserve for packed weights: the path 0 size, which bounds path 1's. */
export function weightPackBytesI8(ex: GemmI8Exports, side: WeightSide, lines: number, K: number): number {
  return (side === 'lhs' ? ex.gemmI8LhsBytes(lines, K, 0) : ex.gemmI8RhsBytes(K, lines, 0)) >>> 0;
}

/** Packs a constant weight operand once; returns the path it was packed for. */
export function packWeightsI8(ex: GemmI8Exports, w: WeightPackI8): GemmI8Path {
  const signed = w.type === 'int8' ? 1 : 0;
  const run = (role: number): number => {
    if (w.side === 'lhs') return ex.gemmI8PackLhs(w.src, w.ld ?? w.K, w.lines, w.K, signed, w.zp, w.zpLen, role, w.dst, 0, w.lines);
    if (w.side === 'rhs') return ex.gemmI8PackRhs(w.src, w.ld ?? w.lines, w.K, w.lines, signed, w.zp, w.zpLen, role, w.dst, 0, w.lines);
    return ex.gemmI8PackRhsT(w.src, w.ld ?? w.K, w.K, w.lines, signed, w.zp, w.zpLen, role, w.dst, 0, w.lines);
  };
  if (w.allowDot && ex.gemmI8HasDotPath() && run(ROLE_WEIGHT) === 1) return 1;
  run(ROLE_I16);
  return 0;
}

export interface ActivationPackI8 {
  side: 'lhs' | 'rhs';
  /** lhs: [rows, K] row-major; rhs: [K, cols] row-major. */
  src: number;
  ld?: number;
  lines: number;
  K: number;
  type: Q8Type;
  /** Per-tensor zero point (a number, not a pointer). */
  zeroPoint: number;
  dst: number;
  path: GemmI8Path;
  /** Sub-range of rows (lhs, start a multiple of 4) or columns (rhs, start a multiple of 8). */
  l0?: number;
  l1?: number;
}

export function activationPackBytesI8(ex: GemmI8Exports, side: 'lhs' | 'rhs', lines: number, K: number, path: GemmI8Path): number {
  return (side === 'lhs' ? ex.gemmI8LhsBytes(lines, K, path) : ex.gemmI8RhsBytes(K, lines, path)) >>> 0;
}

/**
 * Packs an activation operand. The zero point is passed through `zpCell`, a 4-byte cell in memory
 * the wrapper writes (the packers read zero points from memory).
 */
export function packActivationsI8(ex: GemmI8Exports, mem: WebAssembly.Memory, zpCell: number, a: ActivationPackI8): void {
  new Int32Array(mem.buffer, zpCell, 1)[0] = a.zeroPoint;
  const signed = a.type === 'int8' ? 1 : 0;
  const role = a.path === 1 ? ROLE_ACT : ROLE_I16;
  const l0 = a.l0 ?? 0;
  const l1 = a.l1 ?? a.lines;
  if (a.side === 'lhs') ex.gemmI8PackLhs(a.src, a.ld ?? a.K, a.lines, a.K, signed, zpCell, 1, role, a.dst, l0, l1);
  else ex.gemmI8PackRhs(a.src, a.ld ?? a.lines, a.K, a.lines, signed, zpCell, 1, role, a.dst, l0, l1);
}

/**
 * Requantization block in memory: multipliers as float64 (x_scale * w_scale / y_scale formed in
 * float32, as the reference does), zero points and bias as int32, padded to a multiple of 8 entries.
 */
export interface RequantI8 {
  out: Q8Type;
  /** float64 multipliers: 1 (per tensor) or one per channel. */
  mult: number;
  multPerChannel: boolean;
  /** int32 output zero points (0 = none): 1 or one per channel. */
  zp: number;
  zpPerChannel: boolean;
}

export interface GemmI8Call {
  lhs: number;
  rhs: number;
  M: number;
  N: number;
  K: number;
  path: GemmI8Path;
  /** Path 1 only: the LHS holds the weights (conv), so the 7-bit operand is the broadcast one. */
  weightsOnLhs?: boolean;
  out: number;
  /** Output row stride in elements (defaults to N). */
  ldo?: number;
  /** Absent: raw int32 output. */
  requant?: RequantI8;
  /** int32 bias per channel (0 = none); requantized outputs only. */
  bias?: number;
  /** Channel axis of bias / per-channel requant: rows (conv output channels) or columns (MatMul). */
  channelAxis?: 'rows' | 'cols';
  m0?: number;
  m1?: number;
  n0?: number;
  n1?: number;
}

export function gemmI8(ex: GemmI8Exports, c: GemmI8Call): void {
  const q = c.requant;
  ex.gemmI8SetWeightsOnLhs(c.weightsOnLhs ? 1 : 0);
  ex.gemmI8(
    c.lhs, c.rhs, c.M, c.N, c.K, c.path,
    c.m0 ?? 0, c.m1 ?? c.M, c.n0 ?? 0, c.n1 ?? c.N,
    c.out, c.ldo ?? c.N, q ? (q.out === 'uint8' ? 1 : 2) : 0,
    q ? (c.bias ?? 0) : 0, q?.mult ?? 0, q?.multPerChannel ? 1 : 0, q?.zp ?? 0, q?.zpPerChannel ? 1 : 0,
    c.channelAxis === 'cols' ? 1 : 0,
  );
}

/** The QLinear multiplier x_scale * w_scale / y_scale rounded as float32 at each step. */
export function requantMultiplier(xScale: number, wScale: number, yScale: number): number {
  return Math.fround(Math.fround(xScale * wScale) / yScale);
}

/** Entries to allocate for a per-channel array read 8 at a time. */
export function paddedChannels(n: number): number {
  return Math.ceil(n / 8) * 8;
}
