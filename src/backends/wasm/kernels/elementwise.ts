// Typed wrapper over assembly/elementwise.ts: op codes, broadcast descriptors and the calls.
// Pointers are byte offsets into the module's linear memory; descriptors are built by
// kernels/strided.ts and must stay in memory while a call runs.
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

/** Unary f32 ops; alpha/beta meanings are noted where used. Codes mirror assembly/elementwise.ts. */
export const UNARY_F32 = {
  relu: 0, leakyRelu: 1 /* alpha */, sigmoid: 2, tanh: 3, exp: 4, log: 5, sqrt: 6, abs: 7, neg: 8, reciprocal: 9,
  clip: 10 /* alpha = min, beta = max */, hardSigmoid: 11 /* alpha, beta */, hardSwish: 12, elu: 13 /* alpha */,
  gelu: 14, geluTanh: 15, erf: 16, softplus: 17, swish: 18 /* alpha */, copy: 19, affine: 20 /* x*alpha + beta */,
  floor: 21, ceil: 22, round: 23, softsign: 24, selu: 25 /* alpha, beta = gamma */, celu: 26 /* alpha */,
  thresholdedRelu: 27 /* alpha */, mish: 28, square: 29, cube: 30, powHalf: 31, one: 32,
} as const;
export type UnaryOpF32 = keyof typeof UNARY_F32;

export const BINARY_F32 = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, prelu: 6, pow: 7 } as const;
export type BinaryOpF32 = keyof typeof BINARY_F32;

export const COMPARE_F32 = { equal: 0, greater: 1, less: 2, greaterOrEqual: 3, lessOrEqual: 4 } as const;
export type CompareOpF32 = keyof typeof COMPARE_F32;

/** The exports this wrapper calls, with their wasm signatures. */
export interface ElementwiseExports {
  unaryF32(op: number, x: number, y: number, n: number, alpha: number, beta: number): void;
  binaryF32(op: number, a: number, b: number, y: number, desc: number, o0: number, o1: number): void;
  compareF32(op: number, a: number, b: number, y: number, desc: number, o0: number, o1: number): void;
  whereSelect(elemSize: number, c: number, x: number, y: number, out: number, desc: number, o0: number, o1: number): void;
}

export function elementwiseExports(ex: KilnWasmExports): ElementwiseExports {
  return familyExports<ElementwiseExports>(ex, 'elementwise', ['unaryF32', 'binaryF32', 'compareF32', 'whereSelect']);
}

/** y[i] = op(x[i]) for n elements; split a call by offsetting x and y by 4 bytes per element. */
export function unaryF32(ex: KilnWasmExports, op: UnaryOpF32, x: number, y: number, n: number, alpha = 0, beta = 0): void {
  elementwiseExports(ex).unaryF32(UNARY_F32[op], x, y, n, alpha, beta);
}

/** y = op(a, b) over a 2-operand broadcast descriptor at `desc`, rows [o0, o1). */
export function binaryF32(ex: KilnWasmExports, op: BinaryOpF32, a: number, b: number, y: number, desc: number, o0: number, o1: number): void {
  elementwiseExports(ex).binaryF32(BINARY_F32[op], a, b, y, desc, o0, o1);
}

/** y (bool bytes) = a op b over a 2-operand broadcast descriptor, rows [o0, o1). */
export function compareF32(ex: KilnWasmExports, op: CompareOpF32, a: number, b: number, y: number, desc: number, o0: number, o1: number): void {
  elementwiseExports(ex).compareF32(COMPARE_F32[op], a, b, y, desc, o0, o1);
}

/** out = cond ? x : y, elements of elemSize bytes, over a 3-operand (cond, x, y) descriptor. */
export function whereSelect(
  ex: KilnWasmExports, elemSize: 1 | 2 | 4 | 8, cond: number, x: number, y: number, out: number, desc: number, o0: number, o1: number,
): void {
  elementwiseExports(ex).whereSelect(elemSize, cond, x, y, out, desc, o0, o1);
}
