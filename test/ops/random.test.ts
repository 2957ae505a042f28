// RandomUniform / RandomNormal (and *Like): shapes, dtypes, ranges, moments, and that a seed makes
// the values reproducible while no seed draws fresh ones.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { runOp } from '../helpers/op.js';

const values = (t: Tensor) => Array.from(t.data as Float32Array | Float64Array);

describe('random generators', () => {
  it('RandomUniform: shape, [low, high), seeded reproducibility', () => {
    const [a] = runOp('RandomUniform', [], { shape: [4, 250], low: -2, high: 3, seed: 7 });
    expect(a!.type).toBe('float32');
    expect(a!.dims).toEqual([4, 250]);
    const v = values(a!);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThan(3);
    // 1000 uniform draws: the mean is 0.5 within a few standard errors (sd 5/sqrt(12*1000) = 0.046).
    expect(Math.abs(v.reduce((s, x) => s + x, 0) / v.length - 0.5)).toBeLessThan(0.2);
    expect(values(runOp('RandomUniform', [], { shape: [4, 250], low: -2, high: 3, seed: 7 })[0]!)).toEqual(v);
    expect(values(runOp('RandomUniform', [], { shape: [4, 250], low: -2, high: 3, seed: 8 })[0]!)).not.toEqual(v);
    expect(values(runOp('RandomUniform', [], { shape: [8] })[0]!)).not.toEqual(values(runOp('RandomUniform', [], { shape: [8] })[0]!));
  });

  it('RandomNormal: mean and scale, float64 by dtype', () => {
    const [a] = runOp('RandomNormal', [], { shape: [4000], mean: 5, scale: 2, seed: 1, dtype: 11 });
    expect(a!.type).toBe('float64');
    const v = values(a!);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    expect(Math.abs(mean - 5)).toBeLessThan(0.15); // standard error 2/sqrt(4000) = 0.032
    expect(Math.abs(sd - 2)).toBeLessThan(0.15);
  });

  it('*Like takes the input shape and float dtype, refuses an integer input without dtype', () => {
    const x = new Tensor('float32', new Float32Array(6), [2, 3]);
    const [u] = runOp('RandomUniformLike', [x], { seed: 2 });
    expect(u!.dims).toEqual([2, 3]);
    expect(u!.type).toBe('float32');
    const i = new Tensor('int32', new Int32Array(3), [3]);
    expect(runOp('RandomNormalLike', [i], { dtype: 1 })[0]!.type).toBe('float32');
    expect(() => runOp('RandomNormalLike', [i])).toThrow(/input is int32; set 'dtype'|dtype/);
    expect(() => runOp('RandomUniform', [], { shape: [2], dtype: 6 })).toThrow(/dtype 6 is not a float type/);
  });
});
