// Structured (channel) pruning: whole output channels of Conv, Gemm and MatMul layers are removed,
// and the graph shrinks with them: the next layer's input channels, BatchNormalization, biases,
// depthwise filters (and their group), per-channel constants and Concat offsets follow
// (channel-graph.ts finds what depends on what, channel-edit.ts rewrites it).
//
//   const { graph, plan } = pruneStructured(g, { amount: 0.5, norm: 'l1' });
//   plan.groups    // per channel group: its layers, size, the removed channels
//   plan.refused   // the layers that cannot be pruned, with the reason
//
// Channels pass through activations, BatchNormalization, depthwise Conv, per-channel constants
// (Add/Sub/Mul/Div, PRelu), pools, Pad and Resize of the other axes, Concat, and Flatten/Reshape
// to [N, C*H*W] (a channel becomes H*W consecutive rows of the Gemm/MatMul after it).
// A "group" is one channel index space: one layer's output channels, or several layers' when an
// Add (or a Mul, as in a squeeze-and-excitation gate) joins them (a residual block's partners
// lose the same channels, scored jointly). Each group
// loses floor(amount * size) channels, those with the smallest filter norm (L1: sum of |w|, L2:
// root of the sum of squares, over the group's source filters, biases excluded; ties: lower
// index first). `channels` names the channels to remove explicitly (by layer); naming different
// channels for two partners of one group is refused. Groups whose channels reach a graph output,
// Reshape, Transpose, a non-depthwise grouped Conv or any op that mixes channels are not pruned
// (`plan.refused` says why); explicitly naming one of their layers is an error.
//
// Error: the result computes what the masked model computes (maskChannels: the removed channels'
// filters and biases set to 0 in the unpruned graph), up to float rounding of the biases into which
// removed channels' constants are folded (~1e-7 relative); with no such constants, exactly.
import type { Graph, Node } from '../../graph/ir.js';
import { toNumbers } from '../../tensor/convert.js';
import { recordingPass, type Pass } from '../pass.js';
import { removeChannels } from './channel-edit.js';
import { ChannelGraph, layerId, type ChannelSpace } from './channel-graph.js';

export type ChannelNorm = 'l1' | 'l2';

export interface StructuredPruneOptions {
  /** Fraction of each prunable group's channels removed, in [0, 1). Default 0. */
  amount?: number;
  /** How filters are scored. Default 'l1'. */
  norm?: ChannelNorm;
  /** Layers (node names or weight names) whose output channels are all kept. */
  keepDense?: readonly string[];
  /** Explicit channels to remove, by layer (node name); overrides `amount` for that layer's group. */
  channels?: Readonly<Record<string, readonly number[]>>;
}

export interface ChannelGroup {
  /** The layers whose output channels this group is (node names, or output names when unnamed). */
  layers: string[];
  channels: number;
  /** Removed channel indices, ascending. */
  removed: number[];
  /** Channels that cannot be removed exactly (a constant they leave cannot be folded). */
  blocked: number;
  /** Why, for the first blocked channel (absent when none is). */
  blockedReason?: string;
  keptDense: boolean;
}

export interface RefusedGroup {
  layers: string[];
  reason: string;
}

export interface ChannelPlan {
  groups: ChannelGroup[];
  refused: RefusedGroup[];
}

export interface StructuredPruneResult {
  /** The pruned graph; the input graph itself when nothing was removed. */
  graph: Graph;
  plan: ChannelPlan;
}

function fail(message: string): never {
  throw new Error(`pruneStructured: ${message}`);
}

function checkOptions(o: StructuredPruneOptions): void {
  const a = o.amount ?? 0;
  if (typeof a !== 'number' || !Number.isFinite(a) || a < 0 || a >= 1) {
    fail(`amount must be a fraction in [0, 1) (the share of each layer's channels removed), got ${String(o.amount)}`);
  }
  if (o.norm !== undefined && o.norm !== 'l1' && o.norm !== 'l2') fail(`norm must be 'l1' or 'l2', got '${String(o.norm)}'`);
}

/** Per output channel of a source layer: sum |w| (l1) or sum w^2 (l2) of its filter. */
function filterScores(n: Node, graph: Graph, norm: ChannelNorm): Float64Array {
  const w = graph.initializers.get(n.inputs[1]!)!;
  const v = toNumbers(w);
  const f = norm === 'l1' ? Math.abs : (x: number) => x * x;
  if (n.op === 'Conv') {
    const per = w.size / w.dims[0]!;
    return Float64Array.from({ length: w.dims[0]! }, (_, o) => {
      let s = 0;
      for (let i = 0; i < per; i++) s += f(v[o * per + i]!);
      return s;
    });
  }
  const transB = n.op === 'Gemm' && n.attrs.transB === 1;
  const [rows, cols] = [w.dims[0]!, w.dims[1]!];
  const N = transB ? rows : cols;
  const K = transB ? cols : rows;
  return Float64Array.from({ length: N }, (_, c) => {
    let s = 0;
    for (let k = 0; k < K; k++) s += f(v[transB ? c * K + k : k * N + c]!);
    return s;
  });
}

function describeRefusal(s: ChannelSpace): string {
  const uniq = [...new Set(s.refusals)];
  return uniq.length === 1 ? uniq[0]! : `${uniq[0]!} (and ${uniq.length - 1} more reason${uniq.length > 2 ? 's' : ''})`;
}

