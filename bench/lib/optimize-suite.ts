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
import { pruneStructured } from '../../src/passes/prune/index.js';
import { quantizeWeights } from '../../src/passes/quantize/weight-only.js';
import { parseModel } from '../../src/runtime/load.js';
import type { SessionOptions } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { lazy } from './data.js';
import { kilnModelAdapter } from './kiln-models.js';
import { mlpModel } from './onnx-models.js';
import { ortAdapter, type OrtFeed } from './ort.js';
import { feedsFor, sharedModel } from './shared-models.js';
import { NotAvailable, type Adapter, type Case, type Output, type Suite } from './types.js';

/** Quantized-vs-float engine labels, read by the targets. */
export const FLOAT_ENGINE = 'kiln-wasm float';
export const QUANT_ENGINE = 'kiln-wasm optimized';
export const ORT_QUANT_ENGINE = 'onnxruntime-web (Kiln-exported optimized)';

interface OptimizeSpec {
  id: string;
  label: string;
  float: () => Uint8Array;
  /** The quantized graph, made from the float one. */
  quantize: (g: Graph, floatBytes: Uint8Array) => Promise<Graph>;
  /**
   * Largest accepted max|x - ref| / max|ref| of the quantized rows against the quantized graph run
   * on Kiln's reference backend (the QDQ graph as written): kernels, lowering and export are
   * checked, not the quantization error (which docs/OPTIMIZATION.md measures on real data).
   */
  tolerance: number;
  /** Session options of the quantized Kiln rows. */
  session?: Omit<SessionOptions, 'backend' | 'threads'>;
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

/** The first output of `g` on Kiln's reference backend. */
async function referenceOutput(g: Graph, feeds: Record<string, OrtFeed>): Promise<Output> {
  const session = await kiln.InferenceSession.create(g, { backend: 'reference' });
  const tensors = Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new Tensor(f.type, f.data, f.dims)]));
  const out = (await session.run(tensors))[session.outputNames[0]!]!;
  await session.release();
  if (!(out.data instanceof Float32Array)) throw new Error('quantized reference output is not float32');
  return out.data;
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
    // Lowered int8 kernels against the QDQ graph: the odd rounding tie of a requantization
    // moves an activation by one step, which the following layers carry.
    tolerance: 0.05,
  },
  {
    // Issue 8: whole channels removed (half of each prunable group, L1 norm), no fine-tuning: a
    // smaller float graph, not zeros.
    id: 'ultraface-channels50',
    label: 'ultraface-RFB-320, 50% of prunable channels removed vs float',
    float: sharedModel('ultraface-RFB-320.onnx'),
    quantize: async (g) => pruneStructured(g, { amount: 0.5, norm: 'l1' }).graph,
    // float32 against the pruned graph on the reference backend (summation order only).
    tolerance: 1e-4,
  },
  {
    id: 'mlp-int4',
    label: 'MLP 784-1024-1024-10, int4 weights (block 32) vs float',
    float: () => mlpModel(3, [784, 1024, 1024, 10]),
    quantize: async (g) => quantizeWeights(g, { bits: 4, block: 32 }),
    // int8 activations per block of 32 (SessionOptions.int8Activations, onnxruntime's accuracy
    // level 4): each activation rounded to 1/254 of its block's largest magnitude.
    session: { int8Activations: true },
    tolerance: 0.02,
  },
  {
    id: 'mnist-8-int8',
    label: 'mnist-8, int8 static (minmax, 100 mnist-train digits) vs float',
    float: sharedModel('mnist-8.onnx'),
    quantize: (g) => quantizeStatic(g, mnistCalibration(), { method: 'minmax' }),
    tolerance: 0.05,
  },
];

export const optimizeSuite: Suite = {
  name: 'optimize',
  description: 'float models vs their Kiln-optimized (quantized or pruned) selves at batch 1: Kiln wasm (float, optimized) and onnxruntime-web (float, Kiln-exported optimized)',
  cases: () =>
    SPECS.map((s): Case => {
      const floatBytes = lazy(s.float);
      const quantized = lazy(async () => s.quantize(parseModel(floatBytes()), floatBytes()));
      const quantBytes = lazy(async () => kiln.saveKiln(await quantized()));
      const onnxBytes = lazy(async () => exportOnnx(await quantized()));
      const feeds = lazy((): Record<string, OrtFeed> => feedsFor(floatBytes()));
      // The quantized graph's output on the reference backend, computed before any quantized row
      // is set up (check.reference() is synchronous).
      let quantRef: Output | undefined;
      const withQuantRef = (bytes: () => Promise<Uint8Array>) => async () => {
        if (!quantRef) quantRef = await referenceOutput(await quantized(), feeds());
        return bytes();
      };
      const check = { reference: () => quantRef!, tolerance: s.tolerance };
      const adapters: Adapter[] = [];
      for (const threads of [1, 2]) {
        adapters.push(
          kilnModelAdapter(floatBytes, feeds, threads, FLOAT_ENGINE),
          { ...kilnModelAdapter(withQuantRef(quantBytes), feeds, threads, QUANT_ENGINE, s.session), check },
          ortAdapter(floatBytes, feeds, threads),
          { ...ortAdapter(withQuantRef(onnxBytes), feeds, threads, ORT_QUANT_ENGINE), check },
        );
      }
      return {
        suite: 'optimize',
        id: `optimize/${s.id}`,
        label: s.label,
        adapters,
        reference: 'onnxruntime-web',
        tolerance: 1e-4,
      };
    }),
};
