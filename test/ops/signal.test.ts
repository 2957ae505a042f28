import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const scalar = (v: number) => i64([v], []);

describe('DFT', () => {
  it('transforms a real signal along axis -2 (default)', () => {
    const y = runOp('DFT', [f32([1, 2, 3, 4], [1, 4, 1])])[0]!;
    expect(y.dims).toEqual([1, 4, 2]);
    expectClose(y.data as Float32Array, [10, 0, -2, 2, -2, 0, -2, -2]);
  });
  it('keeps half the spectrum when onesided, pads to dft_length, and inverts', () => {
    const y = runOp('DFT', [f32([1, 2, 3, 4], [1, 4, 1]), scalar(6)], { onesided: 1 })[0]!;
    expect(y.dims).toEqual([1, 4, 2]);
    const spec = f32([10, 0, -2, 2, -2, 0, -2, -2], [1, 4, 2]);
    const back = runOp('DFT', [spec], { inverse: 1 })[0]!;
    expectClose(back.data as Float32Array, [1, 0, 2, 0, 3, 0, 4, 0], 1e-5, 1e-5);
    // irfft: the one-sided half [10, -2+2i, -2] rebuilds the real signal of length 4.
    const half = f32([10, 0, -2, 2, -2, 0], [1, 3, 2]);
    const real = runOp('DFT', [half], { inverse: 1, onesided: 1 })[0]!;
    expect(real.dims).toEqual([1, 4, 1]);
    expectClose(real.data as Float32Array, [1, 2, 3, 4], 1e-5, 1e-5);
  });
  it('takes the axis as an input and rejects the re/im axis', () => {
    const y = runOp('DFT', [f32([1, 1, 1, 1], [2, 2, 1]), undefined, i64([0], [])])[0]!;
    expectClose(y.data as Float32Array, [2, 0, 2, 0, 0, 0, 0, 0]);
    expect(() => runOp('DFT', [f32([1, 1], [1, 2, 1]), undefined, i64([2], [])])).toThrow(/out of range/);
  });
});

describe('STFT', () => {
  it('transforms windowed frames', () => {
    const y = runOp('STFT', [f32([1, 2, 3, 4, 5], [1, 5, 1]), scalar(2), undefined, scalar(3)])[0]!;
    expect(y.dims).toEqual([1, 2, 2, 2]);
    // frame 0 = [1, 2, 3]: X0 = 6, X1 = 1 + 2 e^{-2pi i/3} + 3 e^{-4pi i/3} = -1.5 + 0.866i
    expectClose((y.data as Float32Array).slice(0, 4), [6, 0, -1.5, Math.sqrt(3) / 2], 1e-5, 1e-5);
  });
});

describe('windows', () => {
  it('computes periodic and symmetric Hann, Hamming and Blackman windows', () => {
    expectClose(runOp('HannWindow', [scalar(4)])[0]!.data as Float32Array, [0, 0.5, 1, 0.5]);
    expectClose(runOp('HannWindow', [scalar(3)], { periodic: 0 })[0]!.data as Float32Array, [0, 1, 0]);
    expectClose(runOp('HammingWindow', [scalar(2)])[0]!.data as Float32Array, [4 / 46, 1]);
    expectClose(runOp('BlackmanWindow', [scalar(2)])[0]!.data as Float32Array, [0, 1], 1e-5, 1e-6);
    const d = runOp('HannWindow', [scalar(2)], { output_datatype: 11 })[0]!;
    expect(d).toBeInstanceOf(Tensor);
    expect(d.type).toBe('float64');
  });
});

describe('MelWeightMatrix', () => {
  it('builds triangular filters over the DFT bins', () => {
    const y = runOp('MelWeightMatrix', [scalar(2), scalar(16), scalar(8000), f32([0], []), f32([4000], [])])[0]!;
    expect(y.dims).toEqual([9, 2]);
    const v = Array.from(y.data as Float32Array);
    for (let m = 0; m < 2; m++) expect(Math.max(...v.filter((_, i) => i % 2 === m))).toBe(1);
    expect(() => runOp('MelWeightMatrix', [scalar(2), scalar(16), scalar(8000), f32([300], []), f32([200], [])])).toThrow(/lower_edge_hertz < upper_edge_hertz/);
  });
});
