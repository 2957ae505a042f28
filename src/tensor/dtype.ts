/**
 * Element types Kiln stores. int4 packs two values per byte (low nibble first). float64 and the
 * 16/32/64-bit integers beyond int32/int64 exist mainly so ONNX models and tests that use them
 * import and Cast exactly; most kernels compute in float64 anyway.
 */
export type DType =
  | 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'int8' | 'uint8' | 'int4' | 'bool'
  | 'int16' | 'uint16' | 'uint32' | 'uint64' | 'bfloat16';

export const DTYPES: readonly DType[] = [
  'float32', 'float16', 'float64', 'int32', 'int64', 'int8', 'uint8', 'int4', 'bool', 'int16', 'uint16', 'uint32', 'uint64', 'bfloat16',
];

/** The typed array that backs each dtype. int64 uses BigInt64Array, as onnxruntime-web does. */
export interface DataTypeMap {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int32: Int32Array;
  int64: BigInt64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int4: Uint8Array;
  bool: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bfloat16: Uint16Array;
}
export type TensorData = DataTypeMap[DType];

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function isFloatDType(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'float64' || d === 'bfloat16';
}

export function isIntegerDType(d: DType): boolean {
  return d === 'int32' || d === 'int64' || d === 'int8' || d === 'uint8' || d === 'int4'
    || d === 'int16' || d === 'uint16' || d === 'uint32' || d === 'uint64';
}

/** Bytes needed to store `count` elements (int4 rounds up to whole bytes). */
export function byteLengthOf(dtype: DType, count: number): number {
  switch (dtype) {
    case 'float32': case 'int32': case 'uint32': return count * 4;
    case 'int64': case 'uint64': case 'float64': return count * 8;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return count * 2;
    case 'int4': return Math.ceil(count / 2);
    default: return count;
  }
}

/** Typed-array length needed to hold `count` elements. */
export function storageLength(dtype: DType, count: number): number {
  return dtype === 'int4' ? Math.ceil(count / 2) : count;
}

export function allocData<D extends DType>(dtype: D, count: number): DataTypeMap[D] {
  const n = storageLength(dtype, count);
  switch (dtype) {
    case 'float32': return new Float32Array(n) as DataTypeMap[D];
    case 'float16': case 'bfloat16': return new Uint16Array(n) as DataTypeMap[D];
    case 'int32': return new Int32Array(n) as DataTypeMap[D];
    case 'int64': return new BigInt64Array(n) as DataTypeMap[D];
    case 'int8': return new Int8Array(n) as DataTypeMap[D];
    case 'float64': return new Float64Array(n) as DataTypeMap[D];
    case 'int16': return new Int16Array(n) as DataTypeMap[D];
    case 'uint16': return new Uint16Array(n) as DataTypeMap[D];
    case 'uint32': return new Uint32Array(n) as DataTypeMap[D];
    case 'uint64': return new BigUint64Array(n) as DataTypeMap[D];
    default: return new Uint8Array(n) as DataTypeMap[D];
  }
}

/** A typed-array view of `byteLength` bytes at `byteOffset` (no copy). Offset must be aligned. */
export function viewData(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, count: number): TensorData {
  const n = storageLength(dtype, count);
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, n);
    case 'float16': case 'bfloat16': return new Uint16Array(buffer, byteOffset, n);
    case 'int32': return new Int32Array(buffer, byteOffset, n);
    case 'int64': return new BigInt64Array(buffer, byteOffset, n);
    case 'int8': return new Int8Array(buffer, byteOffset, n);
    case 'float64': return new Float64Array(buffer, byteOffset, n);
    case 'int16': return new Int16Array(buffer, byteOffset, n);
    case 'uint16': return new Uint16Array(buffer, byteOffset, n);
    case 'uint32': return new Uint32Array(buffer, byteOffset, n);
    case 'uint64': return new BigUint64Array(buffer, byteOffset, n);
    default: return new Uint8Array(buffer, byteOffset, n);
  }
}

/** Natural alignment of the backing typed array, for zero-copy views. */
export function alignmentOf(dtype: DType): number {
  switch (dtype) {
    case 'float32': case 'int32': case 'uint32': return 4;
    case 'int64': case 'uint64': case 'float64': return 8;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return 2;
    default: return 1;
  }
}
