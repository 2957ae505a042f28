// Softmax, LogSoftmax and Hardmax along one axis (opset-13 semantics; default axis -1).
// Each line along the axis is shifted by its maximum before exp, so large logits never overflow.
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { normalizeAxis } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { sameShape } from './elementwise-util.js';
import { defineOp } from './registry.js';
import { FLOAT_TYPES, inputType } from './util.js';

/** Calls `line(offset, stride, len)` for every line of `dims` along `axis`. */
function forEachLine(dims: readonly number[], axis: number, line: (offset: number, stride: number, len: number) => void): void {
  const len = dims[axis] ?? 1;
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= dims[d]!;
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) line(o * len * inner + i, inner, len);
}

function axisOf(x: Tensor, axis: number, where: string): number {
  try {
    return normalizeAxis(axis, x.dims.length);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

type LineKernel = (v: Float64Array, out: Float64Array, offset: number, stride: number, len: number) => void;

function defineAxisOp(name: string, kernel: LineKernel): void {
  defineOp({
    name,
    inputs: [{ name: 'input', types: FLOAT_TYPES }],
    outputs: [{ name: 'output' }],
    attrs: { axis: { type: 'int', default: -1 } },
    inferShape: (ctx) => {
      const s = inputType(ctx, 0).shape;
      if (s) {
        try {
          normalizeAxis(ctx.attrs.int('axis'), s.length);
        } catch (e) {
          throw new Error(`${ctx.where}: ${(e as Error).message}`);
        }
      }
      return sameShape(ctx);
    },
    reference: ([x], ctx) => {
      const axis = axisOf(x!, ctx.attrs.int('axis'), ctx.where);
      const v = toNumbers(x!);
      const out = new Float64Array(v.length);
      forEachLine(x!.dims, axis, (offset, stride, len) => kernel(v, out, offset, stride, len));
      return [fromNumbers(x!.type, out, x!.dims)];
    },
  });
}

/** Max of one line, and the sum of exp(v - max) over it. */
function lineStats(v: Float64Array, offset: number, stride: number, len: number): { max: number; sum: number } {
  let max = -Infinity;
  for (let k = 0; k < len; k++) {
    const x = v[offset + k * stride]!;
    if (x > max || x !== x) max = x;
    if (max !== max) break;
  }
  let sum = 0;
  for (let k = 0; k < len; k++) sum += Math.exp(v[offset + k * stride]! - max);
  return { max, sum };
}

defineAxisOp('Softmax', (v, out, offset, stride, len) => {
  const { max, sum } = lineStats(v, offset, stride, len);
  for (let k = 0; k < len; k++) out[offset + k * stride] = Math.exp(v[offset + k * stride]! - max) / sum;
});

defineAxisOp('LogSoftmax', (v, out, offset, stride, len) => {
  const { max, sum } = lineStats(v, offset, stride, len);
  const logSum = Math.log(sum);
  for (let k = 0; k < len; k++) out[offset + k * stride] = v[offset + k * stride]! - max - logSum;
});

// Hardmax: 1 at the first maximum of each line, 0 elsewhere.
defineAxisOp('Hardmax', (v, out, offset, stride, len) => {
  let best = 0;
  for (let k = 1; k < len; k++) if (v[offset + k * stride]! > v[offset + best * stride]!) best = k;
  if (len > 0) out[offset + best * stride] = 1;
});
