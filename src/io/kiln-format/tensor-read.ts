// Tensor table entries for the reader. Dense data, quant arrays and compressed sparse arrays are
// typed-array views over the file's buffer (zero-copy); a sparse tensor's dense `data` is
// expanded into fresh memory, since the file holds only its compressed form.
import { clusterToDense, type ClusterLayout } from '../../tensor/clustered.js';
import { byteLengthOf, elementCapacity, isPackedDType, viewData, type DType, type TensorData } from '../../tensor/dtype.js';
import { validateQuantParams, type QuantParams } from '../../tensor/quant.js';
import { validateDims } from '../../tensor/shape.js';
import { bsrFromDense, csrFromDense, nmFromDense, sparseToDense, type SparseLayout } from '../../tensor/sparse.js';
import { Tensor } from '../../tensor/tensor.js';
import { DATA_ALIGN, type TensorJson } from './header.js';
import { asDType, asInt, asInts, asObject, asString, optional, show, type Json } from './json-check.js';

/** The input bytes (aligned so views of any dtype are legal) and where the data section starts. */
export interface FileView {
  bytes: Uint8Array;
  dataStart: number;
  /** Every non-empty array placed so far, [start, end) with its header path, for the overlap check. */
  claimed?: [number, number, string][];
}

/**
 * Refuses arrays that share bytes. The writer never overlaps them, and since tensors are views
 * into the file, an overlap would make a write through one tensor change another.
 */
export function checkNoOverlap(file: FileView): void {
  const ranges = [...(file.claimed ?? [])].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    const [prev, cur] = [ranges[i - 1]!, ranges[i]!];
    if (cur[0] < prev[1]) {
      throw new Error(`kiln: ${cur[2]} bytes [${cur[0]}, ${cur[1]}) overlap ${prev[2]} bytes [${prev[0]}, ${prev[1]})`);
    }
  }
}

export interface TableEntry {
  name: string;
  role: TensorJson['role'];
  tensor: Tensor;
}

export function decodeTensor(v: unknown, where: string, file: FileView): TableEntry {
  const o = asObject(v, where);
  const name = asString(o.name, `${where}.name`);
  const role = o.role;
  if (role !== 'initializer' && role !== 'attribute') {
    throw new Error(`kiln header: ${where}.role: expected 'initializer' or 'attribute', got ${show(role)}`);
  }
  const dtype = asDType(o.dtype, `${where}.dtype`);
  const dims = asInts(o.dims, `${where}.dims`);
  const label = `kiln: tensor ${where} '${name}'`;
  const tensor = withContext(label, () => {
    const count = validateDims(dims, label);
    let t: Tensor;
    if (o.clustered !== undefined) {
      if (o.data !== undefined || o.sparse !== undefined) throw new Error(`${where} has a clustered form and also dense data or a sparse layout`);
      if (o.quant !== undefined) throw new Error(`${where} is both clustered and quantized`);
      if (dtype !== 'float32') throw new Error(`${where}: a clustered tensor must be float32, got ${dtype}`);
      return decodeClustered(asObject(o.clustered, `${where}.clustered`), `${where}.clustered`, dims, count, file);
    }
    if (o.sparse !== undefined) {
      if (o.data !== undefined) throw new Error(`${where} has both dense data and a sparse layout`);
      const layout = decodeSparse(asObject(o.sparse, `${where}.sparse`), `${where}.sparse`, dtype, dims, file);
      t = sparseToDense(layout);
      t.sparse = layout;
    } else {
      const data = blob(o.data, `${where}.data`, file, dtype, count);
      t = new Tensor(dtype, data, dims);
    }
    const quant = optional(o, 'quant', where, asObject);
    if (quant) t.quant = decodeQuant(quant, `${where}.quant`, dims, file);
    return t;
  });
  return { name, role, tensor };
}

/** Runs `f`, prefixing any Error it throws with `label`. */
function withContext<T>(label: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error && !e.message.startsWith('kiln')) throw new Error(`${label}: ${e.message}`);
    throw e;
  }
}

/**
 * A view of one array after checking its place in the file. With `count` the byte length must
 * match it exactly; without, the element count follows from the byte length.
 */
function blob(v: unknown, where: string, file: FileView, dtype: DType, count?: number): TensorData {
  const o = asObject(v, where);
  const offset = asInt(o.offset, `${where}.offset`);
  const byteLength = asInt(o.byteLength, `${where}.byteLength`);
  if (offset % DATA_ALIGN !== 0) throw new Error(`kiln: ${where}: offset ${offset} is not ${DATA_ALIGN}-byte aligned`);
  if (offset < file.dataStart || offset + byteLength > file.bytes.length) {
    throw new Error(`kiln: ${where}: bytes [${offset}, ${offset + byteLength}) lie outside the data section [${file.dataStart}, ${file.bytes.length})`);
  }
  if (byteLength > 0) file.claimed?.push([offset, offset + byteLength, where]);
  const unit = byteLengthOf(dtype, 1); // packed dtypes (int4, int2, ...): one byte holds several elements
  let n = count;
  if (n === undefined) {
    if (byteLength % unit !== 0) throw new Error(`kiln: ${where}: ${byteLength} bytes is not a whole number of ${dtype} elements`);
    n = isPackedDType(dtype) ? elementCapacity(dtype, byteLength) : byteLength / unit;
  } else if (byteLength !== byteLengthOf(dtype, n)) {
    throw new Error(`kiln: ${where}: ${byteLength} bytes, but ${n} ${dtype} elements need ${byteLengthOf(dtype, n)}`);
  }
  return viewData(dtype, file.bytes.buffer, file.bytes.byteOffset + offset, n);
}

