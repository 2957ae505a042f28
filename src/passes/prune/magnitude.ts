// Magnitude pruning: the smallest-magnitude weights of the prunable layers (see layers.ts: the
// constant float weights of Conv, ConvTranspose, MatMul and Gemm, never biases) become exactly 0.
//
//   pruneMagnitude(g, { amount: 0.9 })                        // one threshold over all layers (Han et al.)
//   pruneMagnitude(g, { amount: 0.5, kind: 'layer' })         // each layer loses half of its weights
//   pruneMagnitude(g, { kind: '2:4', keepDense: ['conv1'] })  // 2 of every 4 along the reduction axis
//
// Kinds:
//  - 'global': sort every prunable weight by |w| and zero the round(amount * total) smallest;
//  - 'layer': the same inside each layer, round(amount * size) each;
//  - 'N:M' (e.g. '2:4'): in each group of M consecutive weights along a layer's reduction axis (K
//    of MatMul / Gemm, the flattened Cin/group * kernel of Conv and ConvTranspose) the M - N
//    smallest become 0; a reduction that is not a multiple of M is an error naming the layer.
// Ties are broken by position, so the result is deterministic: among equal magnitudes the weight
// of the earlier layer (node order), then the lower flat index (N:M: the earlier in its group),
// is zeroed first. NaN and infinite weights are never pruned. Weights that are
// already 0 are the smallest, so they count toward the amount: `amount` is the sparsity the
// prunable weights end with (as TF-MOT recomputes its mask), not how many more to remove.
// `minDensity` keeps at least ceil(minDensity * size) weights of every layer (global pruning
// then takes the remainder from the other layers); `keepDense` names layers left untouched.
//
// The output stays dense with zeros (stored the way the input was: float32 stays float32); the
// layout (CSR, BSR, 2:4) is the later sparsify step's choice; N:M results satisfy Kiln's NmLayout
// along the reduction axis (axis 0 of MatMul's B, 1 of Gemm's transposed B, 1 of a Conv weight
// viewed as [Cout, K]). A pruned weight loses any sparse layout it carried (it would no longer
// match); untouched weights are the same tensors. A weight computed from constants
// (mnist-8 reshapes its MatMul weight at run time) becomes an initializer when it is pruned.
// Error: exactly the zeroed weights' contributions are removed; 0% (or any setting that zeroes
// nothing new) returns the input graph itself.
import { UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node } from '../../graph/ir.js';
import { allocData, type TensorData } from '../../tensor/dtype.js';
import { toNumbers } from '../../tensor/convert.js';
import { Tensor } from '../../tensor/tensor.js';
import { recordingPass, type Pass } from '../pass.js';
import { describeLayer, findPrunableLayers, type PrunableLayer } from './layers.js';
import { selectSmallest } from './select.js';

/** 'global', 'layer', or an N:M pattern such as '2:4'. */
export type MagnitudePruneKind = 'global' | 'layer' | `${number}:${number}`;

export interface MagnitudePruneOptions {
  /**
   * Fraction of the prunable weights that end at 0, in [0, 1]. Required for 'global' and
   * 'layer'; N:M fixes it at 1 - N/M (an amount given with N:M must equal that).
   */
  amount?: number;
  /** Default 'global'. */
  kind?: MagnitudePruneKind;
  /** Each pruned layer keeps at least this fraction of its weights, in [0, 1] (default 0). */
  minDensity?: number;
  /** Layers left dense: node names (or weight names) of prunable layers. */
  keepDense?: readonly string[];
  /**
   * N:M only: leave dense the layers whose reduction is not a multiple of M (a first Conv over 1 or
   * 3 channels, a 3x3 depthwise Conv) instead of refusing the graph. Default false.
   */
  skipIndivisible?: boolean;
}

/** What pruning did to one layer. */
export interface PrunedLayer {
  name: string;
  op: string;
  weight: string;
  dims: number[];
  size: number;
  /** Zeros in the weight before and after. */
  zerosBefore: number;
  zeros: number;
  /** zeros / size after pruning. */
  sparsity: number;
  /** True for a layer left as it was: named in keepDense, or skipped by skipIndivisible. */
  keptDense: boolean;
  /** Why a layer that keepDense does not name was left dense. */
  reason?: string;
}

