// Pad: constant, reflect, edge and wrap modes; negative pads crop.
import { toIntList } from '../tensor/convert.js';
import { stridesOf, validateDims, type Dim } from '../tensor/shape.js';
import { axisOffsets, constInts, elementAt, indexFromOffsets, knownLength, normalizeAxes, takeElements } from './layout-util.js';
import { defineOp } from './registry.js';
import { ALL_TYPES, INDEX_TYPES, inputType } from './util.js';

const MODES = ['constant', 'reflect', 'edge', 'wrap'];

/** [begin, end] pad per axis of a rank-r tensor from pads laid out as [begins..., ends...] over `axes`. */
function padsPerAxis(rank: number, pads: number[], axes: number[] | undefined, where: string): [number, number][] {
  const ax = normalizeAxes(axes ?? Array.from({ length: rank }, (_, i) => i), rank, where);
  if (pads.length !== 2 * ax.length) {
    throw new Error(`${where}: pads has ${pads.length} entries, expected ${2 * ax.length} for ${ax.length} axes`);
  }
  const out: [number, number][] = Array.from({ length: rank }, () => [0, 0]);
  ax.forEach((a, i) => { out[a] = [pads[i]!, pads[i + ax.length]!]; });
  return out;
}

/** Source coordinate for position x (relative to the data's start) along an axis of size d; -1 means the fill value. */
function sourceCoord(mode: string, x: number, d: number): number {
  if (x >= 0 && x < d) return x;
  switch (mode) {
    case 'edge': return x < 0 ? 0 : d - 1;
    case 'wrap': return ((x % d) + d) % d;
    case 'reflect': {
      if (d === 1) return 0;
      // Mirror without repeating the edge, periodic with period 2(d-1) like numpy's reflect.
      const p = 2 * (d - 1);
      const m = ((x % p) + p) % p;
      return m < d ? m : p - m;
    }
    default: return -1;
  }
}

defineOp({
  name: 'Pad',
  inputs: [
    { name: 'data', types: ALL_TYPES },
    { name: 'pads', types: INDEX_TYPES },
    { name: 'constant_value', optional: true, types: ALL_TYPES },
    { name: 'axes', optional: true, types: INDEX_TYPES },
  ],
  outputs: [{ name: 'output' }],
  attrs: {
    mode: { type: 'string', default: 'constant', validate: (v) => (MODES.includes(v as string) ? undefined : `must be one of ${MODES.join(', ')}`) },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const cv = ctx.inputs[2];
    if (cv && cv.dtype !== x.dtype) throw new Error(`${ctx.where}: constant_value has dtype ${cv.dtype} but data has ${x.dtype}`);
    if (!x.shape) return [{ dtype: x.dtype }];
    const pads = constInts(ctx, 1);
    const axes = ctx.inputs[3] ? constInts(ctx, 3) : undefined;
    // Declared lengths: pads needs two entries per padded axis even when its values come at run time.
    const padCount = pads?.length ?? knownLength(ctx, 1);
    const axisCount = ctx.inputs[3] ? (axes?.length ?? knownLength(ctx, 3)) : x.shape.length;
    if (padCount !== undefined && axisCount !== undefined && padCount !== 2 * axisCount) {
      throw new Error(`${ctx.where}: pads has ${padCount} entries, expected ${2 * axisCount} for ${axisCount} axes`);
    }
    if (!pads || (ctx.inputs[3] && !axes)) return [{ dtype: x.dtype, shape: x.shape.map(() => ctx.unknownDim()) }];
    const per = padsPerAxis(x.shape.length, pads, axes, ctx.where);
    const shape = x.shape.map((d, k): Dim => {
      const [b, e] = per[k]!;
      if (typeof d !== 'number') return b + e === 0 ? d : ctx.unknownDim();
      if (d + b + e < 0) throw new Error(`${ctx.where}: pads [${b}, ${e}] crop axis ${k} of size ${d} below zero`);
      return d + b + e;
    });
    validateDims(shape.filter((d): d is number => typeof d === 'number'), `${ctx.where}: output`);
    return [{ dtype: x.dtype, shape }];
  },
  reference: ([x, padsT, cv, axesT], ctx) => {
    const mode = ctx.attrs.string('mode');
    const dims = x!.dims;
    if (cv && cv.type !== x!.type) throw new Error(`${ctx.where}: constant_value has dtype ${cv.type} but data has ${x!.type}`);
    if (cv && cv.size < 1) throw new Error(`${ctx.where}: constant_value is empty`);
    const per = padsPerAxis(dims.length, toIntList(padsT!), axesT ? toIntList(axesT) : undefined, ctx.where);
    const outDims = dims.map((d, k) => {
      const n = d + per[k]![0] + per[k]![1];
      if (n < 0) throw new Error(`${ctx.where}: pads [${per[k]!.join(', ')}] crop axis ${k} of size ${d} below zero`);
      const kept = d + Math.min(per[k]![0], 0) + Math.min(per[k]![1], 0);
      if (mode !== 'constant' && kept <= 0 && n > 0) throw new Error(`${ctx.where}: cannot ${mode}-pad an empty axis ${k}`);
      return n;
    });
    // Pads are data: bound the padded size before the per-axis tables are allocated.
    validateDims(outDims, `${ctx.where}: output`);
    const strides = stridesOf(dims);
    // Negative pads crop first; the positive side then pads the cropped data (as onnxruntime does,
    // which matters for wrap, whose period is the cropped length).
    const offsets = outDims.map((n, k) => {
      const [b, e] = per[k]!;
      const lo = Math.max(0, -b);
      const len = dims[k]! - lo - Math.max(0, -e);
      return axisOffsets(n, strides[k]!, (c) => {
        const s = sourceCoord(mode, c - Math.max(b, 0), len);
        return s < 0 ? -1 : s + lo;
      });
    });
    const fill = mode === 'constant' && cv ? elementAt(cv, 0) : undefined;
    return [takeElements(x!, indexFromOffsets(outDims, offsets), outDims, fill)];
  },
});
