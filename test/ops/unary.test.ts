import { describe, expect, it } from 'vitest';
import { erf, erfc } from '../../src/ops/unary.js';
import type { DType } from '../../src/tensor/dtype.js';
import { float16ToFloat32, float32ToFloat16 } from '../../src/tensor/float16.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const t = (dtype: DType, data: readonly number[], dims?: readonly number[]) => new Tensor(dtype, data, dims ?? [data.length]);
const nums = (x: Tensor) => Array.from(x.data as ArrayLike<number | bigint>, Number);
const f16 = (v: readonly number[]) => new Tensor('float16', Uint16Array.from(v, float32ToFloat16), [v.length]);

describe('math functions', () => {
  it('match Math within float32 rounding', () => {
    const x = f32([0.5, 1, 2], [3]);
    const cases: [string, (v: number) => number][] = [
      ['Exp', Math.exp], ['Log', Math.log], ['Sqrt', Math.sqrt], ['Reciprocal', (v) => 1 / v], ['Tanh', Math.tanh],
      ['Sin', Math.sin], ['Cos', Math.cos], ['Tan', Math.tan], ['Atan', Math.atan], ['Sinh', Math.sinh],
      ['Cosh', Math.cosh], ['Asinh', Math.asinh], ['Acosh', Math.acosh],
    ];
    for (const [op, fn] of cases) expectClose(runOp(op, [x])[0]!.data as Float32Array, [0.5, 1, 2].map(fn), 1e-6);
    expectClose(runOp('Asin', [f32([0.5], [1])])[0]!.data as Float32Array, [Math.asin(0.5)], 1e-6);
    expectClose(runOp('Acos', [f32([0.5], [1])])[0]!.data as Float32Array, [Math.acos(0.5)], 1e-6);
    expectClose(runOp('Atanh', [f32([0.5], [1])])[0]!.data as Float32Array, [Math.atanh(0.5)], 1e-6);
    expectClose(runOp('Log', [f32([0, -1], [2])])[0]!.data as Float32Array, [-Infinity, NaN]);
  });

  it('rejects integer inputs to float-only functions', () => {
    expect(() => runOp('Exp', [t('int32', [1])])).toThrow(/dtype int32/);
  });

  it('erf is accurate to double precision across its range', () => {
    const ref: [number, number][] = [
      [-3, -0.9999779095030014], [-1, -0.8427007929497149], [-0.5, -0.5204998778130465], [0, 0],
      [0.3, 0.3286267594591274], [2.4, 0.999311486103355], [2.5, 0.999593047982555], [5, 0.9999999999984626], [-6, -1],
    ];
    for (const [x, e] of ref) expect(Math.abs(erf(x) - e)).toBeLessThan(1e-15);
    expect(erfc(5) / 1.5374597944280349e-12).toBeCloseTo(1, 12);
    expect(erf(Infinity)).toBe(1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
    expectClose(runOp('Erf', [f32([-1, 0.3], [2])])[0]!.data as Float32Array, [-0.8427007929497149, 0.3286267594591274]);
  });
});

describe('rounding and sign', () => {
  it('Round is half to even; Floor and Ceil', () => {
    const x = f32([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6, 3.5000001], [8]);
    expect(Array.from(runOp('Round', [x])[0]!.data as Float32Array)).toEqual([0, 2, 2, -0, -2, 2, -3, 4]);
    expect(Array.from(runOp('Floor', [f32([-1.5, 1.5], [2])])[0]!.data as Float32Array)).toEqual([-2, 1]);
    expect(Array.from(runOp('Ceil', [f32([-1.5, 1.5], [2])])[0]!.data as Float32Array)).toEqual([-1, 2]);
  });

  it('Abs, Neg and Sign on integers and floats', () => {
    expect(nums(runOp('Abs', [t('int8', [-128, -3, 4])])[0]!)).toEqual([-128, 3, 4]);
    expect(nums(runOp('Abs', [i64([-5])])[0]!)).toEqual([5]);
    expect(nums(runOp('Neg', [t('int32', [3, -4])])[0]!)).toEqual([-3, 4]);
    expect(() => runOp('Neg', [t('uint8', [1])])).toThrow(/dtype uint8/);
    expectClose(runOp('Sign', [f32([-2, 0, 3, NaN], [4])])[0]!.data as Float32Array, [-1, 0, 1, NaN]);
    expect(nums(runOp('Sign', [i64([-9, 0, 9])])[0]!)).toEqual([-1, 0, 1]);
  });
});

describe('IsNaN, IsInf, Identity', () => {
  it('tests classify floats', () => {
    const x = f32([1, NaN, Infinity, -Infinity], [4]);
    expect(nums(runOp('IsNaN', [x])[0]!)).toEqual([0, 1, 0, 0]);
    expect(nums(runOp('IsInf', [x])[0]!)).toEqual([0, 0, 1, 1]);
    expect(nums(runOp('IsInf', [x], { detect_negative: 0 })[0]!)).toEqual([0, 0, 1, 0]);
    expect(nums(runOp('IsInf', [x], { detect_positive: 0 })[0]!)).toEqual([0, 0, 0, 1]);
    expect(runOp('IsNaN', [x])[0]!.type).toBe('bool');
  });

  it('Identity copies the data', () => {
    const x = i64([1, 2]);
    const [y] = runOp('Identity', [x]);
    expect(y!.data).not.toBe(x.data);
    expect(nums(y!)).toEqual([1, 2]);
  });
});

describe('Cast', () => {
  it('float to integers truncates toward zero and saturates (NaN -> 0)', () => {
    const x = f32([-1.7, 2.9, 300, -1, NaN, 1e10, -1e10, -Infinity], [8]);
    expect(nums(runOp('Cast', [x], { to: 6 })[0]!)).toEqual([-1, 2, 300, -1, 0, 2147483647, -2147483648, -2147483648]);
    expect(nums(runOp('Cast', [x], { to: 2 })[0]!)).toEqual([0, 2, 255, 0, 0, 255, 0, 0]);
    expect(nums(runOp('Cast', [x], { to: 3 })[0]!)).toEqual([-1, 2, 127, -1, 0, 127, -128, -128]);
    const [l] = runOp('Cast', [x], { to: 7 });
    expect(l!.type).toBe('int64');
    expect(Array.from(l!.data as BigInt64Array)).toEqual([-1n, 2n, 300n, -1n, 0n, 10000000000n, -10000000000n, -(2n ** 63n)]);
    expect((runOp('Cast', [f32([1e30], [1])], { to: 7 })[0]!.data as BigInt64Array)[0]).toBe(2n ** 63n - 1n);
  });

  it('integer to narrower integer wraps', () => {
    expect(nums(runOp('Cast', [t('int32', [-129, 255, 65536, 300])], { to: 3 })[0]!)).toEqual([127, -1, 0, 44]);
    expect(nums(runOp('Cast', [t('int8', [-1, 5])], { to: 2 })[0]!)).toEqual([255, 5]);
  });

  it('to bool: non-zero (and NaN) is true', () => {
    expect(nums(runOp('Cast', [f32([0, 0.5, NaN, -0], [4])], { to: 9 })[0]!)).toEqual([0, 1, 1, 0]);
    expect(nums(runOp('Cast', [t('bool', [1, 0])], { to: 1 })[0]!)).toEqual([1, 0]);
  });

  it('to and from float16 rounds to nearest even', () => {
    const [h] = runOp('Cast', [f32([1 / 3, 65520, 1e-8], [3])], { to: 10 });
    expect(h!.type).toBe('float16');
    expect(Array.from(h!.data as Uint16Array, float16ToFloat32)).toEqual([float16ToFloat32(0x3555), Infinity, 0]);
    expectClose(runOp('Cast', [f16([0.5, -2])], { to: 1 })[0]!.data as Float32Array, [0.5, -2]);
  });

  it('int64 wraps exactly into narrower integers', () => {
    const x = new Tensor('int64', BigInt64Array.of(2n ** 32n + 5n, -1n, 2n ** 53n + 1n), [3]);
    expect(nums(runOp('Cast', [x], { to: 6 })[0]!)).toEqual([5, -1, 1]);
    expect(nums(runOp('Cast', [x], { to: 2 })[0]!)).toEqual([5, 255, 1]);
    expect(nums(runOp('Cast', [x], { to: 9 })[0]!)).toEqual([1, 1, 1]);
  });

  it('to int4 truncates and keeps the low bits, as the onnx reference (ml_dtypes) does', () => {
    const [q] = runOp('Cast', [f32([7.6, -9, 2.5, 3.5], [4])], { to: 22 });
    expect(q!.type).toBe('int4');
    expect(Array.from(q!.data as Uint8Array)).toEqual([0x77, 0x32]); // [7, 7 (-9 wraps)], [2, 3]
  });

  it('rejects data types Kiln does not store', () => {
    expect(() => runOp('Cast', [f32([1], [1])], { to: 14 })).toThrow(/data type 14/);
    expect(() => runOp('Cast', [f32([1], [1])], {})).toThrow(/'to'/);
  });

  it('CastLike takes the dtype of its second input', () => {
    const [y] = runOp('CastLike', [f32([1.9, -2.2], [2]), t('int8', [0])]);
    expect(y!.type).toBe('int8');
    expect(nums(y!)).toEqual([1, -2]);
  });
});
