// mnist-8 quantized by Kiln's static int8 pass (QDQ form, calibrated on 500 mnist-train digits),
// exported with saveOnnx, scores the same top-1 accuracy on all 10,000 MNIST test images in
// onnxruntime-web (dev-only oracle) as in Kiln's WASM backend (its int8 kernels). Both run one
// image at a time; the whole test set takes ~20 s here, so no subset is used.
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/cli/mnist-data.js';
import { saveOnnx } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { imageDataset, take } from '../../src/optimize/dataset.js';
import { evaluate } from '../../src/optimize/evaluate.js';
import { quantizeStatic } from '../../src/optimize/quantize-static.js';
import { readFileSync } from 'node:fs';
import { graphDiff } from '../helpers/graph-equal.js';

ort.env.wasm.numThreads = 1;
const ASSETS = join(import.meta.dirname, '../../assets');

describe('int8 mnist-8 exported from Kiln', () => {
  it('has the same top-1 accuracy on the 10,000 test images in onnxruntime-web as in Kiln', async () => {
    const g = importOnnx(readFileSync(join(ASSETS, 'mnist-8.onnx')));
    const input = g.inputs[0]!.name;
    const train = loadMnist(join(ASSETS, 'mnist/train-10k-images-idx3-ubyte.gz'), join(ASSETS, 'mnist/train-10k-labels-idx1-ubyte.gz'));
    const test = loadMnist(join(ASSETS, 'mnist/t10k-images-idx3-ubyte.gz'), join(ASSETS, 'mnist/t10k-labels-idx1-ubyte.gz'));
    const q = await quantizeStatic(g, take(imageDataset(input, train.images, 28, 28), 500));
    const bytes = saveOnnx(q);

    // Standard QDQ ONNX: only ai.onnx ops, int8 weights, and the file reads back as the same graph.
    const back = importOnnx(bytes);
    expect(graphDiff(q, back, { expectOpsets: { ...q.opsets, '': Math.max(q.opsets['']!, 21) } })).toBeUndefined();
    expect(new Set(back.nodes.map((n) => n.domain))).toEqual(new Set(['']));
    expect(back.nodes.some((n) => n.op === 'QuantizeLinear') && back.nodes.some((n) => n.op === 'DequantizeLinear')).toBe(true);
    expect(back.provenance.map((p) => p.pass)).toContain('quantizeStatic');
    const floatBytes = saveOnnx(g).length;
    console.log(`mnist-8 exported: float ${floatBytes} bytes, int8 QDQ ${bytes.length} bytes`);
    expect(bytes.length).toBeLessThan(floatBytes * 0.6);

    const data = imageDataset(input, test.images, 28, 28);
    const kiln = await evaluate(q, data, test.labels, { backend: 'wasm' });

    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    let correct = 0;
    for (let i = 0; i < data.length; i++) {
      const x = data.sample(i)[input]!;
      const r = await session.run({ [input]: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) });
      const scores = r[session.outputNames[0]!]!.data as Float32Array;
      let best = 0;
      for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]!) best = k;
      if (best === test.labels[i]) correct++;
    }
    await session.release();
    console.log(`int8 mnist-8 top-1 on ${data.length} test images: Kiln wasm ${kiln.correct} (${(100 * kiln.accuracy).toFixed(2)}%), onnxruntime-web ${correct} (${(correct / 100).toFixed(2)}%)`);
    expect(data.length).toBe(10000);
    expect(correct).toBe(kiln.correct);
  }, 300_000);
});
