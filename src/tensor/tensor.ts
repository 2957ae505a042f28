import { allocData, elementCapacity, isDType, isPackedDType, storageLength, type DataTypeMap, type DType, type TensorData } from './dtype.js';
import type { QuantParams } from './quant.js';
import { validateQuantParams } from './quant.js';
import { validateDims } from './shape.js';
import type { ClusterLayout } from './clustered.js';
import type { SparseLayout } from './sparse.js';

/**
 * A dense host tensor with contiguous row-major data, shaped like onnxruntime-web's Tensor
 * (`type`, `data`, `dims`) so that switching engines is a change of import.
 */
export class Tensor<D extends DType = DType> {
  readonly type: D;
  readonly data: DataTypeMap[D];
  readonly dims: readonly number[];
  readonly size: number;
  /** Quantization parameters when the integer data stands for real values. */
  quant?: QuantParams;
  /**
   * A compressed copy of `data` (CSR, BSR or N:M) for kernels that skip zeros; `data` stays dense
   * so every other kernel can read it. Set it with attachSparse, which checks the two agree.
   */
  sparse?: SparseLayout;
  /**
   * The codebook-and-indices form of float32 `data` after weight clustering; the .kiln format
   * stores only this. Set it with attachClustered, which checks the two agree.
   */
  clustered?: ClusterLayout;

  constructor(type: D, data: DataTypeMap[D] | readonly number[] | readonly bigint[], dims?: readonly number[]);
  constructor(data: Float32Array, dims?: readonly number[]);
  constructor(
    typeOrData: D | Float32Array,
    dataOrDims?: DataTypeMap[D] | readonly number[] | readonly bigint[],
    maybeDims?: readonly number[],
  ) {
    let type: D;
    let data: DataTypeMap[D] | readonly number[] | readonly bigint[];
    let dims: readonly number[] | undefined;
    if (typeof typeOrData === 'string') {
      type = typeOrData;
      data = dataOrDims as DataTypeMap[D] | readonly number[];
      dims = maybeDims;
    } else {
      type = 'float32' as D;
      data = typeOrData as DataTypeMap[D];
      dims = dataOrDims as readonly number[] | undefined;
    }
    if (!isDType(type)) throw new TypeError(`Tensor: unsupported type '${String(type)}'`);
    if (data === undefined || data === null) throw new TypeError('Tensor: data is required');
    const typed = Array.isArray(data) ? fromArray(type, data) : (data as DataTypeMap[D]);
    const resolvedDims = dims ? [...dims] : [elementCapacity(type, typed.length)];
    const size = validateDims(resolvedDims, `Tensor(${type})`);
    checkBacking(type, typed, size);
    this.type = type;
    this.data = typed;
    this.dims = Object.freeze(resolvedDims);
    this.size = size;
  }

  static zeros<D extends DType>(type: D, dims: readonly number[]): Tensor<D> {
    return new Tensor(type, allocData(type, validateDims(dims)), dims);
  }

  withQuant(quant: QuantParams): this {
    validateQuantParams(quant, this.dims);
    this.quant = quant;
    return this;
  }

  reshape(dims: readonly number[]): Tensor<D> {
    const t = new Tensor(this.type, this.data, dims);
    if (this.quant) t.quant = this.quant;
    return t;
  }
}

function fromArray<D extends DType>(type: D, values: readonly (number | bigint)[]): DataTypeMap[D] {
  if (isPackedDType(type)) throw new TypeError(`Tensor: ${type} data must be a packed Uint8Array`);
  const out = allocData(type, values.length);
  if (type === 'int64' || type === 'uint64') {
    const o = out as BigInt64Array | BigUint64Array;
    for (let i = 0; i < values.length; i++) o[i] = BigInt(values[i]!);
  } else {
    const o = out as Exclude<TensorData, BigInt64Array | BigUint64Array>;
    for (let i = 0; i < values.length; i++) o[i] = Number(values[i]!);
  }
  return out;
}

const CTORS: Record<DType, Function> = {
  float32: Float32Array, float16: Uint16Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array,
  int8: Int8Array, uint8: Uint8Array, int4: Uint8Array, bool: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array, bfloat16: Uint16Array,
  float8e4m3fn: Uint8Array, float8e4m3fnuz: Uint8Array, float8e5m2: Uint8Array, float8e5m2fnuz: Uint8Array, float8e8m0: Uint8Array,
  uint4: Uint8Array, float4e2m1: Uint8Array, int2: Uint8Array, uint2: Uint8Array,
};

function checkBacking(type: DType, data: TensorData, size: number): void {
  if (!(data instanceof CTORS[type])) {
    throw new TypeError(`Tensor: ${type} data must be a ${CTORS[type].name}, got ${data?.constructor?.name ?? typeof data}`);
  }
  const need = storageLength(type, size);
  if (data.length !== need) {
    throw new RangeError(`Tensor: ${type} data has ${data.length} elements but dims need ${need}`);
  }
}
