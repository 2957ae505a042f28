import { describe, expect, it } from 'vitest';
import type { AttrValue, ValueType } from '../../src/graph/ir.js';
import { inferNodeTypes } from '../../src/ops/invoke.js';
import { float16ToFloat32, float32ToFloat16 } from '../../src/tensor/float16.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { DType } from '../../src/tensor/dtype.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const t = (dtype: DType, data: readonly number[], dims?: readonly number[]) => new Tensor(dtype, data, dims ?? [data.length]);
const nums = (x: Tensor) => Array.from(x.data as ArrayLike<number | bigint>, Number);
const bool = (data: readonly number[], dims?: readonly number[]) => t('bool', data, dims);
const INT64_MAX = 9223372036854775807n;

function infer(op: string, inputs: (ValueType | undefined)[], attrs: Record<string, AttrValue> = {}): ValueType[] {
  const node = { name: 'n', op, domain: '', inputs: inputs.map((x, i) => (x ? `i${i}` : '')), outputs: ['o'], attrs };
  return inferNodeTypes(node, inputs, () => undefined);
}

describe('arithmetic', () => {
  it('Add broadcasts and wraps int8/uint8', () => {
    expectClose(runOp('Add', [f32([1, 2, 3, 4, 5, 6], [2, 3]), f32([10, 20, 30], [3])])[0]!.data as Float32Array, [11, 22, 33, 14, 25, 36]);
    expect(nums(runOp('Add', [t('int8', [127, -128]), t('int8', [1, -1])])[0]!)).toEqual([-128, 127]);
    expect(nums(runOp('Add', [t('uint8', [255]), t('uint8', [2])])[0]!)).toEqual([1]);
  });

  it('Sub and Mul wrap like two\'s complement', () => {
    expect(nums(runOp('Sub', [t('uint8', [1, 5]), t('uint8', [2, 5])])[0]!)).toEqual([255, 0]);
    expect(nums(runOp('Mul', [t('int32', [46341, 65536]), t('int32', [46341, 65536])])[0]!)).toEqual([-2147479015, 0]);
    expect(nums(runOp('Mul', [t('int8', [100]), t('int8', [3])])[0]!)).toEqual([44]);
  });

  it('keeps int64 exact beyond 2^53', () => {
    const [s] = runOp('Add', [i64([2 ** 53]), i64([1])]);
    expect((s!.data as BigInt64Array)[0]).toBe(9007199254740993n);
    const big = new Tensor('int64', BigInt64Array.of(INT64_MAX), [1]);
    expect((runOp('Mul', [big, i64([1])])[0]!.data as BigInt64Array)[0]).toBe(INT64_MAX);
  });

  it('Div truncates integers toward zero and rejects a zero divisor', () => {
    expect(nums(runOp('Div', [t('int32', [-7, 7, 7, -7]), t('int32', [2, -2, 2, -2])])[0]!)).toEqual([-3, -3, 3, 3]);
    expect(nums(runOp('Div', [i64([-7, 9]), i64([2, 4])])[0]!)).toEqual([-3, 2]);
    expect(nums(runOp('Div', [t('int8', [-128]), t('int8', [-1])])[0]!)).toEqual([-128]);
    expect(() => runOp('Div', [t('int32', [1]), t('int32', [0])])).toThrow(/division by zero/);
    expectClose(runOp('Div', [f32([1, -1, 0], [3]), f32([0, 0, 4], [3])])[0]!.data as Float32Array, [Infinity, -Infinity, 0]);
  });

  it('computes float16 in float64 and rounds once', () => {
    const h = (v: number[]) => new Tensor('float16', Uint16Array.from(v, float32ToFloat16), [v.length]);
    const [c] = runOp('Div', [h([1, 3]), h([3, 7])]);
    expect(c!.type).toBe('float16');
    expect(Array.from(c!.data as Uint16Array, float16ToFloat32)).toEqual([float16ToFloat32(float32ToFloat16(1 / 3)), float16ToFloat32(float32ToFloat16(3 / 7))]);
  });

  it('rejects mismatched dtypes and shapes', () => {
    expect(() => runOp('Add', [f32([1], [1]), i64([1])])).toThrow(/dtype/);
    expect(() => runOp('Add', [f32([1, 2], [2]), f32([1, 2, 3], [3])])).toThrow(/node 'test_Add'.*broadcast/);
  });

  it('infers symbolic broadcast shapes', () => {
    const [o] = infer('Mul', [{ dtype: 'float32', shape: ['N', 1, 4] }, { dtype: 'float32', shape: [3, 1] }]);
    expect(o!.shape).toEqual(['N', 3, 4]);
    expect(infer('Add', [{ dtype: 'float32' }, { dtype: 'float32', shape: [3] }])[0]!.shape).toBeUndefined();
  });
});

