// WASM kernels for MatMul / Gemm whose constant B carries a sparse layout (tensor.sparse: CSR,
// BSR or N:M, as pruning passes and the .kiln format produce), and for ai.kiln DequantMatMul /
// DequantGemm over sparse int8 / uint8 weights (zero point 0, scale per tensor or per output
// column; the fuseDequantMatMul pass makes them). At plan time the weights are repacked as
// W = B^T, [N, K] with rows = output columns, into what the kernels read (kernels/sparse.ts):
//  - CSR (any layout), f32 values, or int8 values with a float32 scale per row: batch 1 (and up to
//    SPMV_MAX_ROWS activation rows) run spmvCsr per row; more rows run spmmCsr on the transposed
//    activations (padded to a multiple of 4 columns, its vector width), the [N, M] result
//    transposed back;
//  - BSR (any block shape): W regrouped into 4x1 blocks (4 output rows by one column, the union
//    of the 4 rows' columns), spmvBsr4 per activation row up to SPMV_MAX_ROWS rows, float32 only;
//    more rows (or int8 values) take the CSR path;
//  - 2:4 along K: gemv24F32 per activation row up to NM_MAX_ROWS rows (the dense GEMM wins above).
// The layout decides, not the values: dense tensors never come here, and a layout too dense to pay
// off (CSR above MAX_CSR_DENSITY, 2:4 with many rows) goes to the dense GEMM (sparse f32 B: the
// next MatMul / Gemm factory; quantized B: dequantized once at plan time, packed, run here).
// Sums run in another order than the dense product's, so results are within float32 rounding of
// the reference (int8 values: q times x summed, then scaled, against the reference's (q s) x).
// Bias, alpha/beta and the fused activation are an epilogue pass over the output.
import { nodeLabel, type Node } from '../../../graph/ir.js';
import { evalNodeReference } from '../../../ops/invoke.js';
import { toNumbers } from '../../../tensor/convert.js';
import { normalizeAxis } from '../../../tensor/shape.js';
import type { CsrLayout } from '../../../tensor/sparse-csr.js';
import { nmFromDense } from '../../../tensor/sparse-nm.js';
import { Tensor } from '../../../tensor/tensor.js';
import { registerWasmKernel, type PlannedType, type PreparedKernel, type WasmPlanContext } from '../kernel.js';
import {
  EPILOGUE_F32_BYTES, gemmF32, gemmF32Exports, gemmF32ScratchBytes, packBBytesF32, packBF32, writeEpilogueF32, type ActivationF32,
} from '../kernels/gemm-f32.js';
import { movementExports } from '../kernels/movement.js';
import {
  bsr4PlacedBytes, csrPlacedBytes, placeBsr4, placeCsr, placeNm24, repackBsr4, repackCsr, repackNm24, sparseExports, type Bsr4KernelData,
  type Bsr4Placed, type CsrKernelData, type CsrPlaced, type Nm24KernelData, type Nm24Placed,
} from '../kernels/sparse.js';
import { collapseWalk, walkDescriptor, walkRows } from '../kernels/strided.js';
import { align } from '../plan.js';
import { GEMM_MIN_FLOPS_PER_THREAD, gemmF32Split } from '../threads/kernels.js';
import { biasModeFor, dequantGeometry, splitWorthIt, type DequantGeometry, type EpilogueApplyExports } from './int4.js';
import { fusedActivation } from './fused-activation.js';

/**
 * Activation rows up to which SpMV per row beats SpMM on transposed activations (1024^2 at 90%
 * zeros: 2 rows 64 us by SpMV, 102 us by SpMM on 4 padded columns; 4 rows 122 us against 102).
 */
export const SPMV_MAX_ROWS = 2;
/**
 * CSR density above which the dense kernels win here: the CSR GEMV does ~6 useful GFLOP/s against
 * 26 (L2-resident) to 10 (memory-bound) dense-equivalent for the f32 GEMV, and SpMM ~18 against
 * ~42 for the GEMM (bench/sparse-micro.mjs), so ~25-40% is the break-even.
 */
