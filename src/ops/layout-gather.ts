// Index-driven reads: Gather (whole slices along an axis) and GatherElements (one element per index).
import { toIntList } from '../tensor/convert.js';
import { sizeOfDims, stridesOf } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { axisIn, axisOffsets, indexFromOffsets, takeElements } from './layout-util.js';
import { defineOp } from './registry.js';
import { ALL_TYPES, INDEX_TYPES, inputType } from './util.js';

/** Index values with negatives wrapped, rejecting anything outside [-size, size-1]. */
function resolveIndices(indices: Tensor, size: number, where: string): Int32Array {
  const raw = toIntList(indices);
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    if (v < -size || v >= size) throw new Error(`${where}: index ${v} is out of bounds for axis of size ${size}`);
    out[i] = v < 0 ? v + size : v;
  }
  return out;
}

defineOp({
  name: 'Gather',
  inputs: [{ name: 'data', types: ALL_TYPES }, { name: 'indices', types: INDEX_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { axis: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const ind = inputType(ctx, 1).shape;
    if (!x.shape || !ind) return [{ dtype: x.dtype }];
    if (x.shape.length === 0) throw new Error(`${ctx.where}: data must have rank >= 1`);
    const axis = axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...ind, ...x.shape.slice(axis + 1)] }];
  },
  reference: ([x, indices], ctx) => {
    const dims = x!.dims;
    if (dims.length === 0) throw new Error(`${ctx.where}: data must have rank >= 1`);
    const axis = axisIn(ctx.attrs.int('axis'), dims.length, ctx.where);
    const size = dims[axis]!;
    const idx = resolveIndices(indices!, size, ctx.where);
    const outer = sizeOfDims(dims.slice(0, axis));
    const inner = sizeOfDims(dims.slice(axis + 1));
    const map = new Int32Array(outer * idx.length * inner);
    let o = 0;
    for (let b = 0; b < outer; b++) {
      for (let j = 0; j < idx.length; j++) {
        const src = (b * size + idx[j]!) * inner;
        for (let k = 0; k < inner; k++) map[o++] = src + k;
      }
    }
    return [takeElements(x!, map, [...dims.slice(0, axis), ...indices!.dims, ...dims.slice(axis + 1)])];
  },
});

defineOp({
  name: 'GatherElements',
  inputs: [{ name: 'data', types: ALL_TYPES }, { name: 'indices', types: INDEX_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { axis: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const ind = inputType(ctx, 1).shape;
    if (x.shape && ind) {
      if (x.shape.length !== ind.length) throw new Error(`${ctx.where}: data has rank ${x.shape.length} but indices rank ${ind.length}`);
      axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    }
    return [{ dtype: x.dtype, shape: ind }];
  },
  reference: ([x, indices], ctx) => {
    const dims = x!.dims;
    const iDims = indices!.dims;
    if (dims.length !== iDims.length) throw new Error(`${ctx.where}: data has rank ${dims.length} but indices rank ${iDims.length}`);
    if (dims.length === 0) throw new Error(`${ctx.where}: data must have rank >= 1`);
    const axis = axisIn(ctx.attrs.int('axis'), dims.length, ctx.where);
    iDims.forEach((d, k) => {
      if (k !== axis && d > dims[k]!) {
        throw new Error(`${ctx.where}: indices dim ${k} is ${d}, larger than data's ${dims[k]}`);
      }
    });
    const strides = stridesOf(dims);
    // Source offset from every coordinate except the axis one, which the index value supplies.
    const offsets = iDims.map((n, k) => axisOffsets(n, k === axis ? 0 : strides[k]!, (c) => c));
    const map = indexFromOffsets(iDims, offsets);
    const idx = resolveIndices(indices!, dims[axis]!, ctx.where);
    for (let i = 0; i < map.length; i++) map[i] = map[i]! + idx[i]! * strides[axis]!;
    return [takeElements(x!, map, iDims)];
  },
});
