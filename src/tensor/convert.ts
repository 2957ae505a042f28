import { allocData, type DType } from './dtype.js';
import { bfloat16ToFloat32, float32ToBfloat16 } from './bfloat16.js';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';
import { Tensor } from './tensor.js';

/** Signed int4 nibble -> number. Element i lives in byte i>>1, low nibble first. */
export function readInt4(packed: Uint8Array, i: number): number {
  const nib = (packed[i >> 1]! >> ((i & 1) * 4)) & 0xf;
  return nib >= 8 ? nib - 16 : nib;
}

export function writeInt4(packed: Uint8Array, i: number, v: number): void {
  const b = i >> 1;
  const shift = (i & 1) * 4;
  packed[b] = (packed[b]! & ~(0xf << shift)) | ((v & 0xf) << shift);
}

/**
 * All elements as float64 numbers: the reference backend computes in this space.
 * int64 values beyond 2^53 lose precision here; the reference kernels accept that.
 */
export function toNumbers(t: Tensor): Float64Array {
  const out = new Float64Array(t.size);
  const d = t.data;
  switch (t.type) {
    case 'float16':
      for (let i = 0; i < t.size; i++) out[i] = float16ToFloat32((d as Uint16Array)[i]!);
      break;
    case 'bfloat16':
      for (let i = 0; i < t.size; i++) out[i] = bfloat16ToFloat32((d as Uint16Array)[i]!);
      break;
    case 'int64': case 'uint64':
      for (let i = 0; i < t.size; i++) out[i] = Number((d as BigInt64Array | BigUint64Array)[i]!);
      break;
    case 'int4':
      for (let i = 0; i < t.size; i++) out[i] = readInt4(d as Uint8Array, i);
      break;
    default:
      out.set(d as ArrayLike<number>);
  }
  return out;
}

/**
 * Builds a tensor of `dtype` from numbers. Integer targets truncate toward zero and wrap like
 * typed arrays; bool maps non-zero to 1; float16 rounds to nearest even.
 */
export function fromNumbers<D extends DType>(dtype: D, values: ArrayLike<number>, dims: readonly number[]): Tensor<D> {
  const n = values.length;
  const out = allocData(dtype, n);
  switch (dtype) {
    case 'float16':
      for (let i = 0; i < n; i++) (out as Uint16Array)[i] = float32ToFloat16(values[i]!);
      break;
    case 'bfloat16':
      for (let i = 0; i < n; i++) (out as Uint16Array)[i] = float32ToBfloat16(values[i]!);
      break;
    case 'int64': case 'uint64':
      for (let i = 0; i < n; i++) {
        const v = values[i]!;
        (out as BigInt64Array | BigUint64Array)[i] = Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
      }
      break;
    case 'int4':
      for (let i = 0; i < n; i++) writeInt4(out as Uint8Array, i, Math.trunc(values[i]!));
      break;
    case 'bool':
      for (let i = 0; i < n; i++) (out as Uint8Array)[i] = values[i] ? 1 : 0;
      break;
    default:
      (out as Float32Array).set(values);
  }
  return new Tensor(dtype, out, dims);
}

/** Concrete dims read from a 1-D integer tensor (shape inputs such as Reshape's). */
export function toIntList(t: Tensor): number[] {
  return Array.from(toNumbers(t));
}

export function scalarOf(t: Tensor): number {
  if (t.size < 1) throw new Error('expected a scalar, got an empty tensor');
  return toNumbers(t)[0]!;
}
