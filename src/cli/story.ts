// `npm start` / `kiln` with no arguments: the whole story on the bundled mnist-8. The float
// baseline, each quantization Kiln offers, pruning (global magnitude, 2:4, whole channels),
// weight clustering and the budget search's pick, every one scored on the 10,000 MNIST test images
// (size of the .kiln file, top-1 accuracy, WASM latency at 1 thread and the default count), then
// the HTML report. Calibration uses the bundled training digits, never the test set; mixed
// precision chooses its float layers on other training digits and is then scored on the test set.
import { cpus, totalmem } from 'node:os';
import { imageDataset, take, type Dataset } from '../optimize/dataset.js';
import { evaluate } from '../optimize/evaluate.js';
import { CALIBRATION_METHODS } from '../optimize/observers.js';
import { searchCompression } from '../optimize/search.js';
import { layerSensitivity, mixedPrecision } from '../optimize/sensitivity.js';
import { cleanupPasses } from '../passes/cleanup.js';
import { clusterWeights } from '../passes/cluster/cluster-weights.js';
import { pruneMagnitude, pruneStructured } from '../passes/prune/index.js';
import { sparsify } from '../passes/sparsify.js';
import { optimize } from '../passes/pipeline.js';
import type { Graph } from '../graph/ir.js';
import { assetPath, mnist } from './data.js';
import { formatTable, measureVariant, type VariantMetrics } from './measure.js';
import { makeQuantizer, readModel, sensitivityTable, type QuantizeSetup } from './optimize.js';
import { progressBars } from './progress.js';
import { writeReport } from './report.js';
import { storedParameterBytes } from './weight-layout.js';

export interface StoryOptions {
  report: string;
  /** Test images to score on (default all 10,000). */
  limit?: number;
  /** Calibration digits (default 1000). */
  calibration?: number;
  quiet?: boolean;
}

/** Calibration digits 0..C-1 and selection digits C..C+2000 of mnist-train: disjoint, and apart from the test set. */
function trainSplit(input: string, c: number): { calibration: Dataset; selection: Dataset; selectionLabels: Int32Array } {
  const s = mnist('mnist-train');
  const px = s.rows * s.cols;
  const n = Math.min(2000, s.count - c);
  return {
    calibration: imageDataset(input, s.images.subarray(0, c * px), s.rows, s.cols),
    selection: imageDataset(input, s.images.subarray(c * px, (c + n) * px), s.rows, s.cols),
    selectionLabels: Int32Array.from(s.labels.subarray(c, c + n)),
  };
}

