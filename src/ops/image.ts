// Spatial resampling and rearrangement: GridSample (opset 20: N-D, linear/nearest/cubic,
// zeros/border/reflection padding), AffineGrid, Col2Im and CenterCropPad.
import { fromNumbers, toIntList, toNumbers } from '../tensor/convert.js';
import { sizeOfDims, stridesOf, type Dim } from '../tensor/shape.js';
import { constInts, normalizeAxes, takeElements } from './layout-util.js';
import { defineOp } from './registry.js';
import { FLOAT_TYPES, inputType, NUMERIC_TYPES } from './util.js';
import { WIDE_ALL_TYPES } from './wide-types.js';

// ---- GridSample --------------------------------------------------------------------------------

const oneOf = (...ok: string[]) => (v: unknown) => (ok.includes(v as string) ? undefined : `must be one of ${ok.join(', ')}`);

/** Reflects x into [lo, hi] by folding at the borders (the ONNX reference's _gs_reflect). */
function reflect(x: number, lo: number, hi: number): number {
  const range = hi - lo;
  if (x < lo) {
    const dx = lo - x, n = Math.trunc(dx / range), r = dx - n * range;
    return n % 2 === 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi, n = Math.trunc(dx / range), r = dx - n * range;
    return n % 2 === 0 ? hi - r : lo + r;
  }
  return x;
}

/** Keys cubic convolution weights (alpha = -0.75) for taps at -1, 0, 1, 2 around t in [0, 1). */
function cubicWeights(t: number): number[] {
  const a = -0.75;
  const w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  const w1 = ((a + 2) * t - (a + 3)) * t * t + 1;
  const w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  const w3 = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
  return [w0, w1, w2, w3];
}

/** Rounds half to even, like numpy.rint. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

defineOp({
  name: 'GridSample',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'grid', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: {
    align_corners: { type: 'int', default: 0 },
    mode: { type: 'string', default: 'linear', validate: oneOf('linear', 'nearest', 'cubic', 'bilinear', 'bicubic') },
    padding_mode: { type: 'string', default: 'zeros', validate: oneOf('zeros', 'border', 'reflection') },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const g = inputType(ctx, 1).shape;
    if (x.shape && g) checkGrid(x.shape, g, ctx.where);
    if (!g) return [{ dtype: x.dtype }];
    return [{ dtype: x.dtype, shape: [x.shape?.[0] ?? g[0]!, x.shape?.[1] ?? ctx.unknownDim(), ...g.slice(1, -1)] }];
  },
  reference: ([x, grid], ctx) => {
    const dims = x!.dims;
    const gDims = grid!.dims;
    checkGrid(dims, gDims, ctx.where);
    // opset 16 names (bilinear, bicubic) are the same modes.
    const mode = ({ bilinear: 'linear', bicubic: 'cubic' } as Record<string, string>)[ctx.attrs.string('mode')] ?? ctx.attrs.string('mode');
    const pad = ctx.attrs.string('padding_mode');
    const align = ctx.attrs.int('align_corners') !== 0;
    const [n, c] = dims as [number, number];
    const sp = dims.slice(2);
    const r = sp.length;
    const spStrides = stridesOf(sp);
    const plane = sizeOfDims(sp);
    const outSp = gDims.slice(1, -1);
    const points = sizeOfDims(outSp);
    const v = toNumbers(x!);
    const g = toNumbers(grid!);
    const out = new Float64Array(n * c * points);
    const lo = sp.map((d) => (align ? 0 : -0.5));
    const hi = sp.map((d) => (align ? d - 1 : d - 0.5));
    // Maps an integer tap index per padding mode; -1 means "reads zero".
    const tapIndex = (i: number, k: number): number => {
      const d = sp[k]!;
      if (pad === 'zeros') return i >= 0 && i < d ? i : -1;
      if (pad === 'border') return Math.min(Math.max(i, 0), d - 1);
      return Math.trunc(reflect(i, lo[k]!, hi[k]!));
    };
    const idx: number[][] = new Array(r);
    const wts: number[][] = new Array(r);
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < points; p++) {
        // grid's last axis lists coordinates innermost-first (x, y, z): reverse to match dims.
        for (let k = 0; k < r; k++) {
          const norm = g[(b * points + p) * r + (r - 1 - k)]!;
          const d = sp[k]!;
          let coord = align ? ((norm + 1) / 2) * (d - 1) : ((norm + 1) * d - 1) / 2;
          if (mode === 'nearest') coord = rint(coord);
          if (coord < lo[k]! || coord > hi[k]!) {
            if (pad === 'border') coord = Math.min(Math.max(coord, 0), d - 1);
            else if (pad === 'reflection') coord = reflect(coord, lo[k]!, hi[k]!);
          }
          if (mode === 'nearest') {
            idx[k] = [tapIndex(Math.trunc(coord), k)];
            wts[k] = [1];
          } else {
            const f = Math.floor(coord), t = coord - f;
            if (mode === 'linear') {
              idx[k] = [tapIndex(f, k), tapIndex(f + 1, k)];
              wts[k] = [1 - t, t];
            } else {
              idx[k] = [f - 1, f, f + 1, f + 2].map((i) => tapIndex(i, k));
              wts[k] = cubicWeights(t);
            }
          }
        }
        for (let ch = 0; ch < c; ch++) {
          const base = (b * c + ch) * plane;
          out[(b * c + ch) * points + p] = tensorProductSum(v, base, idx, wts, spStrides);
        }
      }
    }
    return [fromNumbers(x!.type, out, [n, c, ...outSp])];
  },
});

/** Sum over every combination of per-axis taps of the product of weights times the value. */
function tensorProductSum(v: Float64Array, base: number, idx: number[][], wts: number[][], strides: readonly number[]): number {
  const r = idx.length;
  const pos = new Array<number>(r).fill(0);
  let sum = 0;
  for (;;) {
    let off = base, w = 1, zero = false;
    for (let k = 0; k < r; k++) {
      const i = idx[k]![pos[k]!]!;
      if (i < 0) { zero = true; break; }
      off += i * strides[k]!;
      w *= wts[k]![pos[k]!]!;
    }
    if (!zero) sum += w * v[off]!;
    let k = r - 1;
    while (k >= 0 && ++pos[k]! >= idx[k]!.length) { pos[k] = 0; k--; }
    if (k < 0) return sum;
  }
}

