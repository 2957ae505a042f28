// DeformConv (opsets 19, 22): a grouped convolution whose kernel taps sample the input at learned
// fractional offsets from their regular grid positions, with multilinear interpolation (zero
// outside the input) and an optional per-tap modulation mask. N-D: offsets come per spatial axis.
// The kernel gathers the modulated samples of one image into columns (channel, tap, position)
// and then contracts them with the weights group by group, like im2col convolution.
import type { AttrValue, ValueType } from '../graph/ir.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { Dim } from '../tensor/shape.js';
import { defineOp, type InferContext } from './registry.js';
import { sameDType } from './util.js';
import { WIDE_FLOAT_TYPES } from './wide-types.js';

const positive = (v: AttrValue): string | undefined => ((v as number) >= 1 ? undefined : 'must be >= 1');
const positiveInts = (v: AttrValue): string | undefined =>
  Array.isArray(v) && v.some((x) => (x as number) < 1) ? 'every value must be >= 1' : undefined;
const nonNegativeInts = (v: AttrValue): string | undefined =>
  Array.isArray(v) && v.some((x) => (x as number) < 0) ? 'every value must be >= 0' : undefined;

/** Window attributes of one node, resolved for `rank` spatial axes. */
interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  group: number;
  offsetGroup: number;
}

function readWindow(ctx: Pick<InferContext, 'attrs' | 'where'>, rank: number, weightKernel: readonly Dim[]): Window {
  const list = (name: string, fill: number, len = rank): number[] => {
    const v = ctx.attrs.optInts(name);
    if (v === undefined) return new Array<number>(len).fill(fill);
    if (v.length !== len) throw new Error(`${ctx.where}: '${name}' has ${v.length} values, expected ${len}`);
    return v;
  };
  let kernel = ctx.attrs.optInts('kernel_shape');
  if (kernel) {
    if (kernel.length !== rank) throw new Error(`${ctx.where}: 'kernel_shape' has ${kernel.length} values, expected ${rank}`);
    weightKernel.forEach((d, i) => {
      if (typeof d === 'number' && d !== kernel![i]) throw new Error(`${ctx.where}: kernel_shape [${kernel!.join(', ')}] does not match the weight's [${weightKernel.join(', ')}]`);
    });
  } else {
    if (!weightKernel.every((d): d is number => typeof d === 'number')) throw new Error(`${ctx.where}: the kernel shape is unknown`);
    kernel = [...weightKernel];
  }
  const pads = list('pads', 0, 2 * rank);
  return {
    kernel,
    strides: list('strides', 1),
    dilations: list('dilations', 1),
    padBegin: pads.slice(0, rank),
    padEnd: pads.slice(rank),
    group: ctx.attrs.int('group'),
    offsetGroup: ctx.attrs.int('offset_group'),
  };
}

function outSize(inSize: number, w: Window, i: number): number {
  return Math.floor((inSize + w.padBegin[i]! + w.padEnd[i]! - ((w.kernel[i]! - 1) * w.dilations[i]! + 1)) / w.strides[i]!) + 1;
}

/**
 * The reference kernel's consistency checks, on whatever dims are known at plan time, so that
 * every backend refuses an inconsistent node before running it: channels vs group and
 * offset_group, a non-empty output, and the offset, mask and bias shapes.
 */
