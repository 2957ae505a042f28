import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64, runOp } from '../helpers/op.js';

const vals = (t: Tensor) => Array.from(toArr(t));
const toArr = (t: Tensor): ArrayLike<number> => (t.type === 'int64' ? Array.from(t.data as BigInt64Array, Number) : (t.data as Float32Array));

describe('GatherND', () => {
  it('gathers slices and elements', () => {
    const x = f32([0, 1, 2, 3], [2, 2]);
    expect(vals(runOp('GatherND', [x, i64([0, 0, 1, 1], [2, 2])])[0]!)).toEqual([0, 3]);
    const s = runOp('GatherND', [x, i64([1, 0], [2, 1])])[0]!;
    expect(s.dims).toEqual([2, 2]);
    expect(vals(s)).toEqual([2, 3, 0, 1]);
  });
  it('honours batch_dims and negative indices', () => {
    const x = f32([0, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2]);
    const y = runOp('GatherND', [x, i64([1, -2], [2, 1])], { batch_dims: 1 })[0]!;
    expect(y.dims).toEqual([2, 2]);
    expect(vals(y)).toEqual([2, 3, 4, 5]);
    expect(() => runOp('GatherND', [x, i64([2], [1, 1])])).toThrow(/out of bounds/);
  });
});

describe('ScatterND', () => {
  const data = () => f32([1, 2, 3, 4, 5, 6, 7, 8], [8]);
  it('writes and reduces in index order', () => {
    const idx = i64([4, 3, 1, 4], [4, 1]);
    const upd = f32([9, 10, 11, 12], [4]);
    expect(vals(runOp('ScatterND', [data(), idx, upd])[0]!)).toEqual([1, 11, 3, 10, 12, 6, 7, 8]);
    expect(vals(runOp('ScatterND', [data(), idx, upd], { reduction: 'add' })[0]!)).toEqual([1, 13, 3, 14, 26, 6, 7, 8]);
    expect(vals(runOp('ScatterND', [data(), idx, upd], { reduction: 'mul' })[0]!)).toEqual([1, 22, 3, 40, 540, 6, 7, 8]);
    expect(vals(runOp('ScatterND', [data(), idx, upd], { reduction: 'max' })[0]!)).toEqual([1, 11, 3, 10, 12, 6, 7, 8]);
    expect(vals(runOp('ScatterND', [data(), idx, upd], { reduction: 'min' })[0]!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
  it('checks the updates shape and the reduction name', () => {
    expect(() => runOp('ScatterND', [data(), i64([1], [1, 1]), f32([1, 2], [2])])).toThrow(/updates have shape/);
    expect(() => runOp('ScatterND', [data(), i64([1], [1, 1]), f32([1], [1])], { reduction: 'avg' })).toThrow(/reduction/);
  });
});

describe('ScatterElements', () => {
  it('scatters along an axis with reductions and negative indices', () => {
    const x = f32([1, 2, 3, 4, 5], [1, 5]);
    const y = runOp('ScatterElements', [x, i64([1, -2, 1], [1, 3]), f32([1.5, 2, 3], [1, 3])], { axis: 1, reduction: 'add' })[0]!;
    expect(vals(y)).toEqual([1, 6.5, 3, 6, 5]);
    const z = runOp('Scatter', [f32([0, 0, 0, 0], [2, 2]), i64([1, 0], [1, 2]), f32([7, 8], [1, 2])])[0]!;
    expect(vals(z)).toEqual([0, 8, 7, 0]);
  });
  it('keeps int64 exact', () => {
    const x = new Tensor('int64', BigInt64Array.of(2n ** 60n, 1n), [2]);
    const y = runOp('ScatterElements', [x, i64([0], [1]), new Tensor('int64', BigInt64Array.of(3n), [1])], { reduction: 'add' })[0]!;
    expect((y.data as BigInt64Array)[0]).toBe(2n ** 60n + 3n);
  });
});

describe('TensorScatter', () => {
  it('writes updates at per-batch positions, wrapping in circular mode', () => {
    const cache = f32([0, 0, 0, 0, 0, 0, 0, 0], [2, 4, 1]);
    const upd = f32([1, 2, 3, 4], [2, 2, 1]);
    const y = runOp('TensorScatter', [cache, upd, i64([1, 2])])[0]!;
    expect(vals(y)).toEqual([0, 1, 2, 0, 0, 0, 3, 4]);
    const c = runOp('TensorScatter', [cache, upd, i64([3, 0])], { mode: 'circular' })[0]!;
    expect(vals(c)).toEqual([2, 0, 0, 1, 3, 4, 0, 0]);
    expect(() => runOp('TensorScatter', [cache, upd, i64([3, 0])])).toThrow(/outside the cache length/);
  });
});
