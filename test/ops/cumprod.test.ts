import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as Float32Array);

describe('CumProd', () => {
  it('multiplies inclusively, exclusively and in reverse', () => {
    const x = f32([1, 2, 3], [3]);
    expect(vals(runOp('CumProd', [x, i64([0], [])])[0])).toEqual([1, 2, 6]);
    expect(vals(runOp('CumProd', [x, i64([0], [])], { exclusive: 1 })[0])).toEqual([1, 1, 2]);
    expect(vals(runOp('CumProd', [x, i64([0], [])], { reverse: 1 })[0])).toEqual([6, 6, 3]);
    expect(vals(runOp('CumProd', [x, i64([0], [])], { exclusive: 1, reverse: 1 })[0])).toEqual([6, 3, 1]);
  });

  it('runs along a negative axis and wraps 32/64-bit integers', () => {
    expect(vals(runOp('CumProd', [f32([1, 2, 3, 4], [2, 2]), i64([-1], [])])[0])).toEqual([1, 2, 3, 12]);
    const big = new Tensor('int32', Int32Array.of(65536, 65536, 3), [3]);
    expect(Array.from(runOp('CumProd', [big, i64([0], [])])[0]!.data as Int32Array)).toEqual([65536, 0, 0]);
    const wide = new Tensor('int64', BigInt64Array.of(2n ** 62n + 1n, 2n), [2]);
    const wrapped = BigInt.asIntN(64, 2n ** 63n + 2n); // -(2^63) + 2
    expect(Array.from(runOp('CumProd', [wide, i64([0], [])])[0]!.data as BigInt64Array)).toEqual([2n ** 62n + 1n, wrapped]);
  });

  it('rejects an out-of-range axis', () => {
    expect(() => runOp('CumProd', [f32([1, 2], [2]), i64([1], [])])).toThrow(/out of range/);
  });
});