function checkKnownShapes(ctx: InferContext, x: readonly Dim[], w: readonly Dim[], win: Window, outSp: readonly Dim[]): void {
  const num = (d: Dim | undefined): d is number => typeof d === 'number';
  const [N, C] = [x[0], x[1]];
  const M = w[0];
  const G = win.group, OG = win.offsetGroup;
  if ((num(C) && num(w[1]) && C !== w[1] * G) || (num(M) && M % G !== 0)) {
    throw new Error(`${ctx.where}: X has ${C} channels and W shape [${w.join(', ')}], inconsistent with group ${G}`);
  }
  if (num(C) && C % OG !== 0) throw new Error(`${ctx.where}: ${C} input channels are not divisible by offset_group ${OG}`);
  if (outSp.some((d) => num(d) && d < 1)) {
    throw new Error(`${ctx.where}: the output would be empty (input [${x.slice(2).join(', ')}], kernel [${win.kernel.join(', ')}])`);
  }
  const K = win.kernel.reduce((a, b) => a * b, 1);
  const rank = x.length - 2;
  const expectDims = (i: number, channels: number, what: string): void => {
    const t = ctx.inputs[i]?.shape;
    if (!t) return;
    const want: Dim[] = [N ?? '?', channels, ...outSp];
    if (t.length !== want.length || t.some((d, j) => num(d) && num(want[j]) && d !== want[j])) {
      throw new Error(`${ctx.where}: ${what} has shape [${t.join(', ')}], expected [${want.join(', ')}]`);
    }
  };
  expectDims(2, OG * K * rank, 'offset');
  expectDims(4, OG * K, 'mask');
  const b = ctx.inputs[3]?.shape;
  if (b && (b.length !== 1 || (num(b[0]) && num(M) && b[0] !== M))) throw new Error(`${ctx.where}: B must have shape [${M}], got [${b.join(', ')}]`);
}

