import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64, runOp } from '../helpers/op.js';

const rows = (t: Tensor | undefined) => Array.from(t!.data as BigInt64Array, Number);

// Box 1 overlaps box 0 with IoU 0.81 (0.9 / 1.1); box 2 is far away.
const boxes = f32([0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 5, 1, 6], [1, 3, 4]);
const scores = f32([0.9, 0.95, 0.3], [1, 1, 3]);

describe('NonMaxSuppression', () => {
  it('keeps the best box, suppresses overlaps above the IoU threshold, and lists [batch, class, box]', () => {
    const [sel] = runOp('NonMaxSuppression', [boxes, scores, i64([10]), f32([0.5], [1])]);
    expect(sel!.dims).toEqual([2, 3]);
    expect(rows(sel)).toEqual([0, 0, 1, 0, 0, 2]);
  });

  it('applies the score threshold and the per-class limit', () => {
    const [sel] = runOp('NonMaxSuppression', [boxes, scores, i64([10]), f32([0.9], [1]), f32([0.5], [1])]);
    expect(rows(sel)).toEqual([0, 0, 1, 0, 0, 0]);
    const [one] = runOp('NonMaxSuppression', [boxes, scores, i64([1]), f32([0.9], [1])]);
    expect(rows(one)).toEqual([0, 0, 1]);
  });

  it('reads center-point boxes and selects nothing without max_output_boxes_per_class', () => {
    const centered = f32([0.5, 0.5, 1, 1, 0.6, 0.5, 1, 1], [1, 2, 4]);
    const [sel] = runOp('NonMaxSuppression', [centered, f32([0.5, 0.6], [1, 1, 2]), i64([5]), f32([0.5], [1])], { center_point_box: 1 });
    expect(rows(sel)).toEqual([0, 0, 1]);
    const [none] = runOp('NonMaxSuppression', [boxes, scores]);
    expect(none!.dims).toEqual([0, 3]);
  });

  it('rejects boxes without four coordinates', () => {
    expect(() => runOp('NonMaxSuppression', [f32([0, 0, 1], [1, 1, 3]), f32([1], [1, 1, 1])])).toThrow(/4/);
  });
});
