// WASM kernels for the quantized convolution and matrix ops: QLinearConv and ConvInteger (direct
// depthwise 3x3 or im2col + int8 GEMM), QLinearMatMul and MatMulInteger (int8 GEMM). Weights,
// zero points, scales and bias are constants packed once per plan (the activation zero point may
// also be a run-time scalar, as DynamicQuantizeLinear makes it); anything else falls back.
import { toNumbers } from '../../../tensor/convert.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { registerWasmKernel, type PlannedType, type PreparedKernel, type WasmMemory, type WasmPlanContext, type WasmValue } from '../kernel.js';
import {
  convI8, convMacsI8, convScratchBytesI8, convWeightBytesI8, dwConvI8Exports, gemmI8Exports, gemmI8Parallel, i8Parallel,
  I8_MIN_MACS_PER_THREAD, isDepthwise3x3, packActivationsI8Parallel, packConvWeightsI8,
  packWeightsI8, paddedChannels, requantBlockI8, weightPackBytesI8, activationPackBytesI8,
  type ConvGeometryI8, type ConvWeightsI8, type GemmI8Path, type Q8Type, type RequantI8,
} from '../kernels/gemm-i8.js';
import { align } from '../plan.js';

const isQ8 = (t: PlannedType | undefined): t is PlannedType & { dtype: Q8Type } => t?.dtype === 'uint8' || t?.dtype === 'int8';

/** Values of a constant input, or undefined when it is not a constant (absent inputs give `dflt`). */
function constValues(ctx: WasmPlanContext, i: number, dflt?: number): Float64Array | undefined {
  if (!ctx.node.inputs[i]) return dflt === undefined ? undefined : Float64Array.of(dflt);
  const t = ctx.constant(i);
  return t ? toNumbers(t) : undefined;
}

/**
 * A per-tensor activation zero point: a constant, or (DynamicQuantizeLinear's output feeding
 * ConvInteger / MatMulInteger) a one-element uint8 / int8 input read from memory at each run.
 * undefined: neither (per-row zero points fall back).
 */
function activationZeroPoint(ctx: WasmPlanContext, i: number): ((mem: WasmMemory, inputs: readonly (WasmValue | undefined)[]) => number) | undefined {
  const c = constValues(ctx, i, 0);
  if (c) return c.length === 1 ? () => c[0]! : undefined;
  const t = ctx.inputs[i];
  if (!isQ8(t) || t.dims.reduce((p, q) => p * q, 1) !== 1) return undefined;
  return t.dtype === 'int8' ? (mem, inputs) => mem.i8(inputs[i]!.ptr, 1)[0]! : (mem, inputs) => mem.u8(inputs[i]!.ptr, 1)[0]!;
}

/** A block of persistent memory laid out by successive reservations. */
class Layout {
  size = 0;
  take(bytes: number): number {
    const at = this.size;
    this.size += align(Math.max(bytes, 1));
    return at;
  }
}

function writeI32(mem: WasmMemory, ptr: number, values: ArrayLike<number>): void {
  mem.i32(ptr, values.length).set(values);
}

function writeF64(mem: WasmMemory, ptr: number, values: ArrayLike<number>): void {
  new Float64Array(mem.buffer(), ptr, values.length).set(values);
}