function decodeQuant(o: Json, where: string, dims: readonly number[], file: FileView): QuantParams {
  const q: QuantParams = {
    scale: blob(o.scale, `${where}.scale`, file, 'float32') as Float32Array,
    zeroPoint: blob(o.zeroPoint, `${where}.zeroPoint`, file, 'int32') as Int32Array,
  };
  const axis = optional(o, 'axis', where, asInt);
  if (axis !== undefined) q.axis = axis;
  const blockSize = optional(o, 'blockSize', where, (x, w) => asInt(x, w, 1));
  if (blockSize !== undefined) q.blockSize = blockSize;
  validateQuantParams(q, dims);
  return q;
}

function decodeSparse(o: Json, where: string, dtype: DType, dims: number[], file: FileView): SparseLayout {
  const b = (key: string, d: DType) => blob(o[key], `${where}.${key}`, file, d);
  switch (o.kind) {
    case 'csr':
      return { kind: 'csr', dtype, dims, rowPtr: b('rowPtr', 'int32') as Int32Array, colIdx: b('colIdx', 'int32') as Int32Array, values: b('values', dtype) };
    case 'bsr': {
      const blockDims = asInts(o.blockDims, `${where}.blockDims`, 1);
      if (blockDims.length !== 2) throw new Error(`kiln header: ${where}.blockDims: expected 2 entries, got ${blockDims.length}`);
      return {
        kind: 'bsr', dtype, dims, blockDims: [blockDims[0]!, blockDims[1]!],
        blockPtr: b('blockPtr', 'int32') as Int32Array, blockCol: b('blockCol', 'int32') as Int32Array, values: b('values', dtype),
      };
    }
    case 'nm':
      return {
        kind: 'nm', dtype, dims, n: asInt(o.n, `${where}.n`), m: asInt(o.m, `${where}.m`), axis: asInt(o.axis, `${where}.axis`),
        values: b('values', dtype), indices: b('indices', 'uint8') as Uint8Array,
      };
    default:
      throw new Error(`kiln header: ${where}.kind: unknown sparse layout ${show(o.kind)}`);
  }
}

/** A clustered tensor decoded to dense float32 at load (so every backend's dense kernels run it). */
function decodeClustered(o: Json, where: string, dims: number[], count: number, file: FileView): Tensor {
  const axis = optional(o, 'axis', where, asInt);
  const nnz = optional(o, 'nnz', where, asInt);
  const pos = optional(o, 'positions', where, asObject);
  if ((nnz === undefined) !== (pos === undefined)) throw new Error(`kiln header: ${where}: nnz and positions come together`);
  if (nnz !== undefined && nnz > count) throw new Error(`kiln header: ${where}.nnz: ${nnz} nonzeros in a tensor of ${count} elements`);
  const layout: ClusterLayout = {
    dtype: 'float32', dims, k: asInt(o.k, `${where}.k`, 1), bits: asInt(o.bits, `${where}.bits`, 1),
    ...(axis !== undefined ? { axis } : {}),
    codebook: blob(o.codebook, `${where}.codebook`, file, 'float32') as Float32Array,
    indices: blob(o.indices, `${where}.indices`, file, 'uint8') as Uint8Array,
    ...(nnz !== undefined && pos
      ? {
          nnz,
          positions: {
            bits: asInt(pos.bits, `${where}.positions.bits`, 1), count: asInt(pos.count, `${where}.positions.count`),
            codes: blob(pos.codes, `${where}.positions.codes`, file, 'uint8') as Uint8Array,
          },
        }
      : {}),
  };
  const t = clusterToDense(layout); // validates every length and index
  t.clustered = layout;
  const hint = optional(o, 'sparse', where, asObject);
  if (hint) t.sparse = rebuildSparse(hint, `${where}.sparse`, t);
  return t;
}

function rebuildSparse(o: Json, where: string, t: Tensor): SparseLayout {
  switch (o.kind) {
    case 'csr': return csrFromDense(t);
    case 'bsr': {
      const blockDims = asInts(o.blockDims, `${where}.blockDims`, 1);
      if (blockDims.length !== 2) throw new Error(`kiln header: ${where}.blockDims: expected 2 entries, got ${blockDims.length}`);
      return bsrFromDense(t, [blockDims[0]!, blockDims[1]!]);
    }
    case 'nm': return nmFromDense(t, asInt(o.n, `${where}.n`), asInt(o.m, `${where}.m`), asInt(o.axis, `${where}.axis`));
    default: throw new Error(`kiln header: ${where}.kind: unknown sparse layout ${show(o.kind)}`);
  }
}
