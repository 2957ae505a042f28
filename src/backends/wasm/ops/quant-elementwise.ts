// Quantize/dequantize and the com.microsoft quantized elementwise ops on WASM memory, as plain
// loops over views of the session memory (no copies, no reference round trip). The arithmetic
// mirrors the reference kernels in src/ops/quantize.ts and src/ops/qlinear.ts step for step, so the
// results are bit-identical. Per-tensor parameters must be constants; anything else falls back.
import { MS_DOMAIN } from '../../../graph/ir.js';
import { globalAveragePoolScale, qlinearBinaryValue } from '../../../ops/qlinear.js';
import { dynamicQuantParamsOfRange } from '../../../ops/quantize.js';
import { rangeOf } from '../../../ops/util.js';
import { toNumbers } from '../../../tensor/convert.js';
import type { DType } from '../../../tensor/dtype.js';
import { isQ8, scalar } from './quant-params.js';
import { registerWasmKernel, type PlannedType, type WasmMemory, type WasmPlanContext, type WasmValue } from '../kernel.js';
import { familyExports } from '../kernels/exports.js';
import { quantF32Exports } from '../kernels/quant-f32.js';

type Q8 = 'uint8' | 'int8';

/** 1.5 * 2^52: (v + MAGIC) - MAGIC rounds a float64 to an integer with ties to even, like roundHalfEven. */
const MAGIC = 6755399441055744;

/** quantizeValue of src/ops/quantize.ts without the modulo (same results for every input). */
function quantizeValue(v: number, zeroPoint: number, lo: number, hi: number): number {
  const r = v + MAGIC - MAGIC + zeroPoint;
  return r < lo ? lo : r > hi ? hi : r;
}
const size = (t: PlannedType) => t.dims.reduce((a, b) => a * b, 1);


function q8View(mem: WasmMemory, v: WasmValue, type: DType): Uint8Array | Int8Array {
  const n = size(v);
  return type === 'int8' ? mem.i8(v.ptr, n) : mem.u8(v.ptr, n);
}

registerWasmKernel('QuantizeLinear', (ctx) => {
  const [x] = ctx.inputs;
  const y = ctx.outputs[0]!;
  const scale = scalar(ctx, 1);
  const zp = scalar(ctx, 2, 0);
  // float32 x and scale divide in float32 (the reference's precision for this pair).
  if (x?.dtype !== 'float32' || ctx.constant(1)?.type !== 'float32' || !isQ8(y) || scale === undefined || zp === undefined) return undefined;
  if (ctx.attrs.int('block_size') !== 0 || ctx.attrs.int('precision') !== 0) return undefined;
  const [lo, hi] = rangeOf(y.dtype);
  return {
    run(mem, [xv], [yv]) {
      const src = mem.f32(xv!.ptr, size(xv!));
      const dst = q8View(mem, yv!, y.dtype);
      for (let i = 0; i < src.length; i++) dst[i] = quantizeValue(Math.fround(src[i]! / scale), zp, lo, hi);
    },
  };
});

// DynamicQuantizeLinear: a SIMD pass for min(x, 0) / max(x, 0) (assembly/dynamic_quant.ts), the
// spec's uint8 scale and zero point from them (shared with the reference), and a SIMD quantizing
// pass (quantizeLinearF32, the QuantizeLinear kernel's). Its outputs feed ConvInteger /
// MatMulInteger, whose WASM kernels read the zero point at run time.
registerWasmKernel('DynamicQuantizeLinear', (ctx) => {
  const [x] = ctx.inputs;
  if (x?.dtype !== 'float32' || ctx.outputs[0]?.dtype !== 'uint8') return undefined;
  const ex = familyExports<{ minMaxF32(x: number, n: number, out: number): void }>(ctx.exports, 'dynamic_quant', ['minMaxF32']);
  const q = quantF32Exports(ctx.exports);
  return {
    persistentBytes: 8,
    run(mem, [xv], [yv, sv, zv], _scratch, p) {
      const n = size(xv!);
      ex.minMaxF32(xv!.ptr, n, p);
      const range = mem.f32(p, 2);
      const { scale, zeroPoint } = dynamicQuantParamsOfRange(range[0]!, range[1]!);
      q.quantizeLinearF32(xv!.ptr, yv!.ptr, n, scale, zeroPoint, 0);
      // y_scale and y_zero_point are optional outputs: a graph may leave them unnamed.
      if (sv) mem.f32(sv.ptr, 1)[0] = scale;
      if (zv) mem.u8(zv.ptr, 1)[0] = zeroPoint;
    },
  };
});

