// Dtype coverage across op families: the 16/32/64-bit integers beyond int32/int64, and the
// low-precision storage formats (float8, float4e2m1, uint4, int2, uint2) through Cast,
// Quantize/DequantizeLinear and the ops that only move elements.
import { describe, expect, it } from 'vitest';
import { fromNumbers, toNumbers } from '../../src/tensor/convert.js';
import type { DType } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64, runOp } from '../helpers/op.js';

const nums = (t: Tensor) => Array.from(toNumbers(t));
/** The stored elements as they are: numbers, or bigints for the 64-bit integer dtypes. */
const elems = (t: Tensor) => Array.from<number | bigint>(t.data);
const t = (dtype: DType, values: number[], dims: number[] = [values.length]) => fromNumbers(dtype, values, dims);
const u64 = (values: bigint[]) => new Tensor('uint64', BigUint64Array.from(values), [values.length]);

describe('Cast with the low-precision dtypes', () => {
  it('float -> float8 saturates by default and gives NaN / inf with saturate=0', () => {
    const x = f32([1000, -1000, Infinity, 0.1], [4]);
    expect(elems(runOp('Cast', [x], { to: 17 })[0]!)).toEqual([0x7e, 0xfe, 0x7e, 0x1d]);
    expect(elems(runOp('Cast', [x], { to: 17, saturate: 0 })[0]!)).toEqual([0x7f, 0xff, 0x7f, 0x1d]);
    expect(elems(runOp('Cast', [x], { to: 19, saturate: 0 })[0]!)).toEqual([0x64, 0xe4, 0x7c, 0x2e]); // 1000 fits E5M2
    expect(elems(runOp('Cast', [x], { to: 18, saturate: 0 })[0]!)).toEqual([0x80, 0x80, 0x80, 0x25]); // E4M3FNUZ overflow is its NaN
  });

  it('float8 -> float16 / float decodes exactly', () => {
    const x = new Tensor('float8e5m2', Uint8Array.of(0x7b, 0x7c, 0x01, 0x80), [4]);
    expect(nums(runOp('Cast', [x], { to: 1 })[0]!)).toEqual([57344, Infinity, 2 ** -16, -0]);
    const [h] = runOp('Cast', [x], { to: 10 });
    expect(h!.type).toBe('float16');
    expect(elems(h!)).toEqual([0x7b00, 0x7c00, 0x0100, 0x8000]);
  });

  it('float -> float8e8m0 follows round_mode', () => {
    const x = f32([1.5, 1.25, 3], [3]);
    expect(elems(runOp('Cast', [x], { to: 24 })[0]!)).toEqual([128, 128, 129]);
    expect(elems(runOp('Cast', [x], { to: 24, round_mode: 'down' })[0]!)).toEqual([127, 127, 128]);
    expect(elems(runOp('Cast', [x], { to: 24, round_mode: 'nearest' })[0]!)).toEqual([128, 127, 129]);
    expect(() => runOp('Cast', [x], { to: 24, round_mode: 'sideways' })).toThrow(/round_mode/);
  });

  it('float -> int4 / uint4 / int2 / uint2 truncates and keeps the low bits', () => {
    const x = f32([-9, -2.5, 7.9, 8, 15], [5]);
    expect(nums(runOp('Cast', [x], { to: 22 })[0]!)).toEqual([7, -2, 7, -8, -1]);
    expect(nums(runOp('Cast', [x], { to: 21 })[0]!)).toEqual([7, 14, 7, 8, 15]);
    expect(nums(runOp('Cast', [x], { to: 26 })[0]!)).toEqual([-1, -2, -1, 0, -1]);
    expect(nums(runOp('Cast', [x], { to: 25 })[0]!)).toEqual([3, 2, 3, 0, 3]);
  });

  it('int2 / uint4 -> wider integers and int64 -> packed wrap exactly', () => {
    expect(nums(runOp('Cast', [t('int2', [-2, -1, 0, 1])], { to: 3 })[0]!)).toEqual([-2, -1, 0, 1]);
    expect(nums(runOp('Cast', [t('uint4', [0, 9, 15])], { to: 2 })[0]!)).toEqual([0, 9, 15]);
    expect(nums(runOp('Cast', [i64([17, -1, -8])], { to: 22 })[0]!)).toEqual([1, -1, -8]);
  });

  it('float -> float4e2m1 rounds to nearest even and saturates', () => {
    expect(nums(runOp('Cast', [f32([0.25, 0.75, 5, 100, -Infinity], [5])], { to: 23 })[0]!)).toEqual([0, 1, 4, 6, -6]);
  });

  it('CastLike takes the target dtype and the attributes', () => {
    const like = new Tensor('float8e4m3fnuz', new Uint8Array(1), [1]);
    const [y] = runOp('CastLike', [f32([300, 1], [2]), like], { saturate: 0 });
    expect(y!.type).toBe('float8e4m3fnuz');
    expect(elems(y!)).toEqual([0x80, 0x40]);
  });
});

