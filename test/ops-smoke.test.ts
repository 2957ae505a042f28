import { describe, it } from 'vitest';
import { expectClose, f32, runOp } from './helpers/op.js';

describe('Add', () => {
  it('broadcasts a row over a matrix', () => {
    const [c] = runOp('Add', [f32([1, 2, 3, 4, 5, 6], [2, 3]), f32([10, 20, 30], [3])]);
    expectClose(c!.data as Float32Array, [11, 22, 33, 14, 25, 36]);
  });
});
