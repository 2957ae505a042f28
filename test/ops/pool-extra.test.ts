import { describe, expect, it } from 'vitest';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

describe('LRN', () => {
  it('normalizes by the squared sum over neighbouring channels', () => {
    const x = f32([1, 2, 3], [1, 3, 1, 1]);
    const y = runOp('LRN', [x], { size: 3, alpha: 0.3, beta: 1, bias: 1 })[0]!;
    // channel 0 sums channels 0..1, channel 1 sums 0..2, channel 2 sums 1..2.
    expectClose(y.data as Float32Array, [1 / (1 + 0.1 * 5), 2 / (1 + 0.1 * 14), 3 / (1 + 0.1 * 13)]);
    expect(() => runOp('LRN', [f32([1], [1])], { size: 3 })).toThrow(/rank >= 2/);
  });
});

describe('MaxUnpool', () => {
  it('scatters values back through pooling indices, padding to output_shape', () => {
    const x = f32([5, 6, 7, 8], [1, 1, 2, 2]);
    const ind = i64([5, 7, 13, 15], [1, 1, 2, 2]);
    const y = runOp('MaxUnpool', [x, ind], { kernel_shape: [2, 2], strides: [2, 2] })[0]!;
    expect(y.dims).toEqual([1, 1, 4, 4]);
    expect(Array.from(y.data as Float32Array)).toEqual([0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8]);
    const z = runOp('MaxUnpool', [x, ind, i64([1, 1, 5, 5])], { kernel_shape: [2, 2], strides: [2, 2] })[0]!;
    expect(z.dims).toEqual([1, 1, 5, 5]);
    expect((z.data as Float32Array)[6]).toBe(5);
    expect((z.data as Float32Array)[18]).toBe(8);
  });
});

describe('MaxRoiPool', () => {
  it('max-pools each region into pooled_shape bins', () => {
    const x = f32(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    const y = runOp('MaxRoiPool', [x, f32([0, 0, 0, 3, 3], [1, 5])], { pooled_shape: [2, 2] })[0]!;
    expect(y.dims).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.data as Float32Array)).toEqual([5, 7, 13, 15]);
  });
});

describe('RoiAlign', () => {
  it('averages bilinear samples (output_half_pixel) and takes weighted maxima in max mode', () => {
    const x = f32(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    const rois = f32([0, 0, 2, 2], [1, 4]);
    const y = runOp('RoiAlign', [x, rois, i64([0])], { coordinate_transformation_mode: 'output_half_pixel', sampling_ratio: 1 })[0]!;
    // One sample at (1, 1): x[1][1] = 5.
    expectClose(y.data as Float32Array, [5]);
    const h = runOp('RoiAlign', [x, rois, i64([0])], { sampling_ratio: 1 })[0]!;
    // half_pixel shifts by -0.5: sample at (0.5, 0.5), the mean of 0, 1, 4, 5.
    expectClose(h.data as Float32Array, [2.5]);
    const m = runOp('RoiAlign', [x, rois, i64([0])], { sampling_ratio: 1, mode: 'max' })[0]!;
    expectClose(m.data as Float32Array, [5 * 0.25]);
  });
});