export const MAX_CSR_DENSITY = 0.3;
/**
 * Activation rows up to which the 2:4 GEMV per row beats the dense GEMM (1024^2: 57 us a row
 * against 84 us for the dense GEMV, ~175 us for 2 to 4 rows, whose GEMM runs 4-row tiles).
 */
export const NM_MAX_ROWS = 3;
/** 4x1 blocks (values, zeros of the blocks included) over N * K above which the dense GEMV wins. */
export const MAX_BSR4_FILL = 0.6;

/** W = B^T as dense rows: f32 values, or int8 values with per-row scales. */
interface WeightRows {
  N: number;
  K: number;
  values: Float32Array | Int8Array;
  scales?: Float32Array;
}

/** Rows of W from B ([K, N], or [N, K] when transB) for a float32 B, or a quantized B and its scales. */
function weightRows(b: Tensor, transB: boolean, quant?: { scale: Float64Array }): WeightRows {
  const [R, C] = b.dims as [number, number];
  const [N, K] = transB ? [R, C] : [C, R];
  const src = quant ? toNumbers(b) : (b.data as Float32Array);
  const int8 = quant !== undefined && b.type === 'int8';
  const values = int8 ? new Int8Array(N * K) : new Float32Array(N * K);
  const scales = quant ? Float32Array.from({ length: N }, (_, n) => quant.scale[quant.scale.length === 1 ? 0 : n]!) : undefined;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const v = src[transB ? n * K + k : k * N + n]!;
      // uint8 (and any non-int8 quantized type) is dequantized here as the reference does.
      values[n * K + k] = quant && !int8 ? Math.fround(v * scales![n]!) : v;
    }
  }
  return { N, K, values, ...(int8 ? { scales } : {}) };
}

function csrOf(w: WeightRows): CsrKernelData {
  const rowPtr = new Int32Array(w.N + 1);
  let nnz = 0;
  for (let i = 0; i < w.values.length; i++) if (!Object.is(w.values[i], 0)) nnz++;
  const colIdx = new Int32Array(nnz);
  const values = w.values instanceof Int8Array ? new Int8Array(nnz) : new Float32Array(nnz);
  let k = 0;
  for (let n = 0; n < w.N; n++) {
    for (let c = 0; c < w.K; c++) {
      const v = w.values[n * w.K + c]!;
      if (Object.is(v, 0)) continue;
      colIdx[k] = c;
      values[k++] = v;
    }
    rowPtr[n + 1] = k;
  }
  const layout: CsrLayout = { kind: 'csr', dtype: values instanceof Int8Array ? 'int8' : 'float32', dims: [w.N, w.K], rowPtr, colIdx, values };
  return repackCsr(layout, w.scales);
}

/** A 2:4 layout grouped along K, or undefined when the rows are not 2:4 there. */
function nm24Of(w: WeightRows): Nm24KernelData | undefined {
  if (w.K % 4 !== 0) return undefined;
  const f = w.values instanceof Int8Array ? Float32Array.from(w.values, (v, i) => Math.fround(v * w.scales![Math.floor(i / w.K)]!)) : w.values;
  try {
    return repackNm24(nmFromDense(new Tensor('float32', f, [w.N, w.K]), 2, 4, 1));
  } catch {
    return undefined;
  }
}

/** How a layout on B maps to the kernels: 2:4 groups along K, or anything else as CSR. */
function isNm24AlongK(b: Tensor, transB: boolean): boolean {
  const l = b.sparse;
  return l?.kind === 'nm' && l.n === 2 && l.m === 4 && l.axis === (transB ? 1 : 0);
}

interface SparsePlan {
  geo: DequantGeometry;
  activation: ActivationF32;
  csr?: CsrKernelData;
  nm?: Nm24KernelData;
  bsr?: Bsr4KernelData;
}

