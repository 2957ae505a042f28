import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as Float32Array);

describe('CausalConvWithState', () => {
  it('convolves each channel over its past only and carries the last k-1 inputs', () => {
    const x = f32([1, 2, 3], [1, 1, 3]);
    const w = f32([1, 10, 100], [1, 1, 3]); // output t = x[t-2] + 10 x[t-1] + 100 x[t]
    const [y, state] = runOp('CausalConvWithState', [x, w], {}, { outputs: 2 });
    expectClose(vals(y), [100, 210, 321]);
    expect(vals(state)).toEqual([2, 3]);
    const [y2, state2] = runOp('CausalConvWithState', [f32([4], [1, 1, 1]), w, f32([0.5], [1]), state], {}, { outputs: 2 });
    expectClose(vals(y2), [2 + 30 + 400 + 0.5]);
    expect(vals(state2)).toEqual([3, 4]);
  });

  it('fuses SiLU and keeps zero padding in the state of short inputs', () => {
    const [y, state] = runOp('CausalConvWithState', [f32([1], [1, 1, 1]), f32([1, 1, 1], [1, 1, 3])], { activation: 'silu' }, { outputs: 2 });
    expectClose(vals(y), [1 / (1 + Math.exp(-1))]);
    expect(vals(state)).toEqual([0, 1]);
  });

  it('rejects a non-depthwise weight', () => {
    expect(() => runOp('CausalConvWithState', [f32([1, 2], [1, 2, 1]), f32([1, 1], [1, 2, 1])], {}, { outputs: 2 })).toThrow(/weight/);
  });
});
