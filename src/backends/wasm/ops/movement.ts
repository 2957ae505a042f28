// WASM kernels for ops that only move bytes, for every dtype with whole-byte elements (int4 falls
// back): Reshape/Flatten/Squeeze/Unsqueeze share their input's bytes (aliasOf); Transpose, Slice,
// Concat, Split, Expand, Tile, Pad (constant mode), DepthToSpace and SpaceToDepth are strided
// copies planned here as walks (kernels/strided.ts); Gather copies whole slices by index.
import { toIntList } from '../../../tensor/convert.js';
import type { DType } from '../../../tensor/dtype.js';
import { registerWasmKernel, type PlannedType, type PreparedKernel, type WasmKernelFactory, type WasmMemory, type WasmPlanContext } from '../kernel.js';
import { copyStrided, gatherRows, type ElemSize } from '../kernels/movement.js';
import { stridesOf } from '../../../tensor/shape.js';
import { broadcastStrides, collapseWalk, elementCount, layoutDescriptors, walkDescriptor, walkRows, type StridedWalk } from '../kernels/strided.js';

const ELEM_SIZE: Partial<Record<DType, ElemSize>> = {
  float32: 4, int32: 4, int64: 8, float16: 2, int8: 1, uint8: 1, bool: 1,
  float64: 8, int16: 2, uint16: 2, uint32: 4, uint64: 8,
};

const elemSizeOf = (t: PlannedType | undefined): ElemSize | undefined => (t ? ELEM_SIZE[t.dtype] : undefined);

function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : undefined;
}

// ---- views ------------------------------------------------------------------------------------

const aliasKernel: PreparedKernel = {
  aliasOf: 0,
  run(mem, [x], [y]) {
    if (x!.ptr !== y!.ptr) mem.u8(y!.ptr, y!.byteLength).set(mem.u8(x!.ptr, y!.byteLength));
  },
};