export interface MagnitudePruneResult {
  /** The pruned graph; the input graph itself when no weight changed. */
  graph: Graph;
  /** Every prunable layer, in node order. */
  layers: PrunedLayer[];
  /** Prunable weights (keepDense layers included), their zeros after pruning, and the ratio. */
  size: number;
  zeros: number;
  sparsity: number;
}

/** Ops whose presence says the weights are stored quantized (integers), for the nothing-prunable error. */
const QUANTIZED_OPS = new Set(['DequantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger', 'DynamicQuantizeLinear']);

function fail(message: string): never {
  throw new Error(`pruneMagnitude: ${message}`);
}

function checkFraction(name: string, v: unknown, what: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return fail(`${name} must be a number in [0, 1] (${what}), got ${String(v)}`);
  return v;
}

type Plan = { kind: 'global' | 'layer'; amount: number } | { kind: 'nm'; n: number; m: number };

function parseKind(options: MagnitudePruneOptions): Plan {
  const kind = options.kind ?? 'global';
  if (kind === 'global' || kind === 'layer') {
    if (options.amount === undefined) fail(`amount is required for '${kind}' pruning`);
    return { kind, amount: checkFraction('amount', options.amount, 'the fraction of weights set to zero') };
  }
  const match = typeof kind === 'string' ? /^(\d+):(\d+)$/.exec(kind) : null;
  if (!match) return fail(`kind must be 'global', 'layer' or an N:M pattern such as '2:4', got '${String(kind)}'`);
  const n = Number(match[1]);
  const m = Number(match[2]);
  if (!(n >= 1 && n < m && m <= 256)) fail(`N:M pattern '${kind}' needs 1 <= N < M <= 256`);
  if (options.amount !== undefined) {
    const a = checkFraction('amount', options.amount, 'the fraction of weights set to zero');
    if (Math.abs(a - (1 - n / m)) > 1e-9) fail(`${kind} pruning zeroes exactly ${1 - n / m} of the weights; amount ${a} does not apply (leave it out)`);
  }
  return { kind: 'nm', n, m };
}

/** |w| per element, NaN as +Infinity so it sorts last and is never pruned. */
function magnitudes(t: Tensor): Float64Array {
  const v = toNumbers(t);
  for (let i = 0; i < v.length; i++) v[i] = Number.isNaN(v[i]!) ? Infinity : Math.abs(v[i]!);
  return v;
}

function countZeros(mag: Float64Array): number {
  let z = 0;
  for (let i = 0; i < mag.length; i++) if (mag[i] === 0) z++;
  return z;
}

/** The layers named in keepDense (by node or weight name); unknown names are an error listing the prunable layers. */
function keptLayers(graph: Graph, layers: readonly PrunableLayer[], keepDense: readonly string[] | undefined): Set<PrunableLayer> {
  const kept = new Set<PrunableLayer>();
  for (const name of keepDense ?? []) {
    const l = layers.find((x) => x.weight === name || x.nodes.some((n) => n.name === name));
    if (!l) {
      const list = layers.map((x) => `'${x.name}'`).join(', ');
      const what = graph.nodes.some((n) => n.name === name) ? 'is not a prunable layer' : 'names no layer';
      return fail(`keepDense: '${name}' ${what} of graph '${graph.name}' (prunable layers: ${list})`);
    }
    kept.add(l);
  }
  return kept;
}

/** N:M: in every group of m along each row's reduction, the m - n smallest (earlier first on ties). */
function selectNm(l: PrunableLayer, mag: Float64Array, n: number, m: number, zero: Uint8Array): void {
  const pos = new Array<number>(m);
  for (let r = 0; r < l.rows; r++) {
    for (let q = 0; q < l.reduction; q += m) {
      for (let j = 0; j < m; j++) pos[j] = l.at(r, q + j);
      const sorted = [...pos].sort((a, b) => mag[a]! - mag[b]! || 0);
      for (let j = 0; j < m - n; j++) if (mag[sorted[j]!] !== Infinity) zero[sorted[j]!] = 1;
    }
  }
}