function convGeometry(ctx: WasmPlanContext, x: PlannedType, w: PlannedType, y: PlannedType): ConvGeometryI8 | undefined {
  if (x.dims.length !== 4 || y.dims.length !== 4) return undefined;
  const autoPad = ctx.attrs.string('auto_pad');
  const [batch, C, H, W] = x.dims as [number, number, number, number];
  const [Cout, , kh, kw] = w.dims as [number, number, number, number];
  const [OH, OW] = [y.dims[2]!, y.dims[3]!];
  const s = ctx.attrs.optInts('strides') ?? [1, 1];
  const d = ctx.attrs.optInts('dilations') ?? [1, 1];
  let [pt, pl, pb, pr] = (ctx.attrs.optInts('pads') ?? [0, 0, 0, 0]) as [number, number, number, number];
  if (autoPad === 'VALID') [pt, pl, pb, pr] = [0, 0, 0, 0];
  else if (autoPad !== 'NOTSET') {
    const total = (inSize: number, out: number, k: number, st: number, dl: number) => Math.max(0, (out - 1) * st + (k - 1) * dl + 1 - inSize);
    const th = total(H, OH, kh, s[0]!, d[0]!);
    const tw = total(W, OW, kw, s[1]!, d[1]!);
    const upper = autoPad === 'SAME_UPPER';
    [pt, pb] = upper ? [Math.floor(th / 2), th - Math.floor(th / 2)] : [th - Math.floor(th / 2), Math.floor(th / 2)];
    [pl, pr] = upper ? [Math.floor(tw / 2), tw - Math.floor(tw / 2)] : [tw - Math.floor(tw / 2), Math.floor(tw / 2)];
  }
  return { batch, C, H, W, Cout, group: ctx.attrs.int('group'), kh, kw, sh: s[0]!, sw: s[1]!, dh: d[0]!, dw: d[1]!, pt, pl, pb, pr, OH, OW };
}

/** Input indices of a QLinear op's scales and output zero point (x: activations, w: weights). */
interface RequantInputs { xScale: number; wScale: number; yScale: number; yZp: number }

/** The multiplier block (assembly/requant_i8.ts) of a QLinear op and its entries per array. */
interface MultBlock { block: Float64Array; entries: number; perChannel: boolean }

/**
 * The requantization a kernel needs from constant inputs: the exact-rounding multiplier block for
 * x_scale * w_scale / y_scale (one entry, or one per output channel) and the output zero point.
 * Without `rq` the op has an int32 output (ConvInteger, MatMulInteger). undefined: the node cannot
 * run on these kernels (non-constant or per-row parameters, a y_scale the reference refuses).
 */
function requantFrom(ctx: WasmPlanContext, rq: RequantInputs | undefined, channels: number, y: PlannedType): { mults?: MultBlock; yZp?: Float64Array } | undefined {
  if (!rq) return y.dtype === 'int32' ? {} : undefined;
  const xs = constValues(ctx, rq.xScale);
  const ws = constValues(ctx, rq.wScale);
  const ys = constValues(ctx, rq.yScale);
  const yZp = constValues(ctx, rq.yZp, 0);
  if (!xs || xs.length !== 1 || !ws || (ws.length !== 1 && ws.length !== channels) || !ys || ys.length !== 1 || !yZp || yZp.length !== 1 || !isQ8(y)) return undefined;
  if (!(ys[0]! > 0) || !Number.isFinite(ys[0]!)) return undefined;
  return { mults: { ...requantBlockI8(xs[0]!, ws, ys[0]!), perChannel: ws.length > 1 }, yZp };
}

interface ConvQuantInputs {
  x: number; w: number; xZp: number; wZp: number; bias?: number;
  /** Absent for ConvInteger (int32 output). */
  requant?: RequantInputs;
}

/**
 * A conv's work in GEMM-equivalent multiply-adds, for the thread decision: the direct depthwise
 * kernel widens every input plane and does 9 MACs per output with little reuse, ~2.7 GMAC/s here
 * against ~30 for the int8 GEMM, so its MACs count 8 times.
 */
function convWorkI8(g: ConvGeometryI8): number {
  return isDepthwise3x3(g) ? 8 * convMacsI8(g) : convMacsI8(g);
}