describe('Pow', () => {
  it('takes an exponent of another dtype; output has the base dtype', () => {
    const [z] = runOp('Pow', [f32([1, 2, 3], [3]), i64([3, 2, 1])]);
    expect(z!.type).toBe('float32');
    expectClose(z!.data as Float32Array, [1, 4, 3]);
    expectClose(runOp('Pow', [f32([1, 2, 3, 4, 5, 6], [2, 3]), f32([1, 2, 3], [3])])[0]!.data as Float32Array, [1, 4, 27, 4, 25, 216]);
  });

  it('follows C pow at the edges and keeps int64 exact', () => {
    expectClose(runOp('Pow', [f32([1, -1, 0], [3]), f32([NaN, Infinity, 0], [3])])[0]!.data as Float32Array, [1, 1, 1]);
    expect((runOp('Pow', [i64([3]), i64([39])])[0]!.data as BigInt64Array)[0]).toBe(3n ** 39n);
    expect(nums(runOp('Pow', [i64([2, -1, 1]), i64([-1, -3, -5])])[0]!)).toEqual([0, -1, 1]);
    expect(nums(runOp('Pow', [t('int32', [2, 3]), f32([10, 2], [2])])[0]!)).toEqual([1024, 9]);
  });
});

describe('Mod', () => {
  it('integer mod takes the divisor\'s sign by default and the dividend\'s with fmod=1', () => {
    const x = t('int32', [-4, 7, 5, 4, -7, 8]);
    const y = t('int32', [2, -3, 8, -2, 3, 5]);
    expect(nums(runOp('Mod', [x, y])[0]!)).toEqual([0, -2, 5, 0, 2, 3]);
    expect(nums(runOp('Mod', [x, y], { fmod: 1 })[0]!)).toEqual([0, 1, 5, 0, -1, 3]);
    expect(nums(runOp('Mod', [i64([-4, 7]), i64([3, -3])])[0]!)).toEqual([2, -2]);
  });

  it('float mod: fmod=1 follows the dividend, fmod=0 the divisor (numpy.mod)', () => {
    const [z] = runOp('Mod', [f32([-4.3, 7.2, 5, 4.3, -7.2, 8], [6]), f32([2.1, -3.4, 8, -2.1, 3.4, 5], [6])], { fmod: 1 });
    expectClose(z!.data as Float32Array, [-0.10000038146972656, 0.39999961853027344, 5, 0.10000038146972656, -0.39999961853027344, 3]);
    const [m] = runOp('Mod', [f32([-4.3, 7.2, 5, 4.3, -7.2, 8], [6]), f32([2.1, -3.4, 8, -2.1, 3.4, 5], [6])]);
    expectClose(m!.data as Float32Array, [2, -3, 5, -2, 3, 3], 1e-5);
  });

  it('float mod fmod=0 special cases follow the spec table', () => {
    const inf = Infinity;
    const [m] = runOp('Mod', [
      f32([0, -0, 0, inf, 1, 3, -3, 3, -3, NaN, 1], [11]),
      f32([5, 5, -5, 2, 0, inf, inf, -inf, -inf, 2, NaN], [11]),
    ]);
    const v = Array.from(m!.data as Float32Array);
    expect(v.map((x) => Object.is(x, -0) ? '-0' : String(x))).toEqual(['0', '0', '-0', 'NaN', 'NaN', '3', 'Infinity', '-Infinity', '-3', 'NaN', 'NaN']);
  });
});

describe('variadic Max, Min, Sum, Mean', () => {
  it('fold any number of broadcast inputs', () => {
    const a = f32([3, 2, 1], [3]);
    const b = f32([1, 4, 4], [3]);
    const c = f32([2, 5], [2, 1]);
    expectClose(runOp('Max', [a, b, c])[0]!.data as Float32Array, [3, 4, 4, 5, 5, 5]);
    expectClose(runOp('Min', [a, b])[0]!.data as Float32Array, [1, 2, 1]);
    expectClose(runOp('Sum', [a, b, c])[0]!.data as Float32Array, [6, 8, 7, 9, 11, 10]);
    expectClose(runOp('Mean', [a, b])[0]!.data as Float32Array, [2, 3, 2.5]);
    expectClose(runOp('Sum', [a])[0]!.data as Float32Array, [3, 2, 1]);
  });

  it('propagate NaN and keep int64 exact', () => {
    expectClose(runOp('Max', [f32([NaN, 1], [2]), f32([1, NaN], [2])])[0]!.data as Float32Array, [NaN, NaN]);
    const big = new Tensor('int64', BigInt64Array.of(INT64_MAX, -5n), [2]);
    expect(Array.from(runOp('Min', [big, i64([0, 0])])[0]!.data as BigInt64Array)).toEqual([0n, -5n]);
    expect(Array.from(runOp('Max', [big, i64([0, 0])])[0]!.data as BigInt64Array)).toEqual([INT64_MAX, 0n]);
  });
});

