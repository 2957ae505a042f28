// Quantized-operator (QOperator) ops: QLinearConv and QLinearMatMul from ai.onnx, and the
// com.microsoft QLinearAdd, QLinearMul and QLinearGlobalAveragePool that onnxruntime's quantizer
// emits. QLinearConv / QLinearMatMul follow the ONNX spec exactly: integer accumulators (exact in
// float64), then saturate(round_half_even(acc * x_scale * w_scale / y_scale) + y_zp) with the
// rounding decided in exact arithmetic (requant-exact.ts). The com.microsoft ops have no ONNX
// spec; their semantics are onnxruntime's portable CPU kernels (mlas qladd.cpp, qlmul.cpp,
// qlgavgpool.cpp, the code onnxruntime-web runs), float32 step for step, see docs/INT8-NUMERICS.md.
import { MS_DOMAIN } from '../graph/ir.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { DType } from '../tensor/dtype.js';
import { broadcastDims, type Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { CONV_ATTRS } from './conv-util.js';
import {
  biasedOutput, checkZeroPointType, convForward, convProblem, inferConvShape, outDimsOf,
  subtractChannelZeroPoint, subtractScalarZeroPoint,
} from './conv.js';
import { inferMatMulShape, matmulPlan, matmulRun, subtractMatrixZeroPoint } from './gemm.js';
import { quantizeValue } from './quantize.js';
import { requantizeExact, requantScale } from './requant-exact.js';
import { defineOp, type InferContext } from './registry.js';
import { broadcastIndex, broadcastInferred, FLOAT_TYPES, inputType, rangeOf } from './util.js';

const Q8: readonly DType[] = ['uint8', 'int8'];

function clampInt(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** A per-tensor parameter (scale or zero point) as a number; absent zero points are 0. */
function scalarParam(t: Tensor | undefined, what: string, where: string): number {
  if (!t) return 0;
  if (t.size !== 1) throw new Error(`${where}: ${what} must be a scalar (per-tensor), got [${t.dims.join(', ')}]`);
  return toNumbers(t)[0]!;
}

/** A scale or zero point that is per tensor (size 1) or a 1-D vector of `n` values, as n numbers. */
function vectorParam(t: Tensor | undefined, n: number, what: string, per: string, where: string): Float64Array {
  if (!t) return new Float64Array(n);
  const v = toNumbers(t);
  if (t.size === 1) return new Float64Array(n).fill(v[0]!);
  if (t.dims.length !== 1 || t.size !== n) {
    throw new Error(`${where}: ${what} [${t.dims.join(', ')}] must be a scalar or a 1-D tensor of ${n} values (one per ${per})`);
  }
  return v;
}

/** Output dtype of a QLinear op: the output zero point's when given, else the input's. */
function outTypeOf(ctx: InferContext, zpIndex: number, dataIndex: number): DType {
  return ctx.inputs[zpIndex]?.dtype ?? inputType(ctx, dataIndex).dtype;
}

/** A y_scale must be positive and finite (the spec's requantization divides by it). */
function checkOutputScale(ys: ArrayLike<number>, where: string): void {
  for (let i = 0; i < ys.length; i++) {
    if (!(ys[i]! > 0) || !Number.isFinite(ys[i]!)) throw new Error(`${where}: y_scale must be positive and finite, got ${ys[i]}`);
  }
}

// ---- QLinearConv ----------------------------------------------------------------------------

/** Whether a planned shape surely does not hold exactly one element (a known dim other than 1). */
const isNotSingle = (shape: readonly Dim[]) => shape.some((d) => typeof d === 'number' && d !== 1);

/**
 * QLinearConv's parameter shapes and zero-point dtypes, checked in the shape rule so that every
 * backend refuses a malformed node at plan time exactly as the reference kernel would at run time
 * (a WASM kernel must never zero-fill a short bias or cut a long one): x_scale, x_zero_point,
 * y_scale, y_zero_point per tensor; w_scale, w_zero_point per tensor or one per output channel;
 * B 1-D with one int32 per output channel; zero points of their data's dtype.
 */
function checkQLinearConvParams(ctx: InferContext, M: Dim): void {
  for (const [zi, di, what] of [[2, 0, 'x_zero_point'], [5, 3, 'w_zero_point']] as const) {
    const z = ctx.inputs[zi];
    const d = inputType(ctx, di).dtype;
    if (z && z.dtype !== d) throw new Error(`${ctx.where}: ${what} has dtype ${z.dtype} but its data has ${d}`);
  }
  for (const [i, what] of [[1, 'x_scale'], [2, 'x_zero_point'], [6, 'y_scale'], [7, 'y_zero_point']] as const) {
    const shape = ctx.inputs[i]?.shape;
    if (shape && isNotSingle(shape)) throw new Error(`${ctx.where}: ${what} must be a scalar (per-tensor), got shape [${shape.join(', ')}]`);
  }
  for (const [i, what] of [[4, 'w_scale'], [5, 'w_zero_point']] as const) {
    const shape = ctx.inputs[i]?.shape;
    if (!shape || !isNotSingle(shape)) continue;
    const n = shape[0];
    if (shape.length !== 1 || (typeof n === 'number' && typeof M === 'number' && n !== M)) {
      throw new Error(`${ctx.where}: ${what} must be a scalar or a 1-D tensor of ${M} values (one per output channel), got shape [${shape.join(', ')}]`);
    }
  }
  const b = ctx.inputs[8]?.shape;
  if (!b) return;
  if (b.length !== 1) throw new Error(`${ctx.where}: B must be 1-D (one int32 per output channel), got shape [${b.join(', ')}]`);
  if (typeof b[0] === 'number' && typeof M === 'number' && b[0] !== M) {
    throw new Error(`${ctx.where}: B has ${b[0]} values but there are ${M} output channels`);
  }
}

defineOp({
  name: 'QLinearConv',
  inputs: [
    { name: 'x', types: Q8 },
    { name: 'x_scale', types: FLOAT_TYPES },
    { name: 'x_zero_point', optional: true, types: Q8 },
    { name: 'w', types: Q8 },
    { name: 'w_scale', types: FLOAT_TYPES },
    { name: 'w_zero_point', optional: true, types: Q8 },
    { name: 'y_scale', types: FLOAT_TYPES },
    { name: 'y_zero_point', optional: true, types: Q8 },
    { name: 'B', optional: true, types: ['int32'] },
  ],
  outputs: [{ name: 'y' }],
  attrs: CONV_ATTRS,
  inferShape: (ctx) => {
    const shape = inferConvShape(ctx, 0, 3);
    checkQLinearConvParams(ctx, shape?.[1] ?? '?');
    return [{ dtype: outTypeOf(ctx, 7, 0), shape }];
  },
  reference: ([x, xs, xzp, w, ws, wzp, ys, yzp, b], ctx) => {
    const where = ctx.where;
    checkZeroPointType(xzp, x!, 'x_zero_point', where);
    checkZeroPointType(wzp, w!, 'w_zero_point', where);
    const outType = yzp?.type ?? x!.type;
    const p = convProblem(x!.dims, w!.dims, ctx.attrs, where);
    const M = p.outChannels;
    const xv = toNumbers(x!);
    const wv = toNumbers(w!);
    subtractScalarZeroPoint(xv, xzp, 'x_zero_point', where);
    subtractChannelZeroPoint(wv, w!.dims, wzp, 'w_zero_point', where);
    if (b && b.dims.length !== 1) throw new Error(`${where}: B must be 1-D, got [${b.dims.join(', ')}]`);
    const acc = biasedOutput(p, b ? toNumbers(b) : undefined, where);
    convForward(xv, wv, acc, p);
    const xScale = scalarParam(xs, 'x_scale', where);
    const yScale = scalarParam(ys, 'y_scale', where);
    const yZero = scalarParam(yzp, 'y_zero_point', where);
    const wScale = vectorParam(ws, M, 'w_scale', 'output channel', where);
    checkOutputScale([yScale], where);
    const [lo, hi] = rangeOf(outType);
    const plane = acc.length / Math.max(1, p.batch * M);
    for (let n = 0; n < p.batch; n++) {
      for (let m = 0; m < M; m++) {
        const s = requantScale(xScale, wScale[m]!, yScale);
        const base = (n * M + m) * plane;
        for (let i = base; i < base + plane; i++) acc[i] = clampInt(requantizeExact(acc[i]!, s.p, s.ys, s.m) + yZero, lo, hi);
      }
    }
    return [fromNumbers(outType, acc, outDimsOf(p, x!.dims.length - 2))];
  },
});

// ---- QLinearMatMul --------------------------------------------------------------------------

defineOp({
  name: 'QLinearMatMul',
  inputs: [
    { name: 'a', types: Q8 },
    { name: 'a_scale', types: FLOAT_TYPES },
    { name: 'a_zero_point', optional: true, types: Q8 },
    { name: 'b', types: Q8 },
    { name: 'b_scale', types: FLOAT_TYPES },
    { name: 'b_zero_point', optional: true, types: Q8 },
    { name: 'y_scale', types: FLOAT_TYPES },
    { name: 'y_zero_point', optional: true, types: Q8 },
  ],
  outputs: [{ name: 'y' }],
  inferShape: (ctx) => {
    checkQLinearMatMulParams(ctx);
    return [{ dtype: outTypeOf(ctx, 7, 0), shape: inferMatMulShape(ctx, 0, 3) }];
  },
  reference: ([a, as, azp, b, bs, bzp, ys, yzp], ctx) => {
    const where = ctx.where;
    checkZeroPointType(azp, a!, 'a_zero_point', where);
    checkZeroPointType(bzp, b!, 'b_zero_point', where);
    const outType = yzp?.type ?? a!.type;
    const p = matmulPlan(a!.dims, b!.dims, where);
    const av = toNumbers(a!);
    const bv = toNumbers(b!);
    subtractMatrixZeroPoint(av, p.aDims, azp, 'row', 'a_zero_point', where);
    subtractMatrixZeroPoint(bv, p.bDims, bzp, 'col', 'b_zero_point', where);
    const acc = matmulRun(av, bv, p);
    // Scales: a and y per tensor or per row (M values), b per tensor or per column (N values).
    const aScale = vectorParam(as, p.M, 'a_scale', 'row of a', where);
    const bScale = vectorParam(bs, p.N, 'b_scale', 'column of b', where);
    const yScale = vectorParam(ys, p.M, 'y_scale', 'row of y', where);
    const yZero = vectorParam(yzp, p.M, 'y_zero_point', 'row of y', where);
    checkOutputScale(yScale, where);
    const [lo, hi] = rangeOf(outType);
    for (let i = 0; i < acc.length; i++) {
      const col = i % p.N;
      const row = Math.floor(i / p.N) % p.M;
      const s = requantScale(aScale[row]!, bScale[col]!, yScale[row]!);
      acc[i] = clampInt(requantizeExact(acc[i]!, s.p, s.ys, s.m) + yZero[row]!, lo, hi);
    }
    return [fromNumbers(outType, acc, p.outDims)];
  },
});

/** Input i is absent, a single value, or 1-D with `n` values (unchecked while n is unknown). */
function checkVectorShape(ctx: InferContext, i: number, n: Dim | undefined, what: string, per: string): void {
  const shape = ctx.inputs[i]?.shape;
  if (!shape || !isNotSingle(shape)) return;
  const k = shape[0];
  if (shape.length !== 1 || (typeof k === 'number' && typeof n === 'number' && k !== n)) {
    throw new Error(`${ctx.where}: ${what} must be a scalar or a 1-D tensor of ${n ?? '?'} values (one per ${per}), got shape [${shape.join(', ')}]`);
  }
}

/**
 * QLinearMatMul's parameters at plan time, as the reference checks them at run time: zero points
 * of their data's dtype; a_scale, y_scale, y_zero_point per tensor or per row of a; b_scale per
 * tensor or per column of b.
 */
function checkQLinearMatMulParams(ctx: InferContext): void {
  for (const [zi, di, what] of [[2, 0, 'a_zero_point'], [5, 3, 'b_zero_point']] as const) {
    const z = ctx.inputs[zi];
    const d = inputType(ctx, di).dtype;
    if (z && z.dtype !== d) throw new Error(`${ctx.where}: ${what} has dtype ${z.dtype} but its data has ${d}`);
  }
  const a = ctx.inputs[0]?.shape;
  const b = ctx.inputs[3]?.shape;
  const M = a ? (a.length >= 2 ? a[a.length - 2] : 1) : undefined;
  const N = b ? (b.length >= 2 ? b[b.length - 1] : 1) : undefined;
  checkVectorShape(ctx, 1, M, 'a_scale', 'row of a');
  checkVectorShape(ctx, 4, N, 'b_scale', 'column of b');
  checkVectorShape(ctx, 6, M, 'y_scale', 'row of y');
  checkVectorShape(ctx, 7, M, 'y_zero_point', 'row of y');
}

// ---- com.microsoft elementwise: QLinearAdd, QLinearMul ----------------------------------------

/**
 * One element of onnxruntime's portable QLinearAdd / QLinearMul (MlasQLinear*KernelRawHelper):
 * every step in float32: va = A_scale * (a - A_zp), vb likewise, vc = combine(va, vb) / C_scale,
 * clamped to [lo - C_zp, hi - C_zp], then round_half_even(vc + C_zp) (the add also in float32).
 */
export function qlinearBinaryValue(
  combine: (a: number, b: number) => number, a: number, aS: number, aZ: number, b: number, bS: number, bZ: number,
  cS: number, cZ: number, lo: number, hi: number,
): number {
  const f = Math.fround;
  const va = f(aS * (a - aZ));
  const vb = f(bS * (b - bZ));
  let vc = f(f(combine(va, vb)) / cS);
  if (vc < lo - cZ) vc = lo - cZ;
  if (vc > hi - cZ) vc = hi - cZ;
  return quantizeValue(f(vc + cZ), 0, lo, hi);
}

function defineQLinearBinary(name: string, combine: (a: number, b: number) => number): void {
  defineOp({
    name,
    domain: MS_DOMAIN,
    inputs: [
      { name: 'A', types: Q8 },
      { name: 'A_scale', types: FLOAT_TYPES },
      { name: 'A_zero_point', optional: true, types: Q8 },
      { name: 'B', types: Q8 },
      { name: 'B_scale', types: FLOAT_TYPES },
      { name: 'B_zero_point', optional: true, types: Q8 },
      { name: 'C_scale', types: FLOAT_TYPES },
      { name: 'C_zero_point', optional: true, types: Q8 },
    ],
    outputs: [{ name: 'C' }],
    inferShape: (ctx) => {
      const t = inputType(ctx, 0).dtype;
      for (const i of [2, 3, 5, 7]) {
        const u = ctx.inputs[i];
        if (u && u.dtype !== t) throw new Error(`${ctx.where}: input ${i} has dtype ${u.dtype} but A has ${t}`);
      }
      return [{ dtype: t, shape: broadcastInferred(ctx, [0, 3]) }];
    },
    reference: ([a, as, azp, b, bs, bzp, cs, czp], ctx) => {
      const where = ctx.where;
      const t = a!.type;
      for (const [u, what] of [[azp, 'A_zero_point'], [b, 'B'], [bzp, 'B_zero_point'], [czp, 'C_zero_point']] as const) {
        if (u && u.type !== t) throw new Error(`${where}: ${what} has dtype ${u.type} but A has ${t}`);
      }
      let dims: number[];
      try {
        dims = broadcastDims(a!.dims, b!.dims);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      const f = Math.fround;
      const aS = f(scalarParam(as, 'A_scale', where));
      const aZ = scalarParam(azp, 'A_zero_point', where);
      const bS = f(scalarParam(bs, 'B_scale', where));
      const bZ = scalarParam(bzp, 'B_zero_point', where);
      const cS = f(scalarParam(cs, 'C_scale', where));
      const cZ = scalarParam(czp, 'C_zero_point', where);
      const av = toNumbers(a!);
      const bv = toNumbers(b!);
      const ai = broadcastIndex(a!.dims, dims);
      const bi = broadcastIndex(b!.dims, dims);
      const [lo, hi] = rangeOf(t);
      const out = new Float64Array(ai.length);
      for (let i = 0; i < out.length; i++) out[i] = qlinearBinaryValue(combine, av[ai[i]!]!, aS, aZ, bv[bi[i]!]!, bS, bZ, cS, cZ, lo, hi);
      return [fromNumbers(t, out, dims)];
    },
  });
}

defineQLinearBinary('QLinearAdd', (a, b) => a + b);
defineQLinearBinary('QLinearMul', (a, b) => a * b);

// ---- com.microsoft QLinearGlobalAveragePool ---------------------------------------------------

/**
 * onnxruntime's (MlasQLinearGlobalAveragePool) multiplier x_scale / (y_scale * count) in float32;
 * an output is then round_half_even(float32(float32(sum - x_zp * count) * scale)) + y_zp, saturated.
 */
export function globalAveragePoolScale(xScale: number, yScale: number, count: number): number {
  return Math.fround(Math.fround(xScale) / Math.fround(Math.fround(yScale) * Math.fround(count)));
}

defineOp({
  name: 'QLinearGlobalAveragePool',
  domain: MS_DOMAIN,
  inputs: [
    { name: 'X', types: Q8 },
    { name: 'x_scale', types: FLOAT_TYPES },
    { name: 'x_zero_point', optional: true, types: Q8 },
    { name: 'y_scale', types: FLOAT_TYPES },
    { name: 'y_zero_point', optional: true, types: Q8 },
  ],
  outputs: [{ name: 'Y' }],
  attrs: {
    channels_last: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const s = x.shape;
    if (s && s.length < 3) throw new Error(`${ctx.where}: X must have rank >= 3, got rank ${s.length}`);
    const last = ctx.attrs.int('channels_last') === 1;
    const shape: Dim[] | undefined = s
      ? last ? [s[0]!, ...s.slice(1, -1).map(() => 1), s[s.length - 1]!] : [s[0]!, s[1]!, ...s.slice(2).map(() => 1)]
      : undefined;
    return [{ dtype: x.dtype, shape }];
  },
  reference: ([x, xs, xzp, ys, yzp], ctx) => {
    const where = ctx.where;
    checkZeroPointType(xzp, x!, 'x_zero_point', where);
    checkZeroPointType(yzp, x!, 'y_zero_point', where);
    const d = x!.dims;
    if (d.length < 3) throw new Error(`${where}: X must have rank >= 3, got [${d.join(', ')}]`);
    const last = ctx.attrs.int('channels_last') === 1;
    const N = d[0]!;
    const C = last ? d[d.length - 1]! : d[1]!;
    const spatial = last ? d.slice(1, -1) : d.slice(2);
    const count = spatial.reduce((a, b) => a * b, 1);
    const xZ = scalarParam(xzp, 'x_zero_point', where);
    const yZ = scalarParam(yzp, 'y_zero_point', where);
    const scale = globalAveragePoolScale(scalarParam(xs, 'x_scale', where), scalarParam(ys, 'y_scale', where), count);
    const v = toNumbers(x!);
    const out = new Float64Array(N * C);
    // Element (n, s, c) lives at n*count*C + s*C + c (channels last) or (n*C + c)*count + s.
    const [sStride, cStride] = last ? [C, 1] : [1, count];
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        let sum = 0;
        const base = n * C * count + c * cStride;
        for (let s = 0; s < count; s++) sum += v[base + s * sStride]!;
        out[n * C + c] = sum;
      }
    }
    const [lo, hi] = rangeOf(x!.type);
    for (let i = 0; i < out.length; i++) out[i] = count > 0 ? quantizeValue(Math.fround(Math.fround(out[i]! - xZ * count) * scale), yZ, lo, hi) : yZ;
    const outDims = last ? [N, ...spatial.map(() => 1), C] : [N, C, ...spatial.map(() => 1)];
    return [fromNumbers(x!.type, out, outDims)];
  },
});
