// Quantization arithmetic shared by the quantization passes: scales and zero points from a real
// range, and quantized copies of weights (per channel, per block) and biases. real = (q - zp) * s.
// Rounding is half to even and saturating, as QuantizeLinear does, so a weight quantized here and
// a value quantized by the graph land on the same grid.
import { roundHalfEven } from '../../ops/util.js';
import { fromNumbers, toNumbers } from '../../tensor/convert.js';
import { Tensor } from '../../tensor/tensor.js';

/** The integer types the passes write. */
export type QuantDType = 'uint8' | 'int8' | 'int4' | 'uint4';

export interface Affine {
  scale: number;
  zeroPoint: number;
}

/** Integer range of a quantized type; `reduceRange` drops one bit (7-bit int8, as onnxruntime's reduce_range). */
export function qRange(dtype: QuantDType, reduceRange = false): [number, number] {
  switch (dtype) {
    case 'uint8': return reduceRange ? [0, 127] : [0, 255];
    case 'int8': return reduceRange ? [-64, 63] : [-128, 127];
    case 'uint4': return [0, 15];
    case 'int4': return [-8, 7];
  }
}

/**
 * Asymmetric parameters covering [min, max] (widened to include 0, so that zero padding and ReLU's
 * zeros are exact). A degenerate range gets scale 1 (nothing to resolve; avoids dividing by 0).
 */
export function affineFromRange(min: number, max: number, dtype: QuantDType, reduceRange = false): Affine {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) throw new Error(`quantization range [${min}, ${max}] is not a finite interval`);
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const [qmin, qmax] = qRange(dtype, reduceRange);
  if (hi === lo) return { scale: 1, zeroPoint: dtype === 'uint8' || dtype === 'uint4' ? qmin : 0 };
  const scale = Math.fround((hi - lo) / (qmax - qmin));
  const zp = roundHalfEven(qmin - lo / scale);
  return { scale, zeroPoint: Math.min(qmax, Math.max(qmin, zp)) };
}

/** Symmetric parameters: zero point 0 (int) or the midpoint (uint), scale = absmax / qmax-side. */
export function symmetricFromAbsMax(absMax: number, dtype: QuantDType, reduceRange = false): Affine {
  const [qmin, qmax] = qRange(dtype, reduceRange);
  const signed = dtype === 'int8' || dtype === 'int4';
  // Signed: use the symmetric part [-qmax, qmax] so that +absMax and -absMax are both exact.
  const half = signed ? qmax : (qmax - qmin) / 2;
  const zeroPoint = signed ? 0 : Math.ceil((qmax + qmin) / 2);
  return { scale: absMax > 0 ? Math.fround(absMax / half) : 1, zeroPoint };
}

export function quantizeNumber(v: number, a: Affine, lo: number, hi: number): number {
  const q = roundHalfEven(Math.fround(v / a.scale)) + a.zeroPoint;
  return q < lo ? lo : q > hi ? hi : q;
}

export interface ChannelQuantized {
  q: Tensor;
  scale: Float32Array;
  zeroPoint: Int32Array;
}

/**
 * Per-channel symmetric quantization of a weight along `axis` (Conv: 0 = output channels;
 * MatMul B [K, N]: 1 = columns). `bits` 7 keeps every value in [-63, 63]: the row span the
 * relaxed-SIMD int8 dot needs to be exact.
 */
export function quantizePerChannel(w: Tensor, axis: number, bits: 7 | 8): ChannelQuantized {
  const v = toNumbers(w);
  const dims = w.dims;
  const C = dims[axis]!;
  let inner = 1;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i]!;
  const absMax = new Float64Array(C);
  for (let i = 0; i < v.length; i++) {
    const c = Math.floor(i / inner) % C;
    const a = Math.abs(v[i]!);
    if (a > absMax[c]!) absMax[c] = a;
  }
  const qmax = bits === 7 ? 63 : 127;
  const scale = new Float32Array(C);
  for (let c = 0; c < C; c++) scale[c] = absMax[c]! > 0 ? absMax[c]! / qmax : 1;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const c = Math.floor(i / inner) % C;
    out[i] = quantizeNumber(v[i]!, { scale: scale[c]!, zeroPoint: 0 }, -qmax, qmax);
  }
  return { q: fromNumbers('int8', out, dims), scale, zeroPoint: new Int32Array(C) };
}

