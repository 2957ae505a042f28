// Applies a choice of removed channels to a graph analysed by ChannelGraph: every constant along a
// tracked channel axis loses the removed positions (source filters and biases, the next layer's
// input channels, BatchNormalization parameters, depthwise filters and their group, per-channel
// constants), and the constants removed channels leave in a sink's input are folded into its bias
// (see channel-graph.ts). Values whose shape changed lose their stale value-info.
import { NameGenerator, UseDefIndex } from '../../graph/edit.js';
import type { AttrValue, Graph, Node } from '../../graph/ir.js';
import { fromNumbers, toNumbers } from '../../tensor/convert.js';
import type { Tensor } from '../../tensor/tensor.js';
import { layerId, layoutSize, type ChannelGraph, type Layout, type SinkFold } from './channel-graph.js';

/** Channel `keep` positions of `t` along `axis` (a new tensor of the same dtype). */
export function takeAlong(t: Tensor, axis: number, keep: readonly number[]): Tensor {
  const dims = [...t.dims];
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = dims[axis]!;
  const src = toNumbers(t);
  const out = new Float64Array(outer * keep.length * inner);
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const c of keep) {
      const base = (i * n + c) * inner;
      for (let j = 0; j < inner; j++) out[o++] = src[base + j]!;
    }
  }
  dims[axis] = keep.length;
  return fromNumbers(t.type, out, dims);
}

const num = (n: Node, key: string, dflt: number): number => {
  const v = n.attrs[key];
  return typeof v === 'number' ? v : dflt;
};

/** `removed`: per root space, the channels that go. Returns the graph itself when none go. */
export function removeChannels(cg: ChannelGraph, removed: ReadonlyMap<number, ReadonlySet<number>>): Graph {
  const graph = cg.graph;
  if (![...removed.values()].some((s) => s.size > 0)) return graph;
  const gone = (l: Layout) => cg.positions(l).map(({ space, channel }) => space >= 0 && !!removed.get(space)?.has(channel));
  const touches = (l: Layout) => gone(l).some(Boolean);
  const index = new UseDefIndex(graph);
  const names = new NameGenerator(graph);
  const initializers = new Map(graph.initializers);
  const replaced = new Map<Node, Node>();
  const orphans = new Set<string>();
  const written: string[] = [];
  const folds = new Map<Node, BiasFold>();
  for (const [node, e] of cg.edits) {
    const f = e.fold && touches(e.fold.layout) ? contributions(node, e.fold, gone(e.fold.layout), graph) : undefined;
    if (f) folds.set(f.node, f);
  }

  for (const node of new Set([...cg.edits.keys(), ...folds.keys()])) {
    const e = cg.edits.get(node) ?? { params: [] };
    const fold = folds.get(node);
    const layouts = [...e.params.map((p) => p.layout), ...[e.reshape, e.sizes, e.fold?.layout].filter((l): l is Layout => !!l)];
    if (!fold && !layouts.some(touches)) continue;
    const tensors = new Map<number, Tensor>();
    const get = (i: number) => tensors.get(i) ?? (node.inputs[i] ? graph.initializers.get(node.inputs[i]!) : undefined);
    const attrs: Record<string, AttrValue> = { ...node.attrs };
    if (fold) addToBias(node, fold, get, tensors, attrs);
    if (e.reshape && touches(e.reshape)) {
      const t = get(1)!;
      const v = toNumbers(t);
      if (v[1]! > 0) v[1] = gone(e.reshape).filter((x) => !x).length;
      tensors.set(1, fromNumbers(t.type, v, t.dims));
    }
    if (e.sizes && touches(e.sizes)) {
      const t = get(3)!;
      const v = toNumbers(t);
      v[e.sizes.axis] = gone(e.sizes).filter((x) => !x).length;
      tensors.set(3, fromNumbers(t.type, v, t.dims));
    }
    for (const p of e.params) {
      const t = get(p.input);
      if (!t || t.dims.length === 0) continue;
      const axis = p.axis < 0 ? t.dims.length + p.axis : p.axis;
      // A dim of 1 broadcasts over every channel: nothing to remove.
      if (t.dims[axis] !== layoutSize(p.layout) || !touches(p.layout)) continue;
      const g = gone(p.layout);
      tensors.set(p.input, takeAlong(t, axis, g.flatMap((x, i) => (x ? [] : [i]))));
    }
    if (e.group) attrs.group = gone(e.group).filter((x) => !x).length;
    const inputs = [...node.inputs];
    for (const [i, t] of tensors) {
      const old = node.inputs[i];
      const own = old && index.usesOf(old).length === 1 && !index.isGraphOutput(old);
      const name = own ? old : names.fresh(old ? `${old}_pruned` : `${layerId(node)}_bias`);
      if (old && !own) orphans.add(old);
      initializers.set(name, t);
      written.push(name);
      while (inputs.length <= i) inputs.push('');
      inputs[i] = name;
    }
    replaced.set(node, { ...node, inputs, attrs });
  }
  const nodes = graph.nodes.map((n) => replaced.get(n) ?? n);
  const stillRead = new Set(nodes.flatMap((n) => n.inputs));
  for (const o of orphans) if (!stillRead.has(o) && !graph.outputs.some((v) => v.name === o)) initializers.delete(o);
  const valueInfo = new Map(graph.valueInfo);
  for (const [root, set] of removed) if (set.size) for (const v of cg.spaces[root]!.values) valueInfo.delete(v);
  // A model may declare its initializers' shapes too (constant folding keeps them).
  for (const v of written) valueInfo.delete(v);
  return { ...graph, nodes, initializers, valueInfo };
}

