import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64, runOp } from '../helpers/op.js';

const ints = (t: Tensor) => Array.from(t.data as BigInt64Array, Number);

describe('TopK', () => {
  it('takes the largest along the last axis with ties in index order', () => {
    const [v, i] = runOp('TopK', [f32([1, 3, 3, 2, 5, 4, 4, 0], [2, 4]), i64([2])], {}, { outputs: 2 });
    expect(Array.from(v!.data as Float32Array)).toEqual([3, 3, 5, 4]);
    expect(ints(i!)).toEqual([1, 2, 0, 1]);
    expect(v!.dims).toEqual([2, 2]);
  });

  it('takes the smallest along another axis', () => {
    const [v, i] = runOp('TopK', [f32([1, 3, 0, 2, 5, 0], [3, 2]), i64([2])], { axis: 0, largest: 0 }, { outputs: 2 });
    expect(Array.from(v!.data as Float32Array)).toEqual([0, 0, 1, 2]);
    expect(ints(i!)).toEqual([1, 2, 0, 1]);
  });

  it('treats NaN as the largest and keeps int64 exact', () => {
    const [v] = runOp('TopK', [f32([1, NaN, 2], [3]), i64([1])], {}, { outputs: 2 });
    expect(Number.isNaN((v!.data as Float32Array)[0])).toBe(true);
    const big = new Tensor('int64', BigInt64Array.of(2n ** 62n + 1n, 2n ** 62n), [2]);
    const [bv] = runOp('TopK', [big, i64([1])], {}, { outputs: 2 });
    expect((bv!.data as BigInt64Array)[0]).toBe(2n ** 62n + 1n);
  });

  it('infers an unknown axis size when K is not constant, and rejects bad K', () => {
    runOp('TopK', [f32([1, 2, 3], [3]), i64([0])], {}, { outputs: 2, constantInputs: [] });
    expect(() => runOp('TopK', [f32([1, 2], [2]), i64([3])], {}, { outputs: 2 })).toThrow(/exceeds the axis size/);
    expect(() => runOp('TopK', [f32([1, 2], [2]), i64([1])], { axis: 1 }, { outputs: 2 })).toThrow(/out of range/);
  });
});
