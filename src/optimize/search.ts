// Compression under an accuracy budget: per layer, a pruning amount and a storage precision
// (search-config.ts), chosen to make the model as small (file bytes of saveKiln with a compressed
// header) or as fast (median latency on WASM, 1 thread) as possible while its top-1 accuracy
// (with labels) or its top-1 agreement with the float model (without) stays within `maxDrop`
// points of the float model's.
//
//   const r = await searchCompression(g, { maxDrop: 0.5, target: 'size', evaluation: { data, labels }, calibration });
//   r.graph; r.pick; r.candidates; r.front.size
//
// The search is guided by per-layer sensitivity, not exhaustive. Each layer has a ladder of
// settings, most compressed first, ending at float (ladder() in search-config.ts):
//  0. uniform: one setting for every layer (each layer's nearest rung to it), most compressed
//     first, until one is within budget;
//  1. probe: for each layer (largest first), a binary search over its ladder for the most
//     compressed rung whose model -- that layer alone compressed, every other layer float --
//     stays within the budget (the layer's sensitivity at each rung is that model's drop);
//  2. combine: every layer at its own rung; while the combined drop exceeds the budget, the layer
//     with the largest drop at its current rung (ties: the smaller layer) moves one rung toward
//     float, probed alone there if it was not yet;
//  3. refine: with the candidates left, the neighbours of the best model within budget (one layer
//     a rung further, alone or with another a rung back) that cost less -- built and costed
//     (bytes, or a timing) before they are evaluated -- cheapest first, until none passes.
// Every model evaluated is a candidate (probes too), with accuracy, bytes and latency; the pick is
// the cheapest candidate within budget, and the float model (candidate 0) always is. At most
// `maxCandidates` models are evaluated: probing stops at two thirds of them (layers not probed
// stay float in the combination) so that the combination and refinement have room.
// Choose on data the result is not reported on (e.g. MNIST train digits, never the test set).
import type { Graph } from '../graph/ir.js';
import { saveKiln } from '../io/kiln-format/index.js';
import { prepareForQuantization } from '../passes/quantize/prepare.js';
import { InferenceSession } from '../runtime/session.js';
import { medianLatency } from './latency.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ProgressCallback } from './calibrate.js';
import { take, toDataset, type Dataset } from './dataset.js';
import { applyConfig, configLabel, FLOAT_SETTING, ladder, searchLayers, settingLabel, uniformConfig, uniformSettings, type SearchConfig, type SearchLayer } from './search-config.js';
import { paretoFront } from './search-front.js';

type Data = Dataset | readonly Record<string, Tensor>[];

export type SearchTarget = 'size' | 'latency';

export interface SearchCompressionOptions {
  /** Largest accepted drop against the float model, in points (0.5 = half a percent of top-1). */
  maxDrop: number;
  /** What to minimize: .kiln file bytes, or median latency on WASM at 1 thread. */
  target: SearchTarget;
  /**
   * Data the drop is measured on: with `labels`, top-1 accuracy; without, top-1 agreement with
   * the float model's outputs (the drop is then the percentage of samples whose argmax changed).
   */
  evaluation: { data: Data; labels?: ArrayLike<number> };
  /** Calibration samples: static int8 is a choice only with them. */
  calibration?: Data;
  /** Calibration samples used per int8 candidate (default 128). */
  calibrationSamples?: number;
  /** Only 'wasm' (the backend that measures and runs the candidates). */
  backend?: 'wasm';
  /** Models built and measured at most, the float model included (default 30, at least 2). */
  maxCandidates?: number;
  /** Time spent timing each candidate's latency, ms (default 150; at least 5 runs). */
  latencyBudgetMs?: number;
  /** Attach sparse layouts chosen by measurement (sparsify) to pruned weights (default true). */
  sparsify?: boolean;
  onProgress?: ProgressCallback;
}

