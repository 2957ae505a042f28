// WASM kernel for f32 ConvTranspose with 1 to 3 spatial axes and every ONNX attribute: GEMM of the
// pre-packed W^T with the input into columns, col2im scatter-add, bias first and activation last
// (assembly/conv_transpose_f32.ts). Geometry comes from the reference's convTransposeProblem, so
// both backends resolve auto_pad, output_padding and output_shape the same way. Constant weights
// are packed once per plan, weights fed at run time on every run. Splits over output channels or,
// with few channels, over output rows of the outermost spatial axis.
import { nodeLabel } from '../../../graph/ir.js';
import { convTransposeProblem, outDimsOf } from '../../../ops/conv.js';
import { registerWasmKernel, type PreparedKernel, type WasmPlanContext } from '../kernel.js';
import {
  CONV_TRANSPOSE_F32_DESC_BYTES, convTransposeF32Desc, convTransposeF32Exports, convTransposeF32Sizes, convTransposeSplitExtent,
} from '../kernels/conv-transpose-f32.js';
import { elementCount } from '../kernels/strided.js';
import { align } from '../plan.js';
import { GEMM_MIN_FLOPS_PER_THREAD } from '../threads/kernels.js';
import { fusedActivation } from './fused-activation.js';

function convTransposeFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const [x, w, b] = ctx.inputs;
  const y = ctx.outputs[0]!;
  if (x?.dtype !== 'float32' || w?.dtype !== 'float32' || y.dtype !== 'float32' || (b && b.dtype !== 'float32')) return undefined;
  const rank = x.dims.length;
  if (rank < 3 || rank > 5) return undefined;
  const activation = fusedActivation(ctx);
  if (!activation) return undefined;
  const p = convTransposeProblem(x.dims, w.dims, ctx.attrs, nodeLabel(ctx.node));
  const M = p.outChannels;
  // The shape rule has already checked B; a mismatch here means the plan's types are off: let the
  // reference kernel report it.
  if (b && (b.dims.length !== 1 || b.dims[0] !== M)) return undefined;
  const outDims = outDimsOf(p, rank - 2);
  if (outDims.length !== y.dims.length || outDims.some((d, i) => d !== y.dims[i])) return undefined;
  const inPixels = elementCount(x.dims.slice(2));
  if (elementCount(y.dims) === 0) return { run() {} };
  // No input channel or pixel: the output is the bias alone (the reference's loop handles it).
  if (p.inChannels === 0 || inPixels === 0) return undefined;

  const ex = convTransposeF32Exports(ctx.exports);
  const weights = ctx.constant(1);
  const bias = b ? ctx.constant(2) : undefined;
  // Persistent block: [descriptor | bias | packed weights].
  const biasOff = align(CONV_TRANSPOSE_F32_DESC_BYTES);
  const weightsOff = biasOff + align(b ? M * 4 : 0);
  const probe = convTransposeF32Desc(p, 0, activation);
  ctx.memory.i32(ctx.tempPtr, probe.length).set(probe);
  const sizes = convTransposeF32Sizes(ex, ctx.tempPtr);
  const constantInputs = !!weights && (!b || !!bias);
  const writeDesc = (mem: Parameters<PreparedKernel['run']>[0], ptr: number) => {
    const desc = convTransposeF32Desc(p, b ? ptr + biasOff : 0, activation);
    mem.i32(ptr, desc.length).set(desc);
  };
  const ks = p.geo.kernel[0] * p.geo.kernel[1] * p.geo.kernel[2];
  const flops = 2 * p.batch * p.inChannels * (M / p.group) * ks * inPixels;
  const tExtent = convTransposeSplitExtent(p);
  return {
    threaded: flops >= 2 * GEMM_MIN_FLOPS_PER_THREAD,
    persistentBytes: weightsOff + sizes.weightBytes,
    scratchBytes: Math.max(sizes.scratchBytes, w.dims.reduce((a, d) => a * d, 1) * 4),
    packedInputs: constantInputs ? (b ? [1, 2] : [1]) : [],
    init(mem, ptr, scratch) {
      writeDesc(mem, ptr);
      if (!constantInputs) return;
      if (bias) mem.write(ptr + biasOff, bias);
      mem.write(scratch, weights);
      ex.convTransposeF32PackWeights(ptr, scratch, ptr + weightsOff);
    },
    run(mem, [xv, wv, bv], [yv], scratch, ptr) {
      if (!constantInputs) {
        if (bv) mem.u8(ptr + biasOff, bv.byteLength).set(mem.u8(bv.ptr, bv.byteLength));
        ex.convTransposeF32PackWeights(ptr, wv!.ptr, ptr + weightsOff);
      }
      const args = [ptr, xv!.ptr, ptr + weightsOff, yv!.ptr, scratch, 0, M, 0, tExtent];
      const pool = mem.pool;
      const threads = pool ? Math.min(pool.threads, Math.max(1, Math.floor(flops / GEMM_MIN_FLOPS_PER_THREAD))) : 1;
      if (pool && threads > 1) {
        // Channels split without repeating any work; a spatial split repeats the GEMM of input
        // rows that reach two chunks, so it is taken only when there are too few channels.
        const byChannels = M >= 4 * threads;
        pool.run('convTransposeF32', args, byChannels ? 'm' : 't', byChannels ? M : tExtent,
          { scratch: { base: scratch, stride: mem.scratchStride }, maxThreads: threads });
      } else {
        ex.convTransposeF32(ptr, xv!.ptr, ptr + weightsOff, yv!.ptr, scratch, 0, M, 0, tExtent);
      }
    },
  };
}

registerWasmKernel('ConvTranspose', convTransposeFactory);
