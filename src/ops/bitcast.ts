// BitCast (opset 26): reinterprets each element's bits as another dtype of the same width
// (little-endian bytes, which every typed array in JS engines uses). Unlike Cast, no value changes.
// Packed sub-byte dtypes share one packing per width, so their bytes carry over as they are.
import type { DType } from '../tensor/dtype.js';
import { allocData, byteLengthOf, DTYPES, packedBits } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { sameShape } from './elementwise-util.js';
import { defineOp } from './registry.js';
import { dtypeFromOnnxCode } from './unary.js';
import { inputType } from './util.js';

/** Bits per element: packed dtypes from their packing, the rest from their byte size. */
function bitsOf(d: DType): number {
  return packedBits(d) || 8 * byteLengthOf(d, 1);
}

function target(from: DType, code: number, where: string): DType {
  const to = dtypeFromOnnxCode(code, where);
  if (bitsOf(from) !== bitsOf(to)) {
    throw new Error(`${where}: BitCast needs dtypes of one bit width, got ${from} (${bitsOf(from)} bits) and ${to} (${bitsOf(to)} bits)`);
  }
  return to;
}

defineOp({
  name: 'BitCast',
  inputs: [{ name: 'input', types: DTYPES }],
  outputs: [{ name: 'output' }],
  attrs: { to: { type: 'int', required: true } },
  inferShape: (ctx) => sameShape(ctx, target(inputType(ctx, 0).dtype, ctx.attrs.int('to'), ctx.where)),
  reference: ([x], ctx) => {
    const to = target(x!.type, ctx.attrs.int('to'), ctx.where);
    const out = allocData(to, x!.size);
    const src = x!.data;
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, out.byteLength));
    // Kiln's bool holds 0 or 1; any non-zero byte reads as true.
    if (to === 'bool') for (let i = 0; i < out.length; i++) out[i] = out[i] ? 1 : 0;
    return [new Tensor(to, out, x!.dims)];
  },
});
