import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as ArrayLike<number>);

describe('Constant', () => {
  it('emits each kind of value attribute', () => {
    const t = new Tensor('int8', Int8Array.of(-3, 4), [2]);
    expect(vals(runOp('Constant', [], { value: t })[0])).toEqual([-3, 4]);
    const [f] = runOp('Constant', [], { value_float: 1.5 });
    expect(f!.type).toBe('float32');
    expect(f!.dims).toEqual([]);
    expect(runOp('Constant', [], { value_floats: [1, 2] })[0]!.dims).toEqual([2]);
    expect(Array.from(runOp('Constant', [], { value_ints: [7, -1] })[0]!.data as BigInt64Array)).toEqual([7n, -1n]);
    expect(runOp('Constant', [], { value_int: 3 })[0]!.type).toBe('int64');
  });
  it('needs exactly one value', () => {
    expect(() => runOp('Constant', [], {})).toThrow(/exactly one/);
    expect(() => runOp('Constant', [], { value_int: 1, value_float: 2 })).toThrow(/exactly one/);
  });
});

describe('ConstantOfShape', () => {
  it('fills with the value attribute or float zero', () => {
    const [z] = runOp('ConstantOfShape', [i64([2, 3])]);
    expect(z!.type).toBe('float32');
    expect(vals(z)).toEqual([0, 0, 0, 0, 0, 0]);
    const big = 2n ** 61n + 3n;
    const [b] = runOp('ConstantOfShape', [i64([2])], { value: new Tensor('int64', BigInt64Array.of(big), [1]) });
    expect(Array.from(b!.data as BigInt64Array)).toEqual([big, big]);
    expect(runOp('ConstantOfShape', [i64([0])])[0]!.dims).toEqual([0]);
    expect(runOp('ConstantOfShape', [i64([], [0])])[0]!.dims).toEqual([]);
  });
});

describe('Range', () => {
  it('counts float and int ranges', () => {
    const [f] = runOp('Range', [f32([1], []), f32([5], []), f32([2], [])]);
    expectClose(f!.data as Float32Array, [1, 3]);
    const int = (v: number) => new Tensor('int32', Int32Array.of(v), []);
    expect(vals(runOp('Range', [int(10), int(6), int(-3)])[0])).toEqual([10, 7]);
    expect(runOp('Range', [int(10), int(6), int(3)])[0]!.dims).toEqual([0]);
    const [l] = runOp('Range', [i64([2 ** 53], []), i64([2 ** 53 + 6], []), i64([4], [])]);
    expect(Array.from(l!.data as BigInt64Array)).toEqual([2n ** 53n, 2n ** 53n + 4n]);
    expect(() => runOp('Range', [int(0), int(1), int(0)])).toThrow(/delta/);
  });
});

describe('EyeLike / OneHot', () => {
  it('builds shifted identities', () => {
    const [y] = runOp('EyeLike', [f32(new Array(6).fill(7), [2, 3])], { k: 1, dtype: 7 });
    expect(y!.type).toBe('int64');
    expect(Array.from(y!.data as BigInt64Array)).toEqual([0n, 1n, 0n, 0n, 0n, 1n]);
  });
  it('encodes indices, wrapping negatives and ignoring out-of-range', () => {
    const [y] = runOp('OneHot', [i64([1, -1, 5]), f32([3], []), f32([0, 2], [2])]);
    expect(y!.dims).toEqual([3, 3]);
    expect(vals(y)).toEqual([0, 2, 0, 0, 0, 2, 0, 0, 0]);
    const [z] = runOp('OneHot', [i64([0, 2]), i64([3], []), f32([-1, 1], [2])], { axis: 0 });
    expect(z!.dims).toEqual([3, 2]);
    expect(vals(z)).toEqual([1, -1, -1, -1, -1, 1]);
    const [fr] = runOp('OneHot', [f32([1.5, 2], [2]), i64([3], []), f32([0, 1], [2])]);
    expect(vals(fr)).toEqual([0, 0, 0, 0, 0, 1]);
  });
});
