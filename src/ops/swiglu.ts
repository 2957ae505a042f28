// SwiGLU (opset 28): Y = Swish_alpha(A) * B = A * sigmoid(alpha * A) * B, with A (the gate) and
// B (the value) of one shape; unlike most elementwise ops it does not broadcast.
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { defineOp } from './registry.js';
import { inputType, sameDType } from './util.js';
import { WIDE_FLOAT_TYPES } from './wide-types.js';

defineOp({
  name: 'SwiGLU',
  inputs: [{ name: 'A', types: WIDE_FLOAT_TYPES }, { name: 'B', types: WIDE_FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: { alpha: { type: 'float', default: 1 } },
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1]);
    const a = inputType(ctx, 0).shape, b = inputType(ctx, 1).shape;
    if (a && b) {
      const clash = a.length !== b.length || a.some((d, i) => typeof d === 'number' && typeof b[i] === 'number' && d !== b[i]);
      if (clash) throw new Error(`${ctx.where}: A and B must have the same shape (no broadcasting), got [${a.join(', ')}] and [${b.join(', ')}]`);
    }
    return [{ dtype, shape: a ?? b }];
  },
  reference: ([aT, bT], ctx) => {
    if (aT!.type !== bT!.type) throw new Error(`${ctx.where}: A has dtype ${aT!.type} but B has ${bT!.type}`);
    if (aT!.dims.join() !== bT!.dims.join()) {
      throw new Error(`${ctx.where}: A and B must have the same shape (no broadcasting), got [${aT!.dims.join(', ')}] and [${bT!.dims.join(', ')}]`);
    }
    const alpha = ctx.attrs.float('alpha');
    const a = toNumbers(aT!), b = toNumbers(bT!);
    for (let i = 0; i < a.length; i++) a[i] = (a[i]! / (1 + Math.exp(-alpha * a[i]!))) * b[i]!;
    return [fromNumbers(aT!.type, a, aT!.dims)];
  },
});
