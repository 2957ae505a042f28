// Ops that change only the shape (or read it): Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size.
// Their shape rules keep symbolic dims such as the batch size wherever the spec allows it.
import type { ValueType } from '../graph/ir.js';
import { sizeOfDims, type Dim, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { toIntList } from '../tensor/convert.js';
import { constInts, dimProduct, knownLength, normalizeAxes, productDim, reshaped } from './layout-util.js';
import { defineOp } from './registry.js';
import { ALL_TYPES, INDEX_TYPES, inputType } from './util.js';

/**
 * Output dims of Reshape: 0 copies the input dim (unless allowzero), -1 takes what is left.
 * Works on symbolic input dims: common symbols cancel, so [N,3,4] -> [0,-1] gives [N,12].
 */
export function reshapeDims(
  inShape: Shape | undefined,
  spec: readonly number[],
  allowzero: boolean,
  unknownDim: () => Dim,
  where: string,
): Dim[] {
  let inferAt = -1;
  const out: Dim[] = spec.map((v, i) => {
    if (!Number.isInteger(v) || v < -1) throw new Error(`${where}: invalid shape value ${v} at index ${i}`);
    if (v === -1) {
      if (inferAt >= 0) throw new Error(`${where}: shape has more than one -1`);
      inferAt = i;
      return -1;
    }
    if (v === 0 && !allowzero) {
      if (!inShape) return unknownDim();
      if (i >= inShape.length) throw new Error(`${where}: shape value 0 at index ${i} has no input dim to copy (input rank ${inShape.length})`);
      return inShape[i]!;
    }
    return v;
  });
  if (allowzero && inferAt >= 0 && spec.includes(0)) {
    throw new Error(`${where}: shape may not contain both 0 and -1 when allowzero is set`);
  }
  if (!inShape) {
    if (inferAt >= 0) out[inferAt] = unknownDim();
    return out;
  }
  const have = dimProduct(inShape);
  const rest = dimProduct(out.filter((_, i) => i !== inferAt));
  // Cancel symbols that appear on both sides: they stand for the same run-time size.
  const left = [...have.symbols];
  const right: string[] = [];
  for (const s of rest.symbols) {
    const k = left.indexOf(s);
    if (k >= 0) left.splice(k, 1);
    else right.push(s);
  }
  if (inferAt < 0) {
    if (left.length === 0 && right.length === 0 && have.known !== rest.known) {
      throw new Error(`${where}: cannot reshape [${inShape.join(', ')}] (${have.known} elements) to [${spec.join(', ')}]`);
    }
    return out;
  }
  if (right.length > 0) {
    out[inferAt] = unknownDim();
  } else if (left.length === 0) {
    if (rest.known === 0) {
      if (have.known !== 0) throw new Error(`${where}: cannot reshape ${have.known} elements to [${spec.join(', ')}]`);
      throw new Error(`${where}: cannot infer -1 in [${spec.join(', ')}] for an empty tensor`);
    }
    if (have.known % rest.known !== 0) {
      throw new Error(`${where}: cannot reshape [${inShape.join(', ')}] (${have.known} elements) to [${spec.join(', ')}]`);
    }
    out[inferAt] = have.known / rest.known;
  } else if (left.length === 1 && have.known === rest.known) {
    out[inferAt] = left[0]!;
  } else {
    out[inferAt] = unknownDim();
  }
  return out;
}

defineOp({
  name: 'Reshape',
  inputs: [{ name: 'data', types: ALL_TYPES }, { name: 'shape', types: INDEX_TYPES }],
  outputs: [{ name: 'reshaped' }],
  attrs: { allowzero: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const spec = constInts(ctx, 1);
    if (spec) {
      return [{ dtype: x.dtype, shape: reshapeDims(x.shape, spec, ctx.attrs.int('allowzero') !== 0, ctx.unknownDim, ctx.where) }];
    }
    const rank = knownLength(ctx, 1);
    return [{ dtype: x.dtype, shape: rank === undefined ? undefined : Array.from({ length: rank }, () => ctx.unknownDim()) }];
  },
  reference: ([x, shape], ctx) => {
    const dims = reshapeDims(x!.dims, toIntList(shape!), ctx.attrs.int('allowzero') !== 0, () => NaN, ctx.where) as number[];
    if (sizeOfDims(dims) !== x!.size) {
      throw new Error(`${ctx.where}: cannot reshape [${x!.dims.join(', ')}] to [${dims.join(', ')}]`);
    }
    return [reshaped(x!, dims)];
  },
});

defineOp({
  name: 'Flatten',
  inputs: [{ name: 'input', types: ALL_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { axis: { type: 'int', default: 1 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: [ctx.unknownDim(), ctx.unknownDim()] }];
    const axis = flattenAxis(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    const shape = [productDim(x.shape.slice(0, axis), ctx.unknownDim), productDim(x.shape.slice(axis), ctx.unknownDim)];
    return [{ dtype: x.dtype, shape }];
  },
  reference: ([x], ctx) => {
    const axis = flattenAxis(ctx.attrs.int('axis'), x!.dims.length, ctx.where);
    return [reshaped(x!, [sizeOfDims(x!.dims.slice(0, axis)), sizeOfDims(x!.dims.slice(axis))])];
  },
});

/** Flatten's axis ranges over [-r, r]: r itself puts every dim in the outer factor. */
function flattenAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank) throw new Error(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

defineOp({
  name: 'Squeeze',
  inputs: [{ name: 'data', types: ALL_TYPES }, { name: 'axes', optional: true, types: INDEX_TYPES }],
  outputs: [{ name: 'squeezed' }],
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype }];
    const shape = x.shape;
    if (!ctx.inputs[1]) {
      // Without axes every size-1 dim goes; a symbolic dim might be 1, so the rank is then unknown.
      if (shape.some((d) => typeof d !== 'number')) return [{ dtype: x.dtype }];
      return [{ dtype: x.dtype, shape: shape.filter((d) => d !== 1) }];
    }
    const axes = constInts(ctx, 1);
    if (!axes) {
      const n = knownLength(ctx, 1);
      return [{ dtype: x.dtype, shape: n === undefined ? undefined : Array.from({ length: shape.length - n }, () => ctx.unknownDim()) }];
    }
    const drop = squeezeAxes(shape, axes, ctx.where);
    return [{ dtype: x.dtype, shape: shape.filter((_, i) => !drop.has(i)) }];
  },
  reference: ([x, axesT], ctx) => {
    const dims = x!.dims;
    const drop = axesT ? squeezeAxes(dims, toIntList(axesT), ctx.where) : new Set(dims.flatMap((d, i) => (d === 1 ? [i] : [])));
    return [reshaped(x!, dims.filter((_, i) => !drop.has(i)))];
  },
});

