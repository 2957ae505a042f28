// Per-layer sensitivity and automatic mixed precision. Both take the quantizer as a function of
// the layers to keep in float, so they work the same for static int8, dynamic int8 and weight-only
// quantization:
//  - layerSensitivity: for each layer, the model with *only that layer* quantized (every other node
//    kept float but a Relu right after it), its output error against the float model on a check set and, with evaluation
//    data, its top-1 accuracy; ranked most sensitive first (largest accuracy drop, then lowest PSNR).
//  - mixedPrecision: quantizes everything, and while the accuracy drop exceeds `maxDrop` points
//    keeps one more layer in float, in ranking order: the fewest float layers the ranking allows.
// The evaluation data used to choose should not be the data the result is finally reported on.
import type { BackendName } from '../backends/backend.js';
import { UseDefIndex } from '../graph/edit.js';
import type { Graph } from '../graph/ir.js';
import { prepareForQuantization } from '../passes/quantize/prepare.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ProgressCallback } from './calibrate.js';
import { take, toDataset, type Dataset } from './dataset.js';
import { agreement, evaluate, type Accuracy, type Agreement } from './evaluate.js';

/** Quantizes a graph leaving the named nodes in float (names of the prepared graph). */
export type Quantizer = (keepFloat: readonly string[]) => Graph | Promise<Graph>;

type Data = Dataset | readonly Record<string, Tensor>[];

export interface LabeledData {
  data: Data;
  labels: ArrayLike<number>;
}

export interface SensitivityOptions {
  /** The layers to rank (node names of the prepared graph). */
  layers: readonly string[];
  /** Samples for the output error against the float model. */
  check: Data;
  /** With evaluation data: top-1 accuracy of each single-layer model too. */
  evaluation?: LabeledData;
  /** Float model accuracy on `evaluation`, when the caller already has it. */
  baseline?: Accuracy;
  backend?: BackendName;
  onProgress?: ProgressCallback;
}

export interface LayerSensitivity {
  layer: string;
  op: string;
  /** Output of the model with only this layer quantized, against the float model's. */
  error: Agreement;
  /** Top-1 accuracy with only this layer quantized (with evaluation data). */
  accuracy?: number;
  /** Float accuracy minus `accuracy`, in points (percent). */
  drop?: number;
}

export interface SensitivityResult {
  /** Most sensitive first. */
  layers: LayerSensitivity[];
  baseline?: Accuracy;
}

function checkLayers(graph: Graph, layers: readonly string[]): void {
  const names = new Set(graph.nodes.map((n) => n.name));
  for (const l of layers) if (!names.has(l)) throw new Error(`sensitivity: no layer named '${l}' in graph '${graph.name}'`);
  if (layers.length === 0) throw new Error(`sensitivity: graph '${graph.name}' has no layer to rank`);
}

/** Most sensitive first: larger accuracy drop, then lower PSNR (output error). */
export function rankLayers(layers: readonly LayerSensitivity[]): LayerSensitivity[] {
  return [...layers].sort((a, b) => (b.drop ?? 0) - (a.drop ?? 0) || a.error.psnr - b.error.psnr);
}