function checkGrid(x: readonly Dim[], g: readonly Dim[], where: string): void {
  if (x.length < 3) throw new Error(`${where}: X must be [N, C, D1, ...], got rank ${x.length}`);
  if (g.length !== x.length) throw new Error(`${where}: grid must have rank ${x.length}, got ${g.length}`);
  const last = g[g.length - 1];
  if (typeof last === 'number' && last !== x.length - 2) throw new Error(`${where}: grid's last dim must be ${x.length - 2}, got ${last}`);
  if (typeof x[0] === 'number' && typeof g[0] === 'number' && x[0] !== g[0]) throw new Error(`${where}: grid batch ${g[0]} differs from X batch ${x[0]}`);
}

// ---- AffineGrid --------------------------------------------------------------------------------

defineOp({
  name: 'AffineGrid',
  inputs: [{ name: 'theta', types: FLOAT_TYPES }, { name: 'size', types: ['int64'] }],
  outputs: [{ name: 'grid' }],
  attrs: { align_corners: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const th = inputType(ctx, 0);
    const size = constInts(ctx, 1);
    if (size) {
      if (size.length !== 4 && size.length !== 5) throw new Error(`${ctx.where}: size must have 4 or 5 values, got ${size.length}`);
      return [{ dtype: th.dtype, shape: [size[0]!, ...size.slice(2), size.length - 2] }];
    }
    const len = ctx.inputs[1]?.shape?.[0];
    if (typeof len !== 'number') return [{ dtype: th.dtype }];
    return [{ dtype: th.dtype, shape: [th.shape?.[0] ?? ctx.unknownDim(), ...Array.from({ length: len - 2 }, () => ctx.unknownDim()), len - 2] }];
  },
  reference: ([theta, sizeT], ctx) => {
    const size = toIntList(sizeT!);
    if (size.length !== 4 && size.length !== 5) throw new Error(`${ctx.where}: size must have 4 or 5 values, got ${size.length}`);
    const r = size.length - 2;
    const [n] = size as [number];
    if (theta!.dims.join() !== [n, r, r + 1].join()) throw new Error(`${ctx.where}: theta must be [${n}, ${r}, ${r + 1}], got [${theta!.dims.join(', ')}]`);
    const sp = size.slice(2);
    const align = ctx.attrs.int('align_corners') !== 0;
    // Normalized centre of position i along an axis of d samples.
    const base = (i: number, d: number) => (align ? (d === 1 ? -1 : -1 + (2 * i) / (d - 1)) : -1 + (2 * i + 1) / d);
    const th = toNumbers(theta!);
    const points = sizeOfDims(sp);
    const out = new Float64Array(n * points * r);
    const coord = new Array<number>(r).fill(0);
    const homo = new Array<number>(r + 1).fill(1);
    for (let b = 0; b < n; b++) {
      coord.fill(0);
      for (let p = 0; p < points; p++) {
        // Homogeneous point (x, y[, z], 1): x follows the last spatial axis.
        for (let k = 0; k < r; k++) homo[k] = base(coord[r - 1 - k]!, sp[r - 1 - k]!);
        for (let row = 0; row < r; row++) {
          let s = 0;
          for (let k = 0; k <= r; k++) s += th[(b * r + row) * (r + 1) + k]! * homo[k]!;
          out[(b * points + p) * r + row] = s;
        }
        for (let k = r - 1; k >= 0; k--) { if (++coord[k]! < sp[k]!) break; coord[k] = 0; }
      }
    }
    return [fromNumbers(theta!.type, out, [n, ...sp, r])];
  },
});

