// Weight clustering (weight sharing): a float32 tensor whose elements are drawn from a small
// codebook, stored as the codebook plus one bit-packed index per element (ceil(log2 k) bits).
// Like `sparse`, the layout travels next to the dense data: kernels keep reading `data` (decoded
// at load), and the .kiln format stores only the codebook and the indices.
//
// A pruned tensor (Han et al.'s Deep Compression) clusters only its nonzeros: `positions` says
// where they sit, as gap codes between consecutive nonzeros, and every other element is +0.
import { allocData } from './dtype.js';
import { validateDims } from './shape.js';
import { Tensor } from './tensor.js';

/** Where a pruned tensor's nonzeros are: `count` codes of `bits` bits, LSB-first. */
export interface GapCode {
  readonly bits: number;
  readonly count: number;
  /**
   * Code c < 2^bits - 1: the next nonzero is c elements after the previous one's successor.
   * Code 2^bits - 1 (the escape): skip that many elements without placing one, for long gaps.
   */
  readonly codes: Uint8Array;
}

export interface ClusterLayout {
  readonly dtype: 'float32';
  readonly dims: readonly number[];
  /** Codebook entries per group. */
  readonly k: number;
  /** Bits per index: ceil(log2 k), at least 1. */
  readonly bits: number;
  /** One codebook per slice along `axis` (per output channel); absent: one for the tensor. */
  readonly axis?: number;
  /** groups * k entries, group-major. */
  readonly codebook: Float32Array;
  /** Bit-packed (LSB-first) indices: one per element, or one per nonzero with `positions`. */
  readonly indices: Uint8Array;
  /** Number of indices when `positions` is set (the tensor's nonzeros). */
  readonly nnz?: number;
  readonly positions?: GapCode;
}

/** The most codebook entries a layout may hold per group (16-bit indices). */
export const MAX_CLUSTER_K = 1 << 16;

/** Bits needed to index a codebook of k entries (at least 1). */
export function indexBits(k: number): number {
  let b = 1;
  while (1 << b < k) b++;
  return b;
}

/** Packs values of `bits` bits (1..16), LSB-first, into ceil(n * bits / 8) bytes. */
export function packBits(values: ArrayLike<number>, bits: number): Uint8Array {
  checkBitWidth(bits, 'packBits');
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  const limit = 1 << bits;
  let acc = 0;
  let held = 0;
  let o = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= limit) throw new RangeError(`packBits: value ${v} at ${i} does not fit in ${bits} bits`);
    // held < 8 before the add, so acc stays below 2^24.
    acc |= v << held;
    held += bits;
    while (held >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      held -= 8;
    }
  }
  if (held > 0) out[o] = acc & 0xff;
  return out;
}

/** The first `count` values of `bits` bits from `bytes`, which must be exactly ceil(count * bits / 8) long. */
export function unpackBits(bytes: Uint8Array, count: number, bits: number): Uint16Array {
  checkBitWidth(bits, 'unpackBits');
  const need = Math.ceil((count * bits) / 8);
  if (bytes.length !== need) throw new Error(`unpackBits: ${count} values of ${bits} bits need ${need} bytes, got ${bytes.length}`);
  const out = new Uint16Array(count);
  const mask = (1 << bits) - 1;
  let acc = 0;
  let held = 0;
  let p = 0;
  for (let i = 0; i < count; i++) {
    while (held < bits) {
      acc |= bytes[p++]! << held;
      held += 8;
    }
    out[i] = acc & mask;
    acc >>>= bits;
    held -= bits;
  }
  return out;
}

function checkBitWidth(bits: number, what: string): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`${what}: bit width must be 1 to 16, got ${bits}`);
}

/**
 * Gap codes for the sorted element positions of a tensor's nonzeros, with the width (1..16 bits)
 * that makes the stream shortest. Width 1 is a plain bitmap; wider codes pay off as sparsity grows.
 */
