import { allocData, packedBits, type DType, type PackedDType } from './dtype.js';
import { bfloat16ToFloat32, float32ToBfloat16 } from './bfloat16.js';
import { float16Table, float32ToFloat16 } from './float16.js';
import { decodeE8M0, encodeE8M0, encodeMiniFloat, isMiniFloatDType, miniFloatTable } from './float8.js';
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
 * The raw bit pattern of element i of a packed array of `bits`-wide elements (4 or 2), lowest
 * bits first. Copying patterns keeps every packed dtype exact without knowing what it encodes.
 */
export function readBits(packed: Uint8Array, i: number, bits: number): number {
  const per = 8 / bits;
  return (packed[(i / per) | 0]! >> ((i % per) * bits)) & ((1 << bits) - 1);
}

export function writeBits(packed: Uint8Array, i: number, bits: number, code: number): void {
  const per = 8 / bits;
  const b = (i / per) | 0;
  const shift = (i % per) * bits;
  const mask = ((1 << bits) - 1) << shift;
  packed[b] = (packed[b]! & ~mask) | ((code << shift) & mask);
}

/** The value of a packed element's bit pattern. */
function packedValue(dtype: PackedDType, code: number): number {
  switch (dtype) {
    case 'int4': return code >= 8 ? code - 16 : code;
    case 'int2': return code >= 2 ? code - 4 : code;
    case 'float4e2m1': return FLOAT4_VALUES[code]!;
    default: return code; // uint4, uint2
  }
}

const FLOAT4_VALUES = miniFloatTable('float4e2m1');

/**
 * The bit pattern that stores v in a packed dtype: integers truncate toward zero and wrap (NaN and
 * infinities give 0), as Kiln's other integer storage does; float4e2m1 rounds to nearest even and
 * saturates.
 */
function packedCode(dtype: PackedDType, v: number): number {
  if (dtype === 'float4e2m1') return encodeMiniFloat('float4e2m1', v);
  return Number.isFinite(v) ? Math.trunc(v) & ((1 << packedBits(dtype)) - 1) : 0;
}

/**
 * All elements as float64 numbers: the reference backend computes in this space.
 * int64 values beyond 2^53 lose precision here; the reference kernels accept that.
 */
export function toNumbers(t: Tensor): Float64Array {
  const out = new Float64Array(t.size);
  const d = t.data;
  switch (t.type) {
    case 'float16': {
      // One table load per element (float16 models' weights are tens of millions of values).
      const table = float16Table();
      for (let i = 0; i < t.size; i++) out[i] = table[(d as Uint16Array)[i]!]!;
      break;
    }
    case 'bfloat16':
      for (let i = 0; i < t.size; i++) out[i] = bfloat16ToFloat32((d as Uint16Array)[i]!);
      break;
    case 'int64': case 'uint64':
      for (let i = 0; i < t.size; i++) out[i] = Number((d as BigInt64Array | BigUint64Array)[i]!);
      break;
    case 'int4': case 'uint4': case 'float4e2m1': case 'int2': case 'uint2': {
      const bits = packedBits(t.type);
      for (let i = 0; i < t.size; i++) out[i] = packedValue(t.type, readBits(d as Uint8Array, i, bits));
      break;
    }
    case 'float8e8m0':
      for (let i = 0; i < t.size; i++) out[i] = decodeE8M0((d as Uint8Array)[i]!);
      break;
    default:
      if (isMiniFloatDType(t.type)) {
        const table = miniFloatTable(t.type);
        for (let i = 0; i < t.size; i++) out[i] = table[(d as Uint8Array)[i]!]!;
      } else {
        out.set(d as ArrayLike<number>);
      }
  }
  return out;
}

/**
 * Builds a tensor of `dtype` from numbers. Integer targets truncate toward zero and wrap like
 * typed arrays; bool maps non-zero to 1; float16 rounds to nearest even; float8 and float4 round
 * to nearest even and saturate (Cast's default); float8e8m0 rounds up (Cast's default).
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
    case 'int4': case 'uint4': case 'float4e2m1': case 'int2': case 'uint2': {
      const bits = packedBits(dtype);
      for (let i = 0; i < n; i++) writeBits(out as Uint8Array, i, bits, packedCode(dtype, values[i]!));
      break;
    }
    case 'bool':
      for (let i = 0; i < n; i++) (out as Uint8Array)[i] = values[i] ? 1 : 0;
      break;
    case 'float8e8m0':
      for (let i = 0; i < n; i++) (out as Uint8Array)[i] = encodeE8M0(values[i]!);
      break;
    default:
      if (isMiniFloatDType(dtype)) {
        for (let i = 0; i < n; i++) (out as Uint8Array)[i] = encodeMiniFloat(dtype, values[i]!);
      } else {
        (out as Float32Array).set(values);
      }
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