// ---- Col2Im ------------------------------------------------------------------------------------

defineOp({
  name: 'Col2Im',
  inputs: [{ name: 'input', types: [...NUMERIC_TYPES, 'bool'] }, { name: 'image_shape', types: ['int64'] }, { name: 'block_shape', types: ['int64'] }],
  outputs: [{ name: 'output' }],
  attrs: { dilations: { type: 'ints' }, pads: { type: 'ints' }, strides: { type: 'ints' } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const img = constInts(ctx, 1), blk = constInts(ctx, 2);
    const k = blk ? blk.reduce((a, b) => a * b, 1) : undefined;
    const c1 = x.shape?.[1];
    const ch: Dim = typeof c1 === 'number' && k ? c1 / k : ctx.unknownDim();
    const rank = img?.length ?? (typeof ctx.inputs[1]?.shape?.[0] === 'number' ? (ctx.inputs[1].shape[0] as number) : undefined);
    if (rank === undefined) return [{ dtype: x.dtype }];
    return [{ dtype: x.dtype, shape: [x.shape?.[0] ?? ctx.unknownDim(), ch, ...(img ?? Array.from({ length: rank }, () => ctx.unknownDim()))] }];
  },
  reference: ([x, imgT, blkT], ctx) => {
    const img = toIntList(imgT!), blk = toIntList(blkT!);
    const r = img.length;
    if (blk.length !== r) throw new Error(`${ctx.where}: block_shape has ${blk.length} dims, image_shape ${r}`);
    const dil = ctx.attrs.optInts('dilations') ?? img.map(() => 1);
    const strides = ctx.attrs.optInts('strides') ?? img.map(() => 1);
    const pads = ctx.attrs.optInts('pads') ?? new Array<number>(2 * r).fill(0);
    if (dil.length !== r || strides.length !== r || pads.length !== 2 * r) throw new Error(`${ctx.where}: dilations/strides/pads do not match ${r} spatial dims`);
    const dims = x!.dims;
    if (dims.length !== 3) throw new Error(`${ctx.where}: input must be [N, C * prod(block_shape), L], got rank ${dims.length}`);
    const kSize = sizeOfDims(blk);
    const [n, ck, l] = dims as [number, number, number];
    if (ck % kSize !== 0) throw new Error(`${ctx.where}: input dim 1 (${ck}) is not a multiple of prod(block_shape) = ${kSize}`);
    const c = ck / kSize;
    const blocks = img.map((d, i) => Math.floor((d + pads[i]! + pads[r + i]! - dil[i]! * (blk[i]! - 1) - 1) / strides[i]!) + 1);
    if (sizeOfDims(blocks) !== l || blocks.some((b) => b < 1)) {
      throw new Error(`${ctx.where}: input has ${l} blocks but image_shape, block_shape and the attributes give [${blocks.join(', ')}]`);
    }
    const v = toNumbers(x!);
    const plane = sizeOfDims(img);
    const imgStrides = stridesOf(img);
    const out = new Float64Array(n * c * plane);
    const kc = new Array<number>(r), bc = new Array<number>(r);
    for (let b = 0; b < n; b++) {
      for (let row = 0; row < ck; row++) {
        const ch = Math.floor(row / kSize);
        let rem = row % kSize;
        for (let i = r - 1; i >= 0; i--) { kc[i] = rem % blk[i]!; rem = Math.floor(rem / blk[i]!); }
        for (let col = 0; col < l; col++) {
          let rc = col, off = 0, inside = true;
          for (let i = r - 1; i >= 0; i--) { bc[i] = rc % blocks[i]!; rc = Math.floor(rc / blocks[i]!); }
          for (let i = 0; i < r; i++) {
            const pos = bc[i]! * strides[i]! - pads[i]! + kc[i]! * dil[i]!;
            if (pos < 0 || pos >= img[i]!) { inside = false; break; }
            off += pos * imgStrides[i]!;
          }
          if (inside) out[(b * c + ch) * plane + off] = out[(b * c + ch) * plane + off]! + v[(b * ck + row) * l + col]!;
        }
      }
    }
    return [fromNumbers(x!.type, out, [n, c, ...img])];
  },
});

