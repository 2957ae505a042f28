import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as Float32Array);
const bool = (data: number[], dims: number[]) => new Tensor('bool', Uint8Array.from(data), dims);

// One query [1, 0] against keys [1, 0] and [0, 1] with scale 1: scores [1, 0].
const q = f32([1, 0], [1, 1, 1, 2]);
const k = f32([1, 0, 0, 1], [1, 1, 2, 2]);
const v = f32([1, 2, 3, 4], [1, 1, 2, 2]);
const p0 = Math.E / (Math.E + 1), p1 = 1 / (Math.E + 1);

describe('Attention', () => {
  it('computes softmax(QK^T * scale) V and returns the cache and scores', () => {
    const [y, pk, pv, qk] = runOp('Attention', [q, k, v], { scale: 1 }, { outputs: 4 });
    expectClose(vals(y), [p0 * 1 + p1 * 3, p0 * 2 + p1 * 4]);
    expect(pk!.dims).toEqual([1, 1, 2, 2]);
    expect(vals(pv)).toEqual([1, 2, 3, 4]);
    expectClose(vals(qk), [1, 0]);
  });

  it('defaults the scale to 1/sqrt(head_size)', () => {
    const [, , , qk] = runOp('Attention', [q, k, v], {}, { outputs: 4 });
    expectClose(vals(qk), [Math.SQRT1_2, 0]);
  });

  it('masks causally, offset by the past length, and appends to the cache', () => {
    const q2 = f32([1, 0, 0, 1], [1, 1, 2, 2]);
    const [y] = runOp('Attention', [q2, k, v], { is_causal: 1, scale: 1 });
    expectClose(vals(y).slice(0, 2), [1, 2]); // query 0 sees only key 0
    const past = f32([0, 0], [1, 1, 1, 2]);
    const [y1, pk] = runOp('Attention', [q, f32([1, 0], [1, 1, 1, 2]), f32([5, 6], [1, 1, 1, 2]), undefined, past, past],
      { is_causal: 1, scale: 1 }, { outputs: 3 });
    expect(pk!.dims).toEqual([1, 1, 2, 2]); // query 0 sits after one cached key, so it sees both
    expectClose(vals(y1), [p0 * 5, p0 * 6]);
  });

  it('adds float masks, pads short masks with -inf and zeroes fully masked rows', () => {
    const [y] = runOp('Attention', [q, k, v, f32([-1e9, 0], [2])], { scale: 1 });
    expectClose(vals(y), [3, 4]);
    const [y2] = runOp('Attention', [q, k, v, f32([0], [1, 1])], { scale: 1 }); // key 1 padded away
    expectClose(vals(y2), [1, 2]);
    const [y3, , , probs] = runOp('Attention', [q, k, v, bool([0, 0], [1, 2])], { qk_matmul_output_mode: 3 }, { outputs: 4 });
    expect(vals(y3)).toEqual([0, 0]);
    expect(vals(probs)).toEqual([0, 0]);
  });

  it('applies softcap after the raw scores (mode 0) and before the mask (mode 2)', () => {
    const mask = f32([0, -Infinity], [1, 2]);
    const [, , , raw] = runOp('Attention', [q, k, v, mask], { scale: 1, softcap: 0.5 }, { outputs: 4 });
    expectClose(vals(raw), [1, 0]);
    const [, , , biased] = runOp('Attention', [q, k, v, mask], { scale: 1, softcap: 0.5, qk_matmul_output_mode: 2 }, { outputs: 4 });
    expectClose(vals(biased).slice(0, 1), [0.5 * Math.tanh(2)]);
    expect(vals(biased)[1]).toBe(-Infinity);
  });

  it('splits 3-D inputs into heads and shares KV heads across query groups', () => {
    // Two query heads, one KV head: both heads read the same keys and values.
    const q3 = f32([1, 0, 1, 0], [1, 1, 4]);
    const k3 = f32([1, 0, 0, 1], [1, 2, 2]);
    const v3 = f32([1, 2, 3, 4], [1, 2, 2]);
    const [y, pk] = runOp('Attention', [q3, k3, v3], { q_num_heads: 2, kv_num_heads: 1, scale: 1 }, { outputs: 2 });
    expect(y!.dims).toEqual([1, 1, 4]);
    expect(pk!.dims).toEqual([1, 1, 2, 2]);
    const row = [p0 * 1 + p1 * 3, p0 * 2 + p1 * 4];
    expectClose(vals(y), [...row, ...row]);
  });

  it('masks padded keys per batch and windows keys around the query', () => {
    const [y] = runOp('Attention', [q, k, v, undefined, undefined, undefined, i64([1])], { scale: 1 });
    expectClose(vals(y), [1, 2]);
    const [w] = runOp('Attention', [q, k, v], { scale: 1, right_window_size: 0 });
    expectClose(vals(w), [1, 2]); // query 0 may not look right of position 0
  });

  it('rejects missing head counts, mismatched heads and a lone past_key', () => {
    expect(() => runOp('Attention', [f32([1, 0], [1, 1, 2]), f32([1, 0], [1, 1, 2]), f32([1, 0], [1, 1, 2])])).toThrow(/q_num_heads/);
    const q3h = new Tensor('float32', new Float32Array(6), [1, 3, 1, 2]);
    const k2h = new Tensor('float32', new Float32Array(4), [1, 2, 1, 2]);
    expect(() => runOp('Attention', [q3h, k2h, k2h])).toThrow(/multiple/);
    expect(() => runOp('Attention', [q, k, v, undefined, f32([0, 0], [1, 1, 1, 2])])).toThrow(/together/);
  });
});
