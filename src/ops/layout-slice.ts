// Slice with negative steps, clamping and out-of-range bounds per the ONNX spec.
import { toIntList } from '../tensor/convert.js';
import { stridesOf, type Dim } from '../tensor/shape.js';
import { axisOffsets, constInts, indexFromOffsets, knownLength, normalizeAxes, takeElements } from './layout-util.js';
import { defineOp } from './registry.js';
import { ALL_TYPES, INDEX_TYPES, inputType } from './util.js';

interface SliceAxis { start: number; step: number; count: number }

/** Resolves one axis of a Slice per the spec: negatives count from the end, then clamp by step sign. */
function sliceAxis(dim: number, start: number, end: number, step: number): SliceAxis {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = Math.min(Math.max(s, 0), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return { start: s, step, count: Math.max(0, Math.ceil((s - e) / -step)) };
}

interface SliceSpec { axes: number[]; starts: number[]; ends: number[]; steps: number[] }

function sliceSpec(rank: number, starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined, where: string): SliceSpec {
  const n = starts.length;
  if (ends.length !== n) throw new Error(`${where}: starts has ${n} entries but ends has ${ends.length}`);
  if (axes && axes.length !== n) throw new Error(`${where}: starts has ${n} entries but axes has ${axes.length}`);
  if (steps && steps.length !== n) throw new Error(`${where}: starts has ${n} entries but steps has ${steps.length}`);
  const st = steps ?? new Array<number>(n).fill(1);
  if (st.includes(0)) throw new Error(`${where}: slice step may not be 0`);
  return { axes: normalizeAxes(axes ?? Array.from({ length: n }, (_, i) => i), rank, where), starts, ends, steps: st };
}

/** Largest `end` that means "to the end" for a symbolic dim (INT_MAX-style sentinels). */
const OPEN_END = 2 ** 31 - 1;

defineOp({
  name: 'Slice',
  inputs: [
    { name: 'data', types: ALL_TYPES },
    { name: 'starts', types: INDEX_TYPES },
    { name: 'ends', types: INDEX_TYPES },
    { name: 'axes', optional: true, types: INDEX_TYPES },
    { name: 'steps', optional: true, types: INDEX_TYPES },
  ],
  outputs: [{ name: 'output' }],
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype }];
    const shape = x.shape;
    const starts = constInts(ctx, 1);
    const ends = constInts(ctx, 2);
    const axes = ctx.inputs[3] ? constInts(ctx, 3) : undefined;
    const steps = ctx.inputs[4] ? constInts(ctx, 4) : undefined;
    // starts, ends, axes and steps pair up entry by entry: declared lengths that disagree are
    // refused at plan time even when the values are only known at run time.
    const names = ['starts', 'ends', 'axes', 'steps'];
    const lengths = [starts, ends, axes, steps].map((c, k) => (ctx.inputs[k + 1] ? (c?.length ?? knownLength(ctx, k + 1)) : undefined));
    const n0 = lengths[0];
    lengths.forEach((n, k) => {
      if (k > 0 && n !== undefined && n0 !== undefined && n !== n0) throw new Error(`${ctx.where}: starts has ${n0} entries but ${names[k]} has ${n}`);
    });
    const axesKnown = !ctx.inputs[3] || axes !== undefined;
    const stepsKnown = !ctx.inputs[4] || steps !== undefined;
    if (!starts || !ends || !axesKnown || !stepsKnown) {
      // Which axes are sliced may still be known even when the bounds are not.
      const n = starts?.length ?? knownLength(ctx, 1);
      const sliced = axes ?? (!ctx.inputs[3] && n !== undefined ? Array.from({ length: n }, (_, i) => i) : undefined);
      if (!sliced) return [{ dtype: x.dtype, shape: shape.map(() => ctx.unknownDim()) }];
      const set = new Set(normalizeAxes(sliced, shape.length, ctx.where));
      return [{ dtype: x.dtype, shape: shape.map((d, k) => (set.has(k) ? ctx.unknownDim() : d)) }];
    }
    const spec = sliceSpec(shape.length, starts, ends, axes, steps, ctx.where);
    const out: Dim[] = [...shape];
    spec.axes.forEach((a, i) => {
      const d = shape[a]!;
      const [s, e, st] = [spec.starts[i]!, spec.ends[i]!, spec.steps[i]!];
      if (typeof d === 'number') out[a] = sliceAxis(d, s, e, st).count;
      else out[a] = st === 1 && s === 0 && e >= OPEN_END ? d : ctx.unknownDim();
    });
    return [{ dtype: x.dtype, shape: out }];
  },
  reference: ([x, startsT, endsT, axesT, stepsT], ctx) => {
    const dims = x!.dims;
    const spec = sliceSpec(dims.length, toIntList(startsT!), toIntList(endsT!),
      axesT ? toIntList(axesT) : undefined, stepsT ? toIntList(stepsT) : undefined, ctx.where);
    const plan: SliceAxis[] = dims.map((d) => ({ start: 0, step: 1, count: d }));
    spec.axes.forEach((a, i) => { plan[a] = sliceAxis(dims[a]!, spec.starts[i]!, spec.ends[i]!, spec.steps[i]!); });
    const strides = stridesOf(dims);
    const outDims = plan.map((p) => p.count);
    const offsets = plan.map((p, k) => axisOffsets(p.count, strides[k]!, (c) => p.start + c * p.step));
    return [takeElements(x!, indexFromOffsets(outDims, offsets), outDims)];
  },
});

