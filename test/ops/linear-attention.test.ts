import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as Float32Array);
const heads = { q_num_heads: 1, kv_num_heads: 1, scale: 1 };

describe('LinearAttention', () => {
  it('accumulates k v^T into the state and reads it with q (linear rule)', () => {
    // d_k = 2, d_v = 1, two tokens.
    const q = f32([1, 0, 0, 1], [1, 2, 2]);
    const k = f32([1, 0, 0, 1], [1, 2, 2]);
    const v = f32([3, 5], [1, 2, 1]);
    const [o, state] = runOp('LinearAttention', [q, k, v], { ...heads, update_rule: 'linear' }, { outputs: 2 });
    expectClose(vals(o), [3, 5]);
    expect(state!.dims).toEqual([1, 1, 2, 1]);
    expectClose(vals(state), [3, 5]);
  });

  it('decays the state before writing (gated) and corrects with delta rule', () => {
    const q = f32([1], [1, 1, 1]), k = f32([1], [1, 1, 1]), v = f32([4], [1, 1, 1]);
    const past = f32([2], [1, 1, 1, 1]);
    const decay = f32([Math.log(0.5)], [1, 1, 1]);
    const [o] = runOp('LinearAttention', [q, k, v, past, decay], { ...heads, update_rule: 'gated' }, { outputs: 2 });
    expectClose(vals(o), [0.5 * 2 + 4]);
    const beta = f32([0.5], [1, 1, 1]);
    const [od] = runOp('LinearAttention', [q, k, v, past, decay, beta], { ...heads, update_rule: 'gated_delta' }, { outputs: 2 });
    expectClose(vals(od), [1 + 0.5 * (4 - 1)]);
  });

  it('shares KV state across query heads and defaults the scale to 1/sqrt(d_k)', () => {
    const q = f32([1, 0, 0, 1], [1, 1, 4]); // two query heads, d_k = 2
    const k = f32([1, 1], [1, 1, 2]);
    const v = f32([2], [1, 1, 1]);
    const [o] = runOp('LinearAttention', [q, k, v], { q_num_heads: 2, kv_num_heads: 1, update_rule: 'linear' }, { outputs: 2 });
    expectClose(vals(o), [2 / Math.SQRT2, 2 / Math.SQRT2]);
  });

  it('requires the inputs its update rule needs', () => {
    const t = f32([1], [1, 1, 1]);
    expect(() => runOp('LinearAttention', [t, t, t], heads, { outputs: 2 })).toThrow(/decay/);
    expect(() => runOp('LinearAttention', [t, t, t, undefined, t], { ...heads, update_rule: 'linear' }, { outputs: 2 })).toThrow(/decay/);
  });
});