/** A bias quantized to int32 with scale inputScale * weightScale[c] and zero point 0 (as QLinearConv expects). */
export function quantizeBias(bias: Tensor, inputScale: number, weightScale: Float32Array): { q: Tensor<'int32'>; scale: Float32Array } {
  const v = toNumbers(bias);
  if (bias.dims.length !== 1 || (weightScale.length !== 1 && weightScale.length !== v.length)) {
    throw new Error(`quantizeBias: bias [${bias.dims.join(', ')}] does not match ${weightScale.length} weight scales`);
  }
  const scale = new Float32Array(v.length);
  const q = new Int32Array(v.length);
  for (let c = 0; c < v.length; c++) {
    scale[c] = Math.fround(inputScale * weightScale[weightScale.length === 1 ? 0 : c]!);
    q[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfEven(v[c]! / scale[c]!)));
  }
  return { q: new Tensor('int32', q, bias.dims), scale };
}

export interface BlockQuantized {
  q: Tensor;
  /** Shaped like the weight with dims[axis] -> ceil(dims[axis] / block). */
  scale: Tensor<'float32'>;
  zeroPoint?: Tensor;
}

/**
 * Block-wise quantization along `axis` (blocks of `block` consecutive elements; the last one may
 * be short): DequantizeLinear's blocked form. Symmetric: int4/int8, zero point 0, scale absmax/qmax.
 * Asymmetric: uint4/uint8 over each block's [min, max] (widened to include 0).
 */
export function quantizeBlocked(w: Tensor, axis: number, block: number, bits: 4 | 8, symmetric: boolean): BlockQuantized {
  const v = toNumbers(w);
  const dims = w.dims;
  const D = dims[axis]!;
  let inner = 1;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i]!;
  const nb = Math.ceil(D / block);
  const sDims = dims.map((d, i) => (i === axis ? nb : d));
  const nScales = sDims.reduce((a, b) => a * b, 1);
  const blockOf = (i: number): number => {
    const o = Math.floor(i / (D * inner));
    const a = Math.floor(i / inner) % D;
    return (o * nb + Math.floor(a / block)) * inner + (i % inner);
  };
  const lo = new Float64Array(nScales).fill(Infinity);
  const hi = new Float64Array(nScales).fill(-Infinity);
  for (let i = 0; i < v.length; i++) {
    const b = blockOf(i);
    if (v[i]! < lo[b]!) lo[b] = v[i]!;
    if (v[i]! > hi[b]!) hi[b] = v[i]!;
  }
  const qType: QuantDType = symmetric ? (bits === 4 ? 'int4' : 'int8') : bits === 4 ? 'uint4' : 'uint8';
  const [qmin, qmax] = qRange(qType);
  const params: Affine[] = [];
  for (let b = 0; b < nScales; b++) {
    params.push(symmetric ? symmetricFromAbsMax(Math.max(Math.abs(lo[b]!), Math.abs(hi[b]!)), qType) : affineFromRange(lo[b]!, hi[b]!, qType));
  }
  const q = new Float64Array(v.length);
  // Symmetric int: clamp to [-qmax, qmax] like the scale assumes (the extra negative code unused).
  const low = symmetric ? -qmax : qmin;
  for (let i = 0; i < v.length; i++) q[i] = quantizeNumber(v[i]!, params[blockOf(i)]!, low, qmax);
  const scale = fromNumbers('float32', params.map((p) => p.scale), sDims);
  const zeroPoint = symmetric ? undefined : fromNumbers(qType, params.map((p) => p.zeroPoint), sDims);
  return { q: fromNumbers(qType, q, dims), scale, ...(zeroPoint ? { zeroPoint } : {}) };
}
