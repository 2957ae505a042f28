import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const vals = (t: Tensor | undefined) => Array.from(t!.data as Float32Array);
const c = Math.cos(0.5), s = Math.sin(0.5);
// Row 0 is the identity rotation, row 1 rotates by 0.5 rad.
const cos = f32([1, 1, c, c], [2, 2]);
const sin = f32([0, 0, s, s], [2, 2]);

describe('RotaryEmbedding', () => {
  it('rotates (d, d + D/2) pairs by the angle of each position id', () => {
    const x = f32([1, 2, 3, 4, 1, 2, 3, 4], [1, 1, 2, 4]); // (B, H, S, D)
    const [y] = runOp('RotaryEmbedding', [x, cos, sin, i64([0, 1], [1, 2])]);
    expectClose(vals(y).slice(0, 4), [1, 2, 3, 4]);
    expectClose(vals(y).slice(4), [c * 1 - s * 3, c * 2 - s * 4, s * 1 + c * 3, s * 2 + c * 4]);
  });

  it('rotates adjacent pairs when interleaved and leaves features past rotary_embedding_dim alone', () => {
    const x = f32([1, 2, 3, 4], [1, 1, 4]); // (B, S, H*D) with one head
    const [y] = runOp('RotaryEmbedding', [x, f32([c], [1, 1]), f32([s], [1, 1]), i64([0], [1, 1])],
      { interleaved: 1, rotary_embedding_dim: 2, num_heads: 1 });
    expectClose(vals(y), [c * 1 - s * 2, s * 1 + c * 2, 3, 4]);
  });

  it('reads per-token caches when position_ids is absent', () => {
    const x = f32([1, 0], [1, 1, 1, 2]);
    const [y] = runOp('RotaryEmbedding', [x, f32([c], [1, 1, 1]), f32([s], [1, 1, 1])]);
    expectClose(vals(y), [c, s]);
  });

  it('rejects a 3-D input without num_heads and position ids outside the caches', () => {
    expect(() => runOp('RotaryEmbedding', [f32([1, 2], [1, 1, 2]), f32([1], [1, 1]), f32([0], [1, 1]), i64([0], [1, 1])])).toThrow(/num_heads/);
    expect(() => runOp('RotaryEmbedding', [f32([1, 2], [1, 1, 1, 2]), f32([1], [1, 1]), f32([0], [1, 1]), i64([3], [1, 1])])).toThrow(/outside/);
  });
});
