// InstanceNormalization on WASM against the reference kernel (float64 statistics), both module
// variants: 3-D (GroupNorm as exported by PyTorch: one channel, long rows), 4-D and 5-D inputs,
// a plane of one element (variance 0: output is the bias), and the shapes the kernel declines.
import { describe, expect, it } from 'vitest';
import '../../src/backends/wasm/ops/instance-norm.js';
import { checkNode, randomTensor, rng, runNode, VARIANTS } from './harness.js';

describe.each(VARIANTS)('InstanceNormalization [%s]', (variant) => {
  it('normalizes each (n, c) plane and applies the per-channel affine', () => {
    const r = rng(7);
    const shapes = [[1, 1, 3001], [2, 3, 5, 7], [1, 4, 2, 3, 5], [3, 2, 1], [1, 8, 64]];
    for (const dims of shapes) {
      const c = dims[1]!;
      for (const epsilon of [1e-5, 0.1]) {
        // Rows are offset from zero so that the mean matters; f32 sums vs the reference's float64.
        const x = randomTensor(dims, r, 4);
        (x.data as Float32Array).forEach((v, i, a) => { a[i] = v + 3; });
        const inputs = [x, randomTensor([c], r, 2), randomTensor([c], r, 1)];
        checkNode(variant, { op: 'InstanceNormalization', attrs: { epsilon }, inputs }, { rtol: 1e-5, atol: 1e-5 }, `[${dims}] eps ${epsilon}`);
      }
    }
  });

  it('declines scale or bias of the wrong length (the reference kernel reports it)', () => {
    const r = rng(8);
    const run = runNode(variant, { op: 'InstanceNormalization', attrs: {}, inputs: [randomTensor([1, 3, 4], r), randomTensor([2], r), randomTensor([3], r)], outputTypes: [{ dtype: 'float32', dims: [1, 3, 4] }] });
    expect(run.kernel).toBeUndefined();
  });
});
