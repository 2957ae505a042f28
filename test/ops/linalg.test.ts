import { describe, expect, it } from 'vitest';
import { expectClose, f32, runOp } from '../helpers/op.js';

describe('Det', () => {
  it('computes batched determinants with pivoting', () => {
    const y = runOp('Det', [f32([0, 1, 1, 0, 2, 0, 0, 3], [2, 2, 2])])[0]!;
    expect(y.dims).toEqual([2]);
    expectClose(y.data as Float32Array, [-1, 6]);
    expectClose(runOp('Det', [f32([1, 2, 2, 4], [2, 2])])[0]!.data as Float32Array, [0]);
    expect(() => runOp('Det', [f32([1, 2], [1, 2])])).toThrow(/square/);
  });
});
