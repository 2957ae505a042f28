// Linear quantization: QuantizeLinear, DequantizeLinear (per tensor, per axis, blocked) and
// DynamicQuantizeLinear. real = (q - zero_point) * scale; quantizing rounds half to even and
// saturates. Arithmetic follows the ONNX reference's precision (float32 division for float32
// inputs) so that rounding ties land where onnxruntime and the reference put them.
// Integer targets (int2 .. int16, uint2 .. uint16) round, add the zero point and clamp; float8
// targets round to nearest even with the saturate attribute, float4e2m1 always saturates.
import { dtypeOfOnnxCode, isIntegerDType, type DType } from '../tensor/dtype.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { encodeMiniFloat, isMiniFloatDType } from '../tensor/float8.js';
import { bfloat16ToFloat32, float32ToBfloat16 } from '../tensor/bfloat16.js';
import { float16ToFloat32, float32ToFloat16 } from '../tensor/float16.js';
import { normalizeAxis } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { AttrSpec } from './attrs.js';
import { defineOp, type InferContext } from './registry.js';
import { FLOAT_TYPES, inputType, QUANT_TYPES, rangeOf, roundHalfEven } from './util.js';

function dtypeFromCode(code: number, allowed: readonly DType[], what: string, where: string): DType {
  const d = dtypeOfOnnxCode(code);
  if (!d || !allowed.includes(d)) throw new Error(`${where}: ${what}=${code} is not a supported type here (expected one of ${allowed.join(', ')})`);
  return d;
}

/**
 * round(v) + zeroPoint saturated into [lo, hi]. Rounding happens before the zero point is added,
 * as the QuantizeLinear spec and onnxruntime's requantization do (it matters for ties: 25.5 + 153).
 */
export function quantizeValue(v: number, zeroPoint: number, lo: number, hi: number): number {
  const r = roundHalfEven(v) + zeroPoint;
  return r < lo ? lo : r > hi ? hi : r;
}

/** Rounds a float64 to the precision of `dtype`'s arithmetic (float32, float16, bfloat16; any other dtype means float64). */
export function roundTo(dtype: DType, v: number): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'float16') return float16ToFloat32(float32ToFloat16(v));
  if (dtype === 'bfloat16') return bfloat16ToFloat32(float32ToBfloat16(v));
  return v;
}

/**
 * Maps every element of x to the index of its scale / zero point. undefined means per tensor.
 * blockSize 0: a 1-D parameter with one value per slice along `axis`. blockSize > 0: a parameter
 * shaped like x except dims[axis] -> ceil(dims[axis] / blockSize).
 */