export function encodePositions(positions: ArrayLike<number>): GapCode {
  const gaps = new Float64Array(positions.length);
  let next = 0;
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    if (!Number.isInteger(p) || p < next) throw new RangeError(`encodePositions: positions must be strictly increasing integers (${p} at ${i})`);
    gaps[i] = p - next;
    next = p + 1;
  }
  let best = 1;
  let bestBits = Infinity;
  for (let b = 1; b <= 16; b++) {
    const esc = (1 << b) - 1;
    let codes = 0;
    for (const g of gaps) codes += Math.floor(g / esc) + 1;
    if (codes * b < bestBits) {
      bestBits = codes * b;
      best = b;
    }
  }
  const esc = (1 << best) - 1;
  const codes: number[] = [];
  for (const g of gaps) {
    let rest = g;
    while (rest >= esc) {
      codes.push(esc);
      rest -= esc;
    }
    codes.push(rest);
  }
  return { bits: best, count: codes.length, codes: packBits(codes, best) };
}

/** The positions a gap code stands for; every one must lie below `size`, and there must be `nnz`. */
export function decodePositions(g: GapCode, size: number, nnz: number, what = 'clustered tensor'): Int32Array {
  checkBitWidth(g.bits, `${what}: positions`);
  if (!Number.isSafeInteger(g.count) || g.count < 0) throw new Error(`${what}: positions count ${g.count} is not a non-negative integer`);
  if (!(g.codes instanceof Uint8Array)) throw new Error(`${what}: positions codes must be a Uint8Array`);
  const need = Math.ceil((g.count * g.bits) / 8);
  if (g.codes.length !== need) throw new Error(`${what}: positions: ${g.count} codes of ${g.bits} bits need ${need} bytes, got ${g.codes.length}`);
  const codes = unpackBits(g.codes, g.count, g.bits);
  const esc = (1 << g.bits) - 1;
  const out = new Int32Array(nnz);
  let pos = 0;
  let n = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === esc) {
      pos += esc;
      continue;
    }
    const p = pos + c;
    if (p >= size) throw new Error(`${what}: position code ${i} places an element at ${p}, past the tensor's ${size} elements`);
    if (n >= nnz) throw new Error(`${what}: positions place more than the ${nnz} nonzeros the layout declares`);
    out[n++] = p;
    pos = p + 1;
  }
  if (n !== nnz) throw new Error(`${what}: positions place ${n} elements, but the layout declares ${nnz} nonzeros`);
  return out;
}

/** The group (codebook) of element i is floor(i / inner) % groups; inner = elements per slice step along `axis`. */
function groupGeometry(l: ClusterLayout): { groups: number; inner: number } {
  if (l.axis === undefined) return { groups: 1, inner: 1 };
  let inner = 1;
  for (let i = l.axis + 1; i < l.dims.length; i++) inner *= l.dims[i]!;
  return { groups: l.dims[l.axis]!, inner };
}

/** Throws a descriptive Error unless the layout's fields agree with each other and with its dims. */
export function validateCluster(l: ClusterLayout): void {
  const what = 'clustered tensor';
  if (l.dtype !== 'float32') throw new Error(`${what}: dtype must be float32, got ${String(l.dtype)}`);
  const size = validateDims(l.dims, what);
  if (!Number.isInteger(l.k) || l.k < 1 || l.k > MAX_CLUSTER_K) throw new Error(`${what}: k must be 1 to ${MAX_CLUSTER_K}, got ${l.k}`);
  if (l.bits !== indexBits(l.k)) throw new Error(`${what}: ${l.k} codebook entries need ${indexBits(l.k)}-bit indices, the layout says ${l.bits}`);
  if (l.axis !== undefined && (!Number.isInteger(l.axis) || l.axis < 0 || l.axis >= l.dims.length)) {
    throw new Error(`${what}: axis ${l.axis} is out of range for rank ${l.dims.length}`);
  }
  const { groups } = groupGeometry(l);
  if (!(l.codebook instanceof Float32Array)) throw new Error(`${what}: codebook must be a Float32Array`);
  if (l.codebook.length !== groups * l.k) {
    throw new Error(`${what}: codebook holds ${l.codebook.length} entries, expected ${groups} group(s) of ${l.k}`);
  }
  if (!(l.indices instanceof Uint8Array)) throw new Error(`${what}: indices must be a Uint8Array`);
  let count = size;
  if (l.positions !== undefined) {
    if (l.nnz === undefined || !Number.isSafeInteger(l.nnz) || l.nnz < 0 || l.nnz > size) {
      throw new Error(`${what}: nnz ${String(l.nnz)} must be an integer from 0 to the ${size} elements`);
    }
    count = l.nnz;
  } else if (l.nnz !== undefined) {
    throw new Error(`${what}: nnz is set without positions`);
  }
  const need = Math.ceil((count * l.bits) / 8);
  if (l.indices.length !== need) throw new Error(`${what}: ${count} indices of ${l.bits} bits need ${need} bytes, got ${l.indices.length}`);
}

