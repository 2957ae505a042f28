// Ops that pick or mask elements: Compress, NonZero, ReverseSequence, Trilu and Unique.
// NonZero, Compress (with an unknown condition) and Unique have data-dependent output sizes,
// which shape inference reports as fresh unknown dims.
import { toIntList, toNumbers } from '../tensor/convert.js';
import { sizeOfDims, stridesOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { axisIn, takeElements } from './layout-util.js';
import { defineOp } from './registry.js';
import { inputType } from './util.js';
import { WIDE_ALL_TYPES, WIDE_NUMERIC_TYPES } from './wide-types.js';

// ---- Compress ----------------------------------------------------------------------------------

defineOp({
  name: 'Compress',
  inputs: [{ name: 'input', types: WIDE_ALL_TYPES }, { name: 'condition', types: ['bool'] }],
  outputs: [{ name: 'output' }],
  attrs: { axis: { type: 'int' } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const c = ctx.constant(1);
    const kept = c ? keptPositions(c, Infinity, ctx.where).length : ctx.unknownDim();
    if (!ctx.attrs.has('axis')) return [{ dtype: x.dtype, shape: [kept] }];
    if (!x.shape) return [{ dtype: x.dtype }];
    const axis = axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? kept : d)) }];
  },
  reference: ([x, cond], ctx) => {
    if (cond!.dims.length !== 1) throw new Error(`${ctx.where}: condition must be 1-D, got rank ${cond!.dims.length}`);
    // Without an axis the input is flattened first.
    const dims = ctx.attrs.has('axis') ? x!.dims : [x!.size];
    const axis = ctx.attrs.has('axis') ? axisIn(ctx.attrs.int('axis'), dims.length, ctx.where) : 0;
    const kept = keptPositions(cond!, dims[axis]!, ctx.where);
    const outer = sizeOfDims(dims.slice(0, axis));
    const inner = sizeOfDims(dims.slice(axis + 1));
    const map = new Int32Array(outer * kept.length * inner);
    let o = 0;
    for (let b = 0; b < outer; b++) {
      for (const k of kept) for (let i = 0; i < inner; i++) map[o++] = (b * dims[axis]! + k) * inner + i;
    }
    return [takeElements(x!, map, dims.map((d, i) => (i === axis ? kept.length : d)))];
  },
});

/** Positions where the condition is true; a shorter condition drops the rest (numpy.compress). */
function keptPositions(cond: Tensor, size: number, where: string): number[] {
  const c = cond.data as Uint8Array;
  const kept: number[] = [];
  for (let i = 0; i < c.length; i++) {
    if (!c[i]) continue;
    if (i >= size) throw new Error(`${where}: condition is true at position ${i}, beyond the axis size ${size}`);
    kept.push(i);
  }
  return kept;
}

// ---- NonZero -----------------------------------------------------------------------------------

defineOp({
  name: 'NonZero',
  inputs: [{ name: 'X', types: WIDE_ALL_TYPES }],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const rank = x.shape ? Math.max(x.shape.length, 1) : ctx.unknownDim();
    return [{ dtype: 'int64', shape: [rank, ctx.unknownDim()] }];
  },
  reference: ([x]) => {
    // A scalar counts as a 1-element vector, as onnxruntime does.
    const dims = x!.dims.length === 0 ? [1] : x!.dims;
    const rank = dims.length;
    const v = x!.type === 'int64' || x!.type === 'uint64' ? null : toNumbers(x!);
    const big = x!.data as BigInt64Array;
    const hits: number[] = [];
    for (let i = 0; i < x!.size; i++) if (v ? v[i] !== 0 : big[i] !== 0n) hits.push(i);
    const out = new BigInt64Array(rank * hits.length);
    const strides = stridesOf(dims);
    hits.forEach((flat, j) => {
      let r = flat;
      for (let d = 0; d < rank; d++) {
        out[d * hits.length + j] = BigInt(Math.floor(r / strides[d]!));
        r %= strides[d]!;
      }
    });
    return [new Tensor('int64', out, [rank, hits.length])];
  },
});