/** Which channels go, per root space, and the plan that reports it. */
function choose(cg: ChannelGraph, options: StructuredPruneOptions): { removed: Map<number, Set<number>>; plan: ChannelPlan } {
  checkOptions(options);
  const amount = options.amount ?? 0;
  const norm = options.norm ?? 'l1';
  const roots = cg.roots();
  const bySource = new Map<string, ChannelSpace>();
  for (const s of roots) for (const n of s.sources) bySource.set(layerId(n), s);
  const keep = new Set(options.keepDense ?? []);
  for (const k of keep) {
    const known = roots.some((s) => s.sources.some((n) => layerId(n) === k || n.inputs[1] === k));
    if (!known) fail(`keepDense names '${k}', which is not a Conv, Gemm or MatMul layer (or its weight) of graph '${cg.graph.name}'`);
  }
  // Explicit channel lists, checked and grouped by space.
  const explicit = new Map<ChannelSpace, { layer: string; list: number[] }>();
  for (const [layer, list] of Object.entries(options.channels ?? {})) {
    const s = bySource.get(layer);
    if (!s) fail(`channels names '${layer}', which is not a prunable Conv, Gemm or MatMul layer of graph '${cg.graph.name}'`);
    const sorted = [...new Set(list)].sort((a, b) => a - b);
    if (sorted.length !== list.length) fail(`channels of '${layer}' lists a channel twice`);
    for (const c of sorted) if (!Number.isInteger(c) || c < 0 || c >= s.size) fail(`channel ${c} of '${layer}' is out of range: the layer has ${s.size} output channels`);
    if (s.refusals.length) fail(`the output channels of '${layer}' cannot be removed: ${describeRefusal(s)}`);
    const prev = explicit.get(s);
    if (prev && (prev.list.length !== sorted.length || prev.list.some((c, i) => c !== sorted[i]))) {
      fail(`'${prev.layer}' and '${layer}' feed the same Add, so they must lose the same channels, but they name different ones ([${prev.list.join(', ')}] and [${sorted.join(', ')}])`);
    }
    if (sorted.length === s.size) fail(`removing every channel of '${layer}' (all ${s.size}) would leave the layer empty`);
    for (const c of sorted) {
      const why = s.blocked.get(c);
      if (why !== undefined) fail(`channel ${c} of '${layer}' cannot be removed exactly: ${why}`);
    }
    explicit.set(s, { layer, list: sorted });
  }
  const removed = new Map<number, Set<number>>();
  const groups: ChannelGroup[] = [];
  const refused: RefusedGroup[] = [];
  for (const s of roots) {
    const layers = s.sources.map(layerId);
    if (s.refusals.length) {
      refused.push({ layers, reason: describeRefusal(s) });
      continue;
    }
    const keptDense = s.sources.some((n) => keep.has(layerId(n)) || keep.has(n.inputs[1]!));
    let chosen: number[];
    const ex = explicit.get(s);
    if (ex) chosen = ex.list;
    else if (keptDense || amount === 0) chosen = [];
    else {
      const score = new Float64Array(s.size);
      for (const n of s.sources) filterScores(n, cg.graph, norm).forEach((v, c) => (score[c]! += v));
      const order = [...Array(s.size).keys()].filter((c) => !s.blocked.has(c)).sort((a, b) => score[a]! - score[b]! || a - b);
      chosen = order.slice(0, Math.floor(amount * s.size)).sort((a, b) => a - b);
    }
    removed.set(s.id, new Set(chosen));
    const first = [...s.blocked].sort((a, b) => a[0] - b[0])[0];
    groups.push({ layers, channels: s.size, removed: chosen, blocked: s.blocked.size, ...(first ? { blockedReason: `channel ${first[0]}: ${first[1]}` } : {}), keptDense });
  }
  return { removed, plan: { groups, refused } };
}

/** The channels structured pruning would remove, and the layers it cannot prune (the graph is not changed). */
export function planStructuredPruning(graph: Graph, options: StructuredPruneOptions): ChannelPlan {
  return choose(new ChannelGraph(graph), options).plan;
}

/** Removes channels and rewires every dependent layer; see the header for the rules. */
export function pruneStructured(graph: Graph, options: StructuredPruneOptions): StructuredPruneResult {
  const cg = new ChannelGraph(graph);
  const { removed, plan } = choose(cg, options);
  return { graph: removeChannels(cg, removed), plan };
}

/** The explicit `channels` option that reproduces a plan (for maskChannels or a second run). */
export function planChannels(plan: ChannelPlan): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const g of plan.groups) if (g.removed.length) for (const l of g.layers) out[l] = [...g.removed];
  return out;
}

/** What provenance records about a run: per group (by its first layer) the channels kept. */
export interface StructuredPruneRecord {
  groups: Record<string, { layers: string[]; channels: number; kept: number }>;
  refused: RefusedGroup[];
}

export type StructuredPrunePassOptions = StructuredPruneOptions & { result?: StructuredPruneRecord };

/** pruneStructured as a Pass; after it runs its `options` also hold `result` for provenance. */
export function pruneStructuredPass(options: StructuredPruneOptions): Pass<StructuredPrunePassOptions> {
  checkOptions(options);
  return recordingPass('pruneStructured', options, (graph) => {
    const r = pruneStructured(graph, options);
    const groups: StructuredPruneRecord['groups'] = {};
    for (const g of r.plan.groups) groups[g.layers[0]!] = { layers: g.layers, channels: g.channels, kept: g.channels - g.removed.length };
    return { graph: r.graph, result: { groups, refused: r.plan.refused } };
  });
}
