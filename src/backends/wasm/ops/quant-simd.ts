// SIMD forms of QuantizeLinear, DequantizeLinear (per tensor) and QLinearAdd / QLinearMul (same
// shapes or one single-valued operand): assembly/quant_f32.ts, bit-identical to the reference
// kernels. Imported before quant-elementwise.ts, whose plain loops remain for what these decline.
// Static int8 models spend most of their non-conv time here (ultraface: 119 QuantizeLinear
// before lowering, QLinearAdd on every residual), so it is worth vector code.
import { MS_DOMAIN } from '../../../graph/ir.js';
import { registerWasmKernel, type WasmMemory, type WasmPlanContext, type WasmValue } from '../kernel.js';
import { elementCount } from '../kernels/strided.js';
import { QLINEAR_BINARY, quantF32Exports } from '../kernels/quant-f32.js';
import { isQ8, scalar } from './quant-params.js';

registerWasmKernel('QuantizeLinear', (ctx) => {
  const [x] = ctx.inputs;
  const y = ctx.outputs[0]!;
  const scale = scalar(ctx, 1);
  const zp = scalar(ctx, 2, 0);
  if (x?.dtype !== 'float32' || ctx.constant(1)?.type !== 'float32' || !isQ8(y) || scale === undefined || zp === undefined) return undefined;
  if (ctx.attrs.int('block_size') !== 0 || ctx.attrs.int('precision') !== 0) return undefined;
  const n = elementCount(y.dims);
  const signed = y.dtype === 'int8' ? 1 : 0;
  return {
    run(mem, [xv], [yv]) {
      if (n > 0) quantF32Exports(mem.exports).quantizeLinearF32(xv!.ptr, yv!.ptr, n, scale, zp, signed);
    },
  };
});

registerWasmKernel('DequantizeLinear', (ctx) => {
  const [x] = ctx.inputs;
  const y = ctx.outputs[0]!;
  const scale = scalar(ctx, 1);
  const zp = scalar(ctx, 2, 0);
  // The f32 multiply matches the reference only for a float32 scale.
  if (!isQ8(x) || y.dtype !== 'float32' || ctx.constant(1)?.type !== 'float32' || scale === undefined || zp === undefined) return undefined;
  if (ctx.attrs.int('block_size') !== 0) return undefined;
  const n = elementCount(y.dims);
  const signed = x!.dtype === 'int8' ? 1 : 0;
  return {
    run(mem, [xv], [yv]) {
      if (n > 0) quantF32Exports(mem.exports).dequantizeLinearF32(xv!.ptr, yv!.ptr, n, scale, zp, signed);
    },
  };
});

function qlinearBinary(op: keyof typeof QLINEAR_BINARY) {
  return (ctx: WasmPlanContext) => {
    const [a, , , b] = ctx.inputs;
    const c = ctx.outputs[0]!;
    const p = [scalar(ctx, 1), scalar(ctx, 2, 0), scalar(ctx, 4), scalar(ctx, 5, 0), scalar(ctx, 6), scalar(ctx, 7, 0)];
    if (!isQ8(a) || b?.dtype !== a!.dtype || c.dtype !== a!.dtype || p.some((v) => v === undefined)) return undefined;
    const [aS, aZ, bS, bZ, cS, cZ] = p as number[];
    const n = elementCount(c.dims);
    const aStep = elementCount(a!.dims) === n ? 1 : elementCount(a!.dims) === 1 ? 0 : -1;
    const bStep = elementCount(b!.dims) === n ? 1 : elementCount(b!.dims) === 1 ? 0 : -1;
    if (aStep < 0 || bStep < 0) return undefined;
    const signed = c.dtype === 'int8' ? 1 : 0;
    return {
      run(mem: WasmMemory, [av, , , bv]: readonly (WasmValue | undefined)[], [cv]: readonly WasmValue[]) {
        if (n > 0) quantF32Exports(mem.exports).qlinearBinaryQ8(QLINEAR_BINARY[op], av!.ptr, aStep, aS!, aZ!, bv!.ptr, bStep, bS!, bZ!, cv!.ptr, n, cS!, cZ!, signed);
      },
    };
  };
}

registerWasmKernel('QLinearAdd', qlinearBinary('add'), MS_DOMAIN);
registerWasmKernel('QLinearMul', qlinearBinary('mul'), MS_DOMAIN);
