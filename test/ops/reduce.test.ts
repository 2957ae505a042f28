import { describe, expect, it } from 'vitest';
import type { AttrValue, ValueType } from '../../src/graph/ir.js';
import { inferNodeTypes } from '../../src/ops/invoke.js';
import type { DType } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const t = (dtype: DType, data: readonly number[], dims?: readonly number[]) => new Tensor(dtype, data, dims ?? [data.length]);
const nums = (x: Tensor) => Array.from(x.data as ArrayLike<number | bigint>, Number);
// 2 x 3 x 2
const X = f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);

function reduce(op: string, x: Tensor, axes?: number[], attrs: Record<string, AttrValue> = {}): Tensor {
  return runOp(op, axes ? [x, i64(axes)] : [x], attrs)[0]!;
}

describe('ReduceX', () => {
  it('reduces the given axes with and without keepdims', () => {
    const k = reduce('ReduceSum', X, [1]);
    expect(k.dims).toEqual([2, 1, 2]);
    expectClose(k.data as Float32Array, [9, 12, 27, 30]);
    const d = reduce('ReduceSum', X, [-1, 0], { keepdims: 0 });
    expect(d.dims).toEqual([3]);
    expectClose(d.data as Float32Array, [18, 26, 34]);
  });

  it('reduces everything when axes are absent or empty, unless noop_with_empty_axes', () => {
    const all = reduce('ReduceSum', X);
    expect(all.dims).toEqual([1, 1, 1]);
    expectClose(all.data as Float32Array, [78]);
    expect(reduce('ReduceSum', X, [], { keepdims: 0 }).dims).toEqual([]);
    const same = reduce('ReduceSum', X, [], { noop_with_empty_axes: 1 });
    expect(same.dims).toEqual([2, 3, 2]);
    expectClose(same.data as Float32Array, X.data as Float32Array);
    // Reducing over no axes still applies the per-element part of the reduction.
    const sq = reduce('ReduceSumSquare', f32([-2, 3], [2]), [], { noop_with_empty_axes: 1 });
    expectClose(sq.data as Float32Array, [4, 9]);
    expectClose(reduce('ReduceL1', f32([-2, 3], [2]), [], { noop_with_empty_axes: 1 }).data as Float32Array, [2, 3]);
  });

  it('computes every reduction in float64', () => {
    const x = f32([1, -2, 3, -4], [2, 2]);
    const go = (op: string) => Array.from(reduce(op, x, [1], { keepdims: 0 }).data as Float32Array);
    expectClose(go('ReduceMean'), [-0.5, -0.5]);
    expectClose(go('ReduceProd'), [-2, -12]);
    expectClose(go('ReduceL1'), [3, 7]);
    expectClose(go('ReduceL2'), [Math.sqrt(5), 5]);
    expectClose(go('ReduceSumSquare'), [5, 25]);
    expectClose(go('ReduceMax'), [1, 3]);
    expectClose(go('ReduceMin'), [-2, -4]);
    expectClose(Array.from(reduce('ReduceLogSum', f32([1, 2, 3, 4], [2, 2]), [1]).data as Float32Array), [Math.log(3), Math.log(7)]);
    expectClose(go('ReduceLogSumExp'), [Math.log(Math.exp(1) + Math.exp(-2)), Math.log(Math.exp(3) + Math.exp(-4))]);
  });

  it('ReduceLogSumExp does not overflow and handles infinities', () => {
    const x = f32([1000, 1000, -Infinity, -Infinity, Infinity, 1, NaN, 1], [4, 2]);
    expectClose(reduce('ReduceLogSumExp', x, [1], { keepdims: 0 }).data as Float32Array, [1000 + Math.log(2), -Infinity, Infinity, NaN]);
  });

  it('ReduceMax/Min propagate NaN, keep int64 exact and fill empty reductions with the identity', () => {
    expectClose(reduce('ReduceMax', f32([1, NaN, 3, 2], [2, 2]), [1]).data as Float32Array, [NaN, 3]);
    const big = new Tensor('int64', BigInt64Array.of(9223372036854775807n, 9223372036854775806n), [2]);
    expect((reduce('ReduceMax', big).data as BigInt64Array)[0]).toBe(9223372036854775807n);
    expect((reduce('ReduceMin', big).data as BigInt64Array)[0]).toBe(9223372036854775806n);
    const empty = f32([], [2, 0]);
    expectClose(reduce('ReduceMax', empty, [1], { keepdims: 0 }).data as Float32Array, [-Infinity, -Infinity]);
    expectClose(reduce('ReduceMin', empty, [1], { keepdims: 0 }).data as Float32Array, [Infinity, Infinity]);
    expectClose(reduce('ReduceSum', empty, [1], { keepdims: 0 }).data as Float32Array, [0, 0]);
    expectClose(reduce('ReduceProd', empty, [1], { keepdims: 0 }).data as Float32Array, [1, 1]);
    expect(nums(reduce('ReduceMax', t('uint8', [], [0]), [0], { keepdims: 0 }))).toEqual([0]);
    expect(nums(reduce('ReduceMax', t('bool', [0, 1, 0, 0], [2, 2]), [1]))).toEqual([1, 0]);
  });

  it('integer reductions stay in their dtype', () => {
    expect(nums(reduce('ReduceSum', t('int32', [1, 2, 3, 4], [2, 2]), [0]))).toEqual([4, 6]);
    expect(nums(reduce('ReduceMean', t('int32', [1, 2, 4, 4], [2, 2]), [1]))).toEqual([1, 4]);
    const s = reduce('ReduceSum', new Tensor('int64', BigInt64Array.of(2n ** 53n, 1n), [2]));
    expect((s.data as BigInt64Array)[0]).toBe(2n ** 53n + 1n);
  });

  it('rejects bad axes', () => {
    expect(() => reduce('ReduceSum', X, [3])).toThrow(/axis 3 is out of range/);
    expect(() => reduce('ReduceSum', X, [1, -2])).toThrow(/repeat/);
  });

  it('infers shapes when axes are only known at run time', () => {
    const node = (attrs: Record<string, AttrValue>) => ({ name: 'r', op: 'ReduceMean', domain: '', inputs: ['x', 'a'], outputs: ['y'], attrs });
    const types: ValueType[] = [{ dtype: 'float32', shape: ['N', 1, 8] }, { dtype: 'int64', shape: [2] }];
    const keep = inferNodeTypes(node({}), types, () => undefined)[0]!;
    expect(keep.shape!.length).toBe(3);
    expect(keep.shape![1]).toBe(1);
    expect(inferNodeTypes(node({ keepdims: 0 }), types, () => undefined)[0]!.shape!.length).toBe(1);
    const known = inferNodeTypes(node({ keepdims: 0 }), types, (i) => (i === 1 ? i64([0, 2]) : undefined))[0]!;
    expect(known.shape).toEqual([1]);
    expect(inferNodeTypes(node({}), [{ dtype: 'float32' }, types[1]!], () => undefined)[0]!.shape).toBeUndefined();
  });
});