/**
 * The layers N:M cannot group (reduction not a multiple of m): refused, all of them named, unless
 * `skip`; then returned, to be left dense.
 */
function indivisible(layers: readonly PrunableLayer[], n: number, m: number, skip: boolean): PrunableLayer[] {
  const bad = layers.filter((l) => l.reduction % m !== 0);
  if (bad.length === 0 || skip) return bad;
  const first = bad[0]!;
  const more = bad.slice(1, 9).map((l) => `'${l.name}' (${l.reduction})`);
  const rest = bad.length > 9 ? `, and ${bad.length - 9} more` : '';
  const names = bad.slice(0, 64).map((l) => `'${l.name}'`).join(', ');
  return fail(`${n}:${m} pruning needs the reduction dimension of layer ${describeLayer(first)} to be a multiple of ${m}, but ${first.reductionLabel}`
    + (more.length ? `; the same for ${more.join(', ')}${rest}` : '')
    + `. Leave ${bad.length === 1 ? 'it' : 'them'} dense with keepDense: [${names}${bad.length > 64 ? ', ...' : ''}], or skipIndivisible`);
}

/** A copy of `t` with the marked elements set to +0 (all-zero bits in every prunable dtype); undefined when none changes. */
function zeroed(t: Tensor, mag: Float64Array, zero: Uint8Array): Tensor | undefined {
  let changed = false;
  for (let i = 0; i < zero.length && !changed; i++) changed = zero[i] === 1 && mag[i] !== 0;
  if (!changed) return undefined;
  const data = allocData(t.type, t.size) as Exclude<TensorData, BigInt64Array | BigUint64Array>;
  data.set(t.data as Exclude<TensorData, BigInt64Array | BigUint64Array>);
  for (let i = 0; i < zero.length; i++) if (zero[i] === 1 && mag[i] !== 0) data[i] = 0;
  return new Tensor(t.type, data, t.dims);
}

/** Replaces the pruned weights; a computed weight becomes an initializer and its now-unread producers go. */
function rebuild(graph: Graph, pruned: ReadonlyMap<PrunableLayer, Tensor>): Graph {
  const initializers = new Map(graph.initializers);
  const removed = new Set<Node>();
  const idx = new UseDefIndex(graph);
  for (const [l, t] of pruned) {
    initializers.set(l.weight, t);
    if (!l.isInitializer) removed.add(idx.producer(l.weight)!);
  }
  if (removed.size === 0) return { ...graph, initializers };
  // Drop what only fed the removed producers (a Reshape's input weight and shape), transitively,
  // and nothing that was already unread in the input graph.
  const wasUsed = new UseDefIndex(graph);
  let nodes = graph.nodes.filter((n) => !removed.has(n));
  for (;;) {
    const live = new UseDefIndex({ ...graph, nodes, initializers });
    const dead = new Set(nodes.filter((n) => n.outputs.every((o) => !o || !live.isUsed(o)) && n.outputs.some((o) => o && wasUsed.isUsed(o))));
    if (dead.size === 0) {
      for (const k of [...initializers.keys()]) if (!live.isUsed(k) && wasUsed.isUsed(k)) initializers.delete(k);
      return { ...graph, nodes, initializers };
    }
    nodes = nodes.filter((n) => !dead.has(n));
  }
}

