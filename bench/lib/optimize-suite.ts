// Issue 7's "faster, not just smaller": each float model next to its quantized self, both through
// Kiln's public session API on WASM at 1 and 2 threads, and onnxruntime-web on the float model and
// on the quantized model Kiln exported as ONNX (the same file, QDQ form) where saveOnnx exists.
// The quantized variants are made here by the library passes users call (quantizeStatic,
// quantizeWeights), calibrated on data that is not the measured input.
import { fileURLToPath } from 'node:url';
import type { Graph } from '../../src/graph/ir.js';
import * as kiln from '../../src/index.js';
import { loadMnist } from '../../src/cli/mnist-data.js';
import { imageDataset, take } from '../../src/optimize/dataset.js';
import { quantizeStatic } from '../../src/optimize/quantize-static.js';
import { quantizeWeights } from '../../src/passes/quantize/weight-only.js';
import { parseModel } from '../../src/runtime/load.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { lazy } from './data.js';
import { kilnModelAdapter } from './kiln-models.js';
import { mlpModel } from './onnx-models.js';
import { ortAdapter, type OrtFeed } from './ort.js';
import { feedsFor, sharedModel } from './shared-models.js';
import { NotAvailable, type Adapter, type Case, type Suite } from './types.js';

/** Quantized-vs-float engine labels, read by the targets. */
export const FLOAT_ENGINE = 'kiln-wasm float';
export const QUANT_ENGINE = 'kiln-wasm quantized';
export const ORT_QUANT_ENGINE = 'onnxruntime-web (Kiln-exported quantized)';

interface OptimizeSpec {
  id: string;
  label: string;
  float: () => Uint8Array;
  /** The quantized graph, made from the float one. */
  quantize: (g: Graph, floatBytes: Uint8Array) => Promise<Graph>;
  /** Largest accepted max|quantized - float| / max|float| on the measured input. */
  tolerance: number;
  sameTop1?: boolean;
}

const asset = (p: string) => fileURLToPath(new URL(`../../assets/${p}`, import.meta.url));

/** The first 100 digits of the bundled mnist-train set (never the test set), scaled to [0, 1]. */
function mnistCalibration() {
  const train = loadMnist(asset('mnist/train-10k-images-idx3-ubyte.gz'), asset('mnist/train-10k-labels-idx1-ubyte.gz'));
  return take(imageDataset('Input3', train.images, train.rows, train.cols), 100);
}

/** Eight seeded random inputs, other seeds than the measured one. */
function randomCalibration(bytes: Uint8Array): Record<string, Tensor>[] {
  return Array.from({ length: 8 }, (_, s) => {
    const feeds = feedsFor(bytes, 1000 + 17 * s);
    return Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new Tensor('float32', f.data as Float32Array, f.dims)]));
  });
}

/** saveOnnx when the library has it (ONNX export), else the ORT-on-quantized row is n/a. */
function exportOnnx(g: Graph): Uint8Array {
  const save = (kiln as Record<string, unknown>).saveOnnx;
  if (typeof save !== 'function') throw new NotAvailable('this build has no saveOnnx');
  return (save as (g: Graph) => Uint8Array)(g);
}

const SPECS: OptimizeSpec[] = [
  {
    id: 'ultraface-int8',
    label: 'ultraface-RFB-320, int8 static vs float',
    float: sharedModel('ultraface-RFB-320.onnx'),
    quantize: (g, bytes) => quantizeStatic(g, randomCalibration(bytes), { method: 'minmax' }),
    // Random-noise calibration and input: the bound checks the int8 model computes the same
    // function (scores within a few activation steps), not detection accuracy.
    tolerance: 0.1,
  },
  {
    id: 'mlp-int4',
    label: 'MLP 784-1024-1024-10, int4 weights (block 32) vs float',
    float: () => mlpModel(3, [784, 1024, 1024, 10]),
    quantize: async (g) => quantizeWeights(g, { bits: 4, block: 32 }),
    tolerance: 0.05,
  },
  {
    id: 'mnist-8-int8',
    label: 'mnist-8, int8 static (minmax, 100 mnist-train digits) vs float',
    float: sharedModel('mnist-8.onnx'),
    quantize: (g) => quantizeStatic(g, mnistCalibration(), { method: 'minmax' }),
    tolerance: 0.1,
    sameTop1: true,
  },
];

export const optimizeSuite: Suite = {
  name: 'optimize',
  description: 'float models vs their Kiln-quantized selves at batch 1: Kiln wasm (float, quantized) and onnxruntime-web (float, Kiln-exported quantized)',
  cases: () =>
    SPECS.map((s): Case => {
      const floatBytes = lazy(s.float);
      const quantized = lazy(async () => s.quantize(parseModel(floatBytes()), floatBytes()));
      const quantBytes = lazy(async () => kiln.saveKiln(await quantized()));
      const onnxBytes = lazy(async () => exportOnnx(await quantized()));
      const feeds = lazy((): Record<string, OrtFeed> => feedsFor(floatBytes()));
      const adapters: Adapter[] = [];
      for (const threads of [1, 2]) {
        adapters.push(
          kilnModelAdapter(floatBytes, feeds, threads, FLOAT_ENGINE),
          kilnModelAdapter(quantBytes, feeds, threads, QUANT_ENGINE),
          ortAdapter(floatBytes, feeds, threads),
          ortAdapter(onnxBytes, feeds, threads, ORT_QUANT_ENGINE),
        );
      }
      return {
        suite: 'optimize',
        id: `optimize/${s.id}`,
        label: s.label,
        adapters,
        reference: FLOAT_ENGINE,
        tolerance: s.tolerance,
        ...(s.sameTop1 ? { sameTop1: true } : {}),
      };
    }),
};
