import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as Float32Array);
const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe('SwiGLU', () => {
  it('gates B with Swish(A), alpha inside the sigmoid', () => {
    const [y] = runOp('SwiGLU', [f32([1, -2], [2]), f32([3, 4], [2])]);
    expectClose(vals(y), [1 * sig(1) * 3, -2 * sig(-2) * 4]);
    const [y2] = runOp('SwiGLU', [f32([1], [1]), f32([2], [1])], { alpha: 1.702 });
    expectClose(vals(y2), [sig(1.702) * 2]);
  });

  it('does not broadcast', () => {
    expect(() => runOp('SwiGLU', [f32([1, 2], [2]), f32([1], [1])])).toThrow(/same shape/);
  });
});
