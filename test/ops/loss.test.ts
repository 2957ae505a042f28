import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const x = f32([-1, -2, -3, -0.5, -4, -1], [2, 3]); // log-probabilities, N=2, C=3

describe('NegativeLogLikelihoodLoss', () => {
  it('gathers -x[n, t] and reduces', () => {
    expectClose(runOp('NegativeLogLikelihoodLoss', [x, i64([2, 0])], { reduction: 'none' })[0]!.data as Float32Array, [3, 0.5]);
    expectClose(runOp('NegativeLogLikelihoodLoss', [x, i64([2, 0])], { reduction: 'sum' })[0]!.data as Float32Array, [3.5]);
    expectClose(runOp('NegativeLogLikelihoodLoss', [x, i64([2, 0])])[0]!.data as Float32Array, [1.75]);
  });
  it('weights classes, divides the mean by the weights and skips ignore_index', () => {
    const w = f32([1, 2, 4], [3]);
    expectClose(runOp('NegativeLogLikelihoodLoss', [x, i64([2, 0]), w])[0]!.data as Float32Array, [(12 + 0.5) / 5]);
    expectClose(runOp('NegativeLogLikelihoodLoss', [x, i64([2, -1]), w], { ignore_index: -1 })[0]!.data as Float32Array, [3]);
  });
  it('handles [N, C, D] inputs and rejects out-of-range targets', () => {
    const y = runOp('NegativeLogLikelihoodLoss', [f32([1, 2, 3, 4], [1, 2, 2]), i64([1, 0], [1, 2])], { reduction: 'none' })[0]!;
    expect(y.dims).toEqual([1, 2]);
    expectClose(y.data as Float32Array, [-3, -2]);
    expect(() => runOp('NegativeLogLikelihoodLoss', [x, i64([3, 0])])).toThrow(/outside \[0, 3\)/);
  });
});

describe('SoftmaxCrossEntropyLoss', () => {
  it('applies log-softmax over the class axis and returns log_prob', () => {
    const s = f32([0, 0, Math.log(2), 1, 1, 1], [2, 3]);
    const [loss, logp] = runOp('SoftmaxCrossEntropyLoss', [s, i64([2, 1])], {}, { outputs: 2 });
    expectClose(loss!.data as Float32Array, [(Math.log(4 / 2) + Math.log(3)) / 2]);
    expectClose((logp!.data as Float32Array).slice(0, 3), [Math.log(1 / 4), Math.log(1 / 4), Math.log(2 / 4)]);
    const f64 = new Tensor('float64', Float64Array.of(0, 0), [1, 2]);
    expect(runOp('SoftmaxCrossEntropyLoss', [f64, i64([0])])[0]!.type).toBe('float64');
  });
});
