/**
 * Element types Kiln stores. int4 packs two values per byte (low nibble first). float64 and the
 * 16/32/64-bit integers beyond int32/int64 exist mainly so ONNX models and tests that use them
 * import and Cast exactly; most kernels compute in float64 anyway.
 *
 * The low-precision ONNX types are storage formats (Cast, Quantize/DequantizeLinear and the ops
 * that only move elements): float8 variants hold one bit pattern per byte; uint4 and float4e2m1
 * pack two per byte like int4, int2 and uint2 four per byte, lowest bits first (onnx's layout).
 */
export type DType =
  | 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'int8' | 'uint8' | 'int4' | 'bool'
  | 'int16' | 'uint16' | 'uint32' | 'uint64' | 'bfloat16'
  | 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float8e8m0'
  | 'uint4' | 'float4e2m1' | 'int2' | 'uint2';

export const DTYPES: readonly DType[] = [
  'float32', 'float16', 'float64', 'int32', 'int64', 'int8', 'uint8', 'int4', 'bool', 'int16', 'uint16', 'uint32', 'uint64', 'bfloat16',
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0', 'uint4', 'float4e2m1', 'int2', 'uint2',
];

/** The float8 formats: one bit pattern per byte in a Uint8Array. */
export type Float8DType = 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float8e8m0';
/** The sub-byte formats, packed lowest bits first into a Uint8Array. */
export type PackedDType = 'int4' | 'uint4' | 'float4e2m1' | 'int2' | 'uint2';

export function isFloat8DType(d: DType): d is Float8DType {
  return d === 'float8e4m3fn' || d === 'float8e4m3fnuz' || d === 'float8e5m2' || d === 'float8e5m2fnuz' || d === 'float8e8m0';
}

export function isPackedDType(d: DType): d is PackedDType {
  return d === 'int4' || d === 'uint4' || d === 'float4e2m1' || d === 'int2' || d === 'uint2';
}

/** Bits per element of a packed dtype (4 or 2), or 0 for whole-byte dtypes. */
export function packedBits(d: DType): 0 | 2 | 4 {
  return d === 'int2' || d === 'uint2' ? 2 : isPackedDType(d) ? 4 : 0;
}

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
  float8e4m3fn: Uint8Array;
  float8e4m3fnuz: Uint8Array;
  float8e5m2: Uint8Array;
  float8e5m2fnuz: Uint8Array;
  float8e8m0: Uint8Array;
  uint4: Uint8Array;
  float4e2m1: Uint8Array;
  int2: Uint8Array;
  uint2: Uint8Array;
}
export type TensorData = DataTypeMap[DType];

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** Floating-point dtypes, the low-precision storage formats (float8, float4e2m1) included. */
export function isFloatDType(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'float64' || d === 'bfloat16' || isFloat8DType(d) || d === 'float4e2m1';
}

export function isIntegerDType(d: DType): boolean {
  return d === 'int32' || d === 'int64' || d === 'int8' || d === 'uint8' || d === 'int4'
    || d === 'int16' || d === 'uint16' || d === 'uint32' || d === 'uint64' || d === 'uint4' || d === 'int2' || d === 'uint2';
}

/** Bytes needed to store `count` elements (packed dtypes round up to whole bytes). */
export function byteLengthOf(dtype: DType, count: number): number {
  switch (dtype) {
    case 'float32': case 'int32': case 'uint32': return count * 4;
    case 'int64': case 'uint64': case 'float64': return count * 8;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return count * 2;
    case 'int4': case 'uint4': case 'float4e2m1': return Math.ceil(count / 2);
    case 'int2': case 'uint2': return Math.ceil(count / 4);
    default: return count;
  }
}

/** Bits per element (bool counts as the byte it occupies). */
export function bitWidthOf(dtype: DType): number {
  const bits = packedBits(dtype);
  return bits !== 0 ? bits : byteLengthOf(dtype, 1) * 8;
}

/** Typed-array length needed to hold `count` elements. */
export function storageLength(dtype: DType, count: number): number {
  const bits = packedBits(dtype);
  return bits === 0 ? count : Math.ceil((count * bits) / 8);
}

/** Element count a typed array of `length` entries holds when no dims say otherwise. */
export function elementCapacity(dtype: DType, length: number): number {
  const bits = packedBits(dtype);
  return bits === 0 ? length : (length * 8) / bits;
}

/**
 * Most bytes one tensor's storage may take. Element counts are bounded elsewhere (MAX_ELEMENTS);
 * this bounds bytes, since sizes read from a file or computed from values (a Range of 7e8 int32,
 * a ConstantOfShape of 2^31 - 1 elements) would otherwise reserve gigabytes that no WebAssembly
 * memory can hold and that a browser tab may not have: such a request is refused with an Error.
 */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

export function allocData<D extends DType>(dtype: D, count: number): DataTypeMap[D] {
  const n = storageLength(dtype, count);
  const bytes = n * (BYTES_PER_STORAGE[dtype] ?? 1);
  if (bytes > MAX_TENSOR_BYTES) {
    throw new Error(`a ${dtype} tensor of ${count} elements needs ${bytes} bytes, more than the ${MAX_TENSOR_BYTES} Kiln allocates for one tensor`);
  }
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

/** Bytes per storage entry (packed sub-byte types store bytes). */
const BYTES_PER_STORAGE: Partial<Record<DType, number>> = {
  float32: 4, float16: 2, bfloat16: 2, int32: 4, int64: 8, float64: 8, int16: 2, uint16: 2, uint32: 4, uint64: 8,
};

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

/**
 * ONNX TensorProto.DataType code of each dtype: Cast's `to`, QuantizeLinear's `output_dtype`
 * and the importer all name dtypes this way.
 */
export const ONNX_CODE_OF_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11,
  uint32: 12, uint64: 13, bfloat16: 16, float8e4m3fn: 17, float8e4m3fnuz: 18, float8e5m2: 19, float8e5m2fnuz: 20,
  uint4: 21, int4: 22, float4e2m1: 23, float8e8m0: 24, uint2: 25, int2: 26,
};

const DTYPE_OF_ONNX_CODE = new Map<number, DType>(DTYPES.map((d) => [ONNX_CODE_OF_DTYPE[d], d]));

/** The dtype of an ONNX TensorProto.DataType code, or undefined for codes Kiln does not store (string, complex, float6). */
export function dtypeOfOnnxCode(code: number): DType | undefined {
  return DTYPE_OF_ONNX_CODE.get(code);
}
