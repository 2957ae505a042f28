// Bit-exact element access shared by the sparse layouts. Floats are handled as integer words so
// that copying never passes a value through a JS number: -0 stays -0 and NaN payloads (even
// signalling ones, which a float32 -> float64 round trip may quiet) survive unchanged.
import { allocData, byteLengthOf, isDType, packedBits, storageLength, type DType, type TensorData } from './dtype.js';
import { readBits, writeBits } from './convert.js';

/** Elements of one dtype as unsigned words (two per int64 element) or as packed bit fields (int4, int2, ...). */
export class RawElements {
  private readonly words: Uint8Array | Uint16Array | Uint32Array;
  /** Words per element; 0 marks packed elements of `bits` bits. */
  private readonly per: number;
  private readonly bits: number;

  constructor(readonly dtype: DType, data: TensorData) {
    const { buffer, byteOffset, byteLength } = data;
    switch (dtype) {
      case 'float32': case 'int32': case 'uint32': case 'int64': case 'uint64': case 'float64':
        this.words = new Uint32Array(buffer, byteOffset, byteLength / 4);
        this.per = byteLengthOf(dtype, 1) / 4;
        break;
      case 'float16': case 'bfloat16': case 'int16': case 'uint16':
        this.words = new Uint16Array(buffer, byteOffset, byteLength / 2);
        this.per = 1;
        break;
      default:
        this.words = new Uint8Array(buffer, byteOffset, byteLength);
        this.per = packedBits(dtype) === 0 ? 1 : 0;
    }
    this.bits = packedBits(dtype);
  }

  /** True when every bit of element i is zero (so -0.0 counts as a non-zero). */
  isZero(i: number): boolean {
    if (this.per === 0) return readBits(this.words as Uint8Array, i, this.bits) === 0;
    for (let k = 0; k < this.per; k++) if (this.words[i * this.per + k] !== 0) return false;
    return true;
  }

  /** Copies element i of this array to element j of `dst` (same dtype). */
  copyTo(i: number, dst: RawElements, j: number): void {
    if (this.per === 0) {
      writeBits(dst.words as Uint8Array, j, this.bits, readBits(this.words as Uint8Array, i, this.bits));
      return;
    }
    for (let k = 0; k < this.per; k++) dst.words[j * this.per + k] = this.words[i * this.per + k]!;
  }
}

/** Bitwise equality of the first `count` elements (packed dtypes ignore unused final bits). */
export function rawEqual(dtype: DType, a: TensorData, b: TensorData, count: number): boolean {
  const bits = packedBits(dtype);
  if (bits !== 0) {
    for (let i = 0; i < count; i++) if (readBits(a as Uint8Array, i, bits) !== readBits(b as Uint8Array, i, bits)) return false;
    return true;
  }
  const bytesA = new Uint8Array(a.buffer, a.byteOffset, byteLengthOf(dtype, count));
  const bytesB = new Uint8Array(b.buffer, b.byteOffset, byteLengthOf(dtype, count));
  for (let i = 0; i < bytesA.length; i++) if (bytesA[i] !== bytesB[i]) return false;
  return true;
}

/** Checks that `values` is the typed array of `dtype` holding exactly `count` elements. */
export function checkValues(what: string, dtype: DType, values: TensorData, count: number): void {
  if (!isDType(dtype)) throw new Error(`${what}: unknown dtype '${String(dtype)}'`);
  const ctor = allocData(dtype, 0).constructor;
  if (!(values instanceof ctor)) {
    throw new Error(`${what}: ${dtype} values must be a ${ctor.name}, got ${describe(values)}`);
  }
  const need = storageLength(dtype, count);
  if (values.length !== need) throw new Error(`${what}: values hold ${values.length} entries, expected ${need}`);
}

/**
 * Checks a compressed pointer/index pair (CSR rows or BSR block rows): `ptr` has rows + 1
 * monotonic entries from 0 to idx.length, and each row's indices are strictly increasing and
 * below `cols`. `names` are [ptr, idx, row, column] as the caller calls them, for messages.
 */
export function checkCompressed(
  what: string, names: readonly [string, string, string, string],
  ptr: Int32Array, idx: Int32Array, rows: number, cols: number,
): void {
  const [ptrName, idxName, rowName, colName] = names;
  checkInt32(what, ptrName, ptr, rows + 1);
  if (!(idx instanceof Int32Array)) checkInt32(what, idxName, idx, 0);
  if (ptr[0] !== 0) throw new Error(`${what}: ${ptrName}[0] must be 0, got ${ptr[0]}`);
  for (let r = 0; r < rows; r++) {
    if (ptr[r + 1]! < ptr[r]!) throw new Error(`${what}: ${ptrName} is not monotonic at ${rowName} ${r} (${ptr[r]} > ${ptr[r + 1]})`);
  }
  if (ptr[rows] !== idx.length) {
    throw new Error(`${what}: ${ptrName}[${rows}] is ${ptr[rows]} but ${idxName} holds ${idx.length} entries`);
  }
  for (let r = 0; r < rows; r++) {
    let prev = -1;
    for (let k = ptr[r]!; k < ptr[r + 1]!; k++) {
      const c = idx[k]!;
      if (c < 0 || c >= cols) throw new Error(`${what}: ${colName} index ${c} at ${idxName}[${k}] (${rowName} ${r}) is out of range [0, ${cols})`);
      if (c <= prev) throw new Error(`${what}: ${colName} indices of ${rowName} ${r} must be strictly increasing (${prev} then ${c})`);
      prev = c;
    }
  }
}

export function checkInt32(what: string, name: string, a: unknown, length: number): asserts a is Int32Array {
  if (!(a instanceof Int32Array)) throw new Error(`${what}: ${name} must be an Int32Array, got ${describe(a)}`);
  if (a.length !== length) throw new Error(`${what}: ${name} has length ${a.length}, expected ${length}`);
}

/**
 * CSR and BSR see a tensor as a matrix: dims[0] rows by the product of the remaining dims, so a
 * conv weight [O, I, kh, kw] is compressed per output channel without an explicit reshape.
 */
export function matrixDims(dims: readonly number[], what: string): [number, number] {
  if (dims.length < 2) throw new Error(`${what}: needs a tensor of rank >= 2, got dims [${dims.join(', ')}]`);
  let cols = 1;
  for (let i = 1; i < dims.length; i++) cols *= dims[i]!;
  return [dims[0]!, cols];
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  return (x as { constructor?: { name?: string } }).constructor?.name ?? typeof x;
}
