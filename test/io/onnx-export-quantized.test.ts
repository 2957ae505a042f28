// Every quantized form of mnist-8 that Kiln's passes write exports as standard ONNX and runs in
// onnxruntime-web (dev-only oracle) with the outputs of Kiln's reference backend on the same graph:
// static int8 QDQ (uint8 and int8 activations), dynamic int8, weight-only int4 and int8, fp16
// weights, and the static int8 graph as the WASM backend lowers it (QLinear ops, com.microsoft
// ops, ai.kiln fused ops written back as standard nodes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { wasmBackend } from '../../src/backends/wasm/index.js';
import { loadMnist } from '../../src/cli/mnist-data.js';
import type { Graph } from '../../src/graph/ir.js';
import { saveOnnx } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { imageDataset, take } from '../../src/optimize/dataset.js';
import { quantizeStatic } from '../../src/optimize/quantize-static.js';
import { optimize } from '../../src/passes/pipeline.js';
import { quantizeDynamic } from '../../src/passes/quantize/dynamic.js';
import { quantizeFp16 } from '../../src/passes/quantize/fp16-weights.js';
import { quantizeWeights } from '../../src/passes/quantize/weight-only.js';
import { graphDiff } from '../helpers/graph-equal.js';
import { runRef } from '../passes/helpers.js';

ort.env.wasm.numThreads = 1;
const ASSETS = join(import.meta.dirname, '../../assets');

describe('quantized mnist-8 exported to ONNX runs in onnxruntime-web', async () => {
  const g = importOnnx(readFileSync(join(ASSETS, 'mnist-8.onnx')));
  const input = g.inputs[0]!.name;
  const output = g.outputs[0]!.name;
  const train = loadMnist(join(ASSETS, 'mnist/train-10k-images-idx3-ubyte.gz'), join(ASSETS, 'mnist/train-10k-labels-idx1-ubyte.gz'));
  const digits = imageDataset(input, train.images, 28, 28);
  // Calibrate on the first 100 digits, compare on 20 others.
  const calibration = take(digits, 100);
  const staticInt8 = await quantizeStatic(g, calibration);
  const lowered = (await optimize(staticInt8, wasmBackend.loweringPasses!(), { record: false })).graph;
  const variants: [string, Graph][] = [
    ['static int8 (uint8 activations)', staticInt8],
    ['static int8 (int8 activations)', await quantizeStatic(g, calibration, { activationType: 'int8' })],
    ['dynamic int8', quantizeDynamic(g)],
    ['int4 weight-only', quantizeWeights(g)],
    ['int8 weight-only', quantizeWeights(g, { bits: 8 })],
    ['fp16 weights', quantizeFp16(g)],
    ['static int8 as lowered for WASM', lowered],
  ];

  it('the WASM lowering really uses Kiln-only and com.microsoft ops (so the last case tests their export)', () => {
    const domains = new Set(lowered.nodes.map((n) => n.domain));
    expect(domains.has('ai.kiln') || domains.has('com.microsoft') || lowered.nodes.some((n) => n.op.startsWith('QLinear'))).toBe(true);
  });

  for (const [name, q] of variants) {
    it(name, async () => {
      const bytes = saveOnnx(q);
      const back = importOnnx(bytes);
      // Written as read, except where zero points had to be made explicit for ONNX (the lowered graph).
      if (q !== lowered) expect(graphDiff(q, back, { expectOpsets: { ...q.opsets, '': Math.max(q.opsets['']!, 21) } })).toBeUndefined();
      expect(back.nodes.some((n) => n.domain === 'ai.kiln')).toBe(false);
      // ONNX requires every zero point of QLinearConv / QLinearMatMul; Kiln's lowering omits them.
      for (const n of back.nodes.filter((x) => x.op === 'QLinearConv' || x.op === 'QLinearMatMul')) {
        expect([2, 5, 7].map((i) => n.inputs[i] ?? ''), n.name).not.toContain('');
      }
      const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < 20; i++) {
        const x = digits.sample(5000 + i)[input]!;
        const got = (await session.run({ [input]: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) }))[output]!.data as Float32Array;
        const want = (await runRef(q, { [input]: x })).get(output)!.data as Float32Array;
        for (let j = 0; j < want.length; j++) {
          worst = Math.max(worst, Math.abs(got[j]! - want[j]!));
          scale = Math.max(scale, Math.abs(want[j]!));
        }
      }
      await session.release();
      console.log(`${name}: ${bytes.length} bytes; max |onnxruntime - Kiln reference| = ${worst.toExponential(2)} (outputs up to ${scale.toFixed(1)})`);
      // The same graph in float32 on both sides: float32 tolerance relative to the output scale.
      expect(worst).toBeLessThanOrEqual(1e-5 * scale);
    });
  }
});
