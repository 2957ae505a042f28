// WASM kernels for f32 Conv and FusedConv with 1 to 3 spatial axes: constant weights and bias are
// packed once per plan (weights fed at run time are packed on every run); bias and the fused
// activation are applied in the kernel's store. 1-D convs run on the 2-D kernels as H = 1 images
// (the same bytes), 3-D convs on their own im2col + GEMM kernel. Geometry comes from the
// reference's convProblem, so both backends check and resolve the attributes the same way.
import { nodeLabel } from '../../../graph/ir.js';
import { convProblem, outDimsOf, type ConvProblem } from '../../../ops/conv.js';
import { registerWasmKernel, type PreparedKernel, type WasmMemory, type WasmPlanContext } from '../kernel.js';
import {
  CONV_F32_DESC_BYTES, convF32Exports, convF32Sizes, prepareConvF32, runConvF32, type ConvF32Geometry, type ConvF32Prepared,
} from '../kernels/conv-f32.js';
import { CONV3D_F32_DESC_BYTES, conv3dF32Desc, conv3dF32Exports } from '../kernels/conv3d-f32.js';
import { EPILOGUE_F32_BYTES, writeEpilogueF32, type ActivationF32 } from '../kernels/gemm-f32.js';
import { elementCount } from '../kernels/strided.js';
import { align } from '../plan.js';
import { GEMM_MIN_FLOPS_PER_THREAD } from '../threads/kernels.js';
import { fusedActivation } from './fused-activation.js';

/** A 1-D or 2-D problem as the 2-D kernel's geometry (a 1-D axis becomes W, with H = 1). */
function planarGeometry(p: ConvProblem): ConvF32Geometry {
  const g = p.geo;
  const [, H, W] = g.inSize;
  const [, Ho, Wo] = g.outSize;
  const [, kh, kw] = g.kernel;
  const [, sh, sw] = g.strides;
  const [, dh, dw] = g.dilations;
  const [, padT, padL] = g.padBegin;
  return {
    N: p.batch, Cin: p.inChannels, H, W, Cout: p.outChannels, group: p.group, kh, kw, sh, sw, dh, dw, padT, padL,
    // The kernel reads only the leading pads; the trailing ones follow from the output size.
    padB: (Ho - 1) * sh + (kh - 1) * dh + 1 - H - padT,
    padR: (Wo - 1) * sw + (kw - 1) * dw + 1 - W - padL,
    Ho, Wo,
  };
}

/** The checks every Conv kernel shares; the problem, or undefined to leave the node to the reference. */
function convSetup(ctx: WasmPlanContext): { p: ConvProblem; activation: ActivationF32 } | undefined {
  const [x, w, b] = ctx.inputs;
  const y = ctx.outputs[0]!;
  if (x?.dtype !== 'float32' || y.dtype !== 'float32' || w?.dtype !== 'float32' || (b && b.dtype !== 'float32')) return undefined;
  const activation = fusedActivation(ctx);
  if (!activation) return undefined;
  const p = convProblem(x.dims, w.dims, ctx.attrs, nodeLabel(ctx.node));
  // The shape rule rejects a bias of another length; here it would mean inconsistent plan types.
  if (b && (b.dims.length !== 1 || b.dims[0] !== p.outChannels)) return undefined;
  const outDims = outDimsOf(p, x.dims.length - 2);
  if (outDims.length !== y.dims.length || outDims.some((d, i) => d !== y.dims[i])) return undefined;
  // Empty tensors (and K = 0 products) stay with the reference's loops.
  if (elementCount(x.dims) === 0 || elementCount(w.dims) === 0 || elementCount(y.dims) === 0) return undefined;
  return { p, activation };
}

function conv2dFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const rank = ctx.inputs[0]?.dims.length;
  if (rank !== 3 && rank !== 4) return undefined;
  const setup = convSetup(ctx);
  if (!setup) return undefined;
  const { activation } = setup;
  const geometry = planarGeometry(setup.p);
  const b = ctx.inputs[2];
  const weights = ctx.constant(1);
  const bias = b ? ctx.constant(2) : undefined;
  const { Cout, Cin, kh, kw } = geometry;
  const N = geometry.N;
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