describe('QuantizeLinear / DequantizeLinear beyond int8', () => {
  it('quantizes to int16 / uint16 / uint4 / int2 with saturation', () => {
    const x = f32([-100000, 2.5, 3.5, 100000], [4]);
    expect(nums(runOp('QuantizeLinear', [x, f32([1], []), t('int16', [0], [])])[0]!)).toEqual([-32768, 2, 4, 32767]);
    expect(nums(runOp('QuantizeLinear', [x, f32([1], []), t('uint16', [10], [])])[0]!)).toEqual([0, 12, 14, 65535]);
    expect(nums(runOp('QuantizeLinear', [x, f32([1], []), t('uint4', [1], [])])[0]!)).toEqual([0, 3, 5, 15]);
    expect(nums(runOp('QuantizeLinear', [x, f32([1], []), t('int2', [0], [])])[0]!)).toEqual([-2, 1, 1, 1]);
    const [y] = runOp('QuantizeLinear', [x, f32([1], [])], { output_dtype: 25 });
    expect(y!.type).toBe('uint2');
    expect(nums(y!)).toEqual([0, 2, 3, 3]);
  });

  it('quantizes to float8 with and without saturation, and to float4e2m1', () => {
    const x = f32([1, 1000, -1000, 0.3], [4]);
    const zp = new Tensor('float8e4m3fn', new Uint8Array(1), []);
    expect(elems(runOp('QuantizeLinear', [x, f32([2], []), zp])[0]!)).toEqual([0x30, 0x7e, 0xfe, 0x22]);
    expect(elems(runOp('QuantizeLinear', [x, f32([2], []), zp], { saturate: 0 })[0]!)).toEqual([0x30, 0x7f, 0xff, 0x22]);
    const [q4] = runOp('QuantizeLinear', [x, f32([1], [])], { output_dtype: 23 });
    expect(nums(q4!)).toEqual([1, 6, -6, 0.5]);
  });

  it('dequantizes float8, uint4, int2 and int16', () => {
    const x8 = new Tensor('float8e5m2', Uint8Array.of(0x3c, 0xc0, 0x7b), [3]);
    expect(nums(runOp('DequantizeLinear', [x8, f32([0.5], [])])[0]!)).toEqual([0.5, -1, 28672]);
    expect(nums(runOp('DequantizeLinear', [t('uint4', [0, 15, 8]), f32([2], []), t('uint4', [8], [])])[0]!)).toEqual([-16, 14, 0]);
    expect(nums(runOp('DequantizeLinear', [t('int2', [-2, 1]), f32([3], [])])[0]!)).toEqual([-6, 3]);
    expect(nums(runOp('DequantizeLinear', [t('int16', [-32768, 7]), f32([1], []), t('int16', [-1], [])])[0]!)).toEqual([-32767, 8]);
  });

  it('accepts a float8e8m0 scale with an explicit output_dtype', () => {
    const s = new Tensor('float8e8m0', Uint8Array.of(128), []); // 2
    expect(nums(runOp('DequantizeLinear', [t('int8', [3, -4]), s], { output_dtype: 1 })[0]!)).toEqual([6, -8]);
    expect(() => runOp('DequantizeLinear', [t('int8', [3]), s])).toThrow(/output_dtype/);
  });
});

