// NonMaxSuppression (opsets 10-11): per batch and class, greedily keeps the highest-scoring boxes,
// dropping any whose IoU with an already kept box is strictly above iou_threshold, and those whose
// score is not strictly above score_threshold (when given). Output rows are
// [batch, class, box] in selection order. The geometry is evaluated in float32 arithmetic, as the
// ONNX reference and onnxruntime do, so boxes exactly at the IoU threshold are decided the same way.
import { toNumbers } from '../tensor/convert.js';
import { Tensor } from '../tensor/tensor.js';
import { defineOp } from './registry.js';
import { inputType } from './util.js';

const f = Math.fround;

defineOp({
  name: 'NonMaxSuppression',
  inputs: [
    { name: 'boxes', types: ['float32'] },
    { name: 'scores', types: ['float32'] },
    { name: 'max_output_boxes_per_class', optional: true, types: ['int64'] },
    { name: 'iou_threshold', optional: true, types: ['float32'] },
    { name: 'score_threshold', optional: true, types: ['float32'] },
  ],
  outputs: [{ name: 'selected_indices' }],
  attrs: {
    center_point_box: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
  },
  inferShape: (ctx) => {
    const boxes = inputType(ctx, 0).shape, scores = inputType(ctx, 1).shape;
    if (boxes && boxes.length !== 3) throw new Error(`${ctx.where}: boxes must be 3-D [batches, boxes, 4], got rank ${boxes.length}`);
    if (scores && scores.length !== 3) throw new Error(`${ctx.where}: scores must be 3-D [batches, classes, boxes], got rank ${scores.length}`);
    if (boxes && typeof boxes[2] === 'number' && boxes[2] !== 4) throw new Error(`${ctx.where}: boxes must have 4 coordinates per box, got ${boxes[2]}`);
    // How many boxes survive depends on the values: only the row width is known.
    return [{ dtype: 'int64', shape: [ctx.unknownDim(), 3] }];
  },
  reference: ([boxesT, scoresT, maxT, iouT, scoreT], ctx) => {
    const where = ctx.where;
    const bd = boxesT!.dims, sd = scoresT!.dims;
    if (bd.length !== 3 || bd[2] !== 4) throw new Error(`${where}: boxes must have shape [batches, boxes, 4], got [${bd.join(', ')}]`);
    if (sd.length !== 3) throw new Error(`${where}: scores must have shape [batches, classes, boxes], got [${sd.join(', ')}]`);
    const [batches, count] = [bd[0]!, bd[1]!];
    const classes = sd[1]!;
    if (sd[0] !== batches || sd[2] !== count) {
      throw new Error(`${where}: scores shape [${sd.join(', ')}] does not match boxes shape [${bd.join(', ')}]`);
    }
    // Optional scalars; an empty tensor counts as absent, as in the reference implementation.
    const scalar = (t: Tensor | undefined, name: string): number | undefined => {
      if (!t || t.size === 0) return undefined;
      if (t.size !== 1) throw new Error(`${where}: ${name} must hold one value, got ${t.size}`);
      return toNumbers(t)[0]!;
    };
    const maxOut = Math.max(scalar(maxT, 'max_output_boxes_per_class') ?? 0, 0);
    const iouThreshold = scalar(iouT, 'iou_threshold') ?? 0;
    const scoreThreshold = scalar(scoreT, 'score_threshold');
    const centered = ctx.attrs.int('center_point_box') === 1;
    const boxes = boxesT!.data as Float32Array;
    const scores = scoresT!.data as Float32Array;

    // Corners (ymin, xmin, ymax, xmax) of every box, each axis sorted (corners may come flipped).
    const corners = new Float32Array(batches * count * 4);
    for (let i = 0; i < batches * count; i++) {
      const [a, b, c, d] = [boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!];
      if (centered) { // [x_center, y_center, width, height]
        const hw = f(c / 2), hh = f(d / 2);
        corners.set([f(b - hh), f(a - hw), f(b + hh), f(a + hw)], 4 * i);
      } else { // [y1, x1, y2, x2]
        corners.set([Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)], 4 * i);
      }
    }
    const suppresses = (p: number, q: number): boolean => {
      const ymin = Math.max(corners[p]!, corners[q]!), xmin = Math.max(corners[p + 1]!, corners[q + 1]!);
      const ymax = Math.min(corners[p + 2]!, corners[q + 2]!), xmax = Math.min(corners[p + 3]!, corners[q + 3]!);
      if (xmax <= xmin || ymax <= ymin) return false;
      const inter = f(f(xmax - xmin) * f(ymax - ymin));
      const area = (r: number) => f(f(corners[r + 3]! - corners[r + 1]!) * f(corners[r + 2]! - corners[r]!));
      const a1 = area(p), a2 = area(q);
      const union = f(f(a1 + a2) - inter);
      if (inter <= 0 || a1 <= 0 || a2 <= 0 || union <= 0) return false;
      return f(inter / union) > iouThreshold;
    };

    const selected: number[] = [];
    const order: number[] = [];
    const kept: number[] = [];
    for (let b = 0; b < batches; b++) {
      for (let c = 0; c < classes; c++) {
        const sBase = (b * classes + c) * count;
        order.length = 0;
        for (let i = 0; i < count; i++) {
          if (scoreThreshold === undefined || scores[sBase + i]! > scoreThreshold) order.push(i);
        }
        // Highest score first; equal scores keep the lower box index first.
        order.sort((i, j) => scores[sBase + j]! - scores[sBase + i]! || i - j);
        kept.length = 0;
        for (const i of order) {
          if (kept.length >= maxOut) break;
          const p = (b * count + i) * 4;
          if (kept.some((q) => suppresses(p, q))) continue;
          kept.push(p);
          selected.push(b, c, i);
        }
      }
    }
    return [new Tensor('int64', BigInt64Array.from(selected, (v) => BigInt(v)), [selected.length / 3, 3])];
  },
});
