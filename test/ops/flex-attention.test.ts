import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as Float32Array);
const preview = { domain: 'ai.onnx.preview' };

describe('FlexAttention', () => {
  it('computes softmax(QK^T * scale) V with GQA head sharing', () => {
    const q = f32([1, 0, 1, 0], [1, 2, 1, 2]); // two query heads, one KV head
    const k = f32([1, 0, 0, 1], [1, 1, 2, 2]);
    const v = f32([1, 2, 3, 4], [1, 1, 2, 2]);
    const [y] = runOp('FlexAttention', [q, k, v], { scale: 1 }, preview);
    const p0 = Math.E / (Math.E + 1), p1 = 1 / (Math.E + 1);
    const row = [p0 + 3 * p1, 2 * p0 + 4 * p1];
    expect(y!.dims).toEqual([1, 2, 1, 2]);
    expectClose(vals(y), [...row, ...row]);
  });

  it('rejects inputs that are not 4-D', () => {
    const t = f32([1, 2], [1, 1, 2]);
    expect(() => runOp('FlexAttention', [t, t, t], {}, preview)).toThrow(/4-D/);
  });
});
