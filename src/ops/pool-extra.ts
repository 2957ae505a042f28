// Pooling relatives: LRN (cross-channel normalization), MaxUnpool (scatter back through MaxPool's
// indices), MaxRoiPool (Caffe ROI max pooling) and RoiAlign (bilinear ROI sampling, onnxruntime's
// algorithm including its 'max' mode that takes the largest weighted corner).
import { fromNumbers, toIntList, toNumbers } from '../tensor/convert.js';
import { sizeOfDims, type Dim } from '../tensor/shape.js';
import { defineOp } from './registry.js';
import { FLOAT_TYPES, INDEX_TYPES, inputType } from './util.js';

// ---- LRN ---------------------------------------------------------------------------------------

defineOp({
  name: 'LRN',
  inputs: [{ name: 'X', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: {
    alpha: { type: 'float', default: 0.0001 },
    beta: { type: 'float', default: 0.75 },
    bias: { type: 'float', default: 1.0 },
    size: { type: 'int', required: true, validate: (v) => ((v as number) >= 1 ? undefined : 'must be >= 1') },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (x.shape && x.shape.length < 2) throw new Error(`${ctx.where}: input must have rank >= 2 ([N, C, ...]), got ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  reference: ([x], ctx) => {
    const dims = x!.dims;
    if (dims.length < 2) throw new Error(`${ctx.where}: input must have rank >= 2 ([N, C, ...]), got ${dims.length}`);
    const alpha = ctx.attrs.float('alpha'), beta = ctx.attrs.float('beta'), bias = ctx.attrs.float('bias');
    const size = ctx.attrs.int('size');
    const v = toNumbers(x!);
    const n = dims[0]!, c = dims[1]!;
    const inner = sizeOfDims(dims.slice(2));
    // Channels c - floor((size-1)/2) .. c + ceil((size-1)/2), clipped to [0, C).
    const before = Math.floor((size - 1) / 2), after = Math.ceil((size - 1) / 2);
    const out = new Float64Array(v.length);
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        const lo = Math.max(0, ch - before), hi = Math.min(c - 1, ch + after);
        for (let i = 0; i < inner; i++) {
          let sq = 0;
          for (let k = lo; k <= hi; k++) { const e = v[(b * c + k) * inner + i]!; sq += e * e; }
          const at = (b * c + ch) * inner + i;
          out[at] = v[at]! / (bias + (alpha / size) * sq) ** beta;
        }
      }
    }
    return [fromNumbers(x!.type, out, dims)];
  },
});

// ---- MaxUnpool ---------------------------------------------------------------------------------

defineOp({
  name: 'MaxUnpool',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'I', types: ['int64'] }, { name: 'output_shape', types: ['int64'], optional: true }],
  outputs: [{ name: 'output' }],
  attrs: { kernel_shape: { type: 'ints', required: true }, pads: { type: 'ints' }, strides: { type: 'ints' } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (ctx.inputs[2]) {
      const s = ctx.constant(2);
      if (s) return [{ dtype: x.dtype, shape: toIntList(s) }];
      const len = ctx.inputs[2].shape?.[0];
      return [{ dtype: x.dtype, shape: typeof len === 'number' ? Array.from({ length: len }, () => ctx.unknownDim()) : undefined }];
    }
    if (!x.shape) return [{ dtype: x.dtype }];
    const geo = unpoolGeometry(ctx.attrs, x.shape.length, ctx.where);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i): Dim => (i < 2 || typeof d !== 'number' ? (i < 2 ? d : ctx.unknownDim()) : geo.size(i - 2, d))) }];
  },
  reference: ([x, ind, outShape], ctx) => {
    const dims = x!.dims;
    const geo = unpoolGeometry(ctx.attrs, dims.length, ctx.where);
    const inferred = dims.map((d, i) => (i < 2 ? d : geo.size(i - 2, d)));
    const target = outShape ? toIntList(outShape) : inferred;
    if (target.length !== dims.length) throw new Error(`${ctx.where}: output_shape has ${target.length} dims, input has ${dims.length}`);
    if (ind!.dims.join() !== dims.join()) throw new Error(`${ctx.where}: indices have shape [${ind!.dims.join(', ')}], expected [${dims.join(', ')}]`);
    target.forEach((d, i) => {
      if (d < inferred[i]!) throw new Error(`${ctx.where}: output_shape dim ${i} (${d}) is smaller than the unpooled size ${inferred[i]}`);
    });
    // Indices address the unpooled (inferred) layout, which then sits at the origin of output_shape.
    const v = toNumbers(x!);
    const idx = toIntList(ind!);
    const total = sizeOfDims(inferred);
    const out = new Float64Array(sizeOfDims(target));
    const rank = dims.length;
    for (let j = 0; j < v.length; j++) {
      const flat = idx[j]!;
      if (flat < 0 || flat >= total) throw new Error(`${ctx.where}: index ${flat} is outside the unpooled tensor of ${total} elements`);
      let rem = flat, off = 0, stride = 1;
      for (let d = rank - 1; d >= 0; d--) {
        off += (rem % inferred[d]!) * stride;
        rem = Math.floor(rem / inferred[d]!);
        stride *= target[d]!;
      }
      out[off] = v[j]!;
    }
    return [fromNumbers(x!.type, out, target)];
  },
});

function unpoolGeometry(attrs: { ints(n: string): number[]; optInts(n: string): number[] | undefined }, rank: number, where: string) {
  const k = attrs.ints('kernel_shape');
  const sp = rank - 2;
  if (sp < 1 || k.length !== sp) throw new Error(`${where}: kernel_shape has ${k.length} dims but the input has ${Math.max(sp, 0)} spatial dims`);
  const strides = attrs.optInts('strides') ?? k.map(() => 1);
  const pads = attrs.optInts('pads') ?? new Array<number>(2 * sp).fill(0);
  if (strides.length !== sp || pads.length !== 2 * sp) throw new Error(`${where}: strides/pads do not match ${sp} spatial dims`);
  return { size: (i: number, d: number) => (d - 1) * strides[i]! - (pads[i]! + pads[sp + i]!) + k[i]! };
}

// ---- MaxRoiPool --------------------------------------------------------------------------------

/** Round half away from zero (C's round), as the Caffe ROI pooling kernel does. */
const roundC = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

defineOp({
  name: 'MaxRoiPool',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'rois', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: { pooled_shape: { type: 'ints', required: true }, spatial_scale: { type: 'float', default: 1.0 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    const r = inputType(ctx, 1);
    const [ph, pw] = pooledShape(ctx.attrs.ints('pooled_shape'), ctx.where);
    if (x.shape && x.shape.length !== 4) throw new Error(`${ctx.where}: X must be 4-D [N, C, H, W], got rank ${x.shape.length}`);
    return [{ dtype: x.dtype, shape: [r.shape?.[0] ?? ctx.unknownDim(), x.shape?.[1] ?? ctx.unknownDim(), ph, pw] }];
  },
  reference: ([x, rois], ctx) => {
    const [ph, pw] = pooledShape(ctx.attrs.ints('pooled_shape'), ctx.where);
    const scale = ctx.attrs.float('spatial_scale');
    const dims = x!.dims;
    if (dims.length !== 4) throw new Error(`${ctx.where}: X must be 4-D [N, C, H, W], got rank ${dims.length}`);
    if (rois!.dims.length !== 2 || rois!.dims[1] !== 5) throw new Error(`${ctx.where}: rois must be [num_rois, 5], got [${rois!.dims.join(', ')}]`);
    const [n, c, h, w] = dims as [number, number, number, number];
    const v = toNumbers(x!);
    const r = toNumbers(rois!);
    const numRois = rois!.dims[0]!;
    const out = new Float64Array(numRois * c * ph * pw);
    for (let i = 0; i < numRois; i++) {
      const b = r[i * 5]!;
      if (!(b >= 0 && b < n)) throw new Error(`${ctx.where}: roi ${i} has batch index ${b}, outside [0, ${n})`);
      const x1 = roundC(r[i * 5 + 1]! * scale), y1 = roundC(r[i * 5 + 2]! * scale);
      const x2 = roundC(r[i * 5 + 3]! * scale), y2 = roundC(r[i * 5 + 4]! * scale);
      const binH = Math.max(y2 - y1 + 1, 1) / ph, binW = Math.max(x2 - x1 + 1, 1) / pw;
      for (let ch = 0; ch < c; ch++) {
        const base = (b * c + ch) * h * w;
        for (let py = 0; py < ph; py++) {
          const hs = Math.min(Math.max(Math.floor(py * binH) + y1, 0), h);
          const he = Math.min(Math.max(Math.ceil((py + 1) * binH) + y1, 0), h);
          for (let px = 0; px < pw; px++) {
            const ws = Math.min(Math.max(Math.floor(px * binW) + x1, 0), w);
            const we = Math.min(Math.max(Math.ceil((px + 1) * binW) + x1, 0), w);
            let m = -Infinity;
            for (let yy = hs; yy < he; yy++) for (let xx = ws; xx < we; xx++) m = Math.max(m, v[base + yy * w + xx]!);
            out[((i * c + ch) * ph + py) * pw + px] = he <= hs || we <= ws ? 0 : m;
          }
        }
      }
    }
    return [fromNumbers(x!.type, out, [numRois, c, ph, pw])];
  },
});

function pooledShape(p: number[], where: string): [number, number] {
  if (p.length !== 2 || p.some((d) => d < 1)) throw new Error(`${where}: pooled_shape must be two positive ints, got [${p.join(', ')}]`);
  return [p[0]!, p[1]!];
}

// ---- RoiAlign ----------------------------------------------------------------------------------

defineOp({
  name: 'RoiAlign',
  inputs: [{ name: 'X', types: FLOAT_TYPES }, { name: 'rois', types: FLOAT_TYPES }, { name: 'batch_indices', types: INDEX_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: {
    coordinate_transformation_mode: {
      type: 'string', default: 'half_pixel',
      validate: (v) => (v === 'half_pixel' || v === 'output_half_pixel' ? undefined : 'must be half_pixel or output_half_pixel'),
    },
    mode: { type: 'string', default: 'avg', validate: (v) => (v === 'avg' || v === 'max' ? undefined : 'must be avg or max') },
    output_height: { type: 'int', default: 1 },
    output_width: { type: 'int', default: 1 },
    sampling_ratio: { type: 'int', default: 0 },
    spatial_scale: { type: 'float', default: 1.0 },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (x.shape && x.shape.length !== 4) throw new Error(`${ctx.where}: X must be 4-D [N, C, H, W], got rank ${x.shape.length}`);
    const n = inputType(ctx, 1).shape?.[0] ?? inputType(ctx, 2).shape?.[0] ?? ctx.unknownDim();
    return [{ dtype: x.dtype, shape: [n, x.shape?.[1] ?? ctx.unknownDim(), ctx.attrs.int('output_height'), ctx.attrs.int('output_width')] }];
  },
  reference: ([x, rois, batchIdx], ctx) => {
    const dims = x!.dims;
    if (dims.length !== 4) throw new Error(`${ctx.where}: X must be 4-D [N, C, H, W], got rank ${dims.length}`);
    const [n, c, h, w] = dims as [number, number, number, number];
    const numRois = batchIdx!.size;
    if (rois!.dims.length !== 2 || rois!.dims[1] !== 4 || rois!.dims[0] !== numRois) {
      throw new Error(`${ctx.where}: rois must be [${numRois}, 4], got [${rois!.dims.join(', ')}]`);
    }
    const oh = ctx.attrs.int('output_height'), ow = ctx.attrs.int('output_width');
    const ratio = ctx.attrs.int('sampling_ratio');
    const scale = ctx.attrs.float('spatial_scale');
    const halfPixel = ctx.attrs.string('coordinate_transformation_mode') === 'half_pixel';
    const isMax = ctx.attrs.string('mode') === 'max';
    const v = toNumbers(x!);
    const r = toNumbers(rois!);
    const bi = toIntList(batchIdx!);
    const out = new Float64Array(numRois * c * oh * ow);
    const off = halfPixel ? 0.5 : 0;
    for (let i = 0; i < numRois; i++) {
      const b = bi[i]!;
      if (b < 0 || b >= n) throw new Error(`${ctx.where}: batch index ${b} is outside [0, ${n})`);
      const sw = r[i * 4]! * scale - off, sh = r[i * 4 + 1]! * scale - off;
      let rw = r[i * 4 + 2]! * scale - off - sw, rh = r[i * 4 + 3]! * scale - off - sh;
      if (!halfPixel) { rw = Math.max(rw, 1); rh = Math.max(rh, 1); }
      const binH = rh / oh, binW = rw / ow;
      const gh = ratio > 0 ? ratio : Math.ceil(rh / oh);
      const gw = ratio > 0 ? ratio : Math.ceil(rw / ow);
      const count = Math.max(gh * gw, 1);
      // Bilinear taps per sample point, shared by all channels.
      const taps: { p: number[]; wt: number[] }[] = [];
      for (let py = 0; py < oh; py++) {
        for (let px = 0; px < ow; px++) {
          for (let iy = 0; iy < gh; iy++) {
            const yy = sh + py * binH + ((iy + 0.5) * binH) / gh;
            for (let ix = 0; ix < gw; ix++) {
              const xx = sw + px * binW + ((ix + 0.5) * binW) / gw;
              taps.push(bilinearTaps(yy, xx, h, w));
            }
          }
        }
      }
      for (let ch = 0; ch < c; ch++) {
        const base = (b * c + ch) * h * w;
        let t = 0;
        for (let cell = 0; cell < oh * ow; cell++) {
          let acc = isMax ? -Infinity : 0;
          for (let s = 0; s < gh * gw; s++) {
            const { p, wt } = taps[t++]!;
            if (isMax) {
              for (let k = 0; k < 4; k++) acc = Math.max(acc, wt[k]! * v[base + p[k]!]!);
            } else {
              for (let k = 0; k < 4; k++) acc += wt[k]! * v[base + p[k]!]!;
            }
          }
          out[(i * c + ch) * oh * ow + cell] = isMax ? (gh * gw > 0 ? acc : 0) : acc / count;
        }
      }
    }
    return [fromNumbers(x!.type, out, [numRois, c, oh, ow])];
  },
});

/** The four corner offsets and weights at (y, x); points beyond one pixel outside weigh nothing. */
function bilinearTaps(y: number, x: number, h: number, w: number): { p: number[]; wt: number[] } {
  if (y < -1 || y > h || x < -1 || x > w) return { p: [0, 0, 0, 0], wt: [0, 0, 0, 0] };
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let y0 = Math.floor(y), x0 = Math.floor(x), y1: number, x1: number;
  if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; } else y1 = y0 + 1;
  if (x0 >= w - 1) { x0 = x1 = w - 1; x = x0; } else x1 = x0 + 1;
  const ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
  return { p: [y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1], wt: [hy * hx, hy * lx, ly * hx, ly * lx] };
}
