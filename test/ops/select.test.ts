import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64, runOp } from '../helpers/op.js';

const nums = (t: Tensor) => (t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : Array.from(t.data as Float32Array));
const bools = (v: number[]) => new Tensor('bool', Uint8Array.from(v), [v.length]);

describe('Compress', () => {
  it('selects slices along an axis, or elements of the flattened input', () => {
    const x = f32([1, 2, 3, 4, 5, 6], [3, 2]);
    const y = runOp('Compress', [x, bools([0, 1, 1])], { axis: 0 })[0]!;
    expect(y.dims).toEqual([2, 2]);
    expect(nums(y)).toEqual([3, 4, 5, 6]);
    expect(nums(runOp('Compress', [x, bools([0, 1, 0, 0, 1])])[0]!)).toEqual([2, 5]);
    expect(() => runOp('Compress', [x, bools([0, 0, 1])], { axis: 1 })).toThrow(/beyond the axis size/);
  });
});

describe('NonZero', () => {
  it('lists coordinates of non-zero elements', () => {
    const y = runOp('NonZero', [f32([1, 0, 0, 2], [2, 2])], {}, { constantInputs: [] })[0]!;
    expect(y.dims).toEqual([2, 2]);
    expect(nums(y)).toEqual([0, 1, 0, 1]);
  });
});

describe('ReverseSequence', () => {
  it('reverses the first seq_len steps of each batch entry', () => {
    const x = f32([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [4, 4]);
    const y = runOp('ReverseSequence', [x, i64([4, 3, 2, 1])], { batch_axis: 1, time_axis: 0 })[0]!;
    expect(nums(y)).toEqual([12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15]);
    expect(() => runOp('ReverseSequence', [x, i64([1, 1, 1, 1])], { batch_axis: 0, time_axis: 0 })).toThrow(/must differ/);
  });
});

describe('Trilu', () => {
  it('keeps the upper or lower triangle relative to diagonal k', () => {
    const x = f32([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
    expect(nums(runOp('Trilu', [x])[0]!)).toEqual([1, 2, 3, 0, 5, 6, 0, 0, 9]);
    expect(nums(runOp('Trilu', [x, i64([-1], [])], { upper: 0 })[0]!)).toEqual([0, 0, 0, 4, 0, 0, 7, 8, 0]);
    expect(nums(runOp('Trilu', [x, i64([1], [])])[0]!)).toEqual([0, 2, 3, 0, 0, 6, 0, 0, 0]);
  });
});

describe('Unique', () => {
  it('returns sorted values, first indices, inverse indices and counts', () => {
    const [y, idx, inv, cnt] = runOp('Unique', [f32([2, 1, 1, 3, 4, 3], [6])], {}, { outputs: 4 });
    expect(nums(y!)).toEqual([1, 2, 3, 4]);
    expect(nums(idx!)).toEqual([1, 0, 3, 4]);
    expect(nums(inv!)).toEqual([1, 0, 0, 2, 3, 2]);
    expect(nums(cnt!)).toEqual([2, 1, 2, 1]);
  });
  it('keeps first-occurrence order when sorted=0 and compares slices along an axis', () => {
    const [y, , inv] = runOp('Unique', [f32([2, 1, 1, 3, 4, 3], [6])], { sorted: 0 }, { outputs: 3 });
    expect(nums(y!)).toEqual([2, 1, 3, 4]);
    expect(nums(inv!)).toEqual([0, 1, 1, 2, 3, 2]);
    const [ya, ia] = runOp('Unique', [f32([1, 0, 0, 1, 0, 0, 2, 3, 4], [3, 3])], { axis: 0 }, { outputs: 2 });
    expect(ya!.dims).toEqual([2, 3]);
    expect(nums(ya!)).toEqual([1, 0, 0, 2, 3, 4]);
    expect(nums(ia!)).toEqual([0, 2]);
  });
});