/** The dense tensor the layout stands for, codebook[group][index] at each element (validates first). */
export function clusterToDense(l: ClusterLayout): Tensor<'float32'> {
  validateCluster(l);
  const size = l.dims.reduce((a, b) => a * b, 1);
  // allocData refuses the sizes Kiln never allocates (a pruned layout's file can be tiny).
  const out = allocData('float32', size);
  const { groups, inner } = groupGeometry(l);
  const { k, bits, codebook, indices } = l;
  const bad = (c: number, j: number) => new Error(`clustered tensor: index ${c} at ${j} is past the ${k}-entry codebook`);
  if (!l.positions) {
    // The common case, decoded straight from the bit stream: slices of `inner` elements take
    // their codebook in turn (one slice of all elements for a per-tensor codebook).
    const run = groups === 1 ? size : inner;
    const mask = (1 << bits) - 1;
    let acc = 0;
    let held = 0;
    let p = 0;
    let base = 0;
    // Widths that divide a byte with a full codebook (k = 2^bits, so no index can be out of
    // range) take a loop without the bit accumulator or the range check: the usual k = 16, 256.
    if ((bits === 4 || bits === 8) && k === 1 << bits && (run * bits) % 8 === 0) {
      for (let start = 0, g = 0; start < size; start += run, g = g + 1 === groups ? 0 : g + 1) {
        const cb = codebook.subarray(g * k, g * k + k);
        if (bits === 8) {
          for (let i = start; i < start + run; i++) out[i] = cb[indices[i]!]!;
        } else {
          for (let i = start, q = start >> 1; i < start + run; i += 2, q++) {
            const byte = indices[q]!;
            out[i] = cb[byte & 15]!;
            out[i + 1] = cb[byte >> 4]!;
          }
        }
      }
      return new Tensor('float32', out, l.dims);
    }
    for (let start = 0, g = 0; start < size; start += run, g = g + 1 === groups ? 0 : g + 1) {
      base = g * k;
      for (let i = start; i < start + run; i++) {
        while (held < bits) {
          acc |= indices[p++]! << held;
          held += 8;
        }
        const c = acc & mask;
        acc >>>= bits;
        held -= bits;
        if (c >= k) throw bad(c, i);
        out[i] = codebook[base + c]!;
      }
    }
    return new Tensor('float32', out, l.dims);
  }
  const count = l.nnz!;
  const idx = unpackBits(indices, count, bits);
  const at = decodePositions(l.positions, size, count);
  for (let j = 0; j < count; j++) {
    const c = idx[j]!;
    if (c >= k) throw bad(c, j);
    const i = at[j]!;
    const g = groups === 1 ? 0 : Math.floor(i / inner) % groups;
    out[i] = codebook[g * k + c]!;
  }
  return new Tensor('float32', out, l.dims);
}

/** Throws unless `l` is valid and decodes to exactly t's bits (so the file may store only `l`). */
export function checkClusterMatches(t: Tensor, l: ClusterLayout): void {
  if (t.type !== 'float32') throw new Error(`clustered layout: tensor dtype ${t.type} is not float32`);
  const same = l.dims.length === t.dims.length && l.dims.every((d, i) => d === t.dims[i]);
  if (!same) throw new Error(`clustered layout: dims [${l.dims.join(', ')}] do not match tensor dims [${t.dims.join(', ')}]`);
  const dense = clusterToDense(l).data;
  const a = new Uint32Array(dense.buffer, dense.byteOffset, dense.length);
  const src = t.data as Float32Array;
  const b = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) throw new Error(`clustered layout does not decode to the tensor's data (element ${i}: ${dense[i]} vs ${src[i]})`);
  }
}

/** Sets `t.clustered = l` after checking that it decodes to exactly t's data. Returns `t`. */
export function attachClustered<T extends Tensor>(t: T, l: ClusterLayout): T {
  checkClusterMatches(t, l);
  t.clustered = l;
  return t;
}
