// WASM kernel for pointwise f32 Conv / FusedConv (1x1 kernel, stride 1, no padding, group 1, any
// spatial rank) whose constant weight carries a sparse layout (tensor.sparse, as sparsify or a
// pruning pass attaches it): per image, Y [Cout, P] = W [Cout, Cin] . X [Cin, P] with P the pixels,
// which is exactly spmmCsr's A sparse (CSR) times B dense row-major into C row-major, in NCHW with
// no transposes. Each non-zero broadcasts into vectors of one input channel's row of pixels, so no
// gather is needed; at 90% zeros the product runs several times faster than the dense conv.
// Bias (per output channel) and the fused activation are an epilogue pass over each image.
// A weight denser than MAX_CSR_DENSITY, or any other conv, declines (the dense Conv kernels run).
// Sums run in another order than the reference's, so results are within float32 rounding of it.
import { nodeLabel } from '../../../graph/ir.js';
import { convProblem, type ConvProblem } from '../../../ops/conv.js';
import { csrFromDense } from '../../../tensor/sparse-csr.js';
import { Tensor } from '../../../tensor/tensor.js';
import { registerWasmKernel, type PreparedKernel, type WasmPlanContext } from '../kernel.js';
import { EPILOGUE_F32_BYTES, writeEpilogueF32 } from '../kernels/gemm-f32.js';
import { csrPlacedBytes, placeCsr, repackCsr, sparseExports, type CsrKernelData, type CsrPlaced } from '../kernels/sparse.js';
import { align } from '../plan.js';
import { fusedActivation } from './fused-activation.js';
import { splitWorthIt, type EpilogueApplyExports } from './int4.js';
import { MAX_CSR_DENSITY } from './sparse.js';

/** True when `p` is a pointwise conv (each output pixel reads only its own input pixel). */
export function isPointwise(p: ConvProblem): boolean {
  const g = p.geo;
  return p.group === 1 && [0, 1, 2].every((i) => g.kernel[i] === 1 && g.strides[i] === 1 && g.padBegin[i] === 0 && g.outSize[i] === g.inSize[i]);
}

/** W [Cout, Cin, 1...] as CSR over [Cout, Cin] when it is sparse enough to pay off, else undefined. */
export function pointwiseCsr(w: Tensor): CsrKernelData | undefined {
  if (!w.sparse || w.type !== 'float32' || w.dims.length < 3) return undefined;
  const [cout, cin] = [w.dims[0]!, w.dims.slice(1).reduce((a, b) => a * b, 1)];
  const l = csrFromDense(new Tensor('float32', w.data as Float32Array, [cout, cin]));
  if (l.values.length > MAX_CSR_DENSITY * cout * cin) return undefined;
  return repackCsr(l);
}

function factory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const w = ctx.constant(1);
  const [x, , b] = ctx.inputs;
  const y = ctx.outputs[0]!;
  if (!w?.sparse || x?.dtype !== 'float32' || y.dtype !== 'float32' || (b && b.dtype !== 'float32')) return undefined;
  if (x.dims.length < 3 || y.dims.length !== x.dims.length) return undefined;
  const activation = fusedActivation(ctx);
  if (!activation) return undefined;
  const p = convProblem(x.dims, w.dims, ctx.attrs, nodeLabel(ctx.node));
  if (!isPointwise(p) || (b && (b.dims.length !== 1 || b.dims[0] !== p.outChannels))) return undefined;
  const csr = pointwiseCsr(w);
  if (!csr) return undefined;
  const images = p.batch;
  const [cin, cout] = [p.inChannels, p.outChannels];
  const pixels = p.geo.inSize[0] * p.geo.inSize[1] * p.geo.inSize[2];
  if (images === 0 || pixels === 0) return undefined;
  const sp = sparseExports(ctx.exports);
  const epiEx = ctx.exports as unknown as EpilogueApplyExports;
  const bytes = csrPlacedBytes(csr);
  const at = { rowPtr: 0, colIdx: 0, vals: 0, scales: 0 };
  let size = align(EPILOGUE_F32_BYTES);
  for (const k of ['rowPtr', 'colIdx', 'vals'] as const) {
    at[k] = size;
    size += align(Math.max(1, bytes[k]));
  }
  const macs = csr.values.length * pixels * images;
  const needsEpilogue = activation.kind !== 'none' || b !== undefined;
  let placed: CsrPlaced | undefined;
  return {
    threaded: splitWorthIt(2, macs),
    persistentBytes: size,
    packedInputs: [1],
    init(mem, ptr) {
      placed = placeCsr(mem.memory, csr, { rowPtr: ptr + at.rowPtr, colIdx: ptr + at.colIdx, vals: ptr + at.vals, scales: 0 });
    },
    run(mem, [xv, , bv], [yv], _scratch, ptr) {
      const a = placed!;
      const pool = splitWorthIt(mem.pool?.threads, macs) ? mem.pool : undefined;
      if (needsEpilogue) writeEpilogueF32(mem.buffer(), ptr, { activation, biasPtr: bv?.ptr ?? 0, biasMode: 'row' });
      for (let n = 0; n < images; n++) {
        const xs = xv!.ptr + n * cin * pixels * 4;
        const ys = yv!.ptr + n * cout * pixels * 4;
        const args = [a.rowPtr, a.colIdx, a.vals, 0, 0, 0, xs, pixels, ys, pixels, 0, cout, 0, pixels, csr.idxMode];
        if (pool) pool.run('spmmCsr', args, 'r', cout, { chunksPerThread: 4 });
        else sp.spmmCsr(a.rowPtr, a.colIdx, a.vals, 0, 0, 0, xs, pixels, ys, pixels, 0, cout, 0, pixels, args[14]!);
        if (needsEpilogue) epiEx.applyEpilogueF32(ptr, ys, pixels, 0, cout, 0, pixels, 0);
      }
    },
  };
}

// Registered ahead of the dense Conv factories (see ops/index.ts): a dense weight declines here.
registerWasmKernel('Conv', factory);
registerWasmKernel('FusedConv', factory, 'ai.kiln');
