import { describe, expect, it } from 'vitest';
import type { AttrValue, ValueType } from '../../src/graph/ir.js';
import { inferNodeTypes } from '../../src/ops/invoke.js';
import type { DType } from '../../src/tensor/dtype.js';
import { float32ToFloat16 } from '../../src/tensor/float16.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const t = (dtype: DType, data: readonly number[], dims: readonly number[]) => new Tensor(dtype, data, dims);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);
const ones = (n: number) => new Array<number>(n).fill(1);
const vals = (x: Tensor) => Array.from(toNumbers(x));

function infer(op: string, inputs: (ValueType | undefined)[], attrs: Record<string, AttrValue> = {}): ValueType[] {
  const node = { name: 'n', op, domain: '', inputs: inputs.map((x, i) => (x ? `i${i}` : '')), outputs: ['o'], attrs };
  return inferNodeTypes(node, inputs, () => undefined);
}

describe('Conv', () => {
  const x5 = f32(range(25), [1, 1, 5, 5]);
  const w3 = f32(ones(9), [1, 1, 3, 3]);

  it('sums 3x3 windows with and without padding', () => {
    expect(vals(runOp('Conv', [x5, w3], { pads: [1, 1, 1, 1] })[0]!)).toEqual([
      12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84,
    ]);
    const [y] = runOp('Conv', [x5, w3]);
    expect(y!.dims).toEqual([1, 1, 3, 3]);
    expect(vals(y!)).toEqual([54, 63, 72, 99, 108, 117, 144, 153, 162]);
  });

  it('honours strides with asymmetric padding', () => {
    const x = f32(range(35), [1, 1, 7, 5]);
    const [y] = runOp('Conv', [x, w3], { strides: [2, 2], pads: [1, 0, 1, 0] });
    expect(y!.dims).toEqual([1, 1, 4, 2]);
    expect(vals(y!)).toEqual([21, 33, 99, 117, 189, 207, 171, 183]);
  });

  it('puts the odd SAME padding at the end (UPPER) or the start (LOWER)', () => {
    const x = f32([1, 2, 3, 4], [1, 1, 4]);
    const w = f32([1, 10], [1, 1, 2]);
    expect(vals(runOp('Conv', [x, w], { auto_pad: 'SAME_UPPER' })[0]!)).toEqual([21, 32, 43, 4]);
    expect(vals(runOp('Conv', [x, w], { auto_pad: 'SAME_LOWER' })[0]!)).toEqual([10, 21, 32, 43]);
    // SAME keeps ceil(in / stride) outputs.
    expect(runOp('Conv', [f32(range(5), [1, 1, 5]), w], { auto_pad: 'SAME_UPPER', strides: [2] })[0]!.dims).toEqual([1, 1, 3]);
    expect(vals(runOp('Conv', [x, w], { auto_pad: 'VALID', strides: [2] })[0]!)).toEqual([21, 43]);
  });

  it('dilates the kernel', () => {
    const [y] = runOp('Conv', [f32(range(6, 1), [1, 1, 6]), f32([1, 10], [1, 1, 2])], { dilations: [2] });
    expect(vals(y!)).toEqual([31, 42, 53, 64]);
  });

  it('convolves groups separately and adds the bias', () => {
    const x = f32([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    const w = f32([2, 3], [2, 1, 1]);
    expect(vals(runOp('Conv', [x, w, f32([1, -1], [2])], { group: 2 })[0]!)).toEqual([3, 5, 7, 11, 14, 17]);
    // Depthwise with a channel multiplier of 2: channel c feeds outputs 2c and 2c+1.
    const wm = f32([1, 2, 3, 4], [4, 1, 1]);
    expect(vals(runOp('Conv', [x, wm], { group: 2 })[0]!)).toEqual([1, 2, 3, 2, 4, 6, 12, 15, 18, 16, 20, 24]);
  });

  it('handles 3-D volumes', () => {
    const [y] = runOp('Conv', [f32(range(8, 1), [1, 1, 2, 2, 2]), f32(ones(8), [1, 1, 2, 2, 2])]);
    expect(y!.dims).toEqual([1, 1, 1, 1, 1]);
    expect(vals(y!)).toEqual([36]);
    const [z] = runOp('Conv', [f32(range(8, 1), [1, 1, 2, 2, 2]), f32([1], [1, 1, 1, 1, 1])], { pads: [0, 0, 1, 0, 0, 0], strides: [1, 2, 2] });
    expect(z!.dims).toEqual([1, 1, 2, 1, 2]);
    expect(vals(z!)).toEqual([0, 2, 0, 6]);
  });

  it('computes float16 in float64 and rounds once', () => {
    const h = (v: number[], dims: number[]) => new Tensor('float16', Uint16Array.from(v.map(float32ToFloat16)), dims);
    const [y] = runOp('Conv', [h([1, 2, 3], [1, 1, 3]), h([0.5, 0.25], [1, 1, 2])]);
    expect(y!.type).toBe('float16');
    expect(vals(y!)).toEqual([1, 1.75]);
  });

  it('infers symbolic and concrete output shapes', () => {
    const [a] = infer('Conv', [{ dtype: 'float32', shape: ['N', 3, 'H', 224] }, { dtype: 'float32', shape: [8, 3, 3, 3] }], { strides: [2, 2], pads: [1, 1, 1, 1] });
    expect(a!.shape![0]).toBe('N');
    expect(a!.shape![1]).toBe(8);
    expect(typeof a!.shape![2]).toBe('string');
    expect(a!.shape![3]).toBe(112);
    const [b] = infer('Conv', [{ dtype: 'float32', shape: ['N', 3, 32, 32] }, { dtype: 'float32' }], { kernel_shape: [5, 5] });
    expect(b!.shape![2]).toBe(28);
    expect(infer('Conv', [{ dtype: 'float32' }, { dtype: 'float32' }])[0]!.shape).toBeUndefined();
  });

  it('rejects inconsistent inputs and attributes', () => {
    const x = f32(range(18), [1, 2, 3, 3]);
    expect(() => runOp('Conv', [x, f32(ones(9), [1, 1, 3, 3])])).toThrow(/channels/);
    expect(() => runOp('Conv', [x, f32(ones(18), [1, 2, 3, 3])], { kernel_shape: [2, 2] })).toThrow(/kernel_shape/);
    expect(() => runOp('Conv', [x, f32(ones(27), [3, 1, 3, 3])], { group: 2 })).toThrow(/divisible/);
    expect(() => runOp('Conv', [x, f32(ones(18), [1, 2, 3, 3])], { pads: [1, 1] })).toThrow(/'pads' has 2 values/);
    expect(() => runOp('Conv', [x, f32(ones(18), [1, 2, 3, 3])], { auto_pad: 'SAME' })).toThrow(/auto_pad/);
    expect(() => runOp('Conv', [x, f32(ones(18), [1, 2, 3, 3])], { auto_pad: 'VALID', pads: [1, 1, 1, 1] })).toThrow(/cannot be used/);
    expect(() => runOp('Conv', [x, f32(ones(32), [1, 2, 4, 4])])).toThrow(/does not fit/);
    expect(() => runOp('Conv', [x, f32(ones(18), [1, 2, 3, 3])], { strides: [0, 1] })).toThrow(/>= 1/);
    expect(() => runOp('Conv', [f32([1, 2], [1, 2]), f32([1, 2], [1, 2])])).toThrow(/rank >= 3/);
    expect(() => runOp('Conv', [x, f32(ones(18), [1, 2, 3, 3]), f32([1, 2], [2])])).toThrow(/bias has 2 values/);
    expect(() => runOp('Conv', [t('int32', range(18), [1, 2, 3, 3]), t('int32', ones(18), [1, 2, 3, 3])])).toThrow(/dtype/);
  });
});

describe('ConvTranspose', () => {
  const x = f32([1, 2, 3], [1, 1, 3]);
  const w = f32([1, 10], [1, 1, 2]);

  it('scatters each input through the kernel', () => {
    expect(vals(runOp('ConvTranspose', [x, w])[0]!)).toEqual([1, 12, 23, 30]);
    expect(vals(runOp('ConvTranspose', [x, w], { strides: [2] })[0]!)).toEqual([1, 10, 2, 20, 3, 30]);
    expect(vals(runOp('ConvTranspose', [x, w], { strides: [2], pads: [1, 0] })[0]!)).toEqual([10, 2, 20, 3, 30]);
    expect(vals(runOp('ConvTranspose', [f32([1, 2], [1, 1, 2]), w], { dilations: [2] })[0]!)).toEqual([1, 2, 10, 20]);
  });

  it('applies output_padding and bias', () => {
    const [y] = runOp('ConvTranspose', [x, w, f32([0.5], [1])], { strides: [2], output_padding: [1] });
    expect(vals(y!)).toEqual([1.5, 10.5, 2.5, 20.5, 3.5, 30.5, 0.5]);
  });

  it('derives pads from output_shape, larger half first unless SAME_UPPER', () => {
    expect(vals(runOp('ConvTranspose', [x, w], { strides: [2], output_shape: [7] })[0]!)).toEqual([1, 10, 2, 20, 3, 30, 0]);
    expect(vals(runOp('ConvTranspose', [x, w], { strides: [2], output_shape: [5] })[0]!)).toEqual([10, 2, 20, 3, 30]);
    expect(vals(runOp('ConvTranspose', [x, w], { strides: [2], output_shape: [1, 1, 5] })[0]!)).toEqual([10, 2, 20, 3, 30]);
    expect(vals(runOp('ConvTranspose', [x, w], { strides: [2], output_shape: [5], auto_pad: 'SAME_UPPER' })[0]!)).toEqual([1, 10, 2, 20, 3]);
    // SAME without output_shape targets input * stride.
    expect(runOp('ConvTranspose', [x, f32([1, 1, 1], [1, 1, 3])], { strides: [2], auto_pad: 'SAME_LOWER' })[0]!.dims).toEqual([1, 1, 6]);
  });

  it('maps groups of input channels to groups of output channels', () => {
    const xg = f32([1, 2, 3, 4], [1, 2, 2, 1]);
    const wg = f32([1, 2, 3, 4], [2, 2, 1, 1]); // [C=2, M/group=2]
    const [y] = runOp('ConvTranspose', [xg, wg], { group: 2 });
    expect(y!.dims).toEqual([1, 4, 2, 1]);
    expect(vals(y!)).toEqual([1, 2, 2, 4, 9, 12, 12, 16]);
    const [full] = runOp('ConvTranspose', [xg, wg]);
    expect(full!.dims).toEqual([1, 2, 2, 1]);
    expect(vals(full!)).toEqual([1 + 9, 2 + 12, 2 + 12, 4 + 16]);
  });

  it('infers shapes and rejects bad weights', () => {
    const [a] = infer('ConvTranspose', [{ dtype: 'float32', shape: ['N', 2, 5, 'W'] }, { dtype: 'float32', shape: [2, 3, 3, 3] }], { strides: [2, 2] });
    expect(a!.shape!.slice(0, 3)).toEqual(['N', 3, 11]);
    expect(typeof a!.shape![3]).toBe('string');
    const [b] = infer('ConvTranspose', [{ dtype: 'float32', shape: ['N', 2, 5, 'W'] }, { dtype: 'float32', shape: [2, 3, 3, 3] }], { output_shape: [10, 12], group: 2 });
    expect(b!.shape).toEqual(['N', 6, 10, 12]);
    expect(() => runOp('ConvTranspose', [x, f32([1, 2], [2, 1, 1])])).toThrow(/channels/);
    expect(() => runOp('ConvTranspose', [x, w], { output_padding: [1, 1] })).toThrow(/output_padding/);
    expect(() => runOp('ConvTranspose', [x, w], { pads: [3, 3] })).toThrow(/negative size/);
  });
});

describe('ConvInteger', () => {
  it('subtracts per-tensor x and per-channel w zero points, accumulates in int32', () => {
    const x = t('uint8', [1, 2, 3, 4], [1, 1, 2, 2]);
    const w = t('int8', [2, 3], [2, 1, 1, 1]);
    const [y] = runOp('ConvInteger', [x, w, t('uint8', [1], []), t('int8', [1, -1], [2])]);
    expect(y!.type).toBe('int32');
    expect(vals(y!)).toEqual([0, 1, 2, 3, 0, 4, 8, 12]);
    // Padding contributes zero after the zero point is removed, i.e. the pad holds x_zero_point.
    const [p] = runOp('ConvInteger', [t('uint8', [10, 20], [1, 1, 2]), t('uint8', [1, 1], [1, 1, 2]), t('uint8', [10], [])], { pads: [1, 1] });
    expect(vals(p!)).toEqual([0, 10, 10]);
  });

  it('reaches beyond 8-bit and 16-bit ranges', () => {
    const x = t('uint8', new Array<number>(300).fill(255), [1, 300, 1]);
    const w = t('int8', new Array<number>(300).fill(-128), [1, 300, 1]);
    expect(vals(runOp('ConvInteger', [x, w])[0]!)).toEqual([255 * -128 * 300]);
  });

  it('rejects mismatched zero points', () => {
    const x = t('uint8', [1, 2], [1, 1, 2]);
    const w = t('int8', [1], [1, 1, 1]);
    expect(() => runOp('ConvInteger', [x, w, t('int8', [1], [])])).toThrow(/dtype/);
    expect(() => runOp('ConvInteger', [x, w, t('uint8', [1, 2], [2])])).toThrow(/scalar/);
    expect(() => runOp('ConvInteger', [x, w, undefined, t('int8', [1, 2], [2])])).toThrow(/per output channel/);
  });
});

describe('Conv agrees with a naive definition on random input', () => {
  // [N, C, H, W, M, G, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr]: grouped (one channel at a time),
  // ungrouped with M=6 (a block of four channels plus two), depthwise, strided in W.
  const configs = [
    [2, 4, 7, 6, 6, 2, 3, 2, 2, 1, 1, 2, 1, 2, 0, 1],
    [1, 3, 6, 7, 6, 1, 3, 3, 1, 2, 2, 1, 2, 1, 1, 0],
    [1, 5, 5, 5, 10, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1],
  ];
  for (const cfg of configs) {
    it(`matches for [${cfg.join(', ')}]`, () => {
      let s = 7;
      const rnd = (n: number) => Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
      const [N, C, H, W, M, G, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr] = cfg as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
      const x = rnd(N * C * H * W);
      const w = rnd(M * (C / G) * KH * KW);
      const b = rnd(M);
      const OH = Math.floor((H + pt + pb - ((KH - 1) * dh + 1)) / sh) + 1;
      const OW = Math.floor((W + pl + pr - ((KW - 1) * dw + 1)) / sw) + 1;
      const want: number[] = [];
      for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
        let acc = b[m]!;
        const g = Math.floor(m / (M / G));
        for (let c = 0; c < C / G; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
          const ih = oh * sh - pt + kh * dh;
          const iw = ow * sw - pl + kw * dw;
          if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
          acc += x[((n * C + g * (C / G) + c) * H + ih) * W + iw]! * w[((m * (C / G) + c) * KH + kh) * KW + kw]!;
        }
        want.push(acc);
      }
      const [y] = runOp('Conv', [f32(x, [N, C, H, W]), f32(w, [M, C / G, KH, KW]), f32(b, [M])],
        { strides: [sh, sw], dilations: [dh, dw], pads: [pt, pl, pb, pr], group: G });
      expect(y!.dims).toEqual([N, M, OH, OW]);
      expectClose(y!.data as Float32Array, want, 1e-5, 1e-5);
    });
  }
});
