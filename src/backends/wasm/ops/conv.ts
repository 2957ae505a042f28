// WASM kernels for 2-D f32 Conv and FusedConv: constant weights and bias are packed once per plan
// (weights fed at run time are packed on every run); bias and the fused activation are applied in
// the kernel's store. Other ranks fall back.
import { registerWasmKernel, type PreparedKernel, type WasmMemory, type WasmPlanContext } from '../kernel.js';
import {
  CONV_F32_DESC_BYTES, convF32Exports, convF32Geometry, convF32Sizes, prepareConvF32, runConvF32, type ConvF32Prepared,
} from '../kernels/conv-f32.js';
import { EPILOGUE_F32_BYTES } from '../kernels/gemm-f32.js';
import { align } from '../plan.js';
import { GEMM_MIN_FLOPS_PER_THREAD } from '../threads/kernels.js';
import { fusedActivation } from './fused-activation.js';

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;

function convFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const [x, w, b] = ctx.inputs;
  const y = ctx.outputs[0]!;
  const weights = ctx.constant(1);
  const bias = b ? ctx.constant(2) : undefined;
  if (x?.dtype !== 'float32' || y.dtype !== 'float32' || x.dims.length !== 4 || w?.dtype !== 'float32') return undefined;
  if (b && b.dtype !== 'float32') return undefined;
  const activation = fusedActivation(ctx);
  const autoPad = ctx.attrs.string('auto_pad');
  if (!activation || !(AUTO_PADS as readonly string[]).includes(autoPad)) return undefined;
  const [N, Cin, H, W] = x.dims as [number, number, number, number];
  const [Cout, , kh, kw] = w!.dims as [number, number, number, number];
  const pair = (name: string, dflt: number): [number, number] => {
    const v = ctx.attrs.optInts(name);
    return v ? [v[0]!, v[1]!] : [dflt, dflt];
  };
  const pads = ctx.attrs.optInts('pads') ?? [0, 0, 0, 0];
  const geometry = convF32Geometry({ N, Cin, H, W, Cout }, {
    kernelShape: [kh, kw], strides: pair('strides', 1), dilations: pair('dilations', 1),
    pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!], autoPad: autoPad as (typeof AUTO_PADS)[number], group: ctx.attrs.int('group'),
  });
  if (geometry.Ho !== y.dims[2] || geometry.Wo !== y.dims[3]) return undefined;
  const ex = convF32Exports(ctx.exports);
  const sizes = convF32Sizes(ex, ctx.memory.buffer(), ctx.tempPtr, geometry);
  // Persistent block: [descriptor | epilogue | bias | packed weights].
  const epiOff = align(CONV_F32_DESC_BYTES);
  const biasOff = epiOff + align(EPILOGUE_F32_BYTES);
  const weightsOff = biasOff + align(b ? Cout * 4 : 0);
  const constantInputs = weights && (!b || bias);
  let prepared: ConvF32Prepared | undefined;
  const prepare = (mem: WasmMemory, p: number, wSrcPtr: number) => prepareConvF32(ex, mem.buffer(), geometry, {
    descPtr: p, wSrcPtr, weightsPtr: p + weightsOff, epiPtr: p + epiOff, ...(b ? { biasPtr: p + biasOff } : {}), activation,
  });
  const flops = 2 * N * Cout * geometry.Ho * geometry.Wo * (Cin / geometry.group) * kh * kw;
  const split = sizes.method === 'depthwise' ? { dim: 'co', extent: Cout } : { dim: 'p', extent: geometry.Ho * geometry.Wo };
  return {
    threaded: flops >= 2 * GEMM_MIN_FLOPS_PER_THREAD,
    persistentBytes: weightsOff + sizes.weightBytes,
    scratchBytes: Math.max(sizes.scratchBytes, Cout * Cin / geometry.group * kh * kw * 4),
    packedInputs: constantInputs ? (b ? [1, 2] : [1]) : [],
    init(mem, p, scratch) {
      if (!constantInputs) return;
      mem.write(scratch, weights);
      if (bias) mem.write(p + biasOff, bias);
      prepared = prepare(mem, p, scratch);
    },
    run(mem, [xv, wv, bv], [yv], scratch, p) {
      if (!constantInputs) {
        if (bv) mem.u8(p + biasOff, bv.byteLength).set(mem.u8(bv.ptr, bv.byteLength));
        prepared = prepare(mem, p, wv!.ptr);
      }
      const pool = mem.pool;
      const threads = pool ? Math.min(pool.threads, Math.max(1, Math.floor(flops / GEMM_MIN_FLOPS_PER_THREAD))) : 1;
      if (pool && threads > 1) {
        const c = prepared!;
        pool.run('convF32', [c.descPtr, xv!.ptr, c.weightsPtr, yv!.ptr, c.epiPtr, scratch, 0, Cout, 0, geometry.Ho * geometry.Wo],
          split.dim, split.extent, { scratch: { base: scratch, stride: mem.scratchStride }, maxThreads: threads });
      } else {
        runConvF32(ex, prepared!, xv!.ptr, yv!.ptr, scratch);
      }
    },
  };
}

registerWasmKernel('Conv', convFactory);
registerWasmKernel('FusedConv', convFactory, 'ai.kiln');
