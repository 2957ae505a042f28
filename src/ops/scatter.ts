// Index-addressed reads and writes: GatherND, ScatterND, ScatterElements and the deprecated
// Scatter (ScatterElements before opset 11). Writes apply in index order, so duplicate indices
// with reduction 'none' keep the last update; the reductions combine every update.
import { packedBits, type DType } from '../tensor/dtype.js';
import { fromNumbers, readBits, toIntList, toNumbers, writeBits } from '../tensor/convert.js';
import { sizeOfDims, stridesOf, type Dim } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { axisIn, takeElements } from './layout-util.js';
import { defineOp, type InferContext } from './registry.js';
import { INDEX_TYPES, inputType } from './util.js';
import { WIDE_ALL_TYPES } from './wide-types.js';

type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';
const REDUCTIONS: readonly string[] = ['none', 'add', 'mul', 'max', 'min'];
const reductionAttr = {
  type: 'string', default: 'none',
  validate: (v: unknown) => (REDUCTIONS.includes(v as string) ? undefined : `must be one of ${REDUCTIONS.join(', ')}`),
} as const;

/** An index value wrapped into [0, size), or an error naming the offending value. */
function wrapIndex(v: number, size: number, where: string): number {
  if (v < -size || v >= size) throw new Error(`${where}: index ${v} is out of bounds for axis of size ${size}`);
  return v < 0 ? v + size : v;
}

// ---- GatherND ----------------------------------------------------------------------------------

defineOp({
  name: 'GatherND',
  inputs: [{ name: 'data', types: WIDE_ALL_TYPES }, { name: 'indices', types: ['int64'] }],
  outputs: [{ name: 'output' }],
  attrs: { batch_dims: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const ind = inputType(ctx, 1).shape;
    if (!x.shape || !ind) return [{ dtype: x.dtype }];
    const b = ctx.attrs.int('batch_dims');
    const last = ind[ind.length - 1];
    if (typeof last !== 'number') return [{ dtype: x.dtype }];
    checkGatherND(x.shape, ind, b, ctx.where);
    return [{ dtype: x.dtype, shape: [...ind.slice(0, -1), ...x.shape.slice(b + last)] }];
  },
  reference: ([x, indices], ctx) => {
    const dims = x!.dims;
    const iDims = indices!.dims;
    const b = ctx.attrs.int('batch_dims');
    checkGatherND(dims, iDims, b, ctx.where);
    const q = iDims[iDims.length - 1]!;
    const batch = sizeOfDims(dims.slice(0, b));
    const tuplesPerBatch = sizeOfDims(iDims.slice(b, -1));
    const slice = sizeOfDims(dims.slice(b + q));
    const strides = stridesOf(dims);
    const batchStride = sizeOfDims(dims.slice(b));
    const idx = toIntList(indices!);
    const map = new Int32Array(batch * tuplesPerBatch * slice);
    let o = 0;
    for (let bi = 0; bi < batch; bi++) {
      for (let t = 0; t < tuplesPerBatch; t++) {
        const tuple = (bi * tuplesPerBatch + t) * q;
        let off = bi * batchStride;
        for (let k = 0; k < q; k++) off += wrapIndex(idx[tuple + k]!, dims[b + k]!, ctx.where) * strides[b + k]!;
        for (let s = 0; s < slice; s++) map[o++] = off + s;
      }
    }
    return [takeElements(x!, map, [...iDims.slice(0, -1), ...dims.slice(b + q)])];
  },
});

function checkGatherND(dims: readonly Dim[], iDims: readonly Dim[], b: number, where: string): void {
  if (dims.length < 1 || iDims.length < 1) throw new Error(`${where}: data and indices must have rank >= 1`);
  if (b < 0 || b >= Math.min(dims.length, iDims.length)) throw new Error(`${where}: batch_dims ${b} must be below both ranks`);
  for (let i = 0; i < b; i++) {
    const d = dims[i], e = iDims[i];
    if (typeof d === 'number' && typeof e === 'number' && d !== e) throw new Error(`${where}: batch dim ${i} is ${d} in data but ${e} in indices`);
  }
  const q = iDims[iDims.length - 1];
  if (typeof q === 'number' && (q < 1 || q > dims.length - b)) {
    throw new Error(`${where}: the last indices dim (${q}) must be between 1 and rank(data) - batch_dims = ${dims.length - b}`);
  }
}