describe('16/32/64-bit integer arithmetic', () => {
  it('wraps like the typed arrays; uint32 products stay exact', () => {
    expect(nums(runOp('Add', [t('uint16', [65535, 1]), t('uint16', [1, 2])])[0]!)).toEqual([0, 3]);
    expect(nums(runOp('Sub', [t('int16', [-32768]), t('int16', [1])])[0]!)).toEqual([32767]);
    expect(nums(runOp('Mul', [t('uint32', [4294967295, 65537]), t('uint32', [4294967295, 65537])])[0]!)).toEqual([1, 131073]);
    expect(nums(runOp('Div', [t('uint32', [4294967295]), t('uint32', [2])])[0]!)).toEqual([2147483647]);
  });

  it('uint64 stays exact in BigInt and wraps modulo 2^64', () => {
    const max = 2n ** 64n - 1n;
    expect(elems(runOp('Add', [u64([max, 5n]), u64([1n, 2n ** 63n])])[0]!)).toEqual([0n, 2n ** 63n + 5n]);
    expect(elems(runOp('Sub', [u64([0n]), u64([1n])])[0]!)).toEqual([max]);
    expect(elems(runOp('Div', [u64([max]), u64([3n])])[0]!)).toEqual([max / 3n]);
    expect(elems(runOp('Max', [u64([max, 1n]), u64([2n ** 63n, 2n])])[0]!)).toEqual([max, 2n]);
    expect(elems(runOp('Greater', [u64([max]), u64([max - 1n])])[0]!)).toEqual([1]);
    expect(elems(runOp('ReduceSum', [u64([max, 2n])], { keepdims: 0 })[0]!)).toEqual([1n]);
    expect(elems(runOp('BitwiseNot', [u64([0n])])[0]!)).toEqual([max]);
  });

  it('Mod follows the divisor for fmod=0 and the dividend for fmod=1 on 16-bit types', () => {
    expect(nums(runOp('Mod', [t('int16', [-7, 7]), t('int16', [3, -3])])[0]!)).toEqual([2, -2]);
    expect(nums(runOp('Mod', [t('int16', [-7, 7]), t('int16', [3, -3])], { fmod: 1 })[0]!)).toEqual([-1, 1]);
  });

  it('BitShift: logical for unsigned, arithmetic for signed, out-of-range shifts give the sign fill', () => {
    const left = { direction: 'LEFT' };
    const right = { direction: 'RIGHT' };
    expect(nums(runOp('BitShift', [t('uint16', [0x8001, 1]), t('uint16', [1, 16])], left)[0]!)).toEqual([2, 0]);
    expect(nums(runOp('BitShift', [t('uint32', [0x80000000]), t('uint32', [31])], right)[0]!)).toEqual([1]);
    expect(nums(runOp('BitShift', [t('int8', [-128, -7, 64, 5]), t('int8', [1, 1, 1, -1])], right)[0]!)).toEqual([-64, -4, 32, 0]);
    expect(nums(runOp('BitShift', [t('int8', [-7, -7, 64]), t('int8', [8, -1, 1])], right)[0]!)).toEqual([-1, -1, 32]);
    expect(nums(runOp('BitShift', [t('int8', [64, -1, 3]), t('int8', [1, 8, -2])], left)[0]!)).toEqual([-128, 0, 0]);
    expect(elems(runOp('BitShift', [i64([-1, 1]), i64([63, 64])], right)[0]!)).toEqual([-1n, 0n]);
    expect(elems(runOp('BitShift', [u64([1n]), u64([63n])], left)[0]!)).toEqual([2n ** 63n]);
  });
});