export function quantParamIndex(
  xDims: readonly number[], param: Tensor, axisAttr: number, blockSize: number, what: string, where: string,
): Int32Array | undefined {
  if (param.size === 1) return undefined;
  if (blockSize < 0) throw new Error(`${where}: block_size must be >= 0, got ${blockSize}`);
  let axis: number;
  try {
    axis = normalizeAxis(axisAttr, xDims.length);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  const D = xDims[axis]!;
  let inner = 1;
  for (let i = axis + 1; i < xDims.length; i++) inner *= xDims[i]!;
  const size = xDims.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(size);
  if (blockSize === 0) {
    if (param.dims.length !== 1 || param.size !== D) {
      throw new Error(`${where}: ${what} [${param.dims.join(', ')}] must be a scalar or a 1-D tensor of ${D} values (axis ${axisAttr})`);
    }
    for (let i = 0; i < size; i++) idx[i] = Math.floor(i / inner) % D;
    return idx;
  }
  const nb = Math.ceil(D / blockSize);
  const want = xDims.map((d, i) => (i === axis ? nb : d));
  if (param.dims.length !== want.length || param.dims.some((d, i) => d !== want[i])) {
    throw new Error(`${where}: ${what} [${param.dims.join(', ')}] must be [${want.join(', ')}] for block_size ${blockSize} on axis ${axisAttr}`);
  }
  for (let i = 0; i < size; i++) {
    const o = Math.floor(i / (D * inner));
    const a = Math.floor(i / inner) % D;
    idx[i] = (o * nb + Math.floor(a / blockSize)) * inner + (i % inner);
  }
  return idx;
}

function checkSameShape(zp: Tensor | undefined, scale: Tensor, where: string): void {
  // Per-tensor parameters may be spelled [] or [1] independently.
  if (zp && !(zp.size === 1 && scale.size === 1) && (zp.dims.length !== scale.dims.length || zp.dims.some((d, i) => d !== scale.dims[i]))) {
    throw new Error(`${where}: zero point [${zp.dims.join(', ')}] must have the scale's shape [${scale.dims.join(', ')}]`);
  }
}

/**
 * The checks of checkSameShape and quantParamIndex on declared shapes, so that a model whose scale
 * or zero point cannot fit x is refused at plan time for every backend, not by the reference
 * kernel at run time. Skipped where a shape is not concrete.
 */
function inferQuantParams(ctx: InferContext, scaleName: string): void {
  const concrete = (d: readonly (number | string)[] | undefined): d is number[] => !!d && d.every((v) => typeof v === 'number');
  const [x, s, z] = [ctx.inputs[0]?.shape, ctx.inputs[1]?.shape, ctx.inputs[2]?.shape];
  if (!concrete(s)) return;
  const size = (d: number[]) => d.reduce((a, b) => a * b, 1);
  if (concrete(z) && !(size(z) === 1 && size(s) === 1) && (z.length !== s.length || z.some((d, i) => d !== s[i]))) {
    throw new Error(`${ctx.where}: zero point [${z.join(', ')}] must have the scale's shape [${s.join(', ')}]`);
  }
  if (size(s) === 1 || !concrete(x)) return;
  const axisAttr = ctx.attrs.int('axis');
  const block = ctx.attrs.int('block_size');
  let axis: number;
  try {
    axis = normalizeAxis(axisAttr, x.length);
  } catch (e) {
    throw new Error(`${ctx.where}: ${(e as Error).message}`);
  }
  const D = x[axis]!;
  if (block === 0) {
    if (s.length !== 1 || size(s) !== D) throw new Error(`${ctx.where}: ${scaleName} [${s.join(', ')}] must be a scalar or a 1-D tensor of ${D} values (axis ${axisAttr})`);
    return;
  }
  const want = x.map((d, i) => (i === axis ? Math.ceil(D / block) : d));
  if (s.length !== want.length || s.some((d, i) => d !== want[i])) {
    throw new Error(`${ctx.where}: ${scaleName} [${s.join(', ')}] must be [${want.join(', ')}] for block_size ${block} on axis ${axisAttr}`);
  }
}

const QUANT_ATTRS = {
  axis: { type: 'int', default: 1 },
  block_size: { type: 'int', default: 0, validate: (v) => ((v as number) >= 0 ? undefined : 'must be >= 0') },
  output_dtype: { type: 'int', default: 0 },
} satisfies Record<string, AttrSpec>;

/** QuantizeLinear's output dtype: the zero point's, else output_dtype, else uint8. */
function quantizeOutType(zpType: DType | undefined, code: number, where: string): DType {
  const fromAttr = code === 0 ? undefined : dtypeFromCode(code, QUANT_TYPES, 'output_dtype', where);
  if (zpType && fromAttr && zpType !== fromAttr) {
    throw new Error(`${where}: output_dtype (${fromAttr}) differs from the zero point's dtype ${zpType}`);
  }
  return zpType ?? fromAttr ?? 'uint8';
}

defineOp({
  name: 'QuantizeLinear',
  inputs: [
    { name: 'x', types: [...FLOAT_TYPES, 'int32'] },
    { name: 'y_scale', types: [...FLOAT_TYPES, 'int32', 'float8e8m0'] },
    { name: 'y_zero_point', optional: true, types: QUANT_TYPES },
  ],
  outputs: [{ name: 'y' }],
  attrs: {
    ...QUANT_ATTRS,
    // Only float8 outputs: out-of-range values clamp to +-max (1) or become inf / NaN (0).
    saturate: { type: 'int', default: 1 },
    precision: { type: 'int', default: 0 },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    inferQuantParams(ctx, 'y_scale');
    return [{ dtype: quantizeOutType(ctx.inputs[2]?.dtype, ctx.attrs.int('output_dtype'), ctx.where), shape: x.shape }];
  },
  reference: ([x, scale, zp], ctx) => {
    const outType = quantizeOutType(zp?.type, ctx.attrs.int('output_dtype'), ctx.where);
    const axis = ctx.attrs.int('axis');
    const block = ctx.attrs.int('block_size');
    checkSameShape(zp, scale!, ctx.where);
    const sIdx = quantParamIndex(x!.dims, scale!, axis, block, 'y_scale', ctx.where);
    const precisionCode = ctx.attrs.int('precision');
    const precision = precisionCode === 0 ? divisionPrecision(x!.type, scale!.type)
      : dtypeFromCode(precisionCode, FLOAT_TYPES, 'precision', ctx.where);
    const xv = toNumbers(x!);
    const sv = toNumbers(scale!);
    const zv = zp ? toNumbers(zp) : new Float64Array(sv.length);
    const scaled = new Float64Array(xv.length);
    for (let i = 0; i < xv.length; i++) scaled[i] = roundTo(precision, xv[i]! / sv[sIdx ? sIdx[i]! : 0]!);
    const zpAt = (i: number) => zv[sIdx ? sIdx[i]! : 0]!;
    if (isIntegerDType(outType)) {
      const [lo, hi] = rangeOf(outType);
      for (let i = 0; i < scaled.length; i++) scaled[i] = quantizeValue(scaled[i]!, zpAt(i), lo, hi);
      return [fromNumbers(outType, scaled, x!.dims)];
    }
    // float8 / float4: the zero point (normally 0) adds in value space, then one rounding.
    if (!isMiniFloatDType(outType)) throw new Error(`${ctx.where}: cannot quantize to ${outType}`);
    const saturate = ctx.attrs.int('saturate') !== 0;
    for (let i = 0; i < scaled.length; i++) scaled[i] = scaled[i]! + zpAt(i);
    if (outType === 'float4e2m1') return [fromNumbers(outType, scaled, x!.dims)];
    const codes = new Uint8Array(scaled.length);
    for (let i = 0; i < scaled.length; i++) codes[i] = encodeMiniFloat(outType, scaled[i]!, saturate);
    return [new Tensor(outType, codes, x!.dims)];
  },
});

/** The type numpy divides x by y_scale in: float16 only when both are, float64 when int32 is involved. */
function divisionPrecision(x: DType, scale: DType): DType {
  if (x === 'int32' || scale === 'int32') return 'int32';
  return x === 'float16' && scale === 'float16' ? 'float16' : 'float32';
}

defineOp({
  name: 'DequantizeLinear',
  inputs: [
    { name: 'x', types: [...QUANT_TYPES, 'int32'] },
    { name: 'x_scale', types: [...FLOAT_TYPES, 'float8e8m0'] },
    { name: 'x_zero_point', optional: true, types: [...QUANT_TYPES, 'int32'] },
  ],
  outputs: [{ name: 'y' }],
  attrs: QUANT_ATTRS,
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const zp = ctx.inputs[2];
    if (zp && zp.dtype !== x.dtype) throw new Error(`${ctx.where}: x_zero_point has dtype ${zp.dtype} but x has ${x.dtype}`);
    inferQuantParams(ctx, 'x_scale');
    return [{ dtype: dequantizeOutType(ctx, inputType(ctx, 1).dtype, ctx.attrs.int('output_dtype')), shape: x.shape }];
  },
  reference: ([x, scale, zp], ctx) => {
    if (zp && zp.type !== x!.type) throw new Error(`${ctx.where}: x_zero_point has dtype ${zp.type} but x has ${x!.type}`);
    const outType = dequantizeOutType(ctx, scale!.type, ctx.attrs.int('output_dtype'));
    checkSameShape(zp, scale!, ctx.where);
    const sIdx = quantParamIndex(x!.dims, scale!, ctx.attrs.int('axis'), ctx.attrs.int('block_size'), 'x_scale', ctx.where);
    const xv = toNumbers(x!);
    const sv = toNumbers(scale!);
    const zv = zp ? toNumbers(zp) : new Float64Array(sv.length);
    const out = new Float64Array(xv.length);
    // (x - zp) is formed in float32 as the reference does; the float32 product is then exact in float64.
    for (let i = 0; i < xv.length; i++) {
      const k = sIdx ? sIdx[i]! : 0;
      out[i] = Math.fround(Math.fround(xv[i]! - zv[k]!) * sv[k]!);
    }
    return [fromNumbers(outType, out, x!.dims)];
  },
});

