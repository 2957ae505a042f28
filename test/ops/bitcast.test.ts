import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, runOp } from '../helpers/op.js';

describe('BitCast', () => {
  it('reinterprets float32 bits as int32 and back', () => {
    const [bits] = runOp('BitCast', [f32([1, -2], [2])], { to: 6 });
    expect(bits!.type).toBe('int32');
    expect(Array.from(bits!.data as Int32Array)).toEqual([0x3f800000, -0x40000000]);
    const [back] = runOp('BitCast', [bits!], { to: 1 });
    expect(Array.from(back!.data as Float32Array)).toEqual([1, -2]);
  });

  it('keeps 8-bit patterns and normalizes bool', () => {
    const [u] = runOp('BitCast', [new Tensor('int8', Int8Array.of(-1, 5), [2])], { to: 2 });
    expect(Array.from(u!.data as Uint8Array)).toEqual([255, 5]);
    const [b] = runOp('BitCast', [new Tensor('uint8', Uint8Array.of(0, 7), [2])], { to: 9 });
    expect(Array.from(b!.data as Uint8Array)).toEqual([0, 1]);
  });

  it('rejects dtypes of different widths', () => {
    expect(() => runOp('BitCast', [f32([1], [1])], { to: 7 })).toThrow(/bit width/);
  });
});