defineOp({
  name: 'DeformConv',
  inputs: [
    { name: 'X', types: WIDE_FLOAT_TYPES },
    { name: 'W', types: WIDE_FLOAT_TYPES },
    { name: 'offset', types: WIDE_FLOAT_TYPES },
    { name: 'B', optional: true, types: WIDE_FLOAT_TYPES },
    { name: 'mask', optional: true, types: WIDE_FLOAT_TYPES },
  ],
  outputs: [{ name: 'Y' }],
  attrs: {
    dilations: { type: 'ints', validate: positiveInts },
    group: { type: 'int', default: 1, validate: positive },
    kernel_shape: { type: 'ints', validate: positiveInts },
    offset_group: { type: 'int', default: 1, validate: positive },
    pads: { type: 'ints', validate: nonNegativeInts },
    strides: { type: 'ints', validate: positiveInts },
  },
  inferShape: (ctx): ValueType[] => {
    const dtype = sameDType(ctx, [0, 1, 2, 3, 4]);
    const x = ctx.inputs[0]?.shape, w = ctx.inputs[1]?.shape, off = ctx.inputs[2]?.shape;
    if (!x || !w) return [{ dtype }];
    if (x.length < 3) throw new Error(`${ctx.where}: X must have at least one spatial axis (rank >= 3), got rank ${x.length}`);
    if (w.length !== x.length) throw new Error(`${ctx.where}: W has rank ${w.length}, X has rank ${x.length}`);
    const rank = x.length - 2;
    const win = readWindow(ctx, rank, w.slice(2));
    const spatial = x.slice(2).map((d, i): Dim => {
      if (typeof d === 'number') return outSize(d, win, i);
      return off?.[i + 2] ?? ctx.unknownDim();
    });
    checkKnownShapes(ctx, x, w, win, spatial);
    return [{ dtype, shape: [x[0]!, w[0]!, ...spatial] }];
  },
  reference: ([xT, wT, offT, bT, maskT], ctx) => {
    const where = ctx.where;
    for (const t of [wT, offT, bT, maskT]) if (t && t.type !== xT!.type) throw new Error(`${where}: inputs must share X's dtype ${xT!.type}`);
    const xd = xT!.dims, wd = wT!.dims;
    if (xd.length < 3) throw new Error(`${where}: X must have at least one spatial axis (rank >= 3), got rank ${xd.length}`);
    if (wd.length !== xd.length) throw new Error(`${where}: W has rank ${wd.length}, X has rank ${xd.length}`);
    const rank = xd.length - 2;
    const win = readWindow(ctx, rank, wd.slice(2));
    const [N, C] = [xd[0]!, xd[1]!];
    const M = wd[0]!;
    const G = win.group, OG = win.offsetGroup;
    if (C !== wd[1]! * G || M % G !== 0) throw new Error(`${where}: X has ${C} channels and W shape [${wd.join(', ')}], inconsistent with group ${G}`);
    if (C % OG !== 0) throw new Error(`${where}: ${C} input channels are not divisible by offset_group ${OG}`);
    const inSp = xd.slice(2);
    const outSp = inSp.map((d, i) => outSize(d, win, i));
    if (outSp.some((d) => d < 1)) throw new Error(`${where}: the output would be empty (input [${inSp.join(', ')}], kernel [${win.kernel.join(', ')}])`);
    const K = win.kernel.reduce((a, b) => a * b, 1); // taps
    const P = outSp.reduce((a, b) => a * b, 1); // output positions
    const expectDims = (t: { dims: readonly number[] }, channels: number, what: string) => {
      const want = [N, channels, ...outSp];
      if (t.dims.join() !== want.join()) throw new Error(`${where}: ${what} has shape [${t.dims.join(', ')}], expected [${want.join(', ')}]`);
    };
    expectDims(offT!, OG * K * rank, 'offset');
    if (maskT) expectDims(maskT, OG * K, 'mask');
    if (bT && (bT.dims.length !== 1 || bT.dims[0] !== M)) throw new Error(`${where}: B must have shape [${M}], got [${bT.dims.join(', ')}]`);

    const x = toNumbers(xT!), w = toNumbers(wT!), off = toNumbers(offT!);
    const mask = maskT ? toNumbers(maskT) : undefined;
    const bias = bT ? toNumbers(bT) : undefined;
    const inPlane = inSp.reduce((a, b) => a * b, 1);
    const inStrides = inSp.map((_, i) => inSp.slice(i + 1).reduce((a, b) => a * b, 1));
    const cPerOG = C / OG, cPerG = C / G, mPerG = M / G;
    const cols = new Float64Array(C * K * P); // modulated samples, (channel, tap, position)
    const y = new Float64Array(N * M * P);
    const tap = new Array<number>(rank), pos = new Array<number>(rank), at = new Float64Array(rank);
    const corners = 1 << rank;
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < OG; g++) {
        for (let t = 0; t < K; t++) {
          unravel(t, win.kernel, tap);
          for (let p = 0; p < P; p++) {
            unravel(p, outSp, pos);
            for (let i = 0; i < rank; i++) {
              const o = off[((n * OG + g) * K * rank + t * rank + i) * P + p]!;
              at[i] = pos[i]! * win.strides[i]! - win.padBegin[i]! + tap[i]! * win.dilations[i]! + o;
            }
            const m = mask ? mask[((n * OG + g) * K + t) * P + p]! : 1;
            // Multilinear interpolation: each of the 2^rank surrounding grid points that lies
            // inside the input contributes with the product of its per-axis weights.
            for (let c = g * cPerOG; c < (g + 1) * cPerOG; c++) {
              const xBase = (n * C + c) * inPlane;
              let v = 0;
              for (let corner = 0; corner < corners; corner++) {
                let weight = 1, idx = xBase, inside = true;
                for (let i = 0; i < rank && inside; i++) {
                  const lo = Math.floor(at[i]!);
                  const hi = (corner >> i) & 1;
                  const coord = lo + hi;
                  if (coord < 0 || coord >= inSp[i]!) inside = false;
                  weight *= hi ? at[i]! - lo : 1 - (at[i]! - lo);
                  idx += coord * inStrides[i]!;
                }
                if (inside && weight !== 0) v += weight * x[idx]!;
              }
              cols[(c * K + t) * P + p] = v * m;
            }
          }
        }
      }
      // Y[n, m] = B[m] + sum over the group's channels and taps of W[m, c, tap] * cols[c, tap].
      for (let m = 0; m < M; m++) {
        const yRow = (n * M + m) * P;
        if (bias) y.fill(bias[m]!, yRow, yRow + P);
        const gc0 = Math.floor(m / mPerG) * cPerG;
        for (let ck = 0; ck < cPerG * K; ck++) {
          const wv = w[m * cPerG * K + ck]!;
          const colRow = (gc0 * K + ck) * P;
          for (let p = 0; p < P; p++) y[yRow + p]! += wv * cols[colRow + p]!;
        }
      }
    }
    return [fromNumbers(xT!.type, y, [N, M, ...outSp])];
  },
});

/** Multi-index of flat index `i` in `dims` (row-major), written into `out`. */
function unravel(i: number, dims: readonly number[], out: number[]): void {
  for (let d = dims.length - 1; d >= 0; d--) {
    out[d] = i % dims[d]!;
    i = Math.floor(i / dims[d]!);
  }
}