/** Picks the sparse kernel for B (undefined: the layout does not pay off, use dense). */
function sparsePlan(b: Tensor, geo: DequantGeometry, activation: ActivationF32, w: () => WeightRows): SparsePlan | undefined {
  if (!b.sparse) return undefined;
  if (isNm24AlongK(b, geo.transB)) {
    // From 4 rows the dense GEMM amortizes its weight reads and is faster (0.75x at 4 rows).
    if (geo.M > NM_MAX_ROWS) return undefined;
    const nm = nm24Of(w());
    return nm && { geo, activation, nm };
  }
  const rows = w();
  if (b.sparse.kind === 'bsr' && geo.M <= SPMV_MAX_ROWS && rows.values instanceof Float32Array) {
    const bsr = repackBsr4(rows.values, rows.N, rows.K);
    if (bsr.vals.length > MAX_BSR4_FILL * rows.values.length) return undefined;
    return { geo, activation, bsr };
  }
  let nnz = 0;
  for (let i = 0; i < rows.values.length; i++) if (!Object.is(rows.values[i], 0)) nnz++;
  if (nnz > MAX_CSR_DENSITY * rows.values.length) return undefined;
  return { geo, activation, csr: csrOf(rows) };
}

/** The plan-time layout of a sparse kernel's persistent block. */
class Block {
  size = 0;
  take(bytes: number): number {
    const at = this.size;
    this.size += align(Math.max(bytes, 1));
    return at;
  }
}

/**
 * A [rows, cols] f32 transpose as a strided-copy descriptor (walk in destination order), source
 * rows `lds` apart and destination rows `ldd` apart.
 */
function transposeDesc(rows: number, cols: number, lds = cols, ldd = rows): { desc: Int32Array; rows: number } {
  const walk = collapseWalk({ dims: [cols, rows], strides: [[1, lds], [ldd, 1]] });
  return { desc: walkDescriptor(walk), rows: walkRows(walk) };
}

