// TensorProto -> Kiln Tensor, with every length checked against the declared dims.
import type Long from 'long';
import { allocData, byteLengthOf, dtypeOfOnnxCode, ONNX_CODE_OF_DTYPE, storageLength, type DType } from '../../tensor/dtype.js';
import { validateDims } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { ONNX_DTYPE_NAMES, TensorProtoType } from './schema.js';

export type LongLike = number | Long | { low: number; high: number; toNumber?: () => number };

/** Protobuf int64 -> number, refusing values a double cannot hold exactly. */
export function toSafeNumber(v: LongLike | null | undefined, what: string): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : typeof v.toNumber === 'function' ? v.toNumber() : v.high * 2 ** 32 + (v.low >>> 0);
  if (!Number.isSafeInteger(n)) throw new Error(`${what}: integer ${String(n)} is out of the safe range`);
  return n;
}

/**
 * Protobuf int64 attribute -> number. Exporters write INT64_MAX/MIN as "to the end" (Slice ends,
 * for one); those saturate to the largest safe integers, which every op clamps the same way.
 */
export function toSaturatedNumber(v: LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : typeof v.toNumber === 'function' ? v.toNumber() : v.high * 2 ** 32 + (v.low >>> 0);
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
}

function toBigInt(v: LongLike): bigint {
  if (typeof v === 'number') return BigInt(v);
  return (BigInt(v.high) << 32n) | BigInt(v.low >>> 0);
}

export const ONNX_OF_DTYPE: Record<DType, number> = ONNX_CODE_OF_DTYPE;

export function dtypeFromOnnx(code: number, what: string): DType {
  const d = dtypeOfOnnxCode(code);
  if (!d) throw new Error(`${what}: unsupported data type ${ONNX_DTYPE_NAMES[code] ?? code}`);
  return d;
}

/** The decoded TensorProto fields Kiln reads. */
export interface TensorProtoLike {
  name?: string;
  dims?: LongLike[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: LongLike[];
  doubleData?: number[];
  uint64Data?: LongLike[];
  externalData?: { key?: string; value?: string }[];
  dataLocation?: number;
  segment?: Uint8Array;
}

export function tensorFromProto(p: TensorProtoLike, context = 'tensor'): Tensor {
  const what = `${context} '${p.name ?? ''}'`;
  if ((p.externalData && p.externalData.length > 0) || p.dataLocation === 1) {
    throw new Error(`${what}: external data is not supported; save the model with all tensors embedded`);
  }
  if (p.segment && p.segment.length > 0) throw new Error(`${what}: segmented tensors are not supported`);
  const dtype = dtypeFromOnnx(p.dataType ?? 0, what);
  const dims = (p.dims ?? []).map((d) => toSafeNumber(d, what));
  const count = validateDims(dims, what);
  const data = allocData(dtype, count);
  const raw = p.rawData;
  if (raw && raw.length > 0) {
    const need = byteLengthOf(dtype, count);
    if (raw.length !== need) throw new Error(`${what}: raw_data has ${raw.length} bytes, ${dtype}[${dims.join(', ')}] needs ${need}`);
    // raw_data is little-endian; copying into a fresh buffer also fixes alignment.
    new Uint8Array(data.buffer, data.byteOffset, need).set(raw);
    return new Tensor(dtype, data, dims);
  }
  const typed = typedField(p, dtype);
  const expected = storageLength(dtype, count);
  if (typed.length !== expected) {
    throw new Error(`${what}: has ${typed.length} values, ${dtype}[${dims.join(', ')}] needs ${expected}`);
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    // BigUint64Array stores toBigInt's signed reading of an unsigned Long modulo 2^64, exactly.
    const out = data as BigInt64Array | BigUint64Array;
    (typed as LongLike[]).forEach((v, i) => { out[i] = toBigInt(v); });
  } else {
    const out = data as Exclude<typeof data, BigInt64Array | BigUint64Array>;
    // uint32 arrives in uint64_data as Longs; every other field holds plain numbers.
    (typed as LongLike[]).forEach((v, i) => { out[i] = typeof v === 'number' ? v : toSafeNumber(v, what); });
  }
  return new Tensor(dtype, data, dims);
}

function typedField(p: TensorProtoLike, dtype: DType): LongLike[] | number[] {
  switch (dtype) {
    case 'float32': return p.floatData ?? [];
    case 'int64': return p.int64Data ?? [];
    case 'float64': return p.doubleData ?? [];
    case 'uint32': case 'uint64': return p.uint64Data ?? [];
    // int8, uint8, int16, uint16, bool, float16, bfloat16 and float8 (bit patterns) travel in int32_data,
    // one per value; int4, uint4, float4e2m1 (pairs) and int2, uint2 (quadruples) as packed bytes.
    default: return p.int32Data ?? [];
  }
}

/** Decodes a serialized TensorProto (the .pb files of ONNX tests). */
export function decodeTensorProto(bytes: Uint8Array, context = 'tensor'): Tensor {
  let msg: TensorProtoLike;
  try {
    msg = TensorProtoType.decode(bytes) as unknown as TensorProtoLike;
  } catch (e) {
    throw new Error(`${context}: malformed TensorProto (${(e as Error).message})`);
  }
  return tensorFromProto(msg, context);
}