// ---- CenterCropPad -----------------------------------------------------------------------------

defineOp({
  name: 'CenterCropPad',
  inputs: [{ name: 'input_data', types: WIDE_ALL_TYPES }, { name: 'shape', types: ['int32', 'int64'] }],
  outputs: [{ name: 'output_data' }],
  attrs: { axes: { type: 'ints' } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype }];
    const axes = normalizeAxes(ctx.attrs.optInts('axes') ?? x.shape.map((_, i) => i), x.shape.length, ctx.where);
    const target = constInts(ctx, 1);
    if (target && target.length !== axes.length) throw new Error(`${ctx.where}: shape has ${target.length} values for ${axes.length} axes`);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (axes.includes(i) ? (target ? target[axes.indexOf(i)]! : ctx.unknownDim()) : d)) }];
  },
  reference: ([x, shapeT], ctx) => {
    const dims = x!.dims;
    const axes = normalizeAxes(ctx.attrs.optInts('axes') ?? dims.map((_, i) => i), dims.length, ctx.where);
    const target = toIntList(shapeT!);
    if (target.length !== axes.length) throw new Error(`${ctx.where}: shape has ${target.length} values for ${axes.length} axes`);
    const outDims = [...dims];
    axes.forEach((a, i) => {
      if (target[i]! < 0) throw new Error(`${ctx.where}: target size ${target[i]} is negative`);
      outDims[a] = target[i]!;
    });
    // Crop offset floor((dim - size) / 2) where shrinking, pad offset floor((size - dim) / 2) where growing.
    const shift = dims.map((d, i) => (d >= outDims[i]! ? Math.floor((d - outDims[i]!) / 2) : -Math.floor((outDims[i]! - d) / 2)));
    const inStrides = stridesOf(dims);
    const size = sizeOfDims(outDims);
    const map = new Int32Array(size);
    const coord = new Array<number>(dims.length).fill(0);
    for (let o = 0; o < size; o++) {
      let off = 0;
      for (let k = 0; k < dims.length; k++) {
        const s = coord[k]! + shift[k]!;
        if (s < 0 || s >= dims[k]!) { off = -1; break; }
        off += s * inStrides[k]!;
      }
      map[o] = off;
      for (let k = dims.length - 1; k >= 0; k--) { if (++coord[k]! < outDims[k]!) break; coord[k] = 0; }
    }
    return [takeElements(x!, map, outDims)];
  },
});
