// Calibration: runs a float model over a data set with its intermediate activations exposed as
// extra outputs and turns what each activation took into a range (observers.ts). Runs on the WASM
// backend by default (the reference backend gives the same values, slower).
import type { BackendName } from '../backends/backend.js';
import { inferGraph } from '../graph/infer.js';
import type { Graph, ValueInfo } from '../graph/ir.js';
import { InferenceSession } from '../runtime/session.js';
import { toDataset, type Dataset } from './dataset.js';
import { entropyThreshold, Histogram, MinMaxObserver, mseRange, percentileRange, type CalibrationMethod, type Range } from './observers.js';
import type { Tensor } from '../tensor/tensor.js';

export type ProgressCallback = (done: number, total: number, phase: string) => void;

export interface CalibrateOptions {
  method?: CalibrationMethod;
  /** Percentile for method 'percentile' (default 99.999, as onnxruntime). */
  percentile?: number;
  /** Activations to observe (default: every float32 activation, graph inputs included). */
  tensors?: readonly string[];
  backend?: BackendName;
  /** Quantization levels the range is for (MSE trades clipping against this many steps); default 255. */
  levels?: number;
  onProgress?: ProgressCallback;
}

/** Float32 activations of a graph: its float inputs and every float output of a node. */
export function floatActivations(graph: Graph): ValueInfo[] {
  const { types, constants } = inferGraph(graph);
  const out: ValueInfo[] = [];
  const seen = new Set<string>();
  const add = (name: string) => {
    const t = types.get(name);
    if (seen.has(name) || constants.has(name) || t?.dtype !== 'float32' || t.kind) return;
    seen.add(name);
    out.push({ name, dtype: 'float32', ...(t.shape ? { shape: t.shape } : {}) });
  };
  for (const v of graph.inputs) add(v.name);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) add(o);
  return out;
}

/** The graph with `values` as extra outputs (so a session returns them). */
function exposing(graph: Graph, values: readonly ValueInfo[]): Graph {
  const have = new Set(graph.outputs.map((v) => v.name));
  const inputs = new Set(graph.inputs.map((v) => v.name));
  return { ...graph, outputs: [...graph.outputs, ...values.filter((v) => !have.has(v.name) && !inputs.has(v.name))] };
}

async function forEachSample(
  session: InferenceSession, data: Dataset, names: readonly string[], phase: string, onProgress: ProgressCallback | undefined,
  visit: (name: string, values: Float32Array) => void,
): Promise<void> {
  const fetch = names.filter((n) => session.outputNames.includes(n));
  for (let i = 0; i < data.length; i++) {
    const feeds = data.sample(i);
    const outs = await session.run(feeds, fetch);
    for (const n of names) {
      const t: Tensor | undefined = outs[n] ?? feeds[n];
      if (!t) throw new Error(`calibration: no value for activation '${n}'`);
      visit(n, t.data as Float32Array);
    }
    if (onProgress && ((i + 1) % 16 === 0 || i + 1 === data.length)) onProgress(i + 1, data.length, phase);
  }
}

/** Observed [min, max] per activation, by `options.method` (default minmax). */
export async function calibrate(graph: Graph, data: Dataset | readonly Record<string, Tensor>[], options: CalibrateOptions = {}): Promise<Map<string, Range>> {
  const ds = toDataset(data);
  if (ds.length === 0) throw new Error('calibrate: the calibration data set is empty');
  const method = options.method ?? 'minmax';
  if (!['minmax', 'percentile', 'entropy', 'mse'].includes(method)) throw new Error(`calibrate: unknown method '${method}' (minmax, percentile, entropy, mse)`);
  const all = floatActivations(graph);
  let acts = all;
  if (options.tensors) {
    const byName = new Map(all.map((v) => [v.name, v]));
    acts = options.tensors.map((t) => {
      const v = byName.get(t);
      if (!v) throw new Error(`calibrate: '${t}' is not a float32 activation of graph '${graph.name}'`);
      return v;
    });
  }
  const names = acts.map((v) => v.name);
  const session = await InferenceSession.create(exposing(graph, acts), { backend: options.backend ?? 'wasm' });
  try {
    const mm = new Map(names.map((n) => [n, new MinMaxObserver()]));
    await forEachSample(session, ds, names, 'ranges', options.onProgress, (n, v) => mm.get(n)!.observe(v));
    const ranges = new Map(names.map((n) => [n, mm.get(n)!.range(n)]));
    if (method === 'minmax') return ranges;
    // Second pass: histograms placed over the observed extremes (|x| for entropy).
    const hists = new Map(names.map((n) => {
      const r = ranges.get(n)!;
      return [n, method === 'entropy' ? new Histogram(0, Math.max(Math.abs(r.min), Math.abs(r.max)), true, undefined, true) : new Histogram(r.min, r.max, false)];
    }));
    await forEachSample(session, ds, names, 'histograms', options.onProgress, (n, v) => hists.get(n)!.observe(v));
    const out = new Map<string, Range>();
    for (const n of names) {
      const h = hists.get(n)!;
      const r = ranges.get(n)!;
      if (method === 'percentile') out.set(n, percentileRange(h, options.percentile ?? 99.999));
      else if (method === 'mse') out.set(n, mseRange(h, options.levels ?? 255));
      else {
        // A one-signed activation (after ReLU) spends all 255 steps on [0, t]; a signed one half.
        const t = entropyThreshold(h, r.min >= 0 || r.max <= 0 ? 255 : 128);
        out.set(n, { min: Math.max(r.min, -t), max: Math.min(r.max, t) });
      }
    }
    return out;
  } finally {
    await session.release();
  }
}
