// Data layout ops: Transpose, Concat, Split, Expand, Tile. Slice, gather-style ops, Pad, Resize and the
// depth/space rearrangements live in the layout-*.ts files imported below.
// Each kernel builds a map from output element to source element and copies raw values.
import type { ValueType } from '../graph/ir.js';
import { allocData } from '../tensor/dtype.js';
import { toIntList } from '../tensor/convert.js';
import { broadcastDims, broadcastShapes, sizeOfDims, stridesOf, validateDims, type Dim, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import {
  axisIn, axisOffsets, constInts, copyRun, indexFromOffsets, keepQuant, knownLength, takeElements, transposeIndex,
} from './layout-util.js';
import { defineOp, type InferContext } from './registry.js';
import { ALL_TYPES, broadcastIndex, INDEX_TYPES, inputType, sameDType } from './util.js';
import './layout-gather.js';
import './layout-pad.js';
import './layout-space.js';
import './layout-resize.js';
import './layout-slice.js';

// ---- Transpose ----

function permOf(perm: number[] | undefined, rank: number, where: string): number[] {
  if (!perm) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank) throw new Error(`${where}: perm [${perm.join(', ')}] has ${perm.length} entries for rank ${rank}`);
  const seen = new Set(perm);
  if (seen.size !== rank || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)) {
    throw new Error(`${where}: perm [${perm.join(', ')}] is not a permutation of 0..${rank - 1}`);
  }
  return perm;
}

defineOp({
  name: 'Transpose',
  inputs: [{ name: 'data', types: ALL_TYPES }],
  outputs: [{ name: 'transposed' }],
  attrs: { perm: { type: 'ints' } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const given = ctx.attrs.optInts('perm');
    if (!x.shape) return [{ dtype: x.dtype, shape: given?.map(() => ctx.unknownDim()) }];
    const perm = permOf(given, x.shape.length, ctx.where);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape![p]!) }];
  },
  reference: ([x], ctx) => {
    const perm = permOf(ctx.attrs.optInts('perm'), x!.dims.length, ctx.where);
    return [takeElements(x!, transposeIndex(x!.dims, perm), perm.map((p) => x!.dims[p]!))];
  },
});

// ---- Concat ----

defineOp({
  name: 'Concat',
  inputs: [{ name: 'inputs', variadic: true, types: ALL_TYPES }],
  outputs: [{ name: 'concat_result' }],
  attrs: { axis: { type: 'int', required: true } },
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, ctx.inputs.map((_, i) => i));
    const shapes = ctx.inputs.map((t) => t?.shape);
    const known = shapes.filter((s): s is Shape => s !== undefined);
    if (known.length === 0) return [{ dtype }];
    const rank = known[0]!.length;
    if (rank === 0) throw new Error(`${ctx.where}: cannot concatenate scalars`);
    const axis = axisIn(ctx.attrs.int('axis'), rank, ctx.where);
    const other = known.find((s) => s.length !== rank);
    if (other) throw new Error(`${ctx.where}: inputs have ranks ${rank} and ${other.length}`);
    const out: Dim[] = [];
    for (let d = 0; d < rank; d++) {
      if (d === axis) {
        const all = shapes.map((s) => s?.[axis]);
        out.push(all.every((v): v is number => typeof v === 'number') ? all.reduce((a, b) => a + b, 0) : ctx.unknownDim());
        continue;
      }
      let dim: Dim | undefined;
      for (const s of known) {
        const v = s[d]!;
        if (typeof v === 'number' && typeof dim === 'number' && v !== dim) {
          throw new Error(`${ctx.where}: inputs differ in dim ${d} (${dim} vs ${v}) outside the concat axis`);
        }
        if (dim === undefined || typeof v === 'number') dim = v;
      }
      out.push(dim!);
    }
    return [{ dtype, shape: out }];
  },
  reference: (inputs, ctx) => {
    const xs = inputs.map((t, i) => {
      if (!t) throw new Error(`${ctx.where}: input ${i} is missing`);
      return t;
    });
    const first = xs[0]!;
    const rank = first.dims.length;
    if (rank === 0) throw new Error(`${ctx.where}: cannot concatenate scalars`);
    const axis = axisIn(ctx.attrs.int('axis'), rank, ctx.where);
    let total = 0;
    for (const t of xs) {
      if (t.type !== first.type) throw new Error(`${ctx.where}: inputs have dtypes ${first.type} and ${t.type}`);
      if (t.dims.length !== rank || t.dims.some((d, k) => k !== axis && d !== first.dims[k])) {
        throw new Error(`${ctx.where}: cannot concatenate [${first.dims.join(', ')}] and [${t.dims.join(', ')}] on axis ${axis}`);
      }
      total += t.dims[axis]!;
    }
    const dims = first.dims.map((d, k) => (k === axis ? total : d));
    const outer = sizeOfDims(dims.slice(0, axis));
    const inner = sizeOfDims(dims.slice(axis + 1));
    const out = allocData(first.type, sizeOfDims(dims));
    let o = 0;
    for (let b = 0; b < outer; b++) {
      for (const t of xs) {
        const run = t.dims[axis]! * inner;
        copyRun(first.type, out, o, t.data, b * run, run);
        o += run;
      }
    }
    return [keepQuant(first, new Tensor(first.type, out, dims))];
  },
});