// ---- ReverseSequence ---------------------------------------------------------------------------

defineOp({
  name: 'ReverseSequence',
  inputs: [{ name: 'input', types: WIDE_ALL_TYPES }, { name: 'sequence_lens', types: ['int64'] }],
  outputs: [{ name: 'Y' }],
  attrs: {
    batch_axis: { type: 'int', default: 1, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
    time_axis: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (ctx.attrs.int('batch_axis') === ctx.attrs.int('time_axis')) throw new Error(`${ctx.where}: batch_axis and time_axis must differ`);
    if (x.shape && x.shape.length < 2) throw new Error(`${ctx.where}: input must have rank >= 2, got ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  reference: ([x, lens], ctx) => {
    const dims = x!.dims;
    const bAxis = ctx.attrs.int('batch_axis');
    const tAxis = ctx.attrs.int('time_axis');
    if (bAxis === tAxis) throw new Error(`${ctx.where}: batch_axis and time_axis must differ`);
    if (dims.length < 2) throw new Error(`${ctx.where}: input must have rank >= 2, got ${dims.length}`);
    const seq = toIntList(lens!);
    const batch = dims[bAxis]!, time = dims[tAxis]!;
    if (lens!.dims.length !== 1 || seq.length !== batch) throw new Error(`${ctx.where}: sequence_lens must be 1-D of length ${batch}`);
    seq.forEach((s) => { if (s < 0 || s > time) throw new Error(`${ctx.where}: sequence length ${s} is outside [0, ${time}]`); });
    const strides = stridesOf(dims);
    const inner = sizeOfDims(dims.slice(2));
    const map = new Int32Array(x!.size);
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < time; t++) {
        const src = t < seq[b]! ? seq[b]! - 1 - t : t;
        const to = b * strides[bAxis]! + t * strides[tAxis]!;
        const from = b * strides[bAxis]! + src * strides[tAxis]!;
        for (let i = 0; i < inner; i++) map[to + i] = from + i;
      }
    }
    return [takeElements(x!, map, dims)];
  },
});

// ---- Trilu -------------------------------------------------------------------------------------

defineOp({
  name: 'Trilu',
  inputs: [{ name: 'input', types: WIDE_ALL_TYPES }, { name: 'k', types: ['int64'], optional: true }],
  outputs: [{ name: 'output' }],
  attrs: { upper: { type: 'int', default: 1, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (x.shape && x.shape.length < 2) throw new Error(`${ctx.where}: input must have rank >= 2, got ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  reference: ([x, kT], ctx) => {
    const dims = x!.dims;
    if (dims.length < 2) throw new Error(`${ctx.where}: input must have rank >= 2, got ${dims.length}`);
    let k = 0;
    if (kT) {
      const kv = toIntList(kT);
      if (kv.length !== 1) throw new Error(`${ctx.where}: k must be a single value`);
      k = kv[0]!;
    }
    const upper = ctx.attrs.int('upper') === 1;
    const rows = dims[dims.length - 2]!, cols = dims[dims.length - 1]!;
    const map = new Int32Array(x!.size);
    for (let i = 0; i < x!.size; i++) {
      const c = i % cols, r = Math.floor(i / cols) % rows;
      map[i] = (upper ? c - r >= k : c - r <= k) ? i : -1; // -1: zero fill
    }
    return [takeElements(x!, map, dims)];
  },
});

// ---- Unique ------------------------------------------------------------------------------------

defineOp({
  name: 'Unique',
  inputs: [{ name: 'X', types: WIDE_NUMERIC_TYPES.concat(['bool']) }],
  outputs: [
    { name: 'Y' }, { name: 'indices', optional: true }, { name: 'inverse_indices', optional: true }, { name: 'counts', optional: true },
  ],
  attrs: { axis: { type: 'int' }, sorted: { type: 'int', default: 1 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const n = ctx.unknownDim();
    let y: ReturnType<typeof inputType>;
    if (!ctx.attrs.has('axis')) y = { dtype: x.dtype, shape: [n] };
    else if (!x.shape) y = { dtype: x.dtype };
    else {
      const axis = axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where);
      y = { dtype: x.dtype, shape: x.shape.map((d, i) => (i === axis ? n : d)) };
    }
    const along = !ctx.attrs.has('axis') ? undefined : x.shape?.[axisIn(ctx.attrs.int('axis'), x.shape.length, ctx.where)];
    // inverse_indices has one entry per slice along the axis, or per element without one.
    const inv = ctx.attrs.has('axis') ? (along !== undefined ? [along] : undefined) : [ctx.unknownDim()];
    return [y, { dtype: 'int64', shape: [n] }, { dtype: 'int64', shape: inv }, { dtype: 'int64', shape: [n] }];
  },
  reference: ([x], ctx) => {
    const hasAxis = ctx.attrs.has('axis');
    const dims = hasAxis ? x!.dims : [x!.size];
    const axis = hasAxis ? axisIn(ctx.attrs.int('axis'), dims.length, ctx.where) : 0;
    const n = dims[axis]!;
    const outer = sizeOfDims(dims.slice(0, axis));
    const inner = sizeOfDims(dims.slice(axis + 1));
    // Each candidate is the slice at one position along the axis, compared element by element.
    const big = x!.type === 'int64' || x!.type === 'uint64' ? (x!.data as BigInt64Array | BigUint64Array) : null;
    const num = big ? null : toNumbers(x!);
    const at = (p: number, e: number) => Math.floor(e / inner) * n * inner + p * inner + (e % inner);
    const sliceLen = outer * inner;
    const cmp = (p: number, q: number): number => {
      for (let e = 0; e < sliceLen; e++) {
        const a = at(p, e), b = at(q, e);
        let c: number;
        if (big) c = big[a]! === big[b]! ? 0 : big[a]! < big[b]! ? -1 : 1;
        else {
          const u = num![a]!, v = num![b]!;
          // NaN sorts last and equals NaN (numpy.unique's equal_nan).
          c = u !== u ? (v !== v ? 0 : 1) : v !== v ? -1 : u === v ? 0 : u < v ? -1 : 1;
        }
        if (c !== 0) return c;
      }
      return 0;
    };
    const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => cmp(p, q) || p - q);
    // Groups of equal slices in sorted order; each remembers its first occurrence.
    const groups: { first: number; count: number }[] = [];
    const groupOf = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const p = order[j]!;
      const g = groups[groups.length - 1];
      if (g && cmp(g.first, p) === 0) g.count++;
      else groups.push({ first: p, count: 1 });
      groupOf[p] = groups.length - 1;
    }
    let rank = groups.map((_, i) => i);
    if (ctx.attrs.int('sorted') === 0) {
      // Order of first occurrence instead of value order.
      const byFirst = groups.map((_, i) => i).sort((a, b) => groups[a]!.first - groups[b]!.first);
      rank = new Array<number>(groups.length);
      byFirst.forEach((g, r) => { rank[g] = r; });
      groups.sort((a, b) => a.first - b.first);
    }
    const u = groups.length;
    const map = new Int32Array(outer * u * inner);
    for (let o = 0; o < outer; o++) {
      for (let g = 0; g < u; g++) for (let i = 0; i < inner; i++) map[(o * u + g) * inner + i] = (o * n + groups[g]!.first) * inner + i;
    }
    const y = takeElements(hasAxis ? x! : x!.reshape([x!.size]), map, dims.map((d, i) => (i === axis ? u : d)));
    const i64 = (vals: number[]) => new Tensor('int64', BigInt64Array.from(vals, (v) => BigInt(v)), [vals.length]);
    return [
      y,
      i64(groups.map((g) => g.first)),
      i64(Array.from(groupOf, (g) => rank[g]!)),
      i64(groups.map((g) => g.count)),
    ];
  },
});