/** Shared by QLinearConv and ConvInteger: everything but how the quantization inputs are found. */
function quantConv(ctx: WasmPlanContext, at: ConvQuantInputs): PreparedKernel | undefined {
  const x = ctx.inputs[at.x];
  const w = ctx.inputs[at.w];
  const y = ctx.outputs[0]!;
  const weights = ctx.constant(at.w);
  if (!isQ8(x) || !isQ8(w) || !weights) return undefined;
  const g = convGeometry(ctx, x, w, y);
  if (!g) return undefined;
  const xZp = activationZeroPoint(ctx, at.xZp);
  const wZp = constValues(ctx, at.wZp, 0);
  if (!xZp || !wZp || (wZp.length !== 1 && wZp.length !== g.Cout)) return undefined;
  const rq = requantFrom(ctx, at.requant, g.Cout, y);
  if (!rq) return undefined;
  const { mults, yZp } = rq;
  const biasT: Tensor | undefined = at.bias !== undefined && ctx.node.inputs[at.bias] ? ctx.constant(at.bias) : undefined;
  if (at.bias !== undefined && ctx.node.inputs[at.bias] && !biasT) return undefined;

  const ex = dwConvI8Exports(ctx.exports);
  const allowDot = ctx.variant === 'relaxed';
  const L = new Layout();
  const rawW = L.take(weights.size);
  const wZpPtr = L.take(paddedChannels(g.Cout) * 4);
  const packed = L.take(convWeightBytesI8(ex, g));
  const multPtr = L.take(mults ? mults.block.length * 8 : 8);
  const yZpPtr = L.take(32);
  const biasPtr = L.take(paddedChannels(g.Cout) * 4);
  const perChannelW = wZp.length > 1;
  const requant = (p: number): RequantI8 | undefined => mults && {
    out: y.dtype as Q8Type, mult: p + multPtr, multPerChannel: mults.perChannel, multEntries: mults.entries, zp: yZp![0] ? p + yZpPtr : 0, zpPerChannel: false,
  };
  let wt: ConvWeightsI8 | undefined;
  const scratch = Math.max(convScratchBytesI8(ex, g, 0), convScratchBytesI8(ex, g, 1));
  const work = convWorkI8(g);
  return {
    threaded: work >= 2 * I8_MIN_MACS_PER_THREAD,
    persistentBytes: L.size,
    scratchBytes: scratch,
    packedInputs: [at.w, ...(biasT ? [at.bias!] : [])],
    init(mem, p) {
      mem.write(p + rawW, weights);
      writeI32(mem, p + wZpPtr, perChannelW ? wZp : [wZp[0]!]);
      if (mults) writeF64(mem, p + multPtr, mults.block);
      if (yZp) writeI32(mem, p + yZpPtr, [yZp[0]!]);
      if (biasT) writeI32(mem, p + biasPtr, toNumbers(biasT));
      // A conv split over the pool uses path 0: path 1 would need every worker told that the
      // weights are on the LHS (see gemmI8Parallel).
      const pooled = i8Parallel(mem.pool, mem.scratchStride, work) !== undefined;
      wt = packConvWeightsI8(ex, g, p + rawW, w.dtype, p + wZpPtr, perChannelW ? g.Cout : 1, p + packed, allowDot && !pooled);
    },
    run(mem, inputs, [yv], scratchPtr, p) {
      convI8(ex, mem.memory, {
        g, weights: wt!, x: inputs[at.x]!.ptr, xType: x.dtype, xZeroPoint: xZp(mem, inputs),
        w: p + rawW, wType: w.dtype, wZp: p + wZpPtr, wZpLen: perChannelW ? g.Cout : 1,
        out: yv!.ptr, ...(mults ? { requant: requant(p)! } : {}), bias: biasT ? p + biasPtr : 0, scratch: scratchPtr,
      }, i8Parallel(mem.pool, mem.scratchStride, work));
    },
  };
}

registerWasmKernel('QLinearConv', (ctx) => quantConv(ctx, { x: 0, w: 3, xZp: 2, wZp: 5, bias: 8, requant: { xScale: 1, wScale: 4, yScale: 6, yZp: 7 } }));
registerWasmKernel('ConvInteger', (ctx) => quantConv(ctx, { x: 0, w: 1, xZp: 2, wZp: 3 }));

