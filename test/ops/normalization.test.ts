import { describe, expect, it } from 'vitest';
import { float16ToFloat32, float32ToFloat16 } from '../../src/tensor/float16.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

// Expected values computed with numpy in float64.
const X4 = f32([1, 2, 3, 4, 5, 6, 7, 9], [2, 2, 1, 2]); // N=2, C=2, H=1, W=2
const scale = f32([1, 2], [2]);
const bias = f32([0.5, -0.5], [2]);
const mean = f32([1, 2], [2]);
const variance = f32([4, 0.25], [2]);

describe('BatchNormalization', () => {
  it('inference mode uses the given statistics', () => {
    const [y] = runOp('BatchNormalization', [X4, scale, bias, mean, variance]);
    expectClose(y!.data as Float32Array, [0.5, 0.9999993750011719, 3.4999200023999197, 7.4998400047998395, 2.4999975000046875, 2.999996875005859, 19.499600011999597, 27.499440016799436]);
  });

  it('training mode normalizes with batch statistics and blends the running ones', () => {
    const [y, rm, rv] = runOp('BatchNormalization', [X4, scale, bias, mean, variance], { training_mode: 1 }, { outputs: 3 });
    expectClose(y!.data as Float32Array, [-0.7126766985040354, -0.22760601910242118, -2.8062246133389017, -1.967597481215665, 1.2276060191024212, 1.7126766985040354, 0.5482839151540464, 2.2255381794005205]);
    expectClose(rm!.data as Float32Array, [1.25, 2.375]);
    expectClose(rv!.data as Float32Array, [4.025, 0.79375]);
  });

  it('checks parameter sizes', () => {
    expect(() => runOp('BatchNormalization', [X4, f32([1], [1]), bias, mean, variance])).toThrow(/scale has shape \[1\]/);
  });

  it('accepts float16 X with float32 parameters', () => {
    const h = new Tensor('float16', Uint16Array.from([1, 2, 3, 4, 5, 6, 7, 9], float32ToFloat16), [2, 2, 1, 2]);
    const [y] = runOp('BatchNormalization', [h, scale, bias, mean, variance]);
    expect(y!.type).toBe('float16');
    expectClose(Array.from(y!.data as Uint16Array, float16ToFloat32), [0.5, 1, 3.5, 7.5, 2.5, 3, 19.5, 27.5], 1e-3);
  });
});

const X = f32([1, 2, 3, 4, 5, 7], [2, 3]);

describe('LayerNormalization', () => {
  it('normalizes the trailing axes and returns Mean and InvStdDev', () => {
    const [y, m, inv] = runOp('LayerNormalization', [X, f32([1, 2, 0.5], [3]), f32([0, 1, -1], [3])], {}, { outputs: 3 });
    expectClose(y!.data as Float32Array, [-1.2247356859083902, 1.0, -0.3876321570458049, -1.0690415314502975, 0.4654792342748517, -0.33184904284356387]);
    expect(m!.dims).toEqual([2, 1]);
    expectClose(m!.data as Float32Array, [2, 5.333333333333333]);
    expectClose(inv!.data as Float32Array, [1.2247356859083902, 0.8017811485877232]);
  });

  it('axis 0 normalizes everything; bias is optional', () => {
    const [y] = runOp('LayerNormalization', [X, f32([1, 1, 1, 1, 1, 1], [2, 3])], { axis: 0 });
    expectClose(y!.data as Float32Array, [-1.352245068965941, -0.8451531681037131, -0.3380612672414852, 0.16903063362074272, 0.6761225344829707, 1.6903063362074264]);
  });

  it('rejects a scale that does not broadcast to the normalized shape', () => {
    expect(() => runOp('LayerNormalization', [X, f32([1, 2], [2])])).toThrow(/Scale/);
  });
});

describe('RMSNormalization', () => {
  it('divides by the root mean square', () => {
    const [y] = runOp('RMSNormalization', [X, f32([1, 2, 0.5], [3])]);
    expectClose(y!.data as Float32Array, [0.4629095539120194, 1.8516382156480775, 0.6943643308680291, 0.7302966216241281, 1.8257415540603201, 0.6390095439211121]);
  });
});

describe('InstanceNormalization / GroupNormalization / MeanVarianceNormalization', () => {
  it('InstanceNormalization normalizes each (n, c) plane', () => {
    const [y] = runOp('InstanceNormalization', [X4, scale, bias]);
    expectClose(y!.data as Float32Array, [-0.49998000059997993, 1.49998000059998, -2.49996000119996, 1.4999600011999599, -0.49998000059997993, 1.49998000059998, -2.4999900000749995, 1.4999900000749995]);
  });

  it('GroupNormalization normalizes groups of channels with per-channel affine', () => {
    const x = f32([1, 2, 3, 5, 0, 4, 4, 8], [1, 4, 1, 2]);
    const [y] = runOp('GroupNormalization', [x, f32([1, 2, 3, 4], [4]), f32([0, 1, 0, 1], [4])], { num_groups: 2 });
    expectClose(y!.data as Float32Array, [-1.1832132521355805, -0.5070913937723917, 1.3380609291815944, 4.04254836263435, -4.242638035471342, 0, 1, 6.656850713961789], 1e-5, 1e-5);
    expect(() => runOp('GroupNormalization', [x, f32([1, 2, 3, 4], [4]), f32([0, 1, 0, 1], [4])], { num_groups: 3 })).toThrow(/divide/);
  });

  it('MeanVarianceNormalization over the default axes', () => {
    const [y] = runOp('MeanVarianceNormalization', [X4]);
    expectClose(y!.data as Float32Array, [-1.2126781245934295, -0.7276068747560577, -1.1531133199105936, -0.7337993853976505, 0.7276068747560577, 1.2126781245934295, 0.5241424181411789, 1.3627702871670653]);
  });
});

describe('LpNormalization', () => {
  it('divides by the L1 or L2 norm along the axis; a zero line stays zero', () => {
    expectClose(runOp('LpNormalization', [f32([3, 4, 0, 0], [2, 2])])[0]!.data as Float32Array, [0.6, 0.8, 0, 0]);
    expectClose(runOp('LpNormalization', [f32([3, 4, 1, -1], [2, 2])], { p: 1, axis: 0 })[0]!.data as Float32Array, [0.75, 0.8, 0.25, -0.2]);
    expect(() => runOp('LpNormalization', [f32([1], [1])], { p: 3 })).toThrow(/must be 1 or 2/);
  });
});