// ---- Split ----

/** Chunk sizes along the split axis: explicit, or num_outputs chunks with a smaller last one. */
function splitSizes(dim: number, split: number[] | undefined, parts: number, where: string): number[] {
  if (split) {
    if (split.some((s) => s < 0)) throw new Error(`${where}: split sizes [${split.join(', ')}] must be non-negative`);
    const sum = split.reduce((a, b) => a + b, 0);
    if (sum !== dim) throw new Error(`${where}: split sizes [${split.join(', ')}] sum to ${sum}, axis has ${dim}`);
    return split;
  }
  const chunk = Math.ceil(dim / parts);
  const last = dim - chunk * (parts - 1);
  if (last < 0) throw new Error(`${where}: cannot split ${dim} elements into ${parts} parts`);
  return Array.from({ length: parts }, (_, i) => (i === parts - 1 ? last : chunk));
}

/** Number of outputs: split's length, else num_outputs, else however many outputs the node names. */
function splitParts(split: number[] | undefined, numOutputs: number | undefined, outputCount: number | undefined, where: string): number {
  if (split && numOutputs !== undefined) throw new Error(`${where}: give either the 'split' input or num_outputs, not both`);
  const n = split?.length ?? numOutputs ?? outputCount;
  if (n === undefined) throw new Error(`${where}: needs the 'split' input or the num_outputs attribute`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${where}: cannot split into ${n} parts`);
  if (outputCount !== undefined && n !== outputCount) throw new Error(`${where}: splits into ${n} parts but the node has ${outputCount} outputs`);
  return n;
}

defineOp({
  name: 'Split',
  inputs: [{ name: 'input', types: ALL_TYPES }, { name: 'split', optional: true, types: INDEX_TYPES }],
  outputs: [{ name: 'outputs', variadic: true }],
  attrs: { axis: { type: 'int', default: 0 }, num_outputs: { type: 'int' } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const numOutputs = ctx.attrs.has('num_outputs') ? ctx.attrs.int('num_outputs') : undefined;
    const outputCount = ctx.outputCount;
    // An empty 'split' tensor (left by some converters) means the same as none.
    const splitKnown = constInts(ctx, 1);
    const split = splitKnown?.length ? splitKnown : undefined;
    const splitGiven = ctx.inputs[1] !== undefined && splitKnown?.length !== 0 && knownLength(ctx, 1) !== 0;
    const n = splitGiven && !split
      ? (knownLength(ctx, 1) ?? outputCount)
      : splitParts(split, numOutputs, outputCount, ctx.where);
    if (n === undefined) throw new Error(`${ctx.where}: cannot tell how many outputs the split has`);
    if (!x.shape) return Array.from({ length: n }, (): ValueType => ({ dtype: x.dtype }));
    const axis = axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    const dim = x.shape[axis]!;
    const sizes: Dim[] = split
      ? splitSizes(typeof dim === 'number' ? dim : split.reduce((a, b) => a + b, 0), split, n, ctx.where)
      : typeof dim === 'number' && !splitGiven
        ? splitSizes(dim, undefined, n, ctx.where)
        : Array.from({ length: n }, () => ctx.unknownDim());
    return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape!.map((d, k) => (k === axis ? s : d)) }));
  },
  reference: ([x, splitT], ctx) => {
    const dims = x!.dims;
    const axis = axisIn(ctx.attrs.int('axis'), dims.length, ctx.where);
    const split = splitT && splitT.size > 0 ? toIntList(splitT) : undefined;
    const numOutputs = ctx.attrs.has('num_outputs') ? ctx.attrs.int('num_outputs') : undefined;
    const sizes = splitSizes(dims[axis]!, split, splitParts(split, numOutputs, ctx.outputCount, ctx.where), ctx.where);
    const outer = sizeOfDims(dims.slice(0, axis));
    const inner = sizeOfDims(dims.slice(axis + 1));
    const rowIn = dims[axis]! * inner;
    let start = 0;
    return sizes.map((size) => {
      const outDims = dims.map((d, k) => (k === axis ? size : d));
      const out = allocData(x!.type, sizeOfDims(outDims));
      for (let b = 0; b < outer; b++) copyRun(x!.type, out, b * size * inner, x!.data, b * rowIn + start * inner, size * inner);
      start += size;
      return keepQuant(x!, new Tensor(x!.type, out, outDims));
    });
  },
});

// ---- Expand ----

defineOp({
  name: 'Expand',
  inputs: [{ name: 'input', types: ALL_TYPES }, { name: 'shape', types: INDEX_TYPES }],
  outputs: [{ name: 'output' }],
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const target = constInts(ctx, 1);
    if (!x.shape) return [{ dtype: x.dtype }];
    if (target) {
      if (target.some((d) => d < 0)) throw new Error(`${ctx.where}: shape [${target.join(', ')}] has negative dims`);
      try {
        const shape = broadcastShapes(x.shape, target);
        validateDims(shape.filter((d): d is number => typeof d === 'number'), 'output');
        return [{ dtype: x.dtype, shape }];
      } catch (e) {
        throw new Error(`${ctx.where}: ${(e as Error).message}`);
      }
    }
    const n = knownLength(ctx, 1);
    if (n === undefined) return [{ dtype: x.dtype }];
    const rank = Math.max(n, x.shape.length);
    const shape = Array.from({ length: rank }, (_, i): Dim => {
      const d = x.shape![i - (rank - x.shape!.length)];
      return typeof d === 'number' && d !== 1 ? d : ctx.unknownDim();
    });
    return [{ dtype: x.dtype, shape }];
  },
  reference: ([x, shapeT], ctx) => {
    const target = toIntList(shapeT!);
    let outDims: number[];
    try {
      if (target.some((d) => d < 0)) throw new Error(`shape [${target.join(', ')}] has negative dims`);
      outDims = broadcastDims(x!.dims, target);
      validateDims(outDims, 'output');
    } catch (e) {
      throw new Error(`${ctx.where}: ${(e as Error).message}`);
    }
    return [takeElements(x!, broadcastIndex(x!.dims, outDims), outDims)];
  },
});

// ---- Tile ----

function checkRepeats(repeats: number[], rank: number, where: string): void {
  if (repeats.length !== rank) throw new Error(`${where}: repeats has ${repeats.length} entries for rank ${rank}`);
  if (repeats.some((r) => r < 0)) throw new Error(`${where}: repeats [${repeats.join(', ')}] must be non-negative`);
}

defineOp({
  name: 'Tile',
  inputs: [{ name: 'input', types: ALL_TYPES }, { name: 'repeats', types: INDEX_TYPES }],
  outputs: [{ name: 'output' }],
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype }];
    const repeats = constInts(ctx, 1);
    if (!repeats) {
      const n = knownLength(ctx, 1);
      if (n !== undefined && n !== x.shape.length) throw new Error(`${ctx.where}: repeats has ${n} entries for rank ${x.shape.length}`);
      return [{ dtype: x.dtype, shape: x.shape.map(() => ctx.unknownDim()) }];
    }
    checkRepeats(repeats, x.shape.length, ctx.where);
    const shape = x.shape.map((d, k): Dim => {
      const r = repeats[k]!;
      if (typeof d === 'number') return d * r;
      return r === 1 ? d : r === 0 ? 0 : ctx.unknownDim();
    });
    // Repeats come from the file: a product past the element limit is refused here, not allocated.
    validateDims(shape.filter((d): d is number => typeof d === 'number'), `${ctx.where}: output`);
    return [{ dtype: x.dtype, shape }];
  },
  reference: ([x, repeatsT], ctx) => {
    const dims = x!.dims;
    const repeats = toIntList(repeatsT!);
    checkRepeats(repeats, dims.length, ctx.where);
    const strides = stridesOf(dims);
    const outDims = dims.map((d, k) => d * repeats[k]!);
    validateDims(outDims, `${ctx.where}: output`);
    const offsets = outDims.map((n, k) => axisOffsets(n, strides[k]!, (c) => c % dims[k]!));
    return [takeElements(x!, indexFromOffsets(outDims, offsets), outDims)];
  },
});
