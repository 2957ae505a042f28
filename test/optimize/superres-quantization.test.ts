// Issue 7's must-show for an image-to-image model: superres-core (../shared/models, the PyTorch
// super-resolution net, Y channel 224x224 -> 672x672) quantized int8 static (per-channel int8
// weights, per-tensor uint8 activations), output PSNR against the float model at least 40 dB.
// Images: MNIST digits resized to 224x224 (smooth strokes on a flat background), calibration on
// training digits, PSNR on test digits; and 1/f value-noise images (closer to photographs'
// spectrum), calibration and evaluation on different seeds. Never the same images.
//
// Met with cross-layer equalization (quantizeStatic's default, src/passes/quantize/equalize.ts):
// measured 2026-12-08 53.1-53.9 dB on digits (minmax, percentile, MSE) and 48.8-49.4 dB on noise
// (every observer); without it 36.4-36.9 dB and 30.4 dB: the last conv's per-channel weights were
// the error (a few input channels with large weights set each output channel's step). The entropy
// (KL) observer clips the rare bright strokes of the sparse digits and reaches only ~14 dB there,
// with or without equalization: it is left out of the digit cases (reported in docs/OPTIMIZATION.md).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/cli/mnist-data.js';
import { agreement } from '../../src/optimize/evaluate.js';
import { quantizeStatic } from '../../src/optimize/quantize-static.js';
import { CALIBRATION_METHODS } from '../../src/optimize/observers.js';
import { equalizationPairs, equalizeConvChains } from '../../src/passes/quantize/equalize.js';
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

/** 1/f value noise: octaves of bilinearly interpolated uniform grids, amplitude proportional to the cell size, scaled to [0, 1]. */
function noiseImage(seed: number): Record<string, Tensor> {
  let s = Math.imul(seed, 2654435761) >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  const sum = new Float64Array(SIZE * SIZE);
  for (let cell = 2; cell <= 128; cell *= 2) {
    const g = Math.ceil(SIZE / cell) + 1;
    const grid = Float64Array.from({ length: g * g }, rnd);
    for (let y = 0; y < SIZE; y++) {
      const y0 = Math.floor(y / cell), wy = y / cell - y0;
      for (let x = 0; x < SIZE; x++) {
        const x0 = Math.floor(x / cell), wx = x / cell - x0;
        const top = grid[y0 * g + x0]! * (1 - wx) + grid[y0 * g + x0 + 1]! * wx;
        const bottom = grid[(y0 + 1) * g + x0]! * (1 - wx) + grid[(y0 + 1) * g + x0 + 1]! * wx;
        sum[y * SIZE + x]! += (top * (1 - wy) + bottom * wy) * cell;
      }
    }
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of sum) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return { input: new Tensor('float32', Float32Array.from(sum, (v) => (v - lo) / (hi - lo)), [1, 1, SIZE, SIZE]) };
}

function images(set: 'train' | 't10k', count: number): Record<string, Tensor>[] {
  const prefix = set === 'train' ? 'train-10k' : 't10k';
  const m = loadMnist(join(ROOT, `assets/mnist/${prefix}-images-idx3-ubyte.gz`), join(ROOT, `assets/mnist/${prefix}-labels-idx1-ubyte.gz`));
  return Array.from({ length: count }, (_, i) => ({ input: new Tensor('float32', upscale(m.images.subarray(784 * i, 784 * (i + 1))), [1, 1, SIZE, SIZE]) }));
}

describe.skipIf(!existsSync(MODEL) && !process.env.CI)('superres-core int8 static', () => {
  it('model present (../shared/models is beside the repository)', () => expect(existsSync(MODEL)).toBe(true));

  it('cross-layer equalization rescales the three Conv -> Relu -> Conv pairs and keeps the float output (reference backend, within 1e-5 of its scale)', async () => {
    const float = parseModel(readFileSync(MODEL));
    expect(equalizationPairs(float)).toHaveLength(3);
    const equalized = equalizeConvChains(float);
    const feeds = images('t10k', 1)[0]!;
    const run = async (g: typeof float) => {
      const session = await InferenceSession.create(g, { backend: 'reference' });
      const y = (await session.run(feeds))['output']!.data as Float32Array;
      await session.release();
      return y;
    };
    const [want, got] = [await run(float), await run(equalized)];
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
    expect(scale).toBeGreaterThan(0.5);
    expect(err).toBeLessThanOrEqual(1e-5 * scale);
  }, 300_000);

  const digits = { calibration: images('train', 8), evaluation: images('t10k', 4) };
  const noise = { calibration: Array.from({ length: 8 }, (_, i) => noiseImage(100 + i)), evaluation: Array.from({ length: 4 }, (_, i) => noiseImage(900 + i)) };
  const cases = [
    ...CALIBRATION_METHODS.filter((m) => m !== 'entropy').map((method) => ({ method, set: 'test digits', ...digits })),
    ...CALIBRATION_METHODS.map((method) => ({ method, set: '1/f-noise images', ...noise })),
  ];
  for (const { method, set, calibration, evaluation } of cases) {
    it(`${method} calibration: output PSNR >= 40 dB against float on unseen ${set} (wasm int8 kernels)`, async () => {
      const float = parseModel(readFileSync(MODEL));
      const q = await quantizeStatic(float, calibration, { method });
      expect(q.nodes.filter((n) => n.op === 'QuantizeLinear').length).toBeGreaterThan(0);
      const floatSession = await InferenceSession.create(float, { backend: 'wasm', threads: 1 });
      const quantSession = await InferenceSession.create(q, { backend: 'wasm', threads: 1 });
      const a = await agreement(quantSession, floatSession, evaluation);
      console.log(`superres int8 static (${method}, ${set}): PSNR ${a.psnr.toFixed(2)} dB, max |err| ${a.maxAbsError.toExponential(2)} over ${a.count} images`);
      expect(quantSession.fallbackNodes()).toEqual([]);
      expect(a.psnr).toBeGreaterThanOrEqual(40);
      await floatSession.release();
      await quantSession.release();
    }, 300_000);
  }
});
