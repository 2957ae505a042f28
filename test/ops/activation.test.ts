import { describe, expect, it } from 'vitest';
import type { AttrValue } from '../../src/graph/ir.js';
import type { DType } from '../../src/tensor/dtype.js';
import { float16ToFloat32, float32ToFloat16 } from '../../src/tensor/float16.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const t = (dtype: DType, data: readonly number[], dims?: readonly number[]) => new Tensor(dtype, data, dims ?? [data.length]);
const nums = (x: Tensor) => Array.from(x.data as ArrayLike<number | bigint>, Number);
const X = [-3, -1, -0.25, 0, 0.5, 2, 40];
const run = (op: string, attrs: Record<string, AttrValue> = {}, x = X) => runOp(op, [f32(x, [x.length])], attrs)[0]!.data as Float32Array;

describe('activations (values from numpy in float64)', () => {
  it('Relu, LeakyRelu, Elu, ThresholdedRelu', () => {
    expectClose(run('Relu'), [0, 0, 0, 0, 0.5, 2, 40]);
    expectClose(run('LeakyRelu'), [-0.03, -0.01, -0.0025, 0, 0.5, 2, 40]);
    expectClose(run('LeakyRelu', { alpha: 0.1 }), [-0.3, -0.1, -0.025, 0, 0.5, 2, 40]);
    expectClose(run('Elu', { alpha: 2 }), X.map((v) => (v < 0 ? 2 * Math.expm1(v) : v)));
    expectClose(run('ThresholdedRelu'), [0, 0, 0, 0, 0, 2, 40]);
    expectClose(run('ThresholdedRelu', { alpha: 0.4 }), [0, 0, 0, 0, 0.5, 2, 40]);
  });

  it('Relu keeps integer dtypes', () => {
    expect(nums(runOp('Relu', [t('int8', [-5, 5])])[0]!)).toEqual([0, 5]);
    expect(nums(runOp('Relu', [i64([-5, 5])])[0]!)).toEqual([0, 5]);
  });

  it('Sigmoid, Softplus, Softsign and friends', () => {
    expectClose(run('Sigmoid'), [0.04742587317756678, 0.2689414213699951, 0.43782349911420193, 0.5, 0.6224593312018546, 0.8807970779778823, 1]);
    expectClose(run('Sigmoid', {}, [-1000, 1000]), [0, 1]);
    expectClose(run('Softplus'), [0.04858735157374206, 0.31326168751822286, 0.5759394198788436, 0.6931471805599453, 0.9740769841801067, 2.1269280110429727, 40]);
    expectClose(run('Softplus', {}, [1000, -1000]), [1000, 0]);
    expectClose(run('Softsign'), X.map((v) => v / (1 + Math.abs(v))));
    expectClose(run('HardSigmoid'), [0, 0.3, 0.45, 0.5, 0.6, 0.9, 1]);
    expectClose(run('HardSigmoid', { alpha: 0.5, beta: 0.6 }), [0, 0.1, 0.475, 0.6, 0.85, 1, 1]);
    expectClose(run('HardSwish'), [0, -1 / 3, -0.25 * (0.5 - 0.25 / 6), 0, 0.5 * (0.5 + 0.5 / 6), 2 * (0.5 + 2 / 6), 40]);
  });

  it('Selu, Celu, Mish, Swish', () => {
    expectClose(run('Selu'), [-1.6705687287671118, -1.1113307378125625, -0.388890197478119, 0, 0.5253504936777402, 2.101401974710961, 42.028039494219215]);
    expectClose(run('Celu', { alpha: 2 }), [-1.5537396797031404, -0.7869386805747332, -0.2350061948308093, 0, 0.5, 2, 40]);
    expectClose(run('Mish'), [-0.1456474612756246, -0.30340146137410895, -0.129926963679141, 0, 0.3752452113048951, 1.9439589595339946, 40]);
    expectClose(run('Swish', { alpha: 0.5 }), [-0.547276571419069, -0.3775406687981454, -0.11719765665656094, 0, 0.28108825044289903, 1.4621171572600098, 39.99999991755385]);
    expectClose(run('Swish'), X.map((v) => v / (1 + Math.exp(-v))));
  });

  it('Gelu exact and tanh-approximated', () => {
    expectClose(run('Gelu'), [-0.00404969409489031, -0.15865525393145707, -0.10032341857926907, 0, 0.34573123063700656, 1.9544997361036416, 40]);
    expectClose(run('Gelu', { approximate: 'tanh' }), [-0.0036373920817729943, -0.1588080093917233, -0.100324649298315, 0, 0.34571400982514394, 1.954597694087775, 40]);
    expectClose(run('Gelu', {}, [-5]), [-1.4332578593959731e-6], 1e-6, 0);
    expect(() => run('Gelu', { approximate: 'fast' })).toThrow(/approximate/);
  });

  it('Shrink', () => {
    expectClose(run('Shrink', { lambd: 1.5, bias: 0.5 }, [-2, -1, 0, 1, 2]), [-1.5, 0, 0, 0, 1.5]);
  });

  it('float16 in, float16 out', () => {
    const x = new Tensor('float16', Uint16Array.from([-1, 0.5], float32ToFloat16), [2]);
    const [y] = runOp('Sigmoid', [x]);
    expect(y!.type).toBe('float16');
    expectClose(Array.from(y!.data as Uint16Array, float16ToFloat32), [0.2689414213699951, 0.6224593312018546], 1e-3);
  });
});

describe('Clip', () => {
  it('takes optional min and max inputs', () => {
    const x = f32([-2, 0, 2], [3]);
    expectClose(runOp('Clip', [x, f32([-1], []), f32([1], [])])[0]!.data as Float32Array, [-1, 0, 1]);
    expectClose(runOp('Clip', [x, undefined, f32([1], [])])[0]!.data as Float32Array, [-2, 0, 1]);
    expectClose(runOp('Clip', [x, f32([-1], [])])[0]!.data as Float32Array, [-1, 0, 2]);
    expectClose(runOp('Clip', [x])[0]!.data as Float32Array, [-2, 0, 2]);
  });

  it('sets everything to max when min > max', () => {
    expectClose(runOp('Clip', [f32([-2, 0, 2], [3]), f32([1], []), f32([-1], [])])[0]!.data as Float32Array, [-1, -1, -1]);
  });

  it('works on integers, int64 exactly', () => {
    expect(nums(runOp('Clip', [t('int8', [-128, 0, 127]), t('int8', [-5], []), t('int8', [5], [])])[0]!)).toEqual([-5, 0, 5]);
    const big = new Tensor('int64', BigInt64Array.of(9223372036854775807n, -3n), [2]);
    expect(Array.from(runOp('Clip', [big, i64([-1], [])])[0]!.data as BigInt64Array)).toEqual([9223372036854775807n, -1n]);
  });

  it('rejects non-scalar bounds and dtype mismatches', () => {
    expect(() => runOp('Clip', [f32([1], [1]), f32([0, 1], [2])])).toThrow(/scalar/);
    expect(() => runOp('Clip', [f32([1], [1]), t('int32', [0], [])])).toThrow(/dtype/);
  });
});