function conv3dFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  if (ctx.inputs[0]?.dims.length !== 5) return undefined;
  const setup = convSetup(ctx);
  if (!setup) return undefined;
  const { p, activation } = setup;
  const b = ctx.inputs[2];
  const weights = ctx.constant(1);
  const bias = b ? ctx.constant(2) : undefined;
  const ex = conv3dF32Exports(ctx.exports);
  const desc = conv3dF32Desc(p);
  ctx.memory.i32(ctx.tempPtr, desc.length).set(desc);
  const weightBytes = ex.conv3dF32PackedWeightBytes(ctx.tempPtr) >>> 0;
  const scratchBytes = ex.conv3dF32ScratchBytes(ctx.tempPtr) >>> 0;
  const M = p.outChannels;
  // Persistent block: [descriptor | epilogue | bias | packed weights].
  const epiOff = align(CONV3D_F32_DESC_BYTES);
  const biasOff = epiOff + align(EPILOGUE_F32_BYTES);
  const weightsOff = biasOff + align(b ? M * 4 : 0);
  const hasEpi = !!b || activation.kind !== 'none';
  const constantInputs = !!weights && (!b || !!bias);
  const [KD, KH, KW] = p.geo.kernel;
  const pixels = p.geo.outSize[0] * p.geo.outSize[1] * p.geo.outSize[2];
  const flops = 2 * p.batch * M * pixels * (p.inChannels / p.group) * KD * KH * KW;
  return {
    threaded: flops >= 2 * GEMM_MIN_FLOPS_PER_THREAD,
    persistentBytes: weightsOff + weightBytes,
    scratchBytes: Math.max(scratchBytes, elementCount(ctx.inputs[1]!.dims) * 4),
    packedInputs: constantInputs ? (b ? [1, 2] : [1]) : [],
    init(mem, ptr, scratch) {
      mem.i32(ptr, desc.length).set(desc);
      if (hasEpi) writeEpilogueF32(mem.buffer(), ptr + epiOff, { activation, biasPtr: b ? ptr + biasOff : 0, biasMode: 'row' });
      if (!constantInputs) return;
      if (bias) mem.write(ptr + biasOff, bias);
      mem.write(scratch, weights!);
      ex.conv3dF32PackWeights(ptr, scratch, ptr + weightsOff);
    },
    run(mem, [xv, wv, bv], [yv], scratch, ptr) {
      if (!constantInputs) {
        if (bv) mem.u8(ptr + biasOff, bv.byteLength).set(mem.u8(bv.ptr, bv.byteLength));
        ex.conv3dF32PackWeights(ptr, wv!.ptr, ptr + weightsOff);
      }
      const args = [ptr, xv!.ptr, ptr + weightsOff, yv!.ptr, hasEpi ? ptr + epiOff : 0, scratch, 0, M, 0, pixels];
      const pool = mem.pool;
      const threads = pool ? Math.min(pool.threads, Math.max(1, Math.floor(flops / GEMM_MIN_FLOPS_PER_THREAD))) : 1;
      if (pool && threads > 1) {
        // Pixels split: each thread gathers only its own columns (chunks align to the GEMM's 8-column tile).
        pool.run('conv3dF32', args, 'p', pixels, { scratch: { base: scratch, stride: mem.scratchStride }, maxThreads: threads });
      } else {
        ex.conv3dF32(ptr, xv!.ptr, ptr + weightsOff, yv!.ptr, hasEpi ? ptr + epiOff : 0, scratch, 0, M, 0, pixels);
      }
    },
  };
}

for (const factory of [conv2dFactory, conv3dFactory]) {
  registerWasmKernel('Conv', factory);
  registerWasmKernel('FusedConv', factory, 'ai.kiln');
}