function sparseKernel(ctx: WasmPlanContext, plan: SparsePlan): PreparedKernel {
  const { M, K, N } = plan.geo;
  const sp = sparseExports(ctx.exports);
  const mv = movementExports(ctx.exports);
  const epiEx = ctx.exports as unknown as EpilogueApplyExports;
  const L = new Block();
  const epi = L.take(EPILOGUE_F32_BYTES);
  const csrBytes = plan.csr && csrPlacedBytes(plan.csr);
  const at = csrBytes && { rowPtr: L.take(csrBytes.rowPtr), colIdx: L.take(csrBytes.colIdx), vals: L.take(csrBytes.vals), scales: L.take(csrBytes.scales) };
  const nmAt = plan.nm && { vals: L.take(plan.nm.vals.byteLength), codes: L.take(plan.nm.codes.byteLength) };
  const bsrBytes = plan.bsr && bsr4PlacedBytes(plan.bsr);
  const bsrAt = bsrBytes && { blkPtr: L.take(bsrBytes.blkPtr), blkCol: L.take(bsrBytes.blkCol), vals: L.take(bsrBytes.vals) };
  const spmm = plan.csr !== undefined && M > SPMV_MAX_ROWS;
  // SpMM runs 4 columns per vector: X^T and Y^T get Mp = M rounded up to 4 columns (the padding
  // columns hold whatever scratch held; their results are never copied out).
  const Mp = Math.ceil(M / 4) * 4;
  const tIn = spmm ? transposeDesc(M, K, K, Mp) : undefined;
  const tOut = spmm ? transposeDesc(N, M, Mp, N) : undefined;
  const tInAt = tIn ? L.take(tIn.desc.byteLength) : 0;
  const tOutAt = tOut ? L.take(tOut.desc.byteLength) : 0;
  // Scratch: the 2:4 x table, or the transposed activations and result for SpMM.
  const xT = 0;
  const yT = align(K * Mp * 4);
  const scratchBytes = plan.nm ? sp.gemv24ScratchBytes(K) >>> 0 : spmm ? yT + align(N * Mp * 4) : 0;
  const { activation, geo } = plan;
  const needsEpilogue = activation.kind !== 'none' || geo.alpha !== 1 || geo.biasMode !== 'none';
  let csr: CsrPlaced | undefined;
  let nm: Nm24Placed | undefined;
  let bsr: Bsr4Placed | undefined;
  const stored = plan.csr ? plan.csr.values.length : plan.bsr ? plan.bsr.vals.length : 0.5 * N * K;
  const macs = M * stored;
  return {
    threaded: splitWorthIt(2, macs),
    persistentBytes: L.size,
    scratchBytes,
    packedInputs: [1, 2, 3],
    init(mem, p) {
      if (plan.csr) csr = placeCsr(mem.memory, plan.csr, { rowPtr: p + at!.rowPtr, colIdx: p + at!.colIdx, vals: p + at!.vals, scales: p + at!.scales });
      if (plan.nm) nm = placeNm24(mem.memory, plan.nm, p + nmAt!.vals, p + nmAt!.codes);
      if (plan.bsr) bsr = placeBsr4(mem.memory, plan.bsr, { blkPtr: p + bsrAt!.blkPtr, blkCol: p + bsrAt!.blkCol, vals: p + bsrAt!.vals });
      if (tIn) mem.i32(p + tInAt, tIn.desc.length).set(tIn.desc);
      if (tOut) mem.i32(p + tOutAt, tOut.desc.length).set(tOut.desc);
    },
    run(mem, [av, , , , biasV], [yv], scratch, p) {
      if (M === 0 || N === 0) return;
      const x = av!.ptr;
      const y = yv!.ptr;
      const pool = splitWorthIt(mem.pool?.threads, macs) ? mem.pool : undefined;
      const chunks = { chunksPerThread: 4 };
      if (nm) {
        for (let m = 0; m < M; m++) {
          sp.gemv24Prepare(x + m * K * 4, K, scratch);
          const args = [nm.vals, nm.codes, K, N, scratch, y + m * N * 4, 0, N];
          if (pool) pool.run('gemv24F32', args, 'r', N, chunks);
          else sp.gemv24F32(nm.vals, nm.codes, K, N, scratch, y + m * N * 4, 0, N);
        }
      } else if (bsr) {
        const groups = bsr.data.blkPtr.length - 1;
        const idx16 = bsr.data.blkCol instanceof Uint16Array ? 1 : 0;
        for (let m = 0; m < M; m++) {
          const args = [bsr.blkPtr, bsr.blkCol, bsr.vals, x + m * K * 4, y + m * N * 4, N, 0, groups, idx16];
          if (pool) pool.run('spmvBsr4', args, 'g', groups, chunks);
          else sp.spmvBsr4(bsr.blkPtr, bsr.blkCol, bsr.vals, x + m * K * 4, y + m * N * 4, N, 0, groups, idx16);
        }
      } else if (!spmm) {
        const c = csr!;
        const int8 = c.data.values instanceof Int8Array;
        const idx16 = c.data.idxMode;
        const perRow = int8 && c.data.scales!.length > 1 ? 1 : 0;
        for (let m = 0; m < M; m++) {
          // Byte offsets: the kernel reads this row's x from the module's staged copy (all threads).
          if (idx16 === 2) sp.spmvStageX(x + m * K * 4, K);
          const args = [c.rowPtr, c.colIdx, c.vals, int8 ? 1 : 0, c.scales, perRow, x + m * K * 4, y + m * N * 4, 0, N, idx16];
          if (pool) pool.run('spmvCsr', args, 'r', N, chunks);
          else sp.spmvCsr(c.rowPtr, c.colIdx, c.vals, int8 ? 1 : 0, c.scales, perRow, x + m * K * 4, y + m * N * 4, 0, N, idx16);
        }
      } else {
        // Y^T [N, M] = W [N, K] . X^T [K, M].
        const c = csr!;
        const int8 = c.data.values instanceof Int8Array;
        const idx16 = c.data.idxMode;
        const perRow = int8 && c.data.scales!.length > 1 ? 1 : 0;
        mv.copyStrided(4, x, scratch + xT, p + tInAt, 0, tIn!.rows);
        const args = [c.rowPtr, c.colIdx, c.vals, int8 ? 1 : 0, c.scales, perRow, scratch + xT, Mp, scratch + yT, Mp, 0, N, 0, Mp, idx16];
        if (pool) pool.run('spmmCsr', args, 'r', N, chunks);
        else sp.spmmCsr(c.rowPtr, c.colIdx, c.vals, int8 ? 1 : 0, c.scales, perRow, scratch + xT, Mp, scratch + yT, Mp, 0, N, 0, Mp, idx16);
        mv.copyStrided(4, scratch + yT, y, p + tOutAt, 0, tOut!.rows);
      }
      if (needsEpilogue) {
        writeEpilogueF32(mem.buffer(), p + epi, { activation, alpha: geo.alpha, beta: geo.beta, biasPtr: biasV?.ptr ?? 0, biasMode: geo.biasMode, biasLd: N });
        epiEx.applyEpilogueF32(p + epi, y, N, 0, M, 0, N, 0);
      }
    },
  };
}