describe('comparison and logic', () => {
  it('compare to bool with broadcasting', () => {
    const a = f32([1, 2, 3, 4], [2, 2]);
    const b = f32([2, 3], [2]);
    expect(nums(runOp('Equal', [a, b])[0]!)).toEqual([0, 0, 0, 0]);
    expect(nums(runOp('Greater', [a, b])[0]!)).toEqual([0, 0, 1, 1]);
    expect(nums(runOp('Less', [a, b])[0]!)).toEqual([1, 1, 0, 0]);
    expect(nums(runOp('GreaterOrEqual', [a, f32([2], [1])])[0]!)).toEqual([0, 1, 1, 1]);
    expect(nums(runOp('LessOrEqual', [a, f32([2], [1])])[0]!)).toEqual([1, 1, 0, 0]);
    expect(runOp('Equal', [a, b])[0]!.type).toBe('bool');
    expect(nums(runOp('Equal', [f32([NaN], [1]), f32([NaN], [1])])[0]!)).toEqual([0]);
  });

  it('distinguishes int64 values float64 cannot', () => {
    expect(nums(runOp('Equal', [i64([2 ** 53]), new Tensor('int64', BigInt64Array.of(2n ** 53n + 1n), [1])])[0]!)).toEqual([0]);
    expect(nums(runOp('Equal', [bool([1, 0, 1]), bool([1, 1, 0])])[0]!)).toEqual([1, 0, 0]);
  });

  it('And, Or, Xor, Not', () => {
    const a = bool([0, 0, 1, 1]);
    const b = bool([0, 1, 0, 1]);
    expect(nums(runOp('And', [a, b])[0]!)).toEqual([0, 0, 0, 1]);
    expect(nums(runOp('Or', [a, b])[0]!)).toEqual([0, 1, 1, 1]);
    expect(nums(runOp('Xor', [a, b])[0]!)).toEqual([0, 1, 1, 0]);
    expect(nums(runOp('Not', [bool([1, 0], [1, 2])])[0]!)).toEqual([0, 1]);
    expect(() => runOp('And', [f32([1], [1]), f32([1], [1])])).toThrow(/dtype float32/);
  });
});

describe('Where', () => {
  it('selects with three-way broadcasting', () => {
    const [o] = runOp('Where', [bool([1, 0], [2, 1]), f32([1, 2, 3], [3]), f32([9], [1])]);
    expect(o!.dims).toEqual([2, 3]);
    expectClose(o!.data as Float32Array, [1, 2, 3, 9, 9, 9]);
  });

  it('copies elements bit for bit (int64 sentinels, float16, int4)', () => {
    const big = new Tensor('int64', BigInt64Array.of(INT64_MAX, 2n), [2]);
    expect(Array.from(runOp('Where', [bool([1, 0]), big, i64([7, 8])])[0]!.data as BigInt64Array)).toEqual([INT64_MAX, 8n]);
    const nan = new Tensor('float16', Uint16Array.of(0x7e01), [1]);
    expect((runOp('Where', [bool([1]), nan, nan])[0]!.data as Uint16Array)[0]).toBe(0x7e01);
    const x4 = new Tensor('int4', Uint8Array.of(0x21), [2]); // [1, 2]
    const y4 = new Tensor('int4', Uint8Array.of(0xef), [2]); // [-1, -2]
    expect((runOp('Where', [bool([0, 1]), x4, y4])[0]!.data as Uint8Array)[0]).toBe(0x2f);
  });

  it('requires X and Y to share a dtype', () => {
    expect(() => runOp('Where', [bool([1]), f32([1], [1]), i64([1])])).toThrow(/dtype/);
  });
});

describe('PRelu', () => {
  it('broadcasts slope onto X', () => {
    const [y] = runOp('PRelu', [f32([-1, 2, -3, 4, -5, 6], [2, 3]), f32([0.1, 0.2, 0.3], [3])]);
    expectClose(y!.data as Float32Array, [-0.1, 2, -0.9, 4, -1, 6]);
    expect(() => runOp('PRelu', [f32([-1, 2], [2]), f32([1, 2, 3, 4], [2, 2])])).toThrow(/slope/);
  });
});

describe('bitwise', () => {
  it('BitShift on uint8', () => {
    expect(nums(runOp('BitShift', [t('uint8', [16, 4, 1]), t('uint8', [1, 2, 3])], { direction: 'RIGHT' })[0]!)).toEqual([8, 1, 0]);
    expect(nums(runOp('BitShift', [t('uint8', [16, 4, 1]), t('uint8', [4, 2, 8])], { direction: 'LEFT' })[0]!)).toEqual([0, 16, 0]);
    expect(() => runOp('BitShift', [t('uint8', [1]), t('uint8', [1])], { direction: 'UP' })).toThrow(/direction/);
  });

  it('BitwiseAnd/Or/Xor/Not', () => {
    expect(nums(runOp('BitwiseAnd', [t('int32', [12, -1]), t('int32', [10, 5])])[0]!)).toEqual([8, 5]);
    expect(nums(runOp('BitwiseOr', [t('uint8', [12]), t('uint8', [3])])[0]!)).toEqual([15]);
    expect(nums(runOp('BitwiseXor', [i64([12]), i64([10])])[0]!)).toEqual([6]);
    expect(nums(runOp('BitwiseNot', [t('uint8', [5, 0])])[0]!)).toEqual([250, 255]);
    expect(nums(runOp('BitwiseNot', [i64([5])])[0]!)).toEqual([-6]);
  });
});
