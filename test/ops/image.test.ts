import { describe, expect, it } from 'vitest';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const img = f32([1, 2, 3, 4], [1, 1, 2, 2]);

describe('GridSample', () => {
  it('samples bilinearly with and without align_corners', () => {
    const g = f32([0, 0, -1, -1, 1, 1], [1, 1, 3, 2]);
    expectClose(runOp('GridSample', [img, g], { align_corners: 1 })[0]!.data as Float32Array, [2.5, 1, 4]);
    // Without align_corners the corners sit half a pixel outside: zero padding blends in zeros.
    expectClose(runOp('GridSample', [img, g])[0]!.data as Float32Array, [2.5, 0.25, 1]);
    expectClose(runOp('GridSample', [img, g], { padding_mode: 'border' })[0]!.data as Float32Array, [2.5, 1, 4]);
  });
  it('picks the nearest pixel and supports cubic and reflection', () => {
    const g = f32([-0.6, -0.6, 0.6, -0.6], [1, 1, 2, 2]);
    expectClose(runOp('GridSample', [img, g], { mode: 'nearest' })[0]!.data as Float32Array, [1, 2]);
    const c = runOp('GridSample', [img, f32([0, 0], [1, 1, 1, 2])], { mode: 'cubic', padding_mode: 'reflection' })[0]!;
    expect(c.dims).toEqual([1, 1, 1, 1]);
    expectClose(c.data as Float32Array, [2.5]);
  });
  it('checks the grid shape', () => {
    expect(() => runOp('GridSample', [img, f32([0, 0, 0], [1, 1, 1, 3])])).toThrow(/last dim must be 2/);
  });
});

describe('AffineGrid', () => {
  it('maps the normalized base grid through theta', () => {
    const identity = f32([1, 0, 0, 0, 1, 0], [1, 2, 3]);
    const g = runOp('AffineGrid', [identity, i64([1, 1, 2, 2])], { align_corners: 1 })[0]!;
    expect(g.dims).toEqual([1, 2, 2, 2]);
    expectClose(g.data as Float32Array, [-1, -1, 1, -1, -1, 1, 1, 1]);
    const h = runOp('AffineGrid', [identity, i64([1, 1, 2, 2])])[0]!;
    expectClose(h.data as Float32Array, [-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5]);
  });
});

describe('Col2Im', () => {
  it('sums columns back into the image', () => {
    // 1 channel, 3x3 image, 2x2 blocks, stride 1: 4 blocks, each column a block position.
    const cols = f32(Array.from({ length: 16 }, () => 1), [1, 4, 4]);
    const y = runOp('Col2Im', [cols, i64([3, 3]), i64([2, 2])])[0]!;
    expect(y.dims).toEqual([1, 1, 3, 3]);
    expect(Array.from(y.data as Float32Array)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
    expect(() => runOp('Col2Im', [f32([1, 1, 1], [1, 1, 3]), i64([3, 3]), i64([2, 2])])).toThrow(/not a multiple/);
  });
});

describe('CenterCropPad', () => {
  it('crops and pads around the centre', () => {
    const x = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = runOp('CenterCropPad', [x, i64([4, 1])])[0]!;
    expect(y.dims).toEqual([4, 1]);
    expect(Array.from(y.data as Float32Array)).toEqual([0, 2, 5, 0]);
    const z = runOp('CenterCropPad', [x, i64([2])], { axes: [-1] })[0]!;
    expect(Array.from(z.data as Float32Array)).toEqual([1, 2, 4, 5]);
  });
});