export async function layerSensitivity(graph: Graph, quantize: Quantizer, options: SensitivityOptions): Promise<SensitivityResult> {
  const prepared = prepareForQuantization(graph);
  checkLayers(prepared, options.layers);
  const backend = options.backend ?? 'wasm';
  const ev = options.evaluation;
  const baseline = ev ? options.baseline ?? (await evaluate(graph, ev.data, ev.labels, { backend })) : undefined;
  const all = prepared.nodes.map((n) => n.name);
  const index = new UseDefIndex(prepared);
  const out: LayerSensitivity[] = [];
  for (const [i, layer] of options.layers.entries()) {
    // The layer and a Relu that only it feeds: quantized, that Relu is the clamp at the zero point
    // of the layer's int8 output (lowering fuses it); left float, the layer's output range would
    // have to cover the negative values the Relu discards, which no quantized model does.
    const node = prepared.nodes.find((n) => n.name === layer)!;
    const relu = index.soleConsumer(node.outputs[0]!);
    const quantized = new Set([layer, ...(relu && relu.op === 'Relu' && relu.domain === '' ? [relu.name] : [])]);
    const only = await quantize(all.filter((n) => !quantized.has(n)));
    const error = await agreement(only, graph, options.check, { backend });
    const entry: LayerSensitivity = { layer, op: node.op, error };
    if (ev && baseline) {
      const acc = await evaluate(only, ev.data, ev.labels, { backend });
      entry.accuracy = acc.accuracy;
      entry.drop = 100 * (baseline.accuracy - acc.accuracy);
    }
    out.push(entry);
    options.onProgress?.(i + 1, options.layers.length, 'sensitivity');
  }
  return { layers: rankLayers(out), ...(baseline ? { baseline } : {}) };
}

export interface MixedPrecisionOptions {
  /** Largest accepted accuracy drop against the float model, in points (0.1 = 0.1%). */
  maxDrop: number;
  /** Labeled data the drop is measured on (choose on data the result is not reported on). */
  evaluation: LabeledData;
  /** The ranking to follow; computed (on `evaluation`) when absent. */
  sensitivity?: SensitivityResult;
  /** Layers the ranking covers when it is computed here. */
  layers?: readonly string[];
  /** Check set for the computed ranking's output error (default: the evaluation data). */
  check?: Data;
  backend?: BackendName;
  onProgress?: ProgressCallback;
}

export interface MixedPrecisionStep {
  keepFloat: string[];
  accuracy: number;
  drop: number;
}

export interface MixedPrecisionResult {
  graph: Graph;
  keepFloat: string[];
  accuracy: number;
  baseline: number;
  /** Points below the float model. */
  drop: number;
  /** Every configuration tried, in order. */
  steps: MixedPrecisionStep[];
  sensitivity: SensitivityResult;
}

export async function mixedPrecision(graph: Graph, quantize: Quantizer, options: MixedPrecisionOptions): Promise<MixedPrecisionResult> {
  if (!(options.maxDrop >= 0)) throw new Error(`mixedPrecision: maxDrop must be a non-negative number of accuracy points, got ${options.maxDrop}`);
  const backend = options.backend ?? 'wasm';
  const ev = options.evaluation;
  const base = options.sensitivity?.baseline ?? (await evaluate(graph, ev.data, ev.labels, { backend }));
  let sens = options.sensitivity;
  if (!sens) {
    if (!options.layers) throw new Error('mixedPrecision: give the layers to rank or a sensitivity result');
    sens = await layerSensitivity(graph, quantize, {
      layers: options.layers, check: options.check ?? take(toDataset(ev.data), 64), evaluation: ev, baseline: base, backend,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  }
  const ranking = sens.layers.map((l) => l.layer);
  const steps: MixedPrecisionStep[] = [];
  // Keeping every ranked layer float may leave nothing to quantize: stop one short of that.
  for (let k = 0; k < Math.max(ranking.length, 1); k++) {
    const keepFloat = ranking.slice(0, k);
    const q = await quantize(keepFloat);
    const acc = await evaluate(q, ev.data, ev.labels, { backend });
    const drop = 100 * (base.accuracy - acc.accuracy);
    steps.push({ keepFloat, accuracy: acc.accuracy, drop });
    options.onProgress?.(k + 1, ranking.length, 'mixed precision');
    if (drop <= options.maxDrop) return { graph: q, keepFloat, accuracy: acc.accuracy, baseline: base.accuracy, drop, steps, sensitivity: sens };
  }
  const last = steps[steps.length - 1]!;
  throw new Error(`mixedPrecision: no configuration meets a drop of ${options.maxDrop} points; with ${last.keepFloat.length} of ${ranking.length} layers kept float (${last.keepFloat.join(', ') || 'none'}) the drop is still ${last.drop.toFixed(2)} points`);
}