/** What removed channels' constants contributed to a sink's outputs, and where it goes. */
interface BiasFold {
  /** The node whose constant takes it: the sink (Conv bias, Gemm C) or the Add after a MatMul. */
  node: Node;
  input: number;
  kind: 'conv' | 'gemm' | 'add';
  /** Per output channel (Conv) or column (Gemm, MatMul). */
  contrib: Float64Array;
}

/**
 * Sums, per output channel, the removed positions' constants times the weights that read them,
 * in float64 from the unpruned weights; undefined when every removed position holds 0.
 */
function contributions(node: Node, fold: SinkFold, gone: boolean[], graph: Graph): BiasFold | undefined {
  const live = gone.flatMap((g, p) => (g && fold.k[p] !== 0 ? [p] : []));
  if (live.length === 0) return undefined;
  const w = graph.initializers.get(node.inputs[1]!)!;
  const W = toNumbers(w);
  if (fold.kind === 'conv') {
    const [cout, cin] = [w.dims[0]!, w.dims[1]!];
    const taps = w.size / (cout * cin);
    const contrib = new Float64Array(cout);
    for (let o = 0; o < cout; o++) {
      for (const p of live) {
        let s = 0;
        for (let t = 0; t < taps; t++) s += W[(o * cin + p) * taps + t]!;
        contrib[o]! += fold.k[p]! * s;
      }
    }
    return { node, input: 2, kind: 'conv', contrib };
  }
  const transB = num(node, 'transB', 0) === 1;
  const N = transB ? w.dims[0]! : w.dims[1]!;
  const K = transB ? w.dims[1]! : w.dims[0]!;
  // Gemm: Y = alpha * A B + beta * C, so the removed rows of B gave alpha * k[p] * B[p, n].
  const alpha = fold.kind === 'gemm' ? num(node, 'alpha', 1) : 1;
  const contrib = new Float64Array(N);
  for (let n = 0; n < N; n++) for (const p of live) contrib[n]! += alpha * fold.k[p]! * W[transB ? n * K + p : p * N + n]!;
  if (fold.kind === 'gemm') return { node, input: 2, kind: 'gemm', contrib };
  if (!fold.add) throw new Error(`internal: a removed channel with a nonzero constant reached ${layerId(node)} (MatMul), which has no bias`);
  return { node: fold.add.node, input: fold.add.input, kind: 'add', contrib };
}

/** Adds a fold's contribution to its constant (creating a Conv bias or Gemm C if absent), rounded once. */
function addToBias(node: Node, f: BiasFold, get: (i: number) => Tensor | undefined, tensors: Map<number, Tensor>, attrs: Record<string, AttrValue>): void {
  const N = f.contrib.length;
  const c = get(f.input);
  const dtype = c?.type ?? get(1)!.type;
  let scale = 1;
  if (f.kind === 'gemm') {
    const beta = num(node, 'beta', 1);
    // beta 0 ignores C: the contribution becomes C, with beta 1.
    if (!c || beta === 0) {
      attrs.beta = 1;
      tensors.set(f.input, fromNumbers(dtype, f.contrib, [N]));
      return;
    }
    scale = 1 / beta;
  }
  if (!c) {
    tensors.set(f.input, fromNumbers(dtype, f.contrib, [N]));
    return;
  }
  const cv = toNumbers(c);
  // A single value shared by every column becomes one per column; otherwise columns are the last axis.
  const dims = c.size === 1 ? [N] : [...c.dims];
  const out = Float64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => cv[c.size === 1 ? 0 : i]! + f.contrib[i % N]! * scale);
  tensors.set(f.input, fromNumbers(dtype, out, dims));
}