// ---- float32 B with a sparse layout: MatMul, Gemm and their fused forms --------------------------

function floatGeometry(ctx: WasmPlanContext): DequantGeometry | undefined {
  const gemm = ctx.node.op === 'Gemm' || ctx.node.op === 'FusedGemm';
  const [a, b, c] = ctx.inputs as readonly (PlannedType | undefined)[];
  const y = ctx.outputs[0]!;
  if (a?.dtype !== 'float32' || b?.dtype !== 'float32' || y.dtype !== 'float32' || b.dims.length !== 2 || a.dims.length < 1) return undefined;
  if (c && c.dtype !== 'float32') return undefined;
  if (gemm && ctx.attrs.int('transA') !== 0) return undefined;
  const transB = gemm && ctx.attrs.int('transB') === 1;
  const [K, N] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
  if (a.dims[a.dims.length - 1] !== K) return undefined;
  const M = a.dims.slice(0, -1).reduce((p, q) => p * q, 1);
  const biasMode = biasModeFor(c?.dims, M, N, gemm);
  if (!biasMode) return undefined;
  return { M, K, N, transB, alpha: gemm ? ctx.attrs.float('alpha') : 1, beta: gemm ? ctx.attrs.float('beta') : 1, biasMode };
}

function floatSparseFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const b = ctx.constant(1);
  if (!b?.sparse || b.type !== 'float32') return undefined;
  const geo = floatGeometry(ctx);
  const activation = fusedActivation(ctx);
  if (!geo || !activation) return undefined;
  // MatMul / FusedMatMul inputs are [A, B, bias]; Gemm's [A, B, C]: the kernel reads input 4.
  const plan = sparsePlan(b, geo, activation, () => weightRows(b, geo.transB));
  if (!plan) return undefined;
  const k = sparseKernel(ctx, plan);
  return { ...k, packedInputs: [1], run: (mem, [a, , c], outs, scratch, p) => k.run(mem, [a, undefined, undefined, undefined, c], outs, scratch, p) };
}

// ---- quantized sparse B: DequantMatMul / DequantGemm ------------------------------------------------