export interface SearchCandidate {
  /** Position in `candidates` (0: the float model). */
  index: number;
  /**
   * 'float' (the input), 'uniform' (one setting for every layer), 'probe' (one layer compressed),
   * 'combined' (every layer at its own rung), 'refined' (a neighbour of the best).
   */
  phase: 'float' | 'uniform' | 'probe' | 'combined' | 'refined';
  /** Every layer's setting (float ones too). */
  config: SearchConfig;
  /** Short description, e.g. "all k16" or "conv1:int8 fc:p90+k16". */
  label: string;
  /** Top-1 accuracy (labels) or top-1 agreement with the float model, in [0, 1]. */
  accuracy: number;
  /** Points below the float model (negative: better). */
  drop: number;
  withinBudget: boolean;
  /** .kiln bytes with a compressed header. */
  bytes: number;
  /**
   * Median ms per run, WASM, 1 thread, on the first evaluation sample; for a latency search, the
   * fastest few within budget are timed twice more and keep their lowest median.
   */
  latencyMs: number;
}

export interface SearchCompressionResult {
  /** The pick's model. */
  graph: Graph;
  pick: SearchCandidate;
  /** The float model's candidate (also candidates[0]). */
  float: SearchCandidate;
  /** 'accuracy' with labels, 'agreement' without. */
  metric: 'accuracy' | 'agreement';
  target: SearchTarget;
  maxDrop: number;
  /** The layers searched, in node order. */
  layers: { name: string; op: string; size: number; ladder: string[] }[];
  /** Every model built, in order. */
  candidates: SearchCandidate[];
  /** Indices into `candidates` of the accuracy-vs-bytes and accuracy-vs-latency fronts, cheapest first. */
  front: { size: number[]; latency: number[] };
  /** Wall time of the search, ms. */
  ms: number;
}

/** Share of the candidates the uniform phase may use. */
const UNIFORM_SHARE = 1 / 6;
/** Neighbours the refinement may build and cost, per candidate allowed. */
const SCREENS_PER_CANDIDATE = 2;
/** Layers up to which the refinement also tries pairs of moves. */
const PAIR_LAYERS = 12;
/** Candidates timed again before a latency pick. */
const RETIMED = 3;

function fail(message: string): never {
  throw new Error(`searchCompression: ${message}`);
}

function checkOptions(o: SearchCompressionOptions): void {
  if (typeof o !== 'object' || o === null) fail('options are required ({ maxDrop, target, evaluation })');
  if (typeof o.maxDrop !== 'number' || !(o.maxDrop >= 0) || !Number.isFinite(o.maxDrop)) fail(`maxDrop must be a non-negative number of accuracy points, got ${String(o.maxDrop)}`);
  if (o.target !== 'size' && o.target !== 'latency') fail(`target must be 'size' or 'latency', got '${String(o.target)}'`);
  if (o.backend !== undefined && o.backend !== 'wasm') fail(`backend must be 'wasm' (the backend whose kernels and latency the search measures), got '${String(o.backend)}'`);
  if (!o.evaluation || !o.evaluation.data) fail('evaluation data is required: { data, labels } for accuracy, or { data } for agreement with the float model');
  const max = o.maxCandidates ?? 30;
  if (!Number.isInteger(max) || max < 2) fail(`maxCandidates must be an integer of at least 2 (the float model and one more), got ${String(max)}`);
  const cs = o.calibrationSamples ?? 128;
  if (!Number.isInteger(cs) || cs < 1) fail(`calibrationSamples must be a positive integer, got ${String(cs)}`);
  const lb = o.latencyBudgetMs ?? 150;
  if (typeof lb !== 'number' || !(lb >= 0)) fail(`latencyBudgetMs must be a non-negative number, got ${String(lb)}`);
}

