import { describe, expect, it } from 'vitest';
import type { AttrValue, ValueType } from '../../src/graph/ir.js';
import { inferNodeTypes } from '../../src/ops/invoke.js';
import type { DType } from '../../src/tensor/dtype.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const t = (dtype: DType, data: readonly number[], dims: readonly number[]) => new Tensor(dtype, data, dims);
const vals = (x: Tensor) => Array.from(toNumbers(x));
const scalar = (v: number) => f32([v], []);

function infer(op: string, inputs: (ValueType | undefined)[], attrs: Record<string, AttrValue> = {}): ValueType[] {
  const node = { name: 'n', op, domain: '', inputs: inputs.map((x, i) => (x ? `i${i}` : '')), outputs: ['o'], attrs };
  return inferNodeTypes(node, inputs, () => undefined);
}

describe('QuantizeLinear', () => {
  it('defaults to uint8, rounds half to even before adding the zero point, saturates', () => {
    const [y] = runOp('QuantizeLinear', [f32([0, 1, 2.5, -1, 300, 127.5, 128.5], [7]), scalar(1)]);
    expect(y!.type).toBe('uint8');
    expect(vals(y!)).toEqual([0, 1, 2, 0, 255, 128, 128]);
    const [z] = runOp('QuantizeLinear', [f32([0, 1, 3, 5, -3, -5, 1000], [7]), scalar(2), t('uint8', [128], [])]);
    expect(vals(z!)).toEqual([128, 128, 130, 130, 126, 126, 255]);
    // 25.5 + 153 rounds as round(25.5) + 153 = 179, not round(178.5) = 178.
    expect(vals(runOp('QuantizeLinear', [f32([25.5], [1]), scalar(1), t('uint8', [153], [])])[0]!)).toEqual([179]);
  });

  it('divides in float32 for float32 inputs', () => {
    // 0.5 / fround(5/255) is 25.4999991 in float64 but exactly 25.5 in float32, which rounds to 26.
    expect(vals(runOp('QuantizeLinear', [f32([0.5], [1]), scalar(5 / 255)])[0]!)).toEqual([26]);
  });

  it('produces int8 and int4 from the zero point type or output_dtype', () => {
    expect(vals(runOp('QuantizeLinear', [f32([-300, 300, -0.5, 0.5], [4]), scalar(1), t('int8', [0], [])])[0]!)).toEqual([-128, 127, 0, 0]);
    const [i8] = runOp('QuantizeLinear', [f32([-300, 1.5], [2]), scalar(1)], { output_dtype: 3 });
    expect(i8!.type).toBe('int8');
    expect(vals(i8!)).toEqual([-128, 2]);
    const [i4] = runOp('QuantizeLinear', [f32([-10, 7.6, 3.5, -8.5], [4]), scalar(1)], { output_dtype: 22 });
    expect(i4!.type).toBe('int4');
    expect(vals(i4!)).toEqual([-8, 7, 4, -8]);
    const [z4] = runOp('QuantizeLinear', [f32([1, 2], [2]), scalar(1), new Tensor('int4', Uint8Array.of(0x0f), [1])]);
    expect(vals(z4!)).toEqual([0, 1]);
    expect(() => runOp('QuantizeLinear', [f32([1], [1]), scalar(1), t('uint8', [0], [])], { output_dtype: 3 })).toThrow(/output_dtype/);
    expect(() => runOp('QuantizeLinear', [f32([1], [1]), scalar(1)], { output_dtype: 1 })).toThrow(/output_dtype=1/);
  });

  it('quantizes per axis', () => {
    const x = f32([3, 3, 3, 6, 6, 6], [2, 3]);
    const s = f32([1, 2, 3], [3]);
    expect(vals(runOp('QuantizeLinear', [x, s], { axis: 1 })[0]!)).toEqual([3, 2, 1, 6, 3, 2]);
    expect(vals(runOp('QuantizeLinear', [x, s], { axis: -1 })[0]!)).toEqual([3, 2, 1, 6, 3, 2]);
    expect(vals(runOp('QuantizeLinear', [x, f32([1, 2], [2]), t('int8', [0, -1], [2])], { axis: 0 })[0]!)).toEqual([3, 3, 3, 2, 2, 2]);
    expect(() => runOp('QuantizeLinear', [x, f32([1, 2], [2])])).toThrow(/3 values/);
    expect(() => runOp('QuantizeLinear', [x, s], { axis: 2 })).toThrow(/out of range/);
    expect(() => runOp('QuantizeLinear', [x, s, t('uint8', [0], [])])).toThrow(/shape/);
  });

  it('quantizes in blocks, with a short last block', () => {
    expect(vals(runOp('QuantizeLinear', [f32([2, 2, 2, 2], [1, 4]), f32([1, 2], [1, 2])], { axis: 1, block_size: 2 })[0]!)).toEqual([2, 2, 1, 1]);
    const x = f32([4, 4, 4, 4, 4, 8, 8, 8, 8, 8], [2, 5]);
    const s = f32([1, 2, 4, 2, 4, 8], [2, 3]);
    expect(vals(runOp('QuantizeLinear', [x, s], { axis: 1, block_size: 2 })[0]!)).toEqual([4, 4, 2, 2, 1, 4, 4, 2, 2, 1]);
    expect(() => runOp('QuantizeLinear', [x, f32([1, 2, 3, 4], [2, 2])], { axis: 1, block_size: 2 })).toThrow(/\[2, 3\]/);
    expect(() => runOp('QuantizeLinear', [x, s], { axis: 1, block_size: -1 })).toThrow(/block_size/);
  });

  it('accepts int32 inputs and infers the output type', () => {
    expect(vals(runOp('QuantizeLinear', [t('int32', [10, 15], [2]), scalar(10), t('int8', [1], [])])[0]!)).toEqual([2, 3]);
    expect(infer('QuantizeLinear', [{ dtype: 'float32', shape: ['N', 4] }, { dtype: 'float32', shape: [] }])[0]).toEqual({ dtype: 'uint8', shape: ['N', 4] });
    expect(infer('QuantizeLinear', [{ dtype: 'float32', shape: ['N', 4] }, { dtype: 'float32', shape: [] }, { dtype: 'int8', shape: [] }])[0]!.dtype).toBe('int8');
  });
});

