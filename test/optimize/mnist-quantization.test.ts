// The must-show figures on the bundled mnist-8, scored on all 10,000 MNIST test images
// (published float accuracy 98.90%), calibrated on 1000 training digits (never the test set):
//  - int8 static: at most 0.2 points below 98.90% with every observer; weights 4x smaller;
//  - int4 weight-only: at most 1 point below.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/graph/ir.js';
import { graphStats } from '../../src/graph/stats.js';
import { take } from '../../src/optimize/dataset.js';
import { evaluate } from '../../src/optimize/evaluate.js';
import { CALIBRATION_METHODS } from '../../src/optimize/observers.js';
import { quantizeStatic } from '../../src/optimize/quantize-static.js';
import { prepareForQuantization } from '../../src/passes/quantize/prepare.js';
import { quantizeWeights } from '../../src/passes/quantize/weight-only.js';
import { mnist8, mnistSet } from './mnist-data.js';

const PUBLISHED = 0.989;

/** Bytes of the Conv/MatMul/Gemm weight tensors (read directly or through a DequantizeLinear). */
function weightBytes(g: Graph): number {
  let bytes = 0;
  for (const n of g.nodes.filter((x) => ['Conv', 'MatMul', 'Gemm'].includes(x.op))) {
    const w = n.inputs[1]!;
    const dq = g.nodes.find((x) => x.op === 'DequantizeLinear' && x.outputs[0] === w);
    const t = g.initializers.get(dq ? dq.inputs[0]! : w)!;
    bytes += t.data.byteLength;
  }
  return bytes;
}

describe('mnist-8 quantized, 10,000 test images', () => {
  const g = mnist8();
  const test = mnistSet('test');
  const cal = take(mnistSet('train').data, 1000);

  it('float baseline is the published 98.90%', { timeout: 60_000 }, async () => {
    expect((await evaluate(g, test.data, test.labels)).accuracy).toBe(PUBLISHED);
  });

  for (const method of CALIBRATION_METHODS) {
    it(`int8 static, ${method}: at most 0.2 points below 98.90%, weights 4x smaller`, { timeout: 120_000 }, async () => {
      const q = await quantizeStatic(g, cal, { method });
      const acc = (await evaluate(q, test.data, test.labels)).accuracy;
      expect(acc).toBeGreaterThanOrEqual(PUBLISHED - 0.002);
      // The float model reshapes its MatMul weight at run time; prepared, it is a constant.
      const float = prepareForQuantization(g);
      expect(weightBytes(float)).toBe(23840); // 5960 float32 weights
      expect(weightBytes(q) * 4).toBe(weightBytes(float));
      // All parameters (scales, int32 biases and zero points included): 3.7x smaller.
      expect(graphStats(q).parameterBytes * 3.7).toBeLessThan(graphStats(g).parameterBytes);
    });
  }

  it('int4 weight-only: at most 1 point below 98.90%', { timeout: 60_000 }, async () => {
    const q = quantizeWeights(g, { bits: 4 });
    expect(graphStats(q).dtypes.int4).toBe(2560); // the 256x10 MatMul weight
    expect((await evaluate(q, test.data, test.labels)).accuracy).toBeGreaterThanOrEqual(PUBLISHED - 0.01);
  });
});
