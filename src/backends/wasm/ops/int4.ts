// WASM kernel for weight-only int4 (ai.kiln DequantMatMul / DequantGemm with int4 or uint4 B in
// blocks of 32 along K, made by the fuseDequantMatMul pass): the weights are packed once into the
// int4 GEMV layout (kernels/gemv-i4.ts) and dequantized in registers, never as a float32 copy.
// accuracy_level 0 (default) keeps activations in float32: each product is the float32 weight
// (q - z) * s times x, summed per block then scaled, so results are within float32 rounding of
// DequantizeLinear + MatMul. accuracy_level 4 quantizes activations to int8 per block for integer
// dots (faster, less exact). Bias, alpha/beta and the fused activation run as an epilogue pass.
// Output columns split over the worker pool (the kernels take [n0, n1), every column computed by
// the same instructions whichever thread does it, so results do not depend on the thread count).
import { toNumbers } from '../../../tensor/convert.js';
import { normalizeAxis } from '../../../tensor/shape.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { registerWasmKernel, type PlannedType, type PreparedKernel, type WasmPlanContext } from '../kernel.js';
import { EPILOGUE_F32_BYTES, writeEpilogueF32, type ActivationF32, type BiasModeF32 } from '../kernels/gemm-f32.js';
import { gemvI4Exports, i4PackedBytes, i4ScratchBytes, I4_BLOCK, packI4, type I4Mode } from '../kernels/gemv-i4.js';
import { align } from '../plan.js';
import { fusedActivation } from './fused-activation.js';

// This file and sparse.ts must not import gemm.ts: their factories have to register before the
// dense MatMul / Gemm ones (ops/index.ts imports them first), and an import of gemm.ts would run its
// registrations first.

/** The epilogue export (assembly/epilogue_f32.ts), applied in place to a row-major block. */
export interface EpilogueApplyExports {
  applyEpilogueF32(epi: number, c: number, ldc: number, r0: number, r1: number, c0: number, c1: number, biasRow0: number): void;
}

/** Weight MACs per thread below which an int4 or sparse product stays on one thread (~30-60 us). */
export const WEIGHT_MACS_PER_THREAD = 2 ** 19;

/** Threads for a product of `macs` multiply-adds: all of the pool's, or 1. */
export function splitWorthIt(threads: number | undefined, macs: number): boolean {
  return threads !== undefined && threads > 1 && macs >= 2 * WEIGHT_MACS_PER_THREAD;
}

/** How the bias input indexes the [M, N] output; undefined when it does not broadcast simply. */
export function biasModeFor(dims: readonly number[] | undefined, M: number, N: number, gemm: boolean): BiasModeF32 | undefined {
  if (!dims) return 'none';
  const size = dims.reduce((a, b) => a * b, 1);
  const last = dims[dims.length - 1] ?? 1;
  const second = dims.length >= 2 ? dims[dims.length - 2]! : 1;
  if (size === 1) return 'scalar';
  if (size === N && last === N && (gemm ? dims.length <= 2 : true)) return 'col';
  if (gemm && dims.length === 2 && second === M && last === 1) return 'row';
  if (gemm && dims.length === 2 && second === M && last === N) return 'full';
  return undefined;
}

/** The Gemm / MatMul geometry of a DequantMatMul / DequantGemm node over 2-D quantized weights. */
export interface DequantGeometry {
  M: number;
  K: number;
  N: number;
  /** B_q is stored [N, K] (Gemm transB = 1) rather than [K, N]. */
  transB: boolean;
  alpha: number;
  beta: number;
  biasMode: BiasModeF32;
}

export function dequantGeometry(ctx: WasmPlanContext): DequantGeometry | undefined {
  const gemm = ctx.node.op === 'DequantGemm';
  const [a, bq, , , last] = ctx.inputs as readonly (PlannedType | undefined)[];
  const y = ctx.outputs[0]!;
  if (a?.dtype !== 'float32' || y.dtype !== 'float32' || !bq || bq.dims.length !== 2 || a.dims.length < 1) return undefined;
  if (last && last.dtype !== 'float32') return undefined;
  const transB = gemm && ctx.attrs.int('transA') === 0 ? ctx.attrs.int('transB') === 1 : false;
  if (gemm && ctx.attrs.int('transA') !== 0) return undefined;
  const [K, N] = transB ? [bq.dims[1]!, bq.dims[0]!] : [bq.dims[0]!, bq.dims[1]!];
  if (a.dims[a.dims.length - 1] !== K) return undefined;
  const M = a.dims.slice(0, -1).reduce((p, q) => p * q, 1);
  const biasMode = biasModeFor(last?.dims, M, N, gemm);
  if (!biasMode) return undefined;
  return { M, K, N, transB, alpha: gemm ? ctx.attrs.float('alpha') : 1, beta: gemm ? ctx.attrs.float('beta') : 1, biasMode };
}

