// Typed wrapper over assembly/elementwise_int.ts: broadcasting binary ops on int32/int64/int8/
// uint8/bool over the 2-operand descriptors of kernels/strided.ts, and Not.
import type { DType } from '../../../tensor/dtype.js';
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

/** Op codes of binaryInt; those from `equal` on write bool bytes. */
export const BINARY_INT = {
  add: 0, sub: 1, mul: 2, div: 3, mod: 4, fmod: 5, max: 6, min: 7, bitAnd: 8, bitOr: 9, bitXor: 10,
  equal: 11, greater: 12, less: 13, greaterOrEqual: 14, lessOrEqual: 15, and: 16, or: 17, xor: 18,
} as const;
export type BinaryOpInt = keyof typeof BINARY_INT;

/** Element kinds binaryInt reads (bool bytes are 0/1 uint8). */
export const INT_KIND: Partial<Record<DType, number>> = { int32: 0, int64: 1, uint8: 2, bool: 2, int8: 3 };

export interface ElementwiseIntExports {
  binaryInt(kind: number, op: number, a: number, b: number, y: number, desc: number, o0: number, o1: number): number;
  notBool(x: number, y: number, n: number): void;
}

function intExports(ex: KilnWasmExports): ElementwiseIntExports {
  return familyExports<ElementwiseIntExports>(ex, 'elementwise-int', ['binaryInt', 'notBool']);
}

/**
 * y = op(a, b) over a broadcast descriptor, rows [o0, o1). Returns -1, or the flat output index
 * of the first zero divisor (Div/Mod), where the kernel stopped.
 */
export function binaryInt(ex: KilnWasmExports, dtype: DType, op: BinaryOpInt, a: number, b: number, y: number, desc: number, o0: number, o1: number): number {
  const kind = INT_KIND[dtype];
  if (kind === undefined) throw new Error(`binaryInt: no kernel for ${dtype}`);
  return intExports(ex).binaryInt(kind, BINARY_INT[op], a, b, y, desc, o0, o1) - 1;
}

/** y = !x over n bool bytes. */
export function notBool(ex: KilnWasmExports, x: number, y: number, n: number): void {
  intExports(ex).notBool(x, y, n);
}
