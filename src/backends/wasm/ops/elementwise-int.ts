// WASM kernels for the integer and bool forms of broadcasting binary ops (the f32 forms are in
// elementwise.ts): Add/Sub/Mul/Div/Mod/Max/Min, bitwise ops and comparisons of int32/int64/int8/
// uint8 (Equal also of bool), And/Or/Xor/Not. Exported graphs compute shapes,
// positions and masks this way. Results wrap like the reference's typed-array stores; an integer
// division by zero raises the reference's error.
import { nodeLabel } from '../../../graph/ir.js';
import type { DType } from '../../../tensor/dtype.js';
import { registerWasmKernel, type PreparedKernel, type WasmPlanContext } from '../kernel.js';
import { binaryInt, notBool, type BinaryOpInt } from '../kernels/elementwise-int.js';
import { elementCount } from '../kernels/strided.js';
import { broadcastStep, layoutSteps, writeSteps } from './elementwise.js';

const INTS: readonly DType[] = ['int32', 'int64', 'int8', 'uint8'];
const BOOL: readonly DType[] = ['bool'];

/**
 * A fold over every input (y = op(x0, x1), then y = op(y, xk)): two inputs for most ops, any
 * number for Max/Min. All inputs must share one accepted dtype.
 */
function intKernel(ctx: WasmPlanContext, op: BinaryOpInt, types: readonly DType[]): PreparedKernel | undefined {
  const n = ctx.inputs.length;
  const dtype = ctx.inputs[0]?.dtype;
  if (n < 2 || !dtype || !types.includes(dtype) || !ctx.inputs.every((t) => t?.dtype === dtype)) return undefined;
  const out = ctx.outputs[0]!.dims;
  const steps = [broadcastStep(out, ctx.inputs[0]!.dims, ctx.inputs[1]!.dims)];
  for (let k = 2; k < n; k++) steps.push(broadcastStep(out, out, ctx.inputs[k]!.dims));
  const { offsets, bytes } = layoutSteps(steps);
  const where = nodeLabel(ctx.node);
  return {
    persistentBytes: bytes,
    init: writeSteps(steps, offsets),
    run(mem, inputs, [y], _scratch, p) {
      for (let k = 1; k < n; k++) {
        const rows = steps[k - 1]!.rows;
        if (rows === 0) return;
        const a = k === 1 ? inputs[0]!.ptr : y!.ptr;
        const bad = binaryInt(mem.exports, dtype, op, a, inputs[k]!.ptr, y!.ptr, p + offsets[k - 1]!, 0, rows);
        if (bad >= 0) throw new Error(`${where}: integer division by zero`);
      }
    },
  };
}

function register(onnxOp: string, op: BinaryOpInt, types: readonly DType[]): void {
  registerWasmKernel(onnxOp, (ctx) => intKernel(ctx, op, types));
}

register('Add', 'add', INTS);
register('Sub', 'sub', INTS);
register('Mul', 'mul', INTS);
register('Div', 'div', INTS);
registerWasmKernel('Mod', (ctx) => intKernel(ctx, ctx.attrs.int('fmod') === 1 ? 'fmod' : 'mod', INTS));
register('Max', 'max', INTS);
register('Min', 'min', INTS);
register('BitwiseAnd', 'bitAnd', INTS);
register('BitwiseOr', 'bitOr', INTS);
register('BitwiseXor', 'bitXor', INTS);
register('Equal', 'equal', [...INTS, 'bool']);
register('Greater', 'greater', INTS);
register('Less', 'less', INTS);
register('GreaterOrEqual', 'greaterOrEqual', INTS);
register('LessOrEqual', 'lessOrEqual', INTS);
register('And', 'and', BOOL);
register('Or', 'or', BOOL);
register('Xor', 'xor', BOOL);

registerWasmKernel('Not', (ctx) => {
  if (ctx.inputs[0]?.dtype !== 'bool') return undefined;
  const n = elementCount(ctx.outputs[0]!.dims);
  return {
    run(mem, [x], [y]) {
      if (n > 0) notBool(mem.exports, x!.ptr, y!.ptr, n);
    },
  };
});