function dequantizeOutType(ctx: { where: string }, scaleType: DType, code: number): DType {
  if (code !== 0) return dtypeFromCode(code, FLOAT_TYPES, 'output_dtype', ctx.where);
  if (scaleType === 'float8e8m0') throw new Error(`${ctx.where}: a float8e8m0 x_scale needs output_dtype (float8e8m0 is not an output type)`);
  return scaleType;
}

// ---- DynamicQuantizeLinear ------------------------------------------------------------------

/**
 * uint8 scale and zero point covering [min(x, 0), max(x, 0)], all in float32 as the spec's
 * reference computes. A constant-zero input gets scale 1 (as onnxruntime), not a division by 0.
 */
export function dynamicQuantParams(xv: ArrayLike<number>): { scale: number; zeroPoint: number } {
  let mn = 0;
  let mx = 0;
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return dynamicQuantParamsOfRange(mn, mx);
}

/** dynamicQuantParams from min(x, 0) and max(x, 0) (shared with the WASM kernel). */
export function dynamicQuantParamsOfRange(mn: number, mx: number): { scale: number; zeroPoint: number } {
  // float32 at every step, the difference included: max - min of two float32 values is often not
  // a float32, and rounding it first is what the spec's reference (and onnxruntime) compute, so the
  // y_scale output, and through it every quantized value, agree with them.
  const scale = mx === mn ? 1 : Math.fround(Math.fround(mx - mn) / 255);
  const zeroPoint = quantizeValue(Math.fround(0 - Math.fround(mn / scale)), 0, 0, 255);
  return { scale, zeroPoint };
}

defineOp({
  name: 'DynamicQuantizeLinear',
  inputs: [{ name: 'x', types: ['float32'] }],
  outputs: [{ name: 'y' }, { name: 'y_scale' }, { name: 'y_zero_point' }],
  inferShape: (ctx: InferContext) => [
    { dtype: 'uint8', shape: inputType(ctx, 0).shape },
    { dtype: 'float32', shape: [] },
    { dtype: 'uint8', shape: [] },
  ],
  reference: ([x]) => {
    const xv = toNumbers(x!);
    const { scale, zeroPoint } = dynamicQuantParams(xv);
    const out = new Float64Array(xv.length);
    for (let i = 0; i < xv.length; i++) out[i] = quantizeValue(Math.fround(xv[i]! / scale), zeroPoint, 0, 255);
    return [fromNumbers('uint8', out, x!.dims), fromNumbers('float32', [scale], []), fromNumbers('uint8', [zeroPoint], [])];
  },
});