interface MatMulQuantInputs {
  a: number; b: number; aZp: number; bZp: number;
  /** Absent for MatMulInteger (int32 output); x is A, w is B. */
  requant?: RequantInputs;
}

/** A [M, K] (leading dims folded into M) times a constant B [K, N]; per-column B scales and zero points. */
function quantMatMul(ctx: WasmPlanContext, at: MatMulQuantInputs): PreparedKernel | undefined {
  const a = ctx.inputs[at.a];
  const b = ctx.inputs[at.b];
  const y = ctx.outputs[0]!;
  const bConst = ctx.constant(at.b);
  if (!isQ8(a) || !isQ8(b) || !bConst || b.dims.length !== 2 || a.dims.length < 2) return undefined;
  const [K, N] = b.dims as [number, number];
  const M = a.dims.slice(0, -1).reduce((p, q) => p * q, 1);
  const aZp = activationZeroPoint(ctx, at.aZp);
  const bZp = constValues(ctx, at.bZp, 0);
  if (!aZp || !bZp || (bZp.length !== 1 && bZp.length !== N)) return undefined;
  const rq = requantFrom(ctx, at.requant, N, y);
  if (!rq) return undefined;
  const { mults, yZp } = rq;
  const ex = gemmI8Exports(ctx.exports);
  const L = new Layout();
  const rawB = L.take(bConst.size);
  const bZpPtr = L.take(paddedChannels(N) * 4);
  const packed = L.take(weightPackBytesI8(ex, 'rhs', N, K));
  const multPtr = L.take(mults ? mults.block.length * 8 : 8);
  const yZpPtr = L.take(32);
  const zpCell = L.take(4);
  let path: GemmI8Path = 0;
  const macs = M * N * K;
  return {
    threaded: macs >= 2 * I8_MIN_MACS_PER_THREAD,
    persistentBytes: L.size,
    scratchBytes: Math.max(activationPackBytesI8(ex, 'lhs', M, K, 0), activationPackBytesI8(ex, 'lhs', M, K, 1)),
    packedInputs: [at.b],
    init(mem, p) {
      mem.write(p + rawB, bConst);
      writeI32(mem, p + bZpPtr, bZp);
      if (mults) writeF64(mem, p + multPtr, mults.block);
      if (yZp) writeI32(mem, p + yZpPtr, [yZp[0]!]);
      path = packWeightsI8(ex, {
        side: 'rhs', src: p + rawB, lines: N, K, type: b.dtype, zp: p + bZpPtr, zpLen: bZp.length, dst: p + packed, allowDot: ctx.variant === 'relaxed',
      });
    },
    run(mem, inputs, [yv], scratch, p) {
      const par = i8Parallel(mem.pool, mem.scratchStride, macs);
      packActivationsI8Parallel(ex, mem.memory, p + zpCell, { side: 'lhs', src: inputs[at.a]!.ptr, lines: M, K, type: a.dtype, zeroPoint: aZp(mem, inputs), dst: scratch, path }, par);
      gemmI8Parallel(ex, {
        lhs: scratch, rhs: p + packed, M, N, K, path, out: yv!.ptr,
        ...(mults ? { requant: { out: y.dtype as Q8Type, mult: p + multPtr, multPerChannel: mults.perChannel, multEntries: mults.entries, zp: yZp![0] ? p + yZpPtr : 0, zpPerChannel: false } } : {}),
        channelAxis: 'cols',
      }, par);
    },
  };
}

registerWasmKernel('QLinearMatMul', (ctx) => quantMatMul(ctx, { a: 0, b: 3, aZp: 2, bZp: 5, requant: { xScale: 1, wScale: 4, yScale: 6, yZp: 7 } }));
registerWasmKernel('MatMulInteger', (ctx) => quantMatMul(ctx, { a: 0, b: 1, aZp: 2, bZp: 3 }));
