// Typed wrapper over assembly/quant_f32.ts: f32 <-> 8-bit quantization and QLinearAdd/QLinearMul.
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

export interface QuantF32Exports {
  quantizeLinearF32(x: number, y: number, n: number, scale: number, zp: number, signed: number): void;
  dequantizeLinearF32(x: number, y: number, n: number, scale: number, zp: number, signed: number): void;
  qlinearBinaryQ8(
    op: number, a: number, aStep: number, aS: number, aZ: number, b: number, bStep: number, bS: number, bZ: number,
    c: number, n: number, cS: number, cZ: number, signed: number,
  ): void;
}

export function quantF32Exports(ex: KilnWasmExports): QuantF32Exports {
  return familyExports<QuantF32Exports>(ex, 'quant_f32', ['quantizeLinearF32', 'dequantizeLinearF32', 'qlinearBinaryQ8']);
}

/** QLinearAdd / QLinearMul op codes of qlinearBinaryQ8. */
export const QLINEAR_BINARY = { add: 0, mul: 1 } as const;
