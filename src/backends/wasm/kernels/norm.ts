// Typed wrapper over assembly/norm.ts: softmax family, LayerNormalization, per-channel affine and
// reductions. Tensors are viewed as [outer, len, inner] around the axis being normalized/reduced.
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

export const REDUCE_F32 = { sum: 0, max: 1, min: 2, sumSquare: 3, sumAbs: 4 } as const;
export type ReduceOpF32 = keyof typeof REDUCE_F32;

export interface NormExports {
  softmaxF32(log: number, x: number, y: number, len: number, inner: number, o0: number, o1: number): void;
  layerNormF32(x: number, y: number, scale: number, bias: number, meanOut: number, invOut: number, n: number, eps: number, r0: number, r1: number): void;
  rmsNormF32(x: number, y: number, scale: number, n: number, eps: number, r0: number, r1: number): void;
  channelAffineF32(x: number, y: number, scale: number, bias: number, channels: number, inner: number, p0: number, p1: number): void;
  reduceF32(op: number, x: number, y: number, R: number, inner: number, scale: number, root: number, o0: number, o1: number): void;
}

export function normExports(ex: KilnWasmExports): NormExports {
  return familyExports<NormExports>(ex, 'norm', ['softmaxF32', 'layerNormF32', 'rmsNormF32', 'channelAffineF32', 'reduceF32']);
}

/** Softmax or LogSoftmax along len of x viewed as [outer, len, inner], outer indices [o0, o1). */
export function softmaxF32(ex: KilnWasmExports, log: boolean, x: number, y: number, len: number, inner: number, o0: number, o1: number): void {
  normExports(ex).softmaxF32(log ? 1 : 0, x, y, len, inner, o0, o1);
}

/**
 * LayerNormalization of rows [r0, r1) of n elements: scale (n values) required, bias/meanOut/
 * invOut optional (0 = absent).
 */
export function layerNormF32(
  ex: KilnWasmExports, x: number, y: number, scale: number, bias: number, meanOut: number, invOut: number,
  n: number, eps: number, r0: number, r1: number,
): void {
  normExports(ex).layerNormF32(x, y, scale, bias, meanOut, invOut, n, eps, r0, r1);
}

/** RMSNormalization of rows [r0, r1) of n elements (scale holds n values). */
export function rmsNormF32(ex: KilnWasmExports, x: number, y: number, scale: number, n: number, eps: number, r0: number, r1: number): void {
  normExports(ex).rmsNormF32(x, y, scale, n, eps, r0, r1);
}

/** y = x * scale[c] + bias[c] for planes [p0, p1) of `inner` elements, c = plane % channels. */
export function channelAffineF32(
  ex: KilnWasmExports, x: number, y: number, scale: number, bias: number, channels: number, inner: number, p0: number, p1: number,
): void {
  normExports(ex).channelAffineF32(x, y, scale, bias, channels, inner, p0, p1);
}

/**
 * Reduces x viewed as [outer, R, inner] over R into [outer, inner], outer indices [o0, o1). Sums
 * are multiplied by `scale` (1/R for a mean) and square-rooted when `root` (L2).
 */
export function reduceF32(
  ex: KilnWasmExports, op: ReduceOpF32, x: number, y: number, R: number, inner: number, scale: number, root: boolean, o0: number, o1: number,
): void {
  normExports(ex).reduceF32(REDUCE_F32[op], x, y, R, inner, scale, root ? 1 : 0, o0, o1);
}
