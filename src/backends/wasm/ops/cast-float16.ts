// Cast between float16 and float32 on the WASM backend. The fp16ToF32 lowering pass computes float16
// models in float32 and leaves exactly these casts at the model's float16 inputs and outputs (the
// plain Cast factory in elementwise.ts covers the other dtypes and declines float16).
import { ONNX_CODE_OF_DTYPE } from '../../../tensor/dtype.js';
import { float16Table, float32ToFloat16 } from '../../../tensor/float16.js';
import { registerWasmKernel, type PreparedKernel, type WasmMemory } from '../kernel.js';

/** A float16 -> float16 Cast shares its input's bytes (copied when the planner cannot alias). */
const aliasKernel: PreparedKernel = {
  aliasOf: 0,
  run(mem, [x], [y]) {
    if (x!.ptr !== y!.ptr) mem.u8(y!.ptr, y!.byteLength).set(mem.u8(x!.ptr, y!.byteLength));
  },
};

function u16(mem: WasmMemory, ptr: number, n: number): Uint16Array {
  // The planner aligns every value to at least 16 bytes.
  return new Uint16Array(mem.buffer(), ptr, n);
}

function castFloat16Kernel(from: 'float16' | 'float32', n: number): PreparedKernel {
  return {
    run(mem, [x], [y]) {
      if (from === 'float16') {
        const table = float16Table();
        const src = u16(mem, x!.ptr, n);
        const dst = mem.f32(y!.ptr, n);
        for (let i = 0; i < n; i++) dst[i] = table[src[i]!]!;
      } else {
        const src = mem.f32(x!.ptr, n);
        const dst = u16(mem, y!.ptr, n);
        for (let i = 0; i < n; i++) dst[i] = float32ToFloat16(src[i]!);
      }
    },
  };
}

const FLOAT16 = ONNX_CODE_OF_DTYPE.float16;
const FLOAT32 = ONNX_CODE_OF_DTYPE.float32;

registerWasmKernel('Cast', (ctx) => {
  const from = ctx.inputs[0]!.dtype;
  const to = ctx.attrs.int('to');
  const n = ctx.outputs[0]!.dims.reduce((a, b) => a * b, 1);
  if (from === 'float16' && to === FLOAT16) return aliasKernel;
  if (from === 'float16' && to === FLOAT32) return castFloat16Kernel('float16', n);
  if (from === 'float32' && to === FLOAT16) return castFloat16Kernel('float32', n);
  return undefined;
});
