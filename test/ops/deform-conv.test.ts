import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as Float32Array);
const zeros = (dims: number[]) => new Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);

describe('DeformConv', () => {
  it('is a plain convolution when every offset is zero', () => {
    const x = f32([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const w = f32([1, 1, 1, 1], [1, 1, 2, 2]);
    const [y] = runOp('DeformConv', [x, w, zeros([1, 8, 2, 2]), f32([0.5], [1])]);
    expect(y!.dims).toEqual([1, 1, 2, 2]);
    expectClose(vals(y), [12.5, 16.5, 24.5, 28.5]);
  });

  it('samples fractional offsets bilinearly with zeros outside, scaled by the mask', () => {
    const x = f32([0, 10], [1, 1, 1, 2]);
    const w = f32([1], [1, 1, 1, 1]);
    const offset = f32([0, 0, 0.5, 0.5], [1, 2, 1, 2]); // (dh, dw) per output position
    const [y] = runOp('DeformConv', [x, w, offset]);
    expectClose(vals(y), [5, 5]); // halfway between 0 and 10; halfway between 10 and the zero border
    const [m] = runOp('DeformConv', [x, w, offset, undefined, f32([1, 0.5], [1, 1, 1, 2])]);
    expectClose(vals(m), [5, 2.5]);
  });

  it('honours strides, pads and groups in the output shape', () => {
    const x = zeros([1, 4, 5, 5]);
    const w = zeros([2, 2, 3, 3]);
    const [y] = runOp('DeformConv', [x, w, zeros([1, 18, 3, 3])], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] });
    expect(y!.dims).toEqual([1, 2, 3, 3]);
  });

  it('rejects offsets of the wrong shape and channels that do not split into groups', () => {
    const x = zeros([1, 2, 3, 3]);
    expect(() => runOp('DeformConv', [x, zeros([1, 2, 2, 2]), zeros([1, 6, 2, 2])])).toThrow(/offset/);
    expect(() => runOp('DeformConv', [x, zeros([1, 1, 2, 2]), zeros([1, 8, 2, 2])], { group: 3 })).toThrow(/group/);
  });
});