// ---- scatter kernels ---------------------------------------------------------------------------

/**
 * Copies data, then applies updates[src[j]] to position dst[j] for j in order. Plain writes copy
 * raw elements (bit-exact for every dtype, packed ones included); reductions on int64/uint64
 * compute in BigInt, on other dtypes in float64, rounded once to the dtype at the end.
 */
function scatter(data: Tensor, updates: Tensor, dst: Int32Array, reduction: Reduction, where: string): Tensor {
  if (updates.type !== data.type) throw new Error(`${where}: updates have dtype ${updates.type} but data ${data.type}`);
  if (reduction === 'none') {
    const out = data.data.slice();
    const bits = packedBits(data.type);
    if (bits !== 0) {
      for (let j = 0; j < dst.length; j++) writeBits(out as Uint8Array, dst[j]!, bits, readBits(updates.data as Uint8Array, j, bits));
    } else {
      const o = out as { [i: number]: number | bigint };
      const u = updates.data as { [i: number]: number | bigint };
      for (let j = 0; j < dst.length; j++) o[dst[j]!] = u[j]!;
    }
    return new Tensor(data.type, out, data.dims);
  }
  if (data.type === 'int64' || data.type === 'uint64') {
    const out = data.data.slice() as BigInt64Array | BigUint64Array;
    const u = updates.data as BigInt64Array | BigUint64Array;
    const f = bigReducer(reduction);
    for (let j = 0; j < dst.length; j++) out[dst[j]!] = f(out[dst[j]!]!, u[j]!);
    return new Tensor(data.type, out, data.dims);
  }
  if (data.type === 'bool') throw new Error(`${where}: reduction '${reduction}' is not defined for bool`);
  const out = toNumbers(data);
  const u = toNumbers(updates);
  const f = numReducer(reduction, data.type);
  for (let j = 0; j < dst.length; j++) out[dst[j]!] = f(out[dst[j]!]!, u[j]!);
  return fromNumbers(data.type, out, data.dims);
}

function numReducer(r: Reduction, dtype: DType): (a: number, b: number) => number {
  switch (r) {
    case 'add': return (a, b) => a + b;
    case 'mul': return dtype === 'int32' || dtype === 'uint32' ? (a, b) => Math.imul(a, b) : (a, b) => a * b;
    // numpy's maximum/minimum (the reference) propagate NaN.
    case 'max': return (a, b) => (a !== a || a > b ? a : b);
    case 'min': return (a, b) => (a !== a || a < b ? a : b);
    default: return (_a, b) => b;
  }
}

function bigReducer(r: Reduction): (a: bigint, b: bigint) => bigint {
  switch (r) {
    case 'add': return (a, b) => a + b;
    case 'mul': return (a, b) => a * b;
    case 'max': return (a, b) => (a > b ? a : b);
    case 'min': return (a, b) => (a < b ? a : b);
    default: return (_a, b) => b;
  }
}

// ---- ScatterND ---------------------------------------------------------------------------------