for (const op of ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']) registerWasmKernel(op, () => aliasKernel);

// ---- strided copies ---------------------------------------------------------------------------

/** One copy: a walk whose operand 0 reads input `input` and operand 1 writes output `output`. */
interface Copy {
  walk: StridedWalk;
  input: number;
  output: number;
  /** Element offsets added to the input/output pointers. */
  srcOffset: number;
  dstOffset: number;
}

/** Fills output 0 with a scalar before the copies (Pad). */
type Fill = (mem: WasmMemory, ptr: number, count: number, inputs: Parameters<PreparedKernel['run']>[1]) => void;

function copyKernel(elemSize: ElemSize, copies: readonly Copy[], fill?: { fill: Fill; count: number }): PreparedKernel {
  const live = copies.filter((c) => elementCount(c.walk.dims) > 0);
  const layout = layoutDescriptors(live.map((c) => walkDescriptor(collapseWalk(c.walk))));
  const { offsets } = layout;
  const rows = live.map((c) => walkRows(collapseWalk(c.walk)));
  return {
    persistentBytes: layout.bytes,
    init: layout.write,
    run(mem, inputs, outputs, _scratch, p) {
      if (fill && fill.count > 0) fill.fill(mem, outputs[0]!.ptr, fill.count, inputs);
      live.forEach((c, i) => {
        const src = inputs[c.input]!.ptr + c.srcOffset * elemSize;
        const dst = outputs[c.output]!.ptr + c.dstOffset * elemSize;
        copyStrided(mem.exports, elemSize, src, dst, p + offsets[i]!, 0, rows[i]!);
      });
    },
  };
}

/** A copy of a whole contiguous input walked in output order through `srcStrides`. */
function gatherCopy(outDims: readonly number[], srcStrides: readonly number[], srcOffset = 0): Copy {
  return { walk: { dims: [...outDims], strides: [[...srcStrides], stridesOf(outDims)] }, input: 0, output: 0, srcOffset, dstOffset: 0 };
}

registerWasmKernel('Transpose', (ctx) => {
  const x = ctx.inputs[0]!;
  const size = elemSizeOf(x);
  if (!size) return undefined;
  const rank = x.dims.length;
  const perm = ctx.attrs.optInts('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const strides = stridesOf(x.dims);
  return copyKernel(size, [gatherCopy(perm.map((p) => x.dims[p]!), perm.map((p) => strides[p]!))]);
});

/** Six-dim rearrangements of DepthToSpace/SpaceToDepth (as in src/ops/layout-space.ts). */
function rearrangeFactory(six: (d: number[], b: number, crd: boolean) => { dims: number[]; perm: number[] } | undefined): WasmKernelFactory {
  return (ctx) => {
    const x = ctx.inputs[0]!;
    const size = elemSizeOf(x);
    if (!size || x.dims.length !== 4) return undefined;
    // SpaceToDepth has no mode attribute; DepthToSpace defaults to DCR.
    const r = six([...x.dims], ctx.attrs.int('blocksize'), ctx.node.op === 'DepthToSpace' && ctx.attrs.string('mode') === 'CRD');
    if (!r) return undefined;
    const strides = stridesOf(r.dims);
    return copyKernel(size, [gatherCopy(r.perm.map((p) => r.dims[p]!), r.perm.map((p) => strides[p]!))]);
  };
}

registerWasmKernel('DepthToSpace', rearrangeFactory(([n, c, h, w], b, crd) => {
  if (c! % (b * b) !== 0) return undefined;
  const cc = c! / (b * b);
  return crd
    ? { dims: [n!, cc, b, b, h!, w!], perm: [0, 1, 4, 2, 5, 3] }
    : { dims: [n!, b, b, cc, h!, w!], perm: [0, 3, 4, 1, 5, 2] };
}));

registerWasmKernel('SpaceToDepth', rearrangeFactory(([n, c, h, w], b) => {
  if (h! % b !== 0 || w! % b !== 0) return undefined;
  return { dims: [n!, c!, h! / b, b, w! / b, b], perm: [0, 3, 5, 1, 2, 4] };
}));

registerWasmKernel('Expand', (ctx) => {
  const x = ctx.inputs[0]!;
  const size = elemSizeOf(x);
  if (!size) return undefined;
  const out = ctx.outputs[0]!.dims;
  return copyKernel(size, [gatherCopy(out, broadcastStrides(x.dims, out))]);
});

registerWasmKernel('Tile', (ctx) => {
  const x = ctx.inputs[0]!;
  const size = elemSizeOf(x);
  if (!size) return undefined;
  const out = ctx.outputs[0]!.dims;
  if (out.length !== x.dims.length) return undefined;
  // Output axis k of size r*d is walked as [r, d]: repeats read with stride 0.
  const strides = stridesOf(x.dims);
  const dims: number[] = [];
  const src: number[] = [];
  x.dims.forEach((d, k) => {
    dims.push(d === 0 ? 0 : out[k]! / d, d);
    src.push(0, strides[k]!);
  });
  return copyKernel(size, [{ walk: { dims, strides: [src, stridesOf(dims)] }, input: 0, output: 0, srcOffset: 0, dstOffset: 0 }]);
});

/** Concat/Split: the piece of each part inside the whole along `axis`, as a walk over the part. */
function partCopies(whole: readonly number[], parts: readonly (readonly number[] | undefined)[], axis: number, intoWhole: boolean): Copy[] {
  const wholeStrides = stridesOf(whole);
  const copies: Copy[] = [];
  let start = 0;
  parts.forEach((dims, i) => {
    if (!dims) return;
    const own = stridesOf(dims);
    const walk: StridedWalk = { dims: [...dims], strides: intoWhole ? [own, wholeStrides] : [wholeStrides, own] };
    const offset = start * wholeStrides[axis]!;
    copies.push(intoWhole
      ? { walk, input: i, output: 0, srcOffset: 0, dstOffset: offset }
      : { walk, input: 0, output: i, srcOffset: offset, dstOffset: 0 });
    start += dims[axis]!;
  });
  return copies;
}

registerWasmKernel('Concat', (ctx) => {
  const size = elemSizeOf(ctx.outputs[0]);
  if (!size || !ctx.inputs.every((t) => t && t.dtype === ctx.outputs[0]!.dtype)) return undefined;
  const out = ctx.outputs[0]!.dims;
  const axis = normAxis(ctx.attrs.int('axis'), out.length);
  if (axis === undefined) return undefined;
  return copyKernel(size, partCopies(out, ctx.inputs.map((t) => t!.dims), axis, true));
});

registerWasmKernel('Split', (ctx) => {
  const x = ctx.inputs[0]!;
  const size = elemSizeOf(x);
  if (!size) return undefined;
  const axis = normAxis(ctx.attrs.int('axis'), x.dims.length);
  if (axis === undefined) return undefined;
  // Every part advances the offset, named or not; unnamed outputs are simply not written.
  const copies = partCopies(x.dims, ctx.outputs.map((o) => o.dims), axis, false);
  return copyKernel(size, copies.filter((c) => (ctx.node.outputs[c.output] ?? '') !== ''));
});

/** Per-axis first element, step and count, as the reference's sliceAxis resolves them. */
function sliceAxis(dim: number, start: number, end: number, step: number): { start: number; step: number } {
  let s = start < 0 ? start + dim : start;
  if (step > 0) s = Math.min(Math.max(s, 0), dim);
  else s = Math.min(Math.max(s, 0), dim - 1);
  return { start: s, step };
}

registerWasmKernel('Slice', (ctx) => {
  const x = ctx.inputs[0]!;
  const size = elemSizeOf(x);
  if (!size) return undefined;
  const consts = [1, 2, 3, 4].map((i) => (ctx.inputs[i] ? ctx.constant(i) : undefined));
  if (!consts[0] || !consts[1] || (ctx.inputs[3] && !consts[2]) || (ctx.inputs[4] && !consts[3])) return undefined;
  const starts = toIntList(consts[0]);
  const ends = toIntList(consts[1]);
  const rank = x.dims.length;
  const axes = consts[2] ? toIntList(consts[2]).map((a) => normAxis(a, rank)) : starts.map((_, i) => i);
  const steps = consts[3] ? toIntList(consts[3]) : starts.map(() => 1);
  if (axes.some((a) => a === undefined) || steps.some((s) => s === 0) || ends.length !== starts.length) return undefined;
  const out = ctx.outputs[0]!.dims;
  const strides = stridesOf(x.dims);
  const first = x.dims.map(() => 0);
  const step = x.dims.map(() => 1);
  axes.forEach((a, i) => {
    const s = sliceAxis(x.dims[a!]!, starts[i]!, ends[i]!, steps[i]!);
    first[a!] = s.start;
    step[a!] = s.step;
  });
  const empty = elementCount(out) === 0;
  const base = empty ? 0 : first.reduce((acc, f, k) => acc + f * strides[k]!, 0);
  return copyKernel(size, [gatherCopy(out, strides.map((s, k) => s * step[k]!), base)]);
});

// ---- Pad (constant mode) ----------------------------------------------------------------------

function fillValue(dtype: DType): Fill {
  return (mem, ptr, count, inputs) => {
    const cv = inputs[2];
    const buf = mem.buffer();
    switch (dtype) {
      case 'float32': new Float32Array(buf, ptr, count).fill(cv ? mem.f32(cv.ptr, 1)[0]! : 0); break;
      case 'int32': new Int32Array(buf, ptr, count).fill(cv ? mem.i32(cv.ptr, 1)[0]! : 0); break;
      case 'int64': new BigInt64Array(buf, ptr, count).fill(cv ? new BigInt64Array(buf, cv.ptr, 1)[0]! : 0n); break;
      case 'float16': new Uint16Array(buf, ptr, count).fill(cv ? new Uint16Array(buf, cv.ptr, 1)[0]! : 0); break;
      default: new Uint8Array(buf, ptr, count).fill(cv ? mem.u8(cv.ptr, 1)[0]! : 0);
    }
  };
}

const FILLABLE: readonly DType[] = ['float32', 'int32', 'int64', 'float16', 'int8', 'uint8', 'bool'];

registerWasmKernel('Pad', (ctx: WasmPlanContext) => {
  const x = ctx.inputs[0]!;
  const size = elemSizeOf(x);
  if (!size || !FILLABLE.includes(x.dtype) || ctx.attrs.string('mode') !== 'constant') return undefined;
  const padsT = ctx.constant(1);
  const axesT = ctx.inputs[3] ? ctx.constant(3) : undefined;
  if (!padsT || (ctx.inputs[3] && !axesT)) return undefined;
  const cv = ctx.inputs[2];
  if (cv && (cv.dtype !== x.dtype || elementCount(cv.dims) < 1)) return undefined;
  const rank = x.dims.length;
  const axes = axesT ? toIntList(axesT).map((a) => normAxis(a, rank)) : x.dims.map((_, i) => i);
  const pads = toIntList(padsT);
  if (axes.some((a) => a === undefined) || pads.length !== 2 * axes.length) return undefined;
  const begin = x.dims.map(() => 0);
  axes.forEach((a, i) => { begin[a!] = pads[i]!; });
  const out = ctx.outputs[0]!.dims;
  // The part of the input that lands in the output (negative pads crop).
  const inStrides = stridesOf(x.dims);
  const outStrides = stridesOf(out);
  const dims = x.dims.map((d, k) => Math.max(0, Math.min(d - Math.max(0, -begin[k]!), out[k]! - Math.max(0, begin[k]!))));
  const srcOffset = x.dims.reduce((acc, _, k) => acc + Math.max(0, -begin[k]!) * inStrides[k]!, 0);
  const dstOffset = out.reduce((acc, _, k) => acc + Math.max(0, begin[k]!) * outStrides[k]!, 0);
  const copy: Copy = { walk: { dims, strides: [inStrides, outStrides] }, input: 0, output: 0, srcOffset, dstOffset };
  return copyKernel(size, elementCount(dims) > 0 ? [copy] : [], { fill: fillValue(x.dtype), count: elementCount(out) });
});

// ---- Gather -----------------------------------------------------------------------------------

registerWasmKernel('Gather', (ctx) => {
  const [x, ind] = ctx.inputs;
  const size = elemSizeOf(x);
  if (!x || !ind || !size || x.dims.length === 0 || (ind.dtype !== 'int32' && ind.dtype !== 'int64')) return undefined;
  const axis = normAxis(ctx.attrs.int('axis'), x.dims.length);
  if (axis === undefined) return undefined;
  const axisLen = x.dims[axis]!;
  const nIdx = elementCount(ind.dims);
  const c = ctx.constant(1);
  // Constant indices out of range: the reference kernel reports the error.
  if (c && toIntList(c).some((v) => v < -axisLen || v >= axisLen)) return undefined;
  const outer = elementCount(x.dims.slice(0, axis));
  const innerBytes = elementCount(x.dims.slice(axis + 1)) * size;
  const empty = elementCount(ctx.outputs[0]!.dims) === 0;
  return {
    run(mem, [xv, iv], [y]) {
      if (empty) return;
      const bad = gatherRows(mem.exports, xv!.ptr, iv!.ptr, ind.dtype === 'int64', y!.ptr, axisLen, nIdx, innerBytes, 0, outer);
      if (bad >= 0) throw new Error(`${ctx.node.name} (Gather): index at position ${bad} is out of bounds for axis of size ${axisLen}`);
    },
  };
});