describe('ArgMax / ArgMin', () => {
  const x = f32([2, 1, 3, 10, 3, 3], [2, 3]);
  it('returns int64 indices of the first extreme', () => {
    const a = runOp('ArgMax', [x], { axis: 1 })[0]!;
    expect(a.type).toBe('int64');
    expect(a.dims).toEqual([2, 1]);
    expect(nums(a)).toEqual([2, 0]);
    expect(nums(runOp('ArgMin', [x], { axis: 1, keepdims: 0 })[0]!)).toEqual([1, 1]);
    expect(nums(runOp('ArgMax', [x])[0]!)).toEqual([1, 1, 0]);
    expect(runOp('ArgMax', [x], { axis: -1, keepdims: 0 })[0]!.dims).toEqual([2]);
  });

  it('select_last_index picks the last of equal extremes', () => {
    expect(nums(runOp('ArgMin', [x], { axis: 1, select_last_index: 1 })[0]!)).toEqual([1, 2]);
    expect(nums(runOp('ArgMax', [f32([3, 3, 1], [3])], { select_last_index: 1 })[0]!)).toEqual([1]);
  });

  it('treats NaN as the extreme, like numpy', () => {
    expect(nums(runOp('ArgMax', [f32([1, NaN, 5, NaN], [4])])[0]!)).toEqual([1]);
    expect(() => runOp('ArgMax', [x], { axis: 2 })).toThrow(/out of range/);
  });
});

describe('CumSum', () => {
  const x = f32([1, 2, 3, 4, 5], [5]);
  const cum = (attrs: Record<string, AttrValue>, input: Tensor = x, axis: Tensor = i64([0], [])) => runOp('CumSum', [input, axis], attrs)[0]!;
  it('supports exclusive and reverse', () => {
    expectClose(cum({}).data as Float32Array, [1, 3, 6, 10, 15]);
    expectClose(cum({ exclusive: 1 }).data as Float32Array, [0, 1, 3, 6, 10]);
    expectClose(cum({ reverse: 1 }).data as Float32Array, [15, 14, 12, 9, 5]);
    expectClose(cum({ reverse: 1, exclusive: 1 }).data as Float32Array, [14, 12, 9, 5, 0]);
  });

  it('scans along any axis, with an int32 axis input and integer data', () => {
    const m = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    expectClose(cum({}, m, t('int32', [1], [])).data as Float32Array, [1, 3, 6, 4, 9, 15]);
    expectClose(cum({}, m, i64([-2], [1])).data as Float32Array, [1, 2, 3, 5, 7, 9]);
    expect(nums(cum({ exclusive: 1 }, t('int32', [1, 2, 3]), t('int32', [0], [])))).toEqual([0, 1, 3]);
    expect(nums(cum({}, i64([1, 2, 3])))).toEqual([1, 3, 6]);
  });

  it('rejects a non-scalar axis', () => {
    expect(() => cum({}, x, i64([0, 0]))).toThrow(/scalar/);
  });
});

describe('scalars', () => {
  it('reduce over no axes, and reject naming an axis of a scalar', () => {
    expectClose(reduce('ReduceSumSquare', f32([3], [])).data as Float32Array, [9]);
    expect(() => reduce('ReduceSum', f32([3], []), [0])).toThrow(/rank 0/);
    expect(() => runOp('ArgMax', [f32([3], [])])).toThrow(/rank 0/);
  });
});