defineOp({
  name: 'ScatterND',
  inputs: [{ name: 'data', types: WIDE_ALL_TYPES }, { name: 'indices', types: ['int64'] }, { name: 'updates', types: WIDE_ALL_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { reduction: reductionAttr },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const ind = inputType(ctx, 1).shape;
    const upd = inputType(ctx, 2).shape;
    if (x.shape && ind && upd) checkScatterND(x.shape, ind, upd, ctx.where);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  reference: ([x, indices, updates], ctx) => {
    const dims = x!.dims;
    const iDims = indices!.dims;
    checkScatterND(dims, iDims, updates!.dims, ctx.where);
    const q = iDims[iDims.length - 1]!;
    const tuples = sizeOfDims(iDims.slice(0, -1));
    const slice = sizeOfDims(dims.slice(q));
    const strides = stridesOf(dims);
    const idx = toIntList(indices!);
    const dst = new Int32Array(tuples * slice);
    for (let t = 0; t < tuples; t++) {
      let off = 0;
      for (let k = 0; k < q; k++) off += wrapIndex(idx[t * q + k]!, dims[k]!, ctx.where) * strides[k]!;
      for (let s = 0; s < slice; s++) dst[t * slice + s] = off + s;
    }
    return [scatter(x!, updates!, dst, ctx.attrs.string('reduction') as Reduction, ctx.where)];
  },
});

function checkScatterND(dims: readonly Dim[], iDims: readonly Dim[], uDims: readonly Dim[], where: string): void {
  if (dims.length < 1 || iDims.length < 1) throw new Error(`${where}: data and indices must have rank >= 1`);
  const q = iDims[iDims.length - 1];
  if (typeof q !== 'number') return;
  if (q > dims.length) throw new Error(`${where}: the last indices dim (${q}) exceeds rank(data) = ${dims.length}`);
  const expected = [...iDims.slice(0, -1), ...dims.slice(q)];
  const ok = expected.length === uDims.length && expected.every((d, i) => d === uDims[i] || typeof d !== 'number' || typeof uDims[i] !== 'number');
  if (!ok) throw new Error(`${where}: updates have shape [${uDims.join(', ')}], expected [${expected.join(', ')}]`);
}

// ---- ScatterElements / Scatter -----------------------------------------------------------------

function defineScatterElements(name: string, withReduction: boolean): void {
  defineOp({
    name,
    inputs: [{ name: 'data', types: WIDE_ALL_TYPES }, { name: 'indices', types: INDEX_TYPES }, { name: 'updates', types: WIDE_ALL_TYPES }],
    outputs: [{ name: 'output' }],
    attrs: withReduction ? { axis: { type: 'int', default: 0 }, reduction: reductionAttr } : { axis: { type: 'int', default: 0 } },
    inferShape: (ctx: InferContext) => {
      const x = inputType(ctx, 0);
      const ind = inputType(ctx, 1).shape;
      const upd = inputType(ctx, 2).shape;
      if (x.shape) {
        axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
        if (ind && ind.length !== x.shape.length) throw new Error(`${ctx.where}: indices have rank ${ind.length} but data ${x.shape.length}`);
      }
      if (ind && upd && (ind.length !== upd.length || ind.some((d, i) => typeof d === 'number' && typeof upd[i] === 'number' && d !== upd[i]))) {
        throw new Error(`${ctx.where}: updates have shape [${upd.join(', ')}] but indices [${ind.join(', ')}]`);
      }
      return [{ dtype: x.dtype, shape: x.shape }];
    },
    reference: ([x, indices, updates], ctx) => {
      const dims = x!.dims;
      const iDims = indices!.dims;
      if (iDims.length !== dims.length) throw new Error(`${ctx.where}: indices have rank ${iDims.length} but data ${dims.length}`);
      if (updates!.dims.join() !== iDims.join()) throw new Error(`${ctx.where}: updates have shape [${updates!.dims.join(', ')}] but indices [${iDims.join(', ')}]`);
      const axis = axisIn(ctx.attrs.int('axis'), dims.length, ctx.where);
      iDims.forEach((d, k) => {
        if (k !== axis && d > dims[k]!) throw new Error(`${ctx.where}: indices dim ${k} is ${d}, larger than data's ${dims[k]}`);
      });
      const strides = stridesOf(dims);
      const idx = toIntList(indices!);
      const dst = new Int32Array(idx.length);
      const coord = new Array<number>(iDims.length).fill(0);
      for (let j = 0; j < idx.length; j++) {
        let off = 0;
        for (let k = 0; k < coord.length; k++) {
          off += (k === axis ? wrapIndex(idx[j]!, dims[axis]!, ctx.where) : coord[k]!) * strides[k]!;
        }
        dst[j] = off;
        for (let k = coord.length - 1; k >= 0; k--) {
          if (++coord[k]! < iDims[k]!) break;
          coord[k] = 0;
        }
      }
      const reduction = (withReduction ? ctx.attrs.string('reduction') : 'none') as Reduction;
      return [scatter(x!, updates!, dst, reduction, ctx.where)];
    },
  });
}

defineScatterElements('ScatterElements', true);
defineScatterElements('Scatter', false);

// ---- TensorScatter (opset 24) -------------------------------------------------------------------

// Writes `update` into a copy of a KV cache along `axis`, starting per batch entry at
// write_indices[b] (default 0); 'circular' wraps positions modulo the cache length.
defineOp({
  name: 'TensorScatter',
  inputs: [{ name: 'past_cache', types: WIDE_ALL_TYPES }, { name: 'update', types: WIDE_ALL_TYPES }, { name: 'write_indices', types: ['int64'], optional: true }],
  outputs: [{ name: 'present_cache' }],
  attrs: {
    axis: { type: 'int', default: -2 },
    mode: { type: 'string', default: 'linear', validate: (v) => (v === 'linear' || v === 'circular' ? undefined : 'must be linear or circular') },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const u = inputType(ctx, 1);
    if (u.dtype !== x.dtype) throw new Error(`${ctx.where}: update has dtype ${u.dtype} but past_cache ${x.dtype}`);
    if (x.shape && u.shape) checkTensorScatter(x.shape, u.shape, ctx.attrs.int('axis'), ctx.where);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  reference: ([cache, update, writeIdx], ctx) => {
    const dims = cache!.dims;
    const axis = checkTensorScatter(dims, update!.dims, ctx.attrs.int('axis'), ctx.where);
    const circular = ctx.attrs.string('mode') === 'circular';
    const batch = dims[0]!;
    const starts = writeIdx ? toIntList(writeIdx) : new Array<number>(batch).fill(0);
    if (starts.length !== batch) throw new Error(`${ctx.where}: write_indices has ${starts.length} entries, batch is ${batch}`);
    const maxLen = dims[axis]!, seqLen = update!.dims[axis]!;
    const inner = sizeOfDims(dims.slice(axis + 1));
    const prefix = sizeOfDims(dims.slice(0, axis));
    const perBatch = prefix / Math.max(batch, 1);
    const dst = new Int32Array(update!.size);
    for (let p = 0; p < prefix; p++) {
      const b = Math.floor(p / perBatch);
      for (let s = 0; s < seqLen; s++) {
        let pos = starts[b]! + s;
        if (circular) pos = ((pos % maxLen) + maxLen) % maxLen;
        else if (pos < 0 || pos >= maxLen) throw new Error(`${ctx.where}: write position ${pos} is outside the cache length ${maxLen} (mode linear)`);
        for (let i = 0; i < inner; i++) dst[(p * seqLen + s) * inner + i] = (p * maxLen + pos) * inner + i;
      }
    }
    return [scatter(cache!, update!, dst, 'none', ctx.where)];
  },
});

function checkTensorScatter(dims: readonly Dim[], uDims: readonly Dim[], axisAttr: number, where: string): number {
  if (dims.length < 2) throw new Error(`${where}: past_cache must have rank >= 2, got ${dims.length}`);
  const axis = axisIn(axisAttr, dims.length, where);
  if (axis === 0) throw new Error(`${where}: axis must not be the batch axis`);
  if (uDims.length !== dims.length) throw new Error(`${where}: update has rank ${uDims.length}, past_cache ${dims.length}`);
  dims.forEach((d, i) => {
    const u = uDims[i]!;
    if (typeof d !== 'number' || typeof u !== 'number') return;
    if (i === axis ? u > d : u !== d) throw new Error(`${where}: update has shape [${uDims.join(', ')}], incompatible with past_cache [${dims.join(', ')}] on axis ${i}`);
  });
  return axis;
}