/** Dense fallback for a quantized B too dense for the sparse kernels: dequantized once, packed, GEMM. */
function denseDequantKernel(ctx: WasmPlanContext, geo: DequantGeometry, activation: ActivationF32, w: Tensor): PreparedKernel {
  const { M, K, N, transB } = geo;
  const ex = gemmF32Exports(ctx.exports);
  const packedOff = align(EPILOGUE_F32_BYTES);
  return {
    threaded: 2 * M * N * K >= 2 * GEMM_MIN_FLOPS_PER_THREAD,
    persistentBytes: packedOff + packBBytesF32(ex, K, N),
    scratchBytes: Math.max(gemmF32ScratchBytes(ex, M, N, K, false, true), w.size * 4),
    packedInputs: [1, 2, 3],
    init(mem, p, scratch) {
      mem.write(scratch, w);
      packBF32(ex, K, N, scratch, p + packedOff, transB);
    },
    run(mem, [av, , , , biasV], [yv], scratch, p) {
      if (M === 0 || N === 0) return;
      writeEpilogueF32(mem.buffer(), p, { activation, alpha: geo.alpha, beta: geo.beta, biasPtr: biasV?.ptr ?? 0, biasMode: geo.biasMode, biasLd: N });
      // As gemm.ts's runGemm (not imported, see int4.ts): B pre-packed, so the split never repacks it.
      const sp = mem.pool ? gemmF32Split(M, N, K, false, true, mem.pool.threads) : undefined;
      if (mem.pool && sp && sp.threads > 1) {
        mem.pool.run('gemmF32', [M, N, K, av!.ptr, K, 0, 0, p + packedOff, N, 0, 1, yv!.ptr, N, p, scratch, 0, M, 0, N], sp.split, sp.extent, {
          scratch: { base: scratch, stride: mem.scratchStride }, maxThreads: sp.threads,
        });
      } else {
        gemmF32(ex, { M, N, K, a: av!.ptr, b: p + packedOff, bPacked: true, c: yv!.ptr, epilogue: p, scratch });
      }
    },
  };
}

function quantSparseFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const bq = ctx.constant(1);
  if (!bq?.sparse || (bq.type !== 'int8' && bq.type !== 'uint8')) return undefined;
  const geo = dequantGeometry(ctx);
  const activation = fusedActivation(ctx);
  const scale = ctx.constant(2);
  const zp = ctx.node.inputs[3] ? ctx.constant(3) : undefined;
  if (!geo || !activation || scale?.type !== 'float32' || (ctx.node.inputs[3] && !zp)) return undefined;
  if (ctx.attrs.int('block_size') !== 0 || (zp && toNumbers(zp).some((v) => v !== 0))) return undefined;
  const nAxis = geo.transB ? 0 : 1;
  if (scale.size !== 1 && (scale.size !== geo.N || normalizeAxis(ctx.attrs.int('axis'), 2) !== nAxis)) return undefined;
  const plan = sparsePlan(bq, geo, activation, () => weightRows(bq, geo.transB, { scale: toNumbers(scale) }));
  if (plan) return sparseKernel(ctx, plan);
  // Too dense for the sparse kernels: the weights dequantized once (as the reference does).
  const dq: Node = { name: `${nodeLabel(ctx.node)}/dequantize`, op: 'DequantizeLinear', domain: '', inputs: ['x', 's', zp ? 'z' : ''], outputs: ['y'], attrs: { axis: ctx.attrs.int('axis') } };
  const w = evalNodeReference(dq, [bq, scale, zp])[0]!;
  return denseDequantKernel(ctx, geo, activation, w);
}

// Registered ahead of the dense MatMul / Gemm factories (see ops/index.ts): a dense B declines here.
for (const [op, domain] of [['MatMul', ''], ['Gemm', ''], ['FusedMatMul', 'ai.kiln'], ['FusedGemm', 'ai.kiln']] as const) {
  registerWasmKernel(op, floatSparseFactory, domain);
}
registerWasmKernel('DequantMatMul', quantSparseFactory, 'ai.kiln');
registerWasmKernel('DequantGemm', quantSparseFactory, 'ai.kiln');

/** Exposed for tests: the kernel a layout gets (undefined: dense). */
export function sparseKernelKind(b: Tensor, M: number, transB: boolean): 'csr-spmv' | 'csr-spmm' | 'gemv24' | 'bsr4' | undefined {
  const geo: DequantGeometry = { M, K: transB ? b.dims[1]! : b.dims[0]!, N: transB ? b.dims[0]! : b.dims[1]!, transB, alpha: 1, beta: 1, biasMode: 'none' };
  const plan = sparsePlan(b, geo, { kind: 'none' }, () => weightRows(b, transB, b.type === 'float32' ? undefined : { scale: Float64Array.of(1) }));
  if (!plan) return undefined;
  return plan.nm ? 'gemv24' : plan.bsr ? 'bsr4' : M > SPMV_MAX_ROWS ? 'csr-spmm' : 'csr-spmv';
}
