import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, runOp } from '../helpers/op.js';

const bool = (v: number) => new Tensor('bool', Uint8Array.of(v), []);

describe('Dropout', () => {
  it('is the identity with an all-true mask at inference', () => {
    const x = f32([1, -2, 3], [3]);
    const [y, mask] = runOp('Dropout', [x, f32([0.3], []), bool(0)], {}, { outputs: 2 });
    expect(Array.from(y!.data as Float32Array)).toEqual([1, -2, 3]);
    expect(mask!.type).toBe('bool');
    expect(Array.from(mask!.data as Uint8Array)).toEqual([1, 1, 1]);
    expect(y!.data).not.toBe(x.data);
  });
  it('accepts training mode only with ratio 0, and refuses random dropping clearly', () => {
    expect(Array.from(runOp('Dropout', [f32([5], [1]), f32([0], []), bool(1)])[0]!.data as Float32Array)).toEqual([5]);
    expect(() => runOp('Dropout', [f32([5], [1]), f32([0.5], []), bool(1)])).toThrow(/training mode is not supported/);
    expect(() => runOp('Dropout', [f32([5], [1]), f32([1], [])])).toThrow(/ratio must be in \[0, 1\)/);
  });
});
