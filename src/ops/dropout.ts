// Dropout (opset 12+ form: ratio and training_mode are inputs). Inference is the identity with an
// all-true mask; training mode would need random numbers, which the reference backend refuses
// so that results stay reproducible.
import { scalarOf } from '../tensor/convert.js';
import type { DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { defineOp } from './registry.js';
import { FLOAT_TYPES, inputType } from './util.js';

/** The spec's T and T1: the floats and the float8 formats (inference copies data unchanged). */
const DROPOUT_TYPES: readonly DType[] = [...FLOAT_TYPES, 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz'];

defineOp({
  name: 'Dropout',
  inputs: [
    { name: 'data', types: DROPOUT_TYPES },
    { name: 'ratio', types: DROPOUT_TYPES, optional: true },
    { name: 'training_mode', types: ['bool'], optional: true },
  ],
  outputs: [{ name: 'output' }, { name: 'mask', optional: true }],
  attrs: { seed: { type: 'int' } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    return [{ dtype: x.dtype, shape: x.shape }, { dtype: 'bool', shape: x.shape }];
  },
  reference: ([x, ratioT, training], ctx) => {
    const ratio = ratioT ? scalarOf(ratioT) : 0.5;
    if (!(ratio >= 0 && ratio < 1)) throw new Error(`${ctx.where}: ratio must be in [0, 1), got ${ratio}`);
    if (training && scalarOf(training) !== 0 && ratio !== 0) {
      throw new Error(`${ctx.where}: training mode is not supported (it needs random numbers); run with training_mode false`);
    }
    const out = new Tensor(x!.type, x!.data.slice(), x!.dims);
    return [out, new Tensor('bool', new Uint8Array(x!.size).fill(1), x!.dims)];
  },
});