registerWasmKernel('DequantizeLinear', (ctx) => {
  const [x] = ctx.inputs;
  const y = ctx.outputs[0]!;
  const scale = scalar(ctx, 1);
  const zp = scalar(ctx, 2, 0);
  if (!isQ8(x) || y.dtype !== 'float32' || scale === undefined || zp === undefined || ctx.attrs.int('block_size') !== 0) return undefined;
  return {
    run(mem, [xv], [yv]) {
      const src = q8View(mem, xv!, x!.dtype);
      const dst = mem.f32(yv!.ptr, src.length);
      for (let i = 0; i < src.length; i++) dst[i] = Math.fround(Math.fround(src[i]! - zp) * scale);
    },
  };
});

function qlinearBinary(combine: (a: number, b: number) => number) {
  return (ctx: WasmPlanContext) => {
    const [a, , , b] = ctx.inputs;
    const c = ctx.outputs[0]!;
    const p = [scalar(ctx, 1), scalar(ctx, 2, 0), scalar(ctx, 4), scalar(ctx, 5, 0), scalar(ctx, 6), scalar(ctx, 7, 0)];
    if (!isQ8(a) || b?.dtype !== a!.dtype || p.some((v) => v === undefined)) return undefined;
    const [aS0, aZ, bS0, bZ, cS0, cZ] = p as number[];
    const [aS, bS, cS] = [Math.fround(aS0!), Math.fround(bS0!), Math.fround(cS0!)];
    const n = size(c);
    // Same shapes, or B (or A) a single value.
    const aStep = size(a!) === n ? 1 : size(a!) === 1 ? 0 : -1;
    const bStep = size(b!) === n ? 1 : size(b!) === 1 ? 0 : -1;
    if (aStep < 0 || bStep < 0) return undefined;
    const [lo, hi] = rangeOf(c.dtype as Q8);
    return {
      run(mem: WasmMemory, [av, , , bv]: readonly (WasmValue | undefined)[], [cv]: readonly WasmValue[]) {
        const A = q8View(mem, av!, a!.dtype);
        const B = q8View(mem, bv!, a!.dtype);
        const C = q8View(mem, cv!, a!.dtype);
        for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += aStep, ib += bStep) {
          C[i] = qlinearBinaryValue(combine, A[ia]!, aS, aZ!, B[ib]!, bS, bZ!, cS, cZ!, lo, hi);
        }
      },
    };
  };
}

registerWasmKernel('QLinearAdd', qlinearBinary((a, b) => a + b), MS_DOMAIN);
registerWasmKernel('QLinearMul', qlinearBinary((a, b) => a * b), MS_DOMAIN);

registerWasmKernel('QLinearGlobalAveragePool', (ctx) => {
  const [x] = ctx.inputs;
  const xS = scalar(ctx, 1);
  const xZ = scalar(ctx, 2, 0);
  const yS = scalar(ctx, 3);
  const yZ = scalar(ctx, 4, 0);
  if (!isQ8(x) || x!.dims.length < 3 || ctx.attrs.int('channels_last') !== 0 || [xS, xZ, yS, yZ].some((v) => v === undefined)) return undefined;
  const [N, C] = x!.dims as [number, number];
  const count = x!.dims.slice(2).reduce((p, q) => p * q, 1);
  const scale = globalAveragePoolScale(xS!, yS!, count);
  const [lo, hi] = rangeOf(x!.dtype);
  return {
    run(mem, [xv], [yv]) {
      const X = q8View(mem, xv!, x!.dtype);
      const Y = q8View(mem, yv!, x!.dtype);
      for (let nc = 0; nc < N * C; nc++) {
        let sum = 0;
        for (let s = nc * count, e = s + count; s < e; s++) sum += X[s]!;
        Y[nc] = count > 0 ? quantizeValue(Math.fround(Math.fround(sum - xZ! * count) * scale), yZ!, lo, hi) : yZ!;
      }
    },
  };
}, MS_DOMAIN);
