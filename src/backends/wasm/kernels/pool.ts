// Typed wrapper over assembly/pool.ts: the pooling geometry descriptor and the calls.
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

/** Window geometry lifted to three spatial axes (leading axes of size 1 for 1-D/2-D pools). */
export interface PoolGeometry {
  inSize: readonly [number, number, number];
  outSize: readonly [number, number, number];
  kernel: readonly [number, number, number];
  strides: readonly [number, number, number];
  dilations: readonly [number, number, number];
  padBegin: readonly [number, number, number];
  padEnd: readonly [number, number, number];
  /** AveragePool's count_include_pad. */
  countIncludePad: boolean;
}

/** i32 words of the descriptor poolF32 reads (assembly/pool.ts G_* order). */
export const POOL_GEOMETRY_WORDS = 22;

export function poolGeometryWords(g: PoolGeometry): Int32Array {
  const w = new Int32Array(POOL_GEOMETRY_WORDS);
  w.set(g.inSize, 0);
  w.set(g.outSize, 3);
  w.set(g.kernel, 6);
  w.set(g.strides, 9);
  w.set(g.dilations, 12);
  w.set(g.padBegin, 15);
  w.set(g.padEnd, 18);
  w[21] = g.countIncludePad ? 1 : 0;
  return w;
}

export type PoolKind = 'max' | 'avg' | 'lp';

export interface PoolExports {
  poolF32(kind: number, x: number, y: number, geom: number, p0: number, p1: number): void;
  globalPoolF32(kind: number, x: number, y: number, n: number, p0: number, p1: number): void;
  poolGeometryWords(): number;
}

export interface LpPoolExports {
  lpPoolF32(x: number, y: number, geom: number, p: number, p0: number, p1: number): void;
  globalLpPoolF32(x: number, y: number, n: number, p: number, p0: number, p1: number): void;
}

export function lpPoolExports(ex: KilnWasmExports): LpPoolExports {
  return familyExports<LpPoolExports>(ex, 'lpPool', ['lpPoolF32', 'globalLpPoolF32']);
}

/** assembly/pool_i8.ts: MaxPool / GlobalMaxPool on int8 (signed = 1) or uint8 (signed = 0) data. */
export interface MaxPoolI8Exports {
  maxPoolI8(x: number, y: number, geom: number, signed: number, p0: number, p1: number): void;
  globalMaxPoolI8(x: number, y: number, n: number, signed: number, p0: number, p1: number): void;
}

export function maxPoolI8Exports(ex: KilnWasmExports): MaxPoolI8Exports {
  return familyExports<MaxPoolI8Exports>(ex, 'maxPoolI8', ['maxPoolI8', 'globalMaxPoolI8']);
}

/** assembly/pool_argmax.ts: f32 MaxPool with its int64 Indices output (storage_order 0 or 1). */
export interface MaxPoolArgExports {
  maxPoolArgF32(x: number, y: number, idx: number, geom: number, storageOrder: number, p0: number, p1: number): void;
}

export function maxPoolArgExports(ex: KilnWasmExports): MaxPoolArgExports {
  return familyExports<MaxPoolArgExports>(ex, 'maxPoolArg', ['maxPoolArgF32']);
}

export function poolExports(ex: KilnWasmExports): PoolExports {
  return familyExports<PoolExports>(ex, 'pool', ['poolF32', 'globalPoolF32', 'poolGeometryWords']);
}

/**
 * Pools planes [p0, p1) (plane = one (n, c) pair) with the geometry descriptor at `geom`; `p` is
 * LpPool's exponent (ignored by max and avg).
 */
export function poolF32(ex: KilnWasmExports, kind: PoolKind, x: number, y: number, geom: number, p0: number, p1: number, p = 2): void {
  if (kind === 'lp') lpPoolExports(ex).lpPoolF32(x, y, geom, p, p0, p1);
  else poolExports(ex).poolF32(kind === 'max' ? 0 : 1, x, y, geom, p0, p1);
}

/** y[p] = max, mean or Lp norm of plane p (planeSize elements) for p in [p0, p1). */
export function globalPoolF32(ex: KilnWasmExports, kind: PoolKind, x: number, y: number, planeSize: number, p0: number, p1: number, p = 2): void {
  if (kind === 'lp') lpPoolExports(ex).globalLpPoolF32(x, y, planeSize, p, p0, p1);
  else poolExports(ex).globalPoolF32(kind === 'max' ? 0 : 1, x, y, planeSize, p0, p1);
}

/**
 * The pool's split kernel and argument list for a windowed pool over planes [0, planes): the
 * plane range sits at the last two arguments of every form.
 */
export function poolCall(kind: PoolKind, x: number, y: number, geom: number, planes: number, p: number): { kernel: string; args: number[] } {
  return kind === 'lp'
    ? { kernel: 'lpPoolF32', args: [x, y, geom, p, 0, planes] }
    : { kernel: 'poolF32', args: [kind === 'max' ? 0 : 1, x, y, geom, 0, planes] };
}

export function globalPoolCall(kind: PoolKind, x: number, y: number, planeSize: number, planes: number, p: number): { kernel: string; args: number[] } {
  return kind === 'lp'
    ? { kernel: 'globalLpPoolF32', args: [x, y, planeSize, p, 0, planes] }
    : { kernel: 'globalPoolF32', args: [kind === 'max' ? 0 : 1, x, y, planeSize, 0, planes] };
}
