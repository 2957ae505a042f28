// Typed wrapper over assembly/resize.ts: one resampled axis per call, taps from a table the
// factory (ops/resize.ts) writes at plan time.
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

export interface ResizeExports {
  resizeAxisF32(src: number, dst: number, inLen: number, outLen: number, inner: number, table: number, n: number, extrapolation: number, r0: number, r1: number): void;
}

export function resizeExports(ex: KilnWasmExports): ResizeExports {
  return familyExports<ResizeExports>(ex, 'resize', ['resizeAxisF32']);
}