describe('DequantizeLinear', () => {
  it('computes (x - zero_point) * scale', () => {
    const [y] = runOp('DequantizeLinear', [t('uint8', [0, 128, 255], [3]), scalar(0.5), t('uint8', [128], [])]);
    expect(y!.type).toBe('float32');
    expect(vals(y!)).toEqual([-64, 0, 63.5]);
    expect(vals(runOp('DequantizeLinear', [t('int8', [-128, 127], [2]), scalar(2)])[0]!)).toEqual([-256, 254]);
  });

  it('reads packed int4 and int32 data', () => {
    expect(vals(runOp('DequantizeLinear', [new Tensor('int4', Uint8Array.of(0x78, 0x01), [3]), scalar(2)])[0]!)).toEqual([-16, 14, 2]);
    expectClose(vals(runOp('DequantizeLinear', [t('int32', [1000000, -3], [2]), scalar(0.001)])[0]!), [1000, -0.003]);
  });

  it('dequantizes per axis and per block', () => {
    const x = t('int8', [1, 1, 1, 2, 2, 2], [2, 3]);
    expect(vals(runOp('DequantizeLinear', [x, f32([1, 2, 3], [3]), t('int8', [0, 1, 0], [3])])[0]!)).toEqual([1, 0, 3, 2, 2, 6]);
    expect(vals(runOp('DequantizeLinear', [x, f32([1, 10, 2, 20], [2, 2])], { axis: 1, block_size: 2 })[0]!)).toEqual([1, 1, 10, 4, 4, 40]);
  });

  it('produces the scale dtype or output_dtype', () => {
    const h = new Tensor('float16', Uint16Array.of(0x3800), []); // 0.5
    const [y] = runOp('DequantizeLinear', [t('uint8', [3], [1]), h]);
    expect(y!.type).toBe('float16');
    expect(vals(y!)).toEqual([1.5]);
    const [z] = runOp('DequantizeLinear', [t('uint8', [3], [1]), scalar(0.5)], { output_dtype: 10 });
    expect(z!.type).toBe('float16');
    expect(() => runOp('DequantizeLinear', [t('uint8', [3], [1]), scalar(0.5)], { output_dtype: 2 })).toThrow(/output_dtype/);
    expect(() => runOp('DequantizeLinear', [t('uint8', [3], [1]), scalar(0.5), t('int8', [0], [])])).toThrow(/x_zero_point/);
  });
});

describe('DynamicQuantizeLinear', () => {
  const run = (x: number[]) => runOp('DynamicQuantizeLinear', [f32(x, [x.length])], {}, { outputs: 3 });

  it('matches the ONNX example', () => {
    const [y, s, z] = run([0, 2, -3, -2.5, 1.34, 0.5]);
    expect(vals(y!)).toEqual([153, 255, 0, 26, 221, 179]);
    expect(s!.dims).toEqual([]);
    expect(vals(s!)[0]).toBe(Math.fround(5 / 255));
    expect(z!.type).toBe('uint8');
    expect(vals(z!)).toEqual([153]);
  });

  it('widens the range to include zero', () => {
    const [y, s, z] = run([1, 2, 3]);
    expect(vals(s!)[0]).toBe(Math.fround(3 / 255));
    expect(vals(z!)).toEqual([0]);
    expect(vals(y!)).toEqual([85, 170, 255]);
    const [yn, , zn] = run([-1, -2]);
    expect(vals(zn!)).toEqual([255]);
    expect(vals(yn!)).toEqual([128, 0]); // -1 / fround(2/255) = -127.49999 in float32
  });

  it('uses scale 1 for an all-zero input', () => {
    const [y, s, z] = run([0, 0]);
    expect(vals(s!)).toEqual([1]);
    expect(vals(z!)).toEqual([0]);
    expect(vals(y!)).toEqual([0, 0]);
  });
});
