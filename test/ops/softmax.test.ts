import { describe, expect, it } from 'vitest';
import { float16ToFloat32, float32ToFloat16 } from '../../src/tensor/float16.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const X = f32([1, 2, 3, 4, 5, 7], [2, 3]);

describe('Softmax / LogSoftmax / Hardmax', () => {
  it('normalizes along the last axis by default', () => {
    expectClose(runOp('Softmax', [X])[0]!.data as Float32Array,
      [0.09003057317038046, 0.24472847105479764, 0.6652409557748218, 0.04201006613406605, 0.11419519938459449, 0.8437947344813395]);
    expectClose(runOp('LogSoftmax', [X])[0]!.data as Float32Array,
      [-2.40760596444438, -1.4076059644443804, -0.40760596444438046, -3.1698460195562856, -2.1698460195562856, -0.16984601955628567]);
  });

  it('normalizes along any one axis (opset 13, not flattened)', () => {
    expectClose(runOp('Softmax', [X], { axis: 0 })[0]!.data as Float32Array,
      [0.04742587317756679, 0.04742587317756679, 0.017986209962091555, 0.9525741268224334, 0.9525741268224334, 0.9820137900379085]);
    expectClose(runOp('Softmax', [X], { axis: -2 })[0]!.data as Float32Array,
      runOp('Softmax', [X], { axis: 0 })[0]!.data as Float32Array);
  });

  it('is stable for large logits', () => {
    expectClose(runOp('Softmax', [f32([1000, 1000, -1000], [3])])[0]!.data as Float32Array, [0.5, 0.5, 0]);
    expectClose(runOp('LogSoftmax', [f32([1000, 0], [2])])[0]!.data as Float32Array, [0, -1000]);
  });

  it('Hardmax marks the first maximum', () => {
    expectClose(runOp('Hardmax', [f32([3, 1, 3, 0, 5, 2], [2, 3])])[0]!.data as Float32Array, [1, 0, 0, 0, 1, 0]);
    expectClose(runOp('Hardmax', [f32([3, 1, 3, 0, 5, 2], [2, 3])], { axis: 0 })[0]!.data as Float32Array, [1, 0, 1, 0, 1, 0]);
  });

  it('float16 in, float16 out; bad axis rejected', () => {
    const h = new Tensor('float16', Uint16Array.from([0, 0], float32ToFloat16), [2]);
    const [y] = runOp('Softmax', [h]);
    expect(y!.type).toBe('float16');
    expect(Array.from(y!.data as Uint16Array, float16ToFloat32)).toEqual([0.5, 0.5]);
    expect(() => runOp('Softmax', [X], { axis: 2 })).toThrow(/axis 2 is out of range for rank 2/);
  });
});