/** Argmax of each row of the first output, over the whole data set. */
async function predictions(graph: Graph, data: Dataset): Promise<Int32Array> {
  const session = await InferenceSession.create(graph, { backend: 'wasm', threads: 1 });
  try {
    const out = session.outputNames[0]!;
    const preds: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const t = (await session.run(data.sample(i), [out]))[out]!;
      const d = t.data as Float32Array;
      const cols = t.dims[t.dims.length - 1] ?? 1;
      for (let r = 0; r < t.size / cols; r++) {
        let best = 0;
        for (let k = 1; k < cols; k++) if (d[r * cols + k]! > d[r * cols + best]!) best = k;
        preds.push(best);
      }
    }
    return Int32Array.from(preds);
  } finally {
    await session.release();
  }
}

/** Median ms per run of `feeds` on WASM, 1 thread, over about `budgetMs` after warm-up. */
function latencyOf(graph: Graph, feeds: Record<string, Tensor>, budgetMs: number): Promise<number> {
  return medianLatency(graph, feeds, { threads: 1, budgetMs, warmup: 3, maxRuns: 500 });
}

export async function searchCompression(graph: Graph, options: SearchCompressionOptions): Promise<SearchCompressionResult> {
  checkOptions(options);
  const t0 = performance.now();
  const { maxDrop, target } = options;
  const maxCandidates = options.maxCandidates ?? 30;
  const latencyBudget = options.latencyBudgetMs ?? 150;
  const evalData = toDataset(options.evaluation.data);
  if (evalData.length === 0) fail('the evaluation data is empty');
  const labels = options.evaluation.labels;
  const calibration = options.calibration ? take(toDataset(options.calibration), options.calibrationSamples ?? 128) : undefined;
  if (calibration && calibration.length === 0) fail('the calibration data is empty');
  const prepared = prepareForQuantization(graph);
  const layers = searchLayers(prepared);
  if (layers.length === 0) fail(`graph '${graph.name}' has no layer to compress (Conv, MatMul or Gemm with a constant float32 weight)`);
  const ladders = new Map(layers.map((l) => [l.name, ladder(l, target, calibration !== undefined)]));
  const feeds = evalData.sample(0);

  // Reference predictions: the labels, or the input model's own argmax (agreement).
  const floatPreds = await predictions(graph, evalData);
  if (labels && labels.length !== floatPreds.length) fail(`${labels.length} labels but the evaluation data gave ${floatPreds.length} predictions`);
  const reference = labels ? Int32Array.from(floatPreds, (_, i) => Number(labels[i])) : floatPreds;
  const score = (preds: Int32Array) => {
    let c = 0;
    for (let i = 0; i < preds.length; i++) if (preds[i] === reference[i]) c++;
    return c / preds.length;
  };
  const baseAccuracy = score(floatPreds);

  const candidates: SearchCandidate[] = [];
  const graphs: Graph[] = [];
  const byKey = new Map<string, SearchCandidate>();
  const keyOf = (c: SearchConfig) => layers.map((l) => settingLabel(c[l.name] ?? FLOAT_SETTING)).join('|');
  const report = (what: string) => options.onProgress?.(candidates.length, maxCandidates, what);

  const fullConfig = (config: SearchConfig): SearchConfig => Object.fromEntries(layers.map((l) => [l.name, config[l.name] ?? FLOAT_SETTING]));
  // Models built but not yet measured (the refinement screens neighbours by cost first).
  const built = new Map<string, Graph>();
  const build = async (config: SearchConfig): Promise<Graph> => {
    const key = keyOf(config);
    const seen = byKey.get(key);
    if (seen) return graphs[seen.index]!;
    let g = built.get(key);
    if (!g) {
      g = await applyConfig(prepared, layers, fullConfig(config), { ...(calibration ? { calibration } : {}), sparsify: options.sparsify ?? true });
      built.set(key, g);
    }
    return g;
  };

  const measure = async (config: SearchConfig, phase: SearchCandidate['phase'], g?: Graph): Promise<SearchCandidate | undefined> => {
    const key = keyOf(config);
    const seen = byKey.get(key);
    if (seen) return seen;
    if (candidates.length >= maxCandidates) return undefined;
    const full = fullConfig(config);
    const model = g ?? (await build(full));
    built.delete(key);
    const accuracy = g ? baseAccuracy : score(await predictions(model, evalData));
    const drop = 100 * (baseAccuracy - accuracy);
    const c: SearchCandidate = {
      index: candidates.length, phase, config: full, label: configLabel(layers, full), accuracy, drop,
      withinBudget: drop <= maxDrop + 1e-9,
      bytes: saveKiln(model, { compressHeader: true }).length,
      latencyMs: await latencyOf(model, feeds, latencyBudget),
    };
    candidates.push(c);
    graphs.push(model);
    byKey.set(key, c);
    report(c.label);
    return c;
  };

  // One untimed run first, so the float candidate's latency does not pay the first compilation.
  await latencyOf(graph, feeds, 0);
  // The input graph itself is the float candidate (candidates are built from its prepared form,
  // which computes the same function up to float32 rounding of folded biases).
  const float = (await measure({}, 'float', graph))!;

  // 0. Uniform: one setting for every layer, from the most compressed down, until one is within
  // budget (the list mixes pruning and precision, so it is walked, not bisected), at most
  // UNIFORM_SHARE of the candidates.
  const uniform = uniformSettings(layers, ladders, target);
  for (const s of uniform.slice(0, Math.max(1, Math.floor(maxCandidates * UNIFORM_SHARE)))) {
    const c = await measure(uniformConfig(layers, s, ladders), 'uniform');
    if (!c || c.withinBudget) break;
  }

  // 1. Probes: per layer, binary search for the most compressed rung whose solo model is within budget.
  const rung = new Map<string, number>();
  const soloDrop = new Map<string, number>();
  const solo = async (l: SearchLayer, i: number): Promise<SearchCandidate | undefined> => {
    const s = ladders.get(l.name)![i]!;
    if (s === FLOAT_SETTING) return float;
    const c = await measure({ [l.name]: s }, 'probe');
    if (c) soloDrop.set(`${l.name}#${i}`, c.drop);
    return c;
  };
  const probeLimit = Math.max(2, Math.floor((2 * maxCandidates) / 3));
  for (const l of [...layers].sort((a, b) => b.size - a.size)) {
    const steps = ladders.get(l.name)!;
    let lo = 0;
    let hi = steps.length - 1; // float: always within budget
    while (lo < hi && candidates.length < probeLimit) {
      const mid = (lo + hi) >> 1;
      const c = await solo(l, mid);
      if (!c) break;
      if (c.withinBudget) hi = mid;
      else lo = mid + 1;
    }
    rung.set(l.name, lo < hi ? steps.length - 1 : hi);
  }

  // 2. Combine, backing off the most sensitive layer one rung at a time.
  const current = (): SearchConfig => Object.fromEntries(layers.map((l) => [l.name, ladders.get(l.name)![rung.get(l.name)!]!]));
  for (;;) {
    const compressed = layers.filter((l) => ladders.get(l.name)![rung.get(l.name)!] !== FLOAT_SETTING);
    if (compressed.length < 2) break; // one layer compressed: its probe is this model
    const c = await measure(current(), 'combined');
    if (!c || c.withinBudget) break;
    const ranked = compressed.map((l) => ({ l, d: soloDrop.get(`${l.name}#${rung.get(l.name)!}`) ?? Infinity }))
      .sort((a, b) => b.d - a.d || a.l.size - b.l.size);
    const worst = ranked[0]!.l;
    rung.set(worst.name, rung.get(worst.name)! + 1);
    if (!soloDrop.has(`${worst.name}#${rung.get(worst.name)!}`)) await solo(worst, rung.get(worst.name)!);
  }

  const cost = (c: SearchCandidate) => (target === 'size' ? c.bytes : c.latencyMs);
  const cheapest = (list: readonly SearchCandidate[]) => list.reduce((a, b) => (cost(b) < cost(a) || (cost(b) === cost(a) && b.accuracy > a.accuracy) ? b : a));

  // 3. Refine with the candidates left: from the best model within budget, its neighbours (one
  // layer a rung more compressed, alone or with another layer a rung less) that cost less, built
  // and costed first (bytes, or a timing), are evaluated cheapest first; the first within budget
  // becomes the new best. Pairs only up to PAIR_LAYERS layers (their count grows as layers^2).
  let best = cheapest(candidates.filter((c) => c.withinBudget));
  // Building is cheaper than evaluating, but not free on a large model: at most this many
  // neighbours are built and costed in all.
  let screens = SCREENS_PER_CANDIDATE * maxCandidates;
  while (candidates.length < maxCandidates && screens > 0) {
    const r = new Map(layers.map((l) => [l.name, ladders.get(l.name)!.findIndex((s) => settingLabel(s) === settingLabel(best.config[l.name]!))]));
    const configOf = (m: ReadonlyMap<string, number>): SearchConfig => Object.fromEntries(layers.map((l) => [l.name, ladders.get(l.name)![m.get(l.name)!]!]));
    const neighbours: SearchConfig[] = [];
    for (const a of layers) {
      // A rung whose solo probe already failed the budget will not pass with other layers compressed too.
      if (r.get(a.name)! <= 0 || (soloDrop.get(`${a.name}#${r.get(a.name)! - 1}`) ?? -Infinity) > maxDrop + 1e-9) continue;
      const up = new Map(r).set(a.name, r.get(a.name)! - 1);
      neighbours.push(configOf(up));
      if (layers.length > PAIR_LAYERS) continue;
      for (const b of layers) {
        if (b !== a && r.get(b.name)! < ladders.get(b.name)!.length - 1) neighbours.push(configOf(new Map(up).set(b.name, r.get(b.name)! + 1)));
      }
    }
    const costed: { config: SearchConfig; c: number }[] = [];
    for (const config of neighbours) {
      if (byKey.has(keyOf(config)) || screens <= 0) continue;
      screens--;
      const g = await build(config);
      const c = target === 'size' ? saveKiln(g, { compressHeader: true }).length : await latencyOf(g, feeds, latencyBudget);
      if (c < cost(best)) costed.push({ config, c });
      else built.delete(keyOf(config));
    }
    costed.sort((x, y) => x.c - y.c);
    let next: SearchCandidate | undefined;
    for (const { config } of costed) {
      const c = await measure(config, 'refined');
      if (!c) break;
      if (c.withinBudget && cost(c) < cost(best)) { next = c; break; }
    }
    built.clear();
    if (!next) break;
    best = next;
  }

  const within = candidates.filter((c) => c.withinBudget);
  if (target === 'latency') {
    // One timing of a small model is noisy on a busy host: the fastest few within budget are
    // timed in two more interleaved rounds and keep their lowest median.
    const contenders = [...within].sort((a, b) => a.latencyMs - b.latencyMs).slice(0, RETIMED);
    for (let round = 0; round < 2; round++) {
      for (const c of contenders) c.latencyMs = Math.min(c.latencyMs, await latencyOf(graphs[c.index]!, feeds, latencyBudget));
    }
  }
  const pick = cheapest(within);
  const front = {
    size: paretoFront(candidates.map((c) => ({ accuracy: c.accuracy, cost: c.bytes }))),
    latency: paretoFront(candidates.map((c) => ({ accuracy: c.accuracy, cost: c.latencyMs }))),
  };
  return {
    graph: graphs[pick.index]!, pick, float, metric: labels ? 'accuracy' : 'agreement', target, maxDrop,
    layers: layers.map((l) => ({ name: l.name, op: l.op, size: l.size, ladder: ladders.get(l.name)!.map(settingLabel) })),
    candidates, front, ms: performance.now() - t0,
  };
}

export type { LayerSetting, PrecisionSetting, PruneSetting, SearchConfig } from './search-config.js';
export { paretoFront, type FrontPoint } from './search-front.js';
