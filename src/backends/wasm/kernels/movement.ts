// Typed wrapper over assembly/movement.ts: strided copies (any element size) and row gathers.
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

export type ElemSize = 1 | 2 | 4 | 8;

export interface MovementExports {
  copyStrided(elemSize: number, src: number, dst: number, desc: number, o0: number, o1: number): void;
  gatherRows(src: number, idx: number, idx64: number, dst: number, axisLen: number, nIdx: number, innerBytes: number, o0: number, o1: number): number;
}

export function movementExports(ex: KilnWasmExports): MovementExports {
  return familyExports<MovementExports>(ex, 'movement', ['copyStrided', 'gatherRows']);
}

/** Copies over a 2-operand (source, destination) stride descriptor at `desc`, rows [o0, o1). */
export function copyStrided(ex: KilnWasmExports, elemSize: ElemSize, src: number, dst: number, desc: number, o0: number, o1: number): void {
  movementExports(ex).copyStrided(elemSize, src, dst, desc, o0, o1);
}

/**
 * Gather of whole [inner]-byte slices along an axis: data [outer, axisLen, inner] -> out [outer,
 * nIdx, inner] for outer indices [o0, o1). Returns -1 when all indices are in range, else the
 * position of the first bad one (nothing is written then).
 */
export function gatherRows(
  ex: KilnWasmExports, src: number, idx: number, idx64: boolean, dst: number, axisLen: number, nIdx: number, innerBytes: number,
  o0: number, o1: number,
): number {
  return movementExports(ex).gatherRows(src, idx, idx64 ? 1 : 0, dst, axisLen, nIdx, innerBytes, o0, o1) - 1;
}
