// Per-layer sensitivity and mixed precision on mnist-8 with a deliberately poor calibration (four
// dimmed digits: every activation range too narrow), so that quantizing costs accuracy and the
// choice of float layers matters. Chosen on training digits 1000-1999, as a user would.
import { describe, expect, it } from 'vitest';
import { take } from '../../src/optimize/dataset.js';
import { evaluate } from '../../src/optimize/evaluate.js';
import { calibrateForStatic, quantizeStatic } from '../../src/optimize/quantize-static.js';
import { layerSensitivity, mixedPrecision } from '../../src/optimize/sensitivity.js';
import { quantizableLayers } from '../../src/passes/quantize/layers.js';
import { prepareForQuantization } from '../../src/passes/quantize/prepare.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { mnist8, mnistSet } from './mnist-data.js';

describe('sensitivity and mixed precision (mnist-8, poor calibration)', async () => {
  const g = mnist8();
  const train = mnistSet('train', 0, 4);
  const cal = Array.from({ length: 4 }, (_, i) => {
    const x = train.data.sample(i).Input3!.data as Float32Array;
    return { Input3: new Tensor('float32', x.map((v) => v * 0.2), [1, 1, 28, 28]) };
  });
  const ranges = await calibrateForStatic(g, cal);
  const quantize = (keepFloat: readonly string[]) => quantizeStatic(g, cal, { ranges, keepFloat });
  const sel = mnistSet('train', 1000, 2000);
  const evaluation = { data: sel.data, labels: sel.labels };
  const layers = quantizableLayers(prepareForQuantization(g));

  it('ranks every layer by the accuracy lost with only it quantized', { timeout: 120_000 }, async () => {
    expect(layers).toEqual(['Convolution28', 'Convolution110', 'Times212']);
    const s = await layerSensitivity(g, quantize, { layers, check: take(sel.data, 32), evaluation });
    expect(s.layers.map((l) => l.layer).sort()).toEqual([...layers].sort());
    for (const [i, l] of s.layers.entries()) {
      expect(l.drop).toBeCloseTo(100 * (s.baseline!.accuracy - l.accuracy!), 9);
      if (i > 0) expect(l.drop!).toBeLessThanOrEqual(s.layers[i - 1]!.drop!);
      expect(l.error.psnr).toBeLessThan(40); // the narrow ranges clip: every layer alone hurts
    }
    // The single-layer model of the top layer really has that accuracy.
    const top = s.layers[0]!;
    const others = prepareForQuantization(g).nodes.map((n) => n.name).filter((n) => n !== top.layer && !(top.layer === 'Convolution28' ? n === 'ReLU32' : top.layer === 'Convolution110' ? n === 'ReLU114' : false));
    expect((await evaluate(await quantize(others), sel.data, sel.labels)).accuracy).toBe(top.accuracy);

    // Mixed precision: the float layers are the shortest prefix of the ranking that meets the drop.
    const mp = await mixedPrecision(g, quantize, { maxDrop: 3, evaluation, sensitivity: s });
    const ranking = s.layers.map((l) => l.layer);
    expect(mp.keepFloat).toEqual(ranking.slice(0, mp.keepFloat.length));
    expect(mp.drop).toBeLessThanOrEqual(3);
    for (const step of mp.steps.slice(0, -1)) expect(step.drop).toBeGreaterThan(3);
    expect(mp.steps.length).toBe(mp.keepFloat.length + 1);
    expect(mp.keepFloat.length).toBeGreaterThan(0);
    expect((await evaluate(mp.graph, sel.data, sel.labels)).accuracy).toBe(mp.accuracy);
    // A drop nothing meets (short of keeping every layer float) is refused, naming the best tried.
    await expect(mixedPrecision(g, quantize, { maxDrop: 0, evaluation, sensitivity: { ...s, layers: s.layers.slice().reverse() } }))
      .rejects.toThrow(/no configuration meets a drop of 0 points; with 2 of 3 layers kept float/);
  });

  it('refuses unknown layers and negative drops', async () => {
    await expect(layerSensitivity(g, quantize, { layers: ['conv9'], check: cal })).rejects.toThrow(/no layer named 'conv9'/);
    await expect(mixedPrecision(g, quantize, { maxDrop: -1, evaluation, layers })).rejects.toThrow(/maxDrop must be a non-negative number/);
  });
});
