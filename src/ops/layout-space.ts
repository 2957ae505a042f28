// DepthToSpace and SpaceToDepth: each is a reshape to 6-D, a transpose, and a reshape back to 4-D.
import type { Dim, Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { takeElements, transposeIndex } from './layout-util.js';
import { defineOp, type InferContext } from './registry.js';
import { ALL_TYPES, inputType } from './util.js';

const positive = (v: unknown) => (typeof v === 'number' && v > 0 ? undefined : 'must be positive');

function check4d(shape: Shape, where: string): void {
  if (shape.length !== 4) throw new Error(`${where}: input must be 4-D [N, C, H, W], got rank ${shape.length}`);
}

/** dim * k or dim / k on a possibly symbolic dim; symbolic results become fresh unknowns. */
function scaleDim(d: Dim, mul: number, div: number, ctx: InferContext, what: string): Dim {
  if (typeof d !== 'number') return ctx.unknownDim();
  if ((d * mul) % div !== 0) throw new Error(`${ctx.where}: ${what} ${d} is not divisible by ${div}`);
  return (d * mul) / div;
}

function rearrange(x: Tensor, six: number[], perm: number[], outDims: number[]): Tensor {
  return takeElements(x, transposeIndex(six, perm), outDims);
}

defineOp({
  name: 'DepthToSpace',
  inputs: [{ name: 'input', types: ALL_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: {
    blocksize: { type: 'int', required: true, validate: positive },
    mode: { type: 'string', default: 'DCR', validate: (v) => (v === 'DCR' || v === 'CRD' ? undefined : 'must be DCR or CRD') },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: [ctx.unknownDim(), ctx.unknownDim(), ctx.unknownDim(), ctx.unknownDim()] }];
    check4d(x.shape, ctx.where);
    const b = ctx.attrs.int('blocksize');
    const [n, c, h, w] = x.shape as [Dim, Dim, Dim, Dim];
    return [{ dtype: x.dtype, shape: [n, scaleDim(c, 1, b * b, ctx, 'channels'), scaleDim(h, b, 1, ctx, 'height'), scaleDim(w, b, 1, ctx, 'width')] }];
  },
  reference: ([x], ctx) => {
    check4d(x!.dims, ctx.where);
    const b = ctx.attrs.int('blocksize');
    const [n, c, h, w] = x!.dims as [number, number, number, number];
    if (c % (b * b) !== 0) throw new Error(`${ctx.where}: channels ${c} are not divisible by blocksize^2 = ${b * b}`);
    const cc = c / (b * b);
    const outDims = [n, cc, h * b, w * b];
    // DCR reads channels as (by, bx, c'); CRD as (c', by, bx).
    return ctx.attrs.string('mode') === 'DCR'
      ? [rearrange(x!, [n, b, b, cc, h, w], [0, 3, 4, 1, 5, 2], outDims)]
      : [rearrange(x!, [n, cc, b, b, h, w], [0, 1, 4, 2, 5, 3], outDims)];
  },
});

defineOp({
  name: 'SpaceToDepth',
  inputs: [{ name: 'input', types: ALL_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { blocksize: { type: 'int', required: true, validate: positive } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: [ctx.unknownDim(), ctx.unknownDim(), ctx.unknownDim(), ctx.unknownDim()] }];
    check4d(x.shape, ctx.where);
    const b = ctx.attrs.int('blocksize');
    const [n, c, h, w] = x.shape as [Dim, Dim, Dim, Dim];
    return [{ dtype: x.dtype, shape: [n, scaleDim(c, b * b, 1, ctx, 'channels'), scaleDim(h, 1, b, ctx, 'height'), scaleDim(w, 1, b, ctx, 'width')] }];
  },
  reference: ([x], ctx) => {
    check4d(x!.dims, ctx.where);
    const b = ctx.attrs.int('blocksize');
    const [n, c, h, w] = x!.dims as [number, number, number, number];
    if (h % b !== 0 || w % b !== 0) throw new Error(`${ctx.where}: height ${h} and width ${w} must be divisible by blocksize ${b}`);
    const outDims = [n, c * b * b, h / b, w / b];
    return [rearrange(x!, [n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4], outDims)];
  },
});
