/** A dimension: a concrete size or a symbolic name such as the batch dimension `N`. */
export type Dim = number | string;
export type Shape = readonly Dim[];

/** Largest element count Kiln accepts in one tensor: typed arrays above 2^31 bytes are not portable. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Largest rank Kiln builds from a length it reads in the model (a shape operand's size): real
 * models stay far below it (numpy caps arrays at 64 axes).
 */
export const MAX_RANK = 1024;

export function sizeOfDims(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Checks dims are non-negative integers with a representable element count. */
export function validateDims(dims: readonly number[], what = 'tensor'): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${what}: invalid dimension ${String(d)} in [${dims.join(', ')}]`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) throw new Error(`${what}: ${n} elements in [${dims.join(', ')}] exceeds the limit of ${MAX_ELEMENTS}`);
  return n;
}

export function isConcrete(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** Normalizes a possibly negative axis against `rank`, with a clear error when out of range. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new Error(`${what} ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

/** Numpy-style broadcast of concrete shapes. */
export function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`cannot broadcast shapes [${a.join(', ')}] and [${b.join(', ')}]`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Broadcast with symbolic dims: equal symbols match, 1 yields to the other side. */
export function broadcastShapes(a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<Dim>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else if (typeof da === 'number' && typeof db === 'number') {
      throw new Error(`cannot broadcast shapes [${a.join(', ')}] and [${b.join(', ')}]`);
    } else out[i] = typeof da === 'number' ? da : db; // a symbol meeting a size must equal it at run time
  }
  return out;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}