/** int4 / uint4 weights as signed nibbles (uint4 u is stored as u - 8: XOR 8 per nibble), and int32 zero points. */
function signedNibbles(w: Tensor, zp: Tensor | undefined, params: number): { bytes: Uint8Array; zeroPoints?: Int32Array } {
  const raw = w.data as Uint8Array;
  if (w.type === 'int4') return { bytes: raw, ...(zp ? { zeroPoints: Int32Array.from(toNumbers(zp)) } : {}) };
  const bytes = raw.map((b) => b ^ 0x88);
  const z = zp ? toNumbers(zp) : new Float64Array(params);
  return { bytes, zeroPoints: Int32Array.from(z, (v) => v - 8) };
}

function int4Factory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const bq = ctx.inputs[1];
  if (bq?.dtype !== 'int4' && bq?.dtype !== 'uint4') return undefined;
  const geo = dequantGeometry(ctx);
  const activation = fusedActivation(ctx);
  const w = ctx.constant(1);
  const scale = ctx.constant(2);
  const zp = ctx.node.inputs[3] ? ctx.constant(3) : undefined;
  if (!geo || !activation || !w || scale?.type !== 'float32' || (ctx.node.inputs[3] && !zp)) return undefined;
  const { M, K, N, transB } = geo;
  const nb = Math.ceil(K / I4_BLOCK);
  const kAxis = transB ? 1 : 0;
  if (ctx.attrs.int('block_size') !== I4_BLOCK || normalizeAxis(ctx.attrs.int('axis'), 2) !== kAxis) return undefined;
  const sDims = transB ? [N, nb] : [nb, N];
  if (scale.dims.length !== 2 || scale.dims[0] !== sDims[0] || scale.dims[1] !== sDims[1]) return undefined;
  if (zp && (zp.type !== bq.dtype || zp.size !== scale.size)) return undefined;

  const ex = gemvI4Exports(ctx.exports);
  const epiEx = ctx.exports as unknown as EpilogueApplyExports;
  const mode: I4Mode = ctx.attrs.int('accuracy_level') === 4 ? 'q8' : 'f32';
  const { bytes, zeroPoints } = signedNibbles(w, zp, scale.size);
  const packedOff = align(EPILOGUE_F32_BYTES);
  const packedBytes = i4PackedBytes(ex, K, N, mode);
  // Init stages raw nibbles, scales and zero points in scratch before packing.
  const stage = { w: 0, s: align(bytes.byteLength), z: align(bytes.byteLength) + align(scale.size * 4) };
  const initScratch = stage.z + align(scale.size * 4);
  const runScratch = i4ScratchBytes(ex, K, M, mode);
  const needsEpilogue = activation.kind !== 'none' || geo.alpha !== 1 || geo.biasMode !== 'none';
  return {
    threaded: splitWorthIt(2, M * N * K),
    persistentBytes: packedOff + packedBytes,
    scratchBytes: Math.max(initScratch, runScratch),
    packedInputs: [1, 2, 3],
    init(mem, p, scratch) {
      mem.u8(scratch + stage.w, bytes.byteLength).set(bytes);
      mem.f32(scratch + stage.s, scale.size).set(scale.data as Float32Array);
      if (zeroPoints) mem.i32(scratch + stage.z, zeroPoints.length).set(zeroPoints);
      packI4(ex, {
        src: scratch + stage.w, layout: transB ? 'nk' : 'kn', K, N, scales: scratch + stage.s,
        zeroPoints: zeroPoints ? scratch + stage.z : 0, mode, dst: p + packedOff,
      });
    },
    run(mem, [av, , , , biasV], [yv], scratch, p) {
      if (M === 0 || N === 0) return;
      const x = av!.ptr;
      const y = yv!.ptr;
      const packed = p + packedOff;
      const pool = splitWorthIt(mem.pool?.threads, M * N * K) ? mem.pool : undefined;
      if (mode === 'q8') {
        // Activations are quantized once (shared), then columns split in whole groups of 8.
        ex.gemvI4Q8Prepare(x, K, K, M, scratch);
        if (pool) pool.run('gemvI4Q8', [packed, K, N, scratch, M, y, N, 0, N], 'n', N, { chunksPerThread: 4 });
        else ex.gemvI4Q8(packed, K, N, scratch, M, y, N, 0, N);
      } else if (pool) {
        pool.run('gemvI4F32', [packed, K, N, x, K, M, y, N, 0, N, zeroPoints ? 1 : 0, scratch], 'n', N, {
          scratch: { base: scratch, stride: mem.scratchStride }, chunksPerThread: 4,
        });
      } else {
        ex.gemvI4F32(packed, K, N, x, K, M, y, N, 0, N, zeroPoints ? 1 : 0, scratch);
      }
      if (needsEpilogue) {
        writeEpilogueF32(mem.buffer(), p, { activation, alpha: geo.alpha, beta: geo.beta, biasPtr: biasV?.ptr ?? 0, biasMode: geo.biasMode, biasLd: N });
        epiEx.applyEpilogueF32(p, y, N, 0, M, 0, N, 0);
      }
    },
  };
}

registerWasmKernel('DequantMatMul', int4Factory, 'ai.kiln');
registerWasmKernel('DequantGemm', int4Factory, 'ai.kiln');
