import { describe, expect, it } from 'vitest';
import type { AttrValue, ValueType } from '../../src/graph/ir.js';
import { inferNodeTypes } from '../../src/ops/invoke.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);
const vals = (x: Tensor) => Array.from(toNumbers(x));

function infer(op: string, inputs: ValueType[], attrs: Record<string, AttrValue>, outputs = 1): ValueType[] {
  const node = { name: 'n', op, domain: '', inputs: inputs.map((_, i) => `i${i}`), outputs: range(outputs).map((i) => `o${i}`), attrs };
  return inferNodeTypes(node, inputs, () => undefined);
}

describe('MaxPool', () => {
  const x = f32(range(16, 1), [1, 1, 4, 4]);

  it('takes window maxima and their flat indices, row- or column-major', () => {
    const [y, idx] = runOp('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, { outputs: 2 });
    expect(vals(y!)).toEqual([6, 8, 14, 16]);
    expect(idx!.type).toBe('int64');
    expect(vals(idx!)).toEqual([5, 7, 13, 15]);
    const [, col] = runOp('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 }, { outputs: 2 });
    expect(vals(col!)).toEqual([5, 13, 7, 15]);
  });

  it('counts indices over the whole tensor, batch and channel included', () => {
    const [, idx] = runOp('MaxPool', [f32([1, 2, 3, 4, 8, 7, 6, 5], [1, 2, 2, 2])], { kernel_shape: [2, 2] }, { outputs: 2 });
    expect(vals(idx!)).toEqual([3, 4]);
  });

  it('ignores padding, dilates, and keeps uint8/int8 types', () => {
    const [y] = runOp('MaxPool', [f32([1, 5, 2, 4, 3], [1, 1, 5])], { kernel_shape: [2], dilations: [2] });
    expect(vals(y!)).toEqual([2, 5, 3]);
    const [n] = runOp('MaxPool', [f32([-3, -1], [1, 1, 2])], { kernel_shape: [2], pads: [1, 1] });
    expect(vals(n!)).toEqual([-3, -1, -1]);
    const [u] = runOp('MaxPool', [new Tensor('uint8', [3, 250, 7], [1, 1, 3])], { kernel_shape: [2], pads: [1, 0] });
    expect(u!.type).toBe('uint8');
    expect(vals(u!)).toEqual([3, 250, 250]);
    const [s] = runOp('MaxPool', [new Tensor('int8', [-128, -100], [1, 1, 2])], { kernel_shape: [2] });
    expect(vals(s!)).toEqual([-100]);
  });

  it('rounds the window count up with ceil_mode but drops windows starting in the end padding', () => {
    const x5 = f32(range(5, 1), [1, 1, 5]);
    expect(vals(runOp('MaxPool', [x5], { kernel_shape: [2], strides: [2] })[0]!)).toEqual([2, 4]);
    expect(vals(runOp('MaxPool', [x5], { kernel_shape: [2], strides: [2], ceil_mode: 1 })[0]!)).toEqual([2, 4, 5]);
    const [d] = runOp('MaxPool', [f32(range(4, 1), [1, 1, 4])], { kernel_shape: [2], strides: [2], pads: [0, 1], ceil_mode: 1 });
    expect(d!.dims).toEqual([1, 1, 2]);
  });

  it('handles 3-D windows', () => {
    const [y] = runOp('MaxPool', [f32(range(8), [1, 1, 2, 2, 2])], { kernel_shape: [2, 1, 2] });
    expect(y!.dims).toEqual([1, 1, 1, 2, 1]);
    expect(vals(y!)).toEqual([5, 7]);
  });

  it('infers shapes with symbolic dims and validates attributes', () => {
    const [y, i] = infer('MaxPool', [{ dtype: 'float32', shape: ['N', 3, 'H', 32] }], { kernel_shape: [2, 2], strides: [2, 2] }, 2);
    expect(y!.shape![0]).toBe('N');
    expect(typeof y!.shape![2]).toBe('string');
    expect(y!.shape![3]).toBe(16);
    expect(i!.dtype).toBe('int64');
    expect(() => runOp('MaxPool', [x], {})).toThrow(/kernel_shape/);
    expect(() => runOp('MaxPool', [x], { kernel_shape: [2] })).toThrow(/kernel_shape/);
    expect(() => runOp('MaxPool', [x], { kernel_shape: [2, 2], ceil_mode: 2 })).toThrow(/ceil_mode/);
    expect(() => runOp('MaxPool', [x], { kernel_shape: [2, 2], storage_order: 3 })).toThrow(/storage_order/);
    expect(() => runOp('MaxPool', [f32([1, 2], [1, 2])], { kernel_shape: [2] })).toThrow(/rank >= 3/);
    expect(() => runOp('MaxPool', [x], { kernel_shape: [5, 5] })).toThrow(/does not fit/);
  });
});

describe('AveragePool', () => {
  const x = f32([1, 2, 3, 4], [1, 1, 2, 2]);

  it('excludes or includes padding in the divisor', () => {
    const attrs = { kernel_shape: [2, 2], pads: [1, 1, 1, 1] };
    expectClose(vals(runOp('AveragePool', [x], attrs)[0]!), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    expectClose(vals(runOp('AveragePool', [x], { ...attrs, count_include_pad: 1 })[0]!), [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1]);
  });

  it('never counts the ceil_mode overhang past the padding', () => {
    const x5 = f32(range(5, 1), [1, 1, 5]);
    expectClose(vals(runOp('AveragePool', [x5], { kernel_shape: [2], strides: [2], ceil_mode: 1 })[0]!), [1.5, 3.5, 5]);
    expectClose(vals(runOp('AveragePool', [x5], { kernel_shape: [2], strides: [2], ceil_mode: 1, count_include_pad: 1 })[0]!), [1.5, 3.5, 5]);
  });

  it('pads SAME_UPPER at the end and SAME_LOWER at the start', () => {
    const x4 = f32([1, 2, 3, 4], [1, 1, 4]);
    expectClose(vals(runOp('AveragePool', [x4], { kernel_shape: [2], auto_pad: 'SAME_UPPER' })[0]!), [1.5, 2.5, 3.5, 4]);
    expectClose(vals(runOp('AveragePool', [x4], { kernel_shape: [2], auto_pad: 'SAME_LOWER' })[0]!), [1, 1.5, 2.5, 3.5]);
    expectClose(vals(runOp('AveragePool', [x4], { kernel_shape: [3], auto_pad: 'SAME_UPPER' })[0]!), [1.5, 2, 3, 3.5]);
    expectClose(vals(runOp('AveragePool', [x4], { kernel_shape: [3], auto_pad: 'VALID' })[0]!), [2, 3]);
  });

  it('averages dilated taps', () => {
    expectClose(vals(runOp('AveragePool', [f32([1, 5, 2, 4, 3], [1, 1, 5])], { kernel_shape: [2], dilations: [2] })[0]!), [1.5, 4.5, 2.5]);
  });
});

describe('LpPool and global pools', () => {
  it('LpPool takes the p-norm of each window', () => {
    expectClose(vals(runOp('LpPool', [f32([3, -4, 0], [1, 1, 3])], { kernel_shape: [2] })[0]!), [5, 4]);
    expectClose(vals(runOp('LpPool', [f32([3, -4, 0], [1, 1, 3])], { kernel_shape: [2], p: 1 })[0]!), [7, 4]);
  });

  it('reduces every spatial axis to 1', () => {
    const x = f32(range(8, 1), [1, 2, 2, 2]);
    const [avg] = runOp('GlobalAveragePool', [x]);
    expect(avg!.dims).toEqual([1, 2, 1, 1]);
    expectClose(vals(avg!), [2.5, 6.5]);
    expect(vals(runOp('GlobalMaxPool', [x])[0]!)).toEqual([4, 8]);
    expectClose(vals(runOp('GlobalLpPool', [f32([3, 4], [1, 1, 2])])[0]!), [5]);
    const [v] = infer('GlobalAveragePool', [{ dtype: 'float32', shape: ['N', 3, 'H', 'W', 5] }], {});
    expect(v!.shape).toEqual(['N', 3, 1, 1, 1]);
  });
});
