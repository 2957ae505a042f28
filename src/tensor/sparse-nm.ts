// N:M structured sparsity: at most n non-zeros in every group of m consecutive elements along
// one axis (2:4 along K is what sparse tensor cores and 2:4 SIMD kernels consume).
import { allocData, type DType, type TensorData } from './dtype.js';
import { validateDims } from './shape.js';
import { checkValues, RawElements } from './sparse-raw.js';
import { Tensor } from './tensor.js';

/**
 * Every group keeps exactly n (position, value) pairs with strictly increasing positions; a group
 * with fewer non-zeros keeps its earliest zeros too, so the arrays have a fixed size.
 * `values` is row-major over the dense dims with dims[axis] replaced by dims[axis] / m * n;
 * `indices` holds each kept value's position in its group, packed LSB-first at nmIndexBits(m)
 * bits each (a 2:4 group takes one nibble), in the same order as `values`.
 */
export interface NmLayout {
  readonly kind: 'nm';
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly n: number;
  readonly m: number;
  /** Non-negative axis the groups run along. */
  readonly axis: number;
  readonly values: TensorData;
  readonly indices: Uint8Array;
}

/** Bits per stored position: ceil(log2 m). */
export function nmIndexBits(m: number): number {
  return Math.max(1, Math.ceil(Math.log2(m)));
}

export function readNmIndex(indices: Uint8Array, k: number, bits: number): number {
  const p = k * bits;
  const word = indices[p >> 3]! | ((indices[(p >> 3) + 1] ?? 0) << 8);
  return (word >> (p & 7)) & ((1 << bits) - 1);
}

function writeNmIndex(indices: Uint8Array, k: number, bits: number, v: number): void {
  const p = k * bits;
  const b = p >> 3;
  const shifted = v << (p & 7);
  indices[b] = indices[b]! | (shifted & 0xff);
  if (shifted > 0xff) indices[b + 1] = indices[b + 1]! | (shifted >> 8);
}

interface Geometry { outer: number; groups: number; inner: number; axis: number; kept: number }

function geometry(dims: readonly number[], n: number, m: number, axis: number): Geometry {
  if (!Number.isSafeInteger(m) || m < 2 || m > 256) throw new Error(`N:M: m must be an integer in [2, 256], got ${m}`);
  if (!Number.isSafeInteger(n) || n < 1 || n > m) throw new Error(`N:M: n must be an integer in [1, m=${m}], got ${n}`);
  const rank = dims.length;
  const a = Number.isSafeInteger(axis) && axis < 0 ? axis + rank : axis;
  if (!Number.isSafeInteger(a) || a < 0 || a >= rank) throw new Error(`N:M: axis ${axis} is out of range for rank ${rank}`);
  const extent = dims[a]!;
  if (extent % m !== 0) throw new Error(`N:M: dim ${a} of [${dims.join(', ')}] is not a multiple of m=${m}`);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < a; i++) outer *= dims[i]!;
  for (let i = a + 1; i < rank; i++) inner *= dims[i]!;
  const groups = extent / m;
  return { outer, groups, inner, axis: a, kept: outer * groups * n * inner };
}

/** Visits every group: `dense` is its first element's index, `packed` its first kept slot; both step by `inner`. */
function forEachGroup(g: Geometry, n: number, m: number, visit: (dense: number, packed: number, where: string) => void): void {
  for (let o = 0; o < g.outer; o++) {
    for (let q = 0; q < g.groups; q++) {
      for (let i = 0; i < g.inner; i++) {
        visit((o * g.groups * m + q * m) * g.inner + i, (o * g.groups * n + q * n) * g.inner + i, `group ${q} of slice ${o}/${i}`);
      }
    }
  }
}

