// Issue 7's must-show for an image-to-image model: superres-core (../shared/models, the PyTorch
// super-resolution net, Y channel 224x224 -> 672x672) quantized int8 static, output PSNR against
// the float model. Images: MNIST digits resized to 224x224 (smooth strokes on a flat background);
// calibration on training digits, PSNR on test digits (never the same images).
//
// The target is 40 dB; Kiln measures 36.4-36.9 dB (minmax, percentile, MSE; 2026-12-07),
// so the target is NOT met and this test guards the measured level (36 dB) against regressions,
// not the target. The entropy (KL) observer clips the rare bright strokes of these sparse images
// and reaches only ~14 dB: it is left out here and reported in docs/OPTIMIZATION.md.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/cli/mnist-data.js';
import { agreement } from '../../src/optimize/evaluate.js';
import { quantizeStatic } from '../../src/optimize/quantize-static.js';
import { CALIBRATION_METHODS } from '../../src/optimize/observers.js';
import { parseModel } from '../../src/runtime/load.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';

const ROOT = join(import.meta.dirname, '../..');
const MODEL = join(ROOT, '../shared/models/superres-core_derived.onnx');
const SIZE = 224;

/** Bilinear resize of a 28x28 digit (0..255) to SIZE x SIZE in [0, 1]. */
function upscale(img: Uint8Array): Float32Array {
  const out = new Float32Array(SIZE * SIZE);
  const s = 28 / SIZE;
  for (let y = 0; y < SIZE; y++) {
    const fy = Math.min(Math.max((y + 0.5) * s - 0.5, 0), 27);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, 27), wy = fy - y0;
    for (let x = 0; x < SIZE; x++) {
      const fx = Math.min(Math.max((x + 0.5) * s - 0.5, 0), 27);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, 27), wx = fx - x0;
      const top = img[y0 * 28 + x0]! * (1 - wx) + img[y0 * 28 + x1]! * wx;
      const bottom = img[y1 * 28 + x0]! * (1 - wx) + img[y1 * 28 + x1]! * wx;
      out[y * SIZE + x] = (top * (1 - wy) + bottom * wy) / 255;
    }
  }
  return out;
}

function images(set: 'train' | 't10k', count: number): Record<string, Tensor>[] {
  const prefix = set === 'train' ? 'train-10k' : 't10k';
  const m = loadMnist(join(ROOT, `assets/mnist/${prefix}-images-idx3-ubyte.gz`), join(ROOT, `assets/mnist/${prefix}-labels-idx1-ubyte.gz`));
  return Array.from({ length: count }, (_, i) => ({ input: new Tensor('float32', upscale(m.images.subarray(784 * i, 784 * (i + 1))), [1, 1, SIZE, SIZE]) }));
}

describe.skipIf(!existsSync(MODEL) && !process.env.CI)('superres-core int8 static', () => {
  it('model present (../shared/models is beside the repository)', () => expect(existsSync(MODEL)).toBe(true));

  const calibration = images('train', 8);
  const evaluation = images('t10k', 4);
  for (const method of CALIBRATION_METHODS.filter((m) => m !== 'entropy')) {
    it(`${method} calibration: output PSNR >= 36 dB against float on unseen images (wasm int8 kernels)`, async () => {
      const float = parseModel(readFileSync(MODEL));
      const q = await quantizeStatic(float, calibration, { method });
      expect(q.nodes.filter((n) => n.op === 'QuantizeLinear').length).toBeGreaterThan(0);
      const floatSession = await InferenceSession.create(float, { backend: 'wasm', threads: 1 });
      const quantSession = await InferenceSession.create(q, { backend: 'wasm', threads: 1 });
      const a = await agreement(quantSession, floatSession, evaluation);
      console.log(`superres int8 static (${method}): PSNR ${a.psnr.toFixed(2)} dB, max |err| ${a.maxAbsError.toExponential(2)} over ${a.count} test digits`);
      expect(quantSession.fallbackNodes()).toEqual([]);
      expect(a.psnr).toBeGreaterThanOrEqual(36);
      await floatSession.release();
      await quantSession.release();
    }, 300_000);
  }
});