function squeezeAxes(shape: Shape, axes: readonly number[], where: string): Set<number> {
  const norm = normalizeAxes(axes, shape.length, where);
  for (const a of norm) {
    const d = shape[a]!;
    if (typeof d === 'number' && d !== 1) throw new Error(`${where}: cannot squeeze axis ${a} of size ${d}`);
  }
  return new Set(norm);
}

defineOp({
  name: 'Unsqueeze',
  inputs: [{ name: 'data', types: ALL_TYPES }, { name: 'axes', types: INDEX_TYPES }],
  outputs: [{ name: 'expanded' }],
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const axes = constInts(ctx, 1);
    if (!x.shape) return [{ dtype: x.dtype }];
    if (!axes) {
      const n = knownLength(ctx, 1);
      return [{ dtype: x.dtype, shape: n === undefined ? undefined : Array.from({ length: x.shape.length + n }, () => ctx.unknownDim()) }];
    }
    return [{ dtype: x.dtype, shape: unsqueezeDims(x.shape, axes, ctx.where) }];
  },
  reference: ([x, axes], ctx) => [reshaped(x!, unsqueezeDims(x!.dims, toIntList(axes!), ctx.where) as number[])],
});

function unsqueezeDims(shape: Shape, axes: readonly number[], where: string): Dim[] {
  const rank = shape.length + axes.length;
  const inserted = new Set(normalizeAxes(axes, rank, where));
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(inserted.has(i) ? 1 : shape[k++]!);
  return out;
}

/** Shape's [start, end) window: negative values count from the end, then clamp to [0, rank]. */
function shapeWindow(rank: number, start: number, end: number | undefined): [number, number] {
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const s = clamp(start);
  const e = end === undefined ? rank : clamp(end);
  return [s, Math.max(e, s)];
}

defineOp({
  name: 'Shape',
  inputs: [{ name: 'data', types: ALL_TYPES }],
  outputs: [{ name: 'shape' }],
  attrs: { start: { type: 'int', default: 0 }, end: { type: 'int' } },
  inferShape: (ctx): ValueType[] => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: 'int64', shape: [ctx.unknownDim()] }];
    const [s, e] = shapeWindow(x.shape.length, ctx.attrs.int('start'), ctx.attrs.has('end') ? ctx.attrs.int('end') : undefined);
    return [{ dtype: 'int64', shape: [e - s] }];
  },
  reference: ([x], ctx) => {
    const [s, e] = shapeWindow(x!.dims.length, ctx.attrs.int('start'), ctx.attrs.has('end') ? ctx.attrs.int('end') : undefined);
    const dims = x!.dims.slice(s, e);
    return [new Tensor('int64', BigInt64Array.from(dims, (d) => BigInt(d)), [dims.length])];
  },
});

defineOp({
  name: 'Size',
  inputs: [{ name: 'data', types: ALL_TYPES }],
  outputs: [{ name: 'size' }],
  inferShape: () => [{ dtype: 'int64', shape: [] }],
  reference: ([x]) => [new Tensor('int64', BigInt64Array.of(BigInt(x!.size)), [])],
});