/** The first group holding more than n non-zeros, or undefined when `t` satisfies n:m. */
function firstViolation(t: Tensor, n: number, m: number, g: Geometry): string | undefined {
  const src = new RawElements(t.type, t.data);
  let bad: string | undefined;
  forEachGroup(g, n, m, (dense, _packed, where) => {
    if (bad !== undefined) return;
    let nz = 0;
    for (let p = 0; p < m; p++) if (!src.isZero(dense + p * g.inner)) nz++;
    if (nz > n) bad = `${where} along axis ${g.axis} has ${nz} non-zeros`;
  });
  return bad;
}

/** True when every group of m along `axis` has at most n elements with non-zero bits. */
export function isNmSparse(t: Tensor, n: number, m: number, axis = -1): boolean {
  return firstViolation(t, n, m, geometry(t.dims, n, m, axis)) === undefined;
}

export function nmFromDense(t: Tensor, n: number, m: number, axis = -1): NmLayout {
  const g = geometry(t.dims, n, m, axis);
  const bad = firstViolation(t, n, m, g);
  if (bad !== undefined) throw new Error(`N:M: tensor [${t.dims.join(', ')}] is not ${n}:${m} sparse: ${bad}`);
  const bits = nmIndexBits(m);
  const values = allocData(t.type, g.kept);
  const indices = new Uint8Array(Math.ceil((g.kept * bits) / 8));
  const src = new RawElements(t.type, t.data);
  const dst = new RawElements(t.type, values);
  forEachGroup(g, n, m, (dense, packed) => {
    let nz = 0;
    for (let p = 0; p < m; p++) if (!src.isZero(dense + p * g.inner)) nz++;
    let padding = n - nz;
    let j = 0;
    for (let p = 0; p < m && j < n; p++) {
      const zero = src.isZero(dense + p * g.inner);
      if (zero && padding === 0) continue;
      if (zero) padding--;
      const k = packed + j++ * g.inner;
      src.copyTo(dense + p * g.inner, dst, k);
      writeNmIndex(indices, k, bits, p);
    }
  });
  return { kind: 'nm', dtype: t.type, dims: [...t.dims], n, m, axis: g.axis, values, indices };
}

export function nmToDense(l: NmLayout): Tensor {
  const g = validateNmGeometry(l);
  const bits = nmIndexBits(l.m);
  const out = allocData(l.dtype, validateDims(l.dims, 'N:M'));
  const src = new RawElements(l.dtype, l.values);
  const dst = new RawElements(l.dtype, out);
  forEachGroup(g, l.n, l.m, (dense, packed) => {
    for (let j = 0; j < l.n; j++) {
      const k = packed + j * g.inner;
      src.copyTo(k, dst, dense + readNmIndex(l.indices, k, bits) * g.inner);
    }
  });
  return new Tensor(l.dtype, out, l.dims);
}

/** Throws a descriptive Error unless `l` is a well-formed N:M layout. */
export function validateNm(l: NmLayout): void {
  validateNmGeometry(l);
}

function validateNmGeometry(l: NmLayout): Geometry {
  validateDims(l.dims, 'N:M');
  const g = geometry(l.dims, l.n, l.m, l.axis);
  if (g.axis !== l.axis) throw new Error(`N:M: axis must be stored non-negative, got ${l.axis}`);
  checkValues('N:M', l.dtype, l.values, g.kept);
  const bits = nmIndexBits(l.m);
  const need = Math.ceil((g.kept * bits) / 8);
  if (!(l.indices instanceof Uint8Array) || l.indices.length !== need) {
    throw new Error(`N:M: indices must be a Uint8Array of ${need} bytes (${bits} bits per kept value)`);
  }
  let bad: string | undefined;
  forEachGroup(g, l.n, l.m, (_dense, packed, where) => {
    let prev = -1;
    for (let j = 0; j < l.n && bad === undefined; j++) {
      const p = readNmIndex(l.indices, packed + j * g.inner, bits);
      if (p >= l.m || p <= prev) bad = `${where}: positions must be strictly increasing and below m=${l.m}, got ${prev} then ${p}`;
      prev = p;
    }
  });
  if (bad !== undefined) throw new Error(`N:M: ${bad}`);
  return g;
}