export function pruneMagnitude(graph: Graph, options: MagnitudePruneOptions): MagnitudePruneResult {
  const plan = parseKind(options);
  const minDensity = options.minDensity === undefined ? 0 : checkFraction('minDensity', options.minDensity, 'the fraction of each layer kept');
  if (plan.kind === 'nm' && minDensity > plan.n / plan.m) fail(`minDensity ${minDensity} is above the density ${plan.n / plan.m} that ${plan.n}:${plan.m} keeps`);
  const layers = findPrunableLayers(graph);
  if (layers.length === 0) {
    const quantized = graph.nodes.some((x) => QUANTIZED_OPS.has(x.op));
    fail(`graph '${graph.name}' has nothing prunable (no Conv, ConvTranspose, MatMul or Gemm whose weight is a constant float tensor read only as that weight)`
      + (quantized ? '; its weights are quantized: prune the float model, then quantize' : ''));
  }
  const kept = keptLayers(graph, layers, options.keepDense);
  if (kept.size === layers.length) fail(`keepDense names every prunable layer of graph '${graph.name}'; nothing is left to prune`);
  const skipped = plan.kind === 'nm' ? indivisible(layers.filter((l) => !kept.has(l)), plan.n, plan.m, options.skipIndivisible ?? false) : [];
  const active = layers.filter((l) => !kept.has(l) && !skipped.includes(l));
  if (active.length === 0) fail(`no layer of graph '${graph.name}' outside keepDense has a reduction dimension that is a multiple of ${plan.kind === 'nm' ? plan.m : 0}; nothing is left to prune`);
  const mags = new Map(layers.map((l) => [l, magnitudes(l.tensor)]));
  const zero = active.map((l) => new Uint8Array(l.tensor.size));
  const caps = active.map((l) => l.tensor.size - Math.ceil(minDensity * l.tensor.size));
  if (plan.kind === 'global') {
    const total = active.reduce((s, l) => s + l.tensor.size, 0);
    selectSmallest(active.map((l) => mags.get(l)!), caps, Math.round(plan.amount * total), zero);
  } else if (plan.kind === 'layer') {
    active.forEach((l, i) => selectSmallest([mags.get(l)!], [caps[i]!], Math.round(plan.amount * l.tensor.size), [zero[i]!]));
  } else if (plan.kind === 'nm') {
    const { n, m } = plan;
    active.forEach((l, i) => selectNm(l, mags.get(l)!, n, m, zero[i]!));
  }
  const pruned = new Map<PrunableLayer, Tensor>();
  active.forEach((l, i) => {
    const t = zeroed(l.tensor, mags.get(l)!, zero[i]!);
    if (t) pruned.set(l, t);
  });
  const report = layers.map((l): PrunedLayer => {
    const before = countZeros(mags.get(l)!);
    const after = pruned.has(l) ? countZeros(magnitudes(pruned.get(l)!)) : before;
    return {
      name: l.name, op: l.op, weight: l.weight, dims: [...l.tensor.dims], size: l.tensor.size,
      zerosBefore: before, zeros: after, sparsity: after / l.tensor.size, keptDense: kept.has(l) || skipped.includes(l),
      ...(skipped.includes(l) ? { reason: `reduction ${l.reduction} is not a multiple of ${plan.kind === 'nm' ? plan.m : 0}` } : {}),
    };
  });
  const size = report.reduce((s, r) => s + r.size, 0);
  const zeros = report.reduce((s, r) => s + r.zeros, 0);
  return { graph: pruned.size === 0 ? graph : rebuild(graph, pruned), layers: report, size, zeros, sparsity: zeros / size };
}

/** What provenance records about a run: per layer (by name) its weight's sparsity after pruning. */
export interface MagnitudePruneRecord {
  sparsity: number;
  layers: Record<string, { weight: string; sparsity: number; keptDense?: true }>;
}

export type MagnitudePrunePassOptions = MagnitudePruneOptions & { result?: MagnitudePruneRecord };

/**
 * pruneMagnitude as a Pass. After it runs, its `options` also hold `result` (the per-layer
 * sparsity), so the pipeline's provenance entry says which layers were pruned and how much.
 */
export function pruneMagnitudePass(options: MagnitudePruneOptions): Pass<MagnitudePrunePassOptions> {
  return recordingPass('pruneMagnitude', options, (graph) => {
    const r = pruneMagnitude(graph, options);
    const layers: MagnitudePruneRecord['layers'] = {};
    for (const l of r.layers) layers[l.name] = { weight: l.weight, sparsity: l.sparsity, ...(l.keptDense ? { keptDense: true as const } : {}) };
    return { graph: r.graph, result: { sparsity: r.sparsity, layers } };
  });
}