describe('movement ops keep low-precision elements bit for bit', () => {
  it('Transpose / Concat / Slice of packed uint4 and int2', () => {
    const x = t('uint4', [1, 2, 3, 4, 5, 6], [2, 3]);
    expect(nums(runOp('Transpose', [x])[0]!)).toEqual([1, 4, 2, 5, 3, 6]);
    const [c] = runOp('Concat', [t('int2', [-2, 1, 0]), t('int2', [-1, -1])], { axis: 0 });
    expect(c!.type).toBe('int2');
    expect(nums(c!)).toEqual([-2, 1, 0, -1, -1]);
    const [s] = runOp('Slice', [t('int2', [-2, -1, 0, 1, -2]), i64([1]), i64([5])]);
    expect(nums(s!)).toEqual([-1, 0, 1, -2]);
  });

  it('Where / Reshape / Gather / Pad of float8 copy codes, NaN patterns included', () => {
    const x = new Tensor('float8e4m3fn', Uint8Array.of(0x7f, 0xff, 0x38, 0x80), [4]);
    const y = new Tensor('float8e4m3fn', Uint8Array.of(1, 2, 3, 4), [4]);
    const [w] = runOp('Where', [new Tensor('bool', Uint8Array.of(1, 1, 0, 1), [4]), x, y]);
    expect(elems(w!)).toEqual([0x7f, 0xff, 3, 0x80]);
    expect(elems(runOp('Reshape', [x, i64([2, 2])])[0]!)).toEqual([0x7f, 0xff, 0x38, 0x80]);
    expect(elems(runOp('Gather', [x, i64([3, 1])])[0]!)).toEqual([0x80, 0xff]);
    const cv = new Tensor('float8e4m3fn', Uint8Array.of(0x40), []);
    expect(elems(runOp('Pad', [x, i64([1, 0]), cv])[0]!)).toEqual([0x40, 0x7f, 0xff, 0x38, 0x80]);
  });

  it('Identity / Shape / Size accept every storage dtype', () => {
    const x = t('float4e2m1', [1, -6, 0.5], [3]);
    expect(nums(runOp('Identity', [x])[0]!)).toEqual([1, -6, 0.5]);
    expect(elems(runOp('Shape', [x])[0]!)).toEqual([3n]);
    expect(elems(runOp('Size', [t('uint2', [1, 2, 3, 0, 1])])[0]!)).toEqual([5n]);
  });
});

describe('float64 and bfloat16 where the spec allows them', () => {
  it('MatMul, Relu, Neg, Pow and Range in float64', () => {
    const a = t('float64', [1, 2, 3, 4], [2, 2]);
    expect(nums(runOp('MatMul', [a, a])[0]!)).toEqual([7, 10, 15, 22]);
    expect(nums(runOp('Relu', [t('float64', [-1, 2])])[0]!)).toEqual([0, 2]);
    expect(nums(runOp('Neg', [t('int16', [3, -4])])[0]!)).toEqual([-3, 4]);
    expect(nums(runOp('Pow', [t('float64', [2, 9]), t('uint32', [10, 0])])[0]!)).toEqual([1024, 1]);
    expect(nums(runOp('Range', [t('float64', [1], []), t('float64', [2], []), t('float64', [0.25], [])])[0]!)).toEqual([1, 1.25, 1.5, 1.75]);
  });

  it('bfloat16 Range and Celu compute through float64 and round once', () => {
    const [r] = runOp('Range', [t('bfloat16', [1], []), t('bfloat16', [4], []), t('bfloat16', [1], [])]);
    expect(r!.type).toBe('bfloat16');
    expect(nums(r!)).toEqual([1, 2, 3]);
    expect(nums(runOp('Celu', [t('bfloat16', [2, 0])])[0]!)).toEqual([2, 0]);
  });
});
