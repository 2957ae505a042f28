// DynamicQuantizeLinear, QLinearGlobalAveragePool and the DequantizeLinear forms quant-simd.ts
// declines (a scale that is not float32) on WASM memory, as loops over views of the session memory
// (no copies, no reference round trip). The arithmetic mirrors the reference kernels in
// src/ops/quantize.ts and src/ops/qlinear.ts step for step, so the results are bit-identical.
// Per-tensor parameters must be constants; anything else falls back. QuantizeLinear, per-tensor
// float32 DequantizeLinear and QLinearAdd/QLinearMul are the SIMD kernels of quant-simd.ts.
import { MS_DOMAIN } from '../../../graph/ir.js';
import { globalAveragePoolScale } from '../../../ops/qlinear.js';
import { dynamicQuantParamsOfRange } from '../../../ops/quantize.js';
import { rangeOf } from '../../../ops/util.js';
import type { DType } from '../../../tensor/dtype.js';
import { isQ8, scalar } from './quant-params.js';
import { registerWasmKernel, type PlannedType, type WasmMemory, type WasmValue } from '../kernel.js';
import { familyExports } from '../kernels/exports.js';
import { quantF32Exports } from '../kernels/quant-f32.js';

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
