import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const i32 = (v: number[]) => new Tensor('int32', Int32Array.from(v), [v.length]);

describe('RNN', () => {
  it('runs h_t = tanh(W x_t + R h_{t-1} + Wb + Rb) and honours sequence_lens', () => {
    // hidden 1, input 1, batch 2, seq 2; W = 1, R = 0.5, no bias.
    const x = f32([1, 2, 3, 4], [2, 2, 1]);
    const [y, yh] = runOp('RNN', [x, f32([1], [1, 1, 1]), f32([0.5], [1, 1, 1]), undefined, i32([2, 1])], { hidden_size: 1 }, { outputs: 2 });
    const h00 = Math.tanh(1), h01 = Math.tanh(2);
    const h10 = Math.tanh(3 + 0.5 * h00);
    expect(y!.dims).toEqual([2, 1, 2, 1]);
    expectClose(y!.data as Float32Array, [h00, h01, h10, 0]);
    expectClose(yh!.data as Float32Array, [h10, h01]);
  });
  it('runs the reverse direction from each sequence end', () => {
    const x = f32([1, 2], [2, 1, 1]);
    const [y] = runOp('RNN', [x, f32([1], [1, 1, 1]), f32([1], [1, 1, 1])], { hidden_size: 1, direction: 'reverse' });
    const h1 = Math.tanh(2), h0 = Math.tanh(1 + h1);
    expectClose(y!.data as Float32Array, [h0, h1]);
  });
  it('rejects a wrong number of activations and unknown ones', () => {
    const x = f32([1], [1, 1, 1]);
    const w = f32([1], [1, 1, 1]);
    expect(() => runOp('RNN', [x, w, w], { activations: ['Tanh', 'Tanh'] })).toThrow(/expected 1/);
    expect(() => runOp('RNN', [x, w, w], { activations: ['Gelu'] })).toThrow(/unsupported activation 'Gelu'/);
  });
});

describe('GRU', () => {
  it('combines update, reset and candidate gates', () => {
    // hidden 1, all weights zero except the candidate's W = 1: z = r = 0.5, h = 0.5 * tanh(x).
    const w = f32([0, 0, 1], [1, 3, 1]);
    const r = f32([0, 0, 0], [1, 3, 1]);
    const [y, yh] = runOp('GRU', [f32([2], [1, 1, 1]), w, r], { hidden_size: 1 }, { outputs: 2 });
    expectClose(y!.data as Float32Array, [0.5 * Math.tanh(2)]);
    expectClose(yh!.data as Float32Array, [0.5 * Math.tanh(2)]);
  });
});

describe('LSTM', () => {
  it('updates cell and hidden state and returns Y_c', () => {
    // Gates i, o, f, c with zero weights except c's W = 1: i = o = f = 0.5, c~ = tanh(x).
    const w = f32([0, 0, 0, 1], [1, 4, 1]);
    const r = f32([0, 0, 0, 0], [1, 4, 1]);
    const [, yh, yc] = runOp('LSTM', [f32([1], [1, 1, 1]), w, r], { hidden_size: 1 }, { outputs: 3 });
    const c = 0.5 * Math.tanh(1);
    expectClose(yc!.data as Float32Array, [c]);
    expectClose(yh!.data as Float32Array, [0.5 * Math.tanh(c)]);
  });
  it('lays out batch-first with layout=1', () => {
    const w = f32([0, 0, 0, 1], [1, 4, 1]);
    const r = f32([0, 0, 0, 0], [1, 4, 1]);
    const [y] = runOp('LSTM', [f32([1, 2], [2, 1, 1]), w, r], { hidden_size: 1, layout: 1 }, { outputs: 3 });
    expect(y!.dims).toEqual([2, 1, 1, 1]);
  });
});