export async function runStory(options: StoryOptions, log = console.log): Promise<VariantMetrics[]> {
  const t0 = performance.now();
  const progress = progressBars(process.stderr, !!options.quiet);
  const original = readModel(assetPath('mnist-8.onnx'));
  const { graph } = await optimize(original, cleanupPasses());
  const input = graph.inputs[0]!.name;
  const test = mnist('mnist-test');
  const testData = take(imageDataset(input, test.images, test.rows, test.cols), options.limit);
  const testLabels = Int32Array.from(test.labels.subarray(0, testData.length));
  const c = options.calibration ?? 1000;
  const split = trainSplit(input, c);
  log(`kiln: mnist-8 made smaller, scored on ${testData.length} MNIST test images; calibration on ${c} mnist-train digits`);
  const feeds = testData.sample(0);
  const rows: VariantMetrics[] = [];
  const add = async (name: string, g: Graph, extra: Partial<VariantMetrics> = {}) => {
    const accuracy = await evaluate(g, testData, testLabels, { onProgress: progress.task(`evaluate ${name}`) });
    // Weight bytes as stored (codebooks and indices, sparse arrays), as kiln optimize counts them.
    const m = await measureVariant(name, g, feeds, { accuracy, weightBytes: storedParameterBytes(g), ...extra });
    progress.clear();
    log(`  ${name.padEnd(26)} ${(100 * accuracy.accuracy).toFixed(2)}%  ${String(m.bytes).padStart(6)} bytes  ${m.latency1.toFixed(3)} ms @1 thread`);
    rows.push(m);
    return m;
  };
  await add('float32', graph);
  const q = (setup: Omit<QuantizeSetup, 'progress'>) => makeQuantizer(graph, { ...setup, progress });
  const byMethod = new Map<string, Awaited<ReturnType<typeof q>>>();
  for (const method of CALIBRATION_METHODS) {
    const quantizer = await q({ mode: 'int8', method, calibration: split.calibration });
    byMethod.set(method, quantizer);
    await add(`int8 static ${method}`, await quantizer.quantize([]));
  }
  const w7 = await q({ mode: 'int8', method: 'mse', weightBits: 7, calibration: split.calibration });
  await add('int8 static mse, 7-bit w', await w7.quantize([]));
  await add('int8 dynamic', await (await q({ mode: 'int8-dynamic' })).quantize([]));
  await add('int4 weight-only', await (await q({ mode: 'int4' })).quantize([]));
  await add('int8 weight-only', await (await q({ mode: 'int8-weights' })).quantize([]));
  await add('fp16 weights', await (await q({ mode: 'fp16' })).quantize([]));
  // Mixed precision, as `--max-drop 0.1` on int8 static minmax: ranking and choice on the
  // selection digits, score on the test set.
  const mm = byMethod.get('minmax')!;
  const evaluation = { data: split.selection, labels: split.selectionLabels };
  const sens = await layerSensitivity(graph, mm.quantize, { layers: mm.layers, check: take(split.selection, 64), evaluation, onProgress: progress.task('sensitivity') });
  const mp = await mixedPrecision(graph, mm.quantize, { maxDrop: 0.1, evaluation, sensitivity: sens, onProgress: progress.task('mixed precision') });
  progress.clear();
  await add('mixed, max-drop 0.1', mp.graph, { keepFloat: mp.keepFloat });
  log(`  mixed precision kept ${mp.keepFloat.length ? mp.keepFloat.join(', ') : 'no layer'} in float (drop on the selection digits ${mp.drop.toFixed(2)} points)`);
  // Pruning and clustering, without fine-tuning (that comes with training). Pruned weights get the
  // layout the WASM backend's kernels run fastest for their shape and sparsity (sparsify).
  const sparse = (g: Graph) => sparsify(g, { backend: 'wasm' }).graph;
  const prunedGlobal = new Map([0.5, 0.75, 0.9].map((amount) => [amount, pruneMagnitude(graph, { amount, kind: 'global' }).graph]));
  for (const [amount, pruned] of prunedGlobal) await add(`pruned ${100 * amount}% global`, sparse(pruned));
  // 2:4 along each filter's reduction; the first conv's 25-weight filters do not split into 4s.
  await add('pruned 2:4', sparse(pruneMagnitude(graph, { amount: 0.5, kind: '2:4', skipIndivisible: true }).graph));
  await add('channels pruned 50%', pruneStructured(graph, { amount: 0.5, norm: 'l1' }).graph);
  await add('clustered k=16', clusterWeights(graph, { k: 16 }));
  const pruned50 = prunedGlobal.get(0.5)!;
  await add('pruned 50% + clustered 16', clusterWeights(pruned50, { k: 16 }));
  const prunedInt8 = await makeQuantizer(pruned50, { mode: 'int8', method: 'mse', calibration: split.calibration, progress });
  await add('pruned 50% + int8 static', sparse(await prunedInt8.quantize([])));
  // The budget search, as `--max-drop 0.5 --target size`: per-layer choices made on the selection
  // digits (never the test set), the pick then scored on the test set like every row.
  const search = await searchCompression(graph, {
    maxDrop: 0.5, target: 'size', evaluation: { data: take(split.selection, 1000), labels: split.selectionLabels.subarray(0, 1000) },
    calibration: split.calibration, onProgress: progress.task('budget search'),
  });
  progress.clear();
  await add('search pick, max-drop 0.5', search.graph);
  log(`  budget search: ${search.candidates.length} candidates, picked ${search.pick.label} (drop on the selection digits ${search.pick.drop.toFixed(2)} points)`);
  log('');
  log(formatTable(rows));
  log('');
  log(sensitivityTable(sens));
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
  await writeReport(options.report, {
    title: 'Kiln: mnist-8, smaller and faster',
    model: 'mnist-8 (bundled, 98.90% published top-1)',
    data: `calibration: mnist-train digits 0-${c - 1}; mixed-precision choice: mnist-train digits ${c}-${c + split.selectionLabels.length - 1}; scores: ${testData.length} MNIST test images`,
    rows, sensitivity: sens, search,
    notes: [`machine: ${machine}`, `date: ${new Date().toISOString().slice(0, 10)}`, 'latency: median per image, batch 1, WASM backend'],
  });
  log('');
  log(`report written to ${options.report} (open it in a browser); took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return rows;
}
