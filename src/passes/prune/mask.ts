// The masked model structured pruning is measured against: the same channels, left in place, with
// their source filters' weights and biases set to 0, so those channels leave every source as
// exact zeros and the rest of the graph computes with them as it is. pruneStructured's output
// equals this model's output up to float rounding (see structured.ts).
//
//   const { graph: small, plan } = pruneStructured(g, { amount: 0.5 });
//   const masked = maskChannels(g, plan);
import { UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node } from '../../graph/ir.js';
import { fromNumbers, toNumbers } from '../../tensor/convert.js';
import type { Tensor } from '../../tensor/tensor.js';
import { planChannels, planStructuredPruning, type ChannelPlan } from './structured.js';

/** Zeroes output channels `chans` of one source layer's weight and bias (a new graph's tensors). */
function zeroSource(n: Node, graph: Graph, chans: readonly number[], set: (name: string, t: Tensor) => void): void {
  const w = graph.initializers.get(n.inputs[1]!)!;
  const W = toNumbers(w);
  const gone = new Set(chans);
  if (n.op === 'Conv') {
    const per = w.size / w.dims[0]!;
    for (const o of gone) W.fill(0, o * per, (o + 1) * per);
  } else {
    const transB = n.op === 'Gemm' && n.attrs.transB === 1;
    const N = transB ? w.dims[0]! : w.dims[1]!;
    for (let i = 0; i < W.length; i++) if (gone.has(transB ? Math.floor(i / w.dims[1]!) : i % N)) W[i] = 0;
  }
  set(n.inputs[1]!, fromNumbers(w.type, W, w.dims));
  const b = n.op === 'MatMul' ? undefined : n.inputs[2] ? graph.initializers.get(n.inputs[2]) : undefined;
  if (!b) return;
  const N = n.op === 'Conv' ? w.dims[0]! : n.attrs.transB === 1 ? w.dims[0]! : w.dims[1]!;
  const bv = toNumbers(b);
  // A single Gemm C shared by every column becomes one value per column, so some can be 0.
  const dims = b.size === 1 && n.op === 'Gemm' ? [N] : [...b.dims];
  const out = Float64Array.from({ length: dims.reduce((x, y) => x * y, 1) }, (_, i) => (gone.has(i % N) ? 0 : bv[b.size === 1 ? 0 : i]!));
  set(n.inputs[2]!, fromNumbers(b.type, out, dims));
}

/**
 * The unpruned graph with the plan's channels zeroed at their sources (a plan from
 * pruneStructured or planStructuredPruning, or explicit channels by layer as pruneStructured's
 * `channels` option takes them; the same checks apply).
 */
export function maskChannels(graph: Graph, channels: ChannelPlan | Readonly<Record<string, readonly number[]>>): Graph {
  const explicit = 'groups' in channels && Array.isArray(channels.groups) ? planChannels(channels as ChannelPlan) : (channels as Record<string, readonly number[]>);
  // Validates the lists (layers exist and are prunable, partners agree, not every channel).
  planStructuredPruning(graph, { channels: explicit });
  const initializers = new Map(graph.initializers);
  const byName = new Map(graph.nodes.map((n) => [n.name || n.outputs[0]!, n]));
  const index = new UseDefIndex(graph);
  for (const [layer, list] of Object.entries(explicit)) {
    const n = byName.get(layer)!;
    zeroSource(n, graph, list, (name, t) => {
      // Zeroing a shared constant would mask its other readers too, which pruning does not do.
      if (index.useCount(name) > 1) throw new Error(`maskChannels: '${name}' of layer '${layer}' is also read elsewhere; masking it would change other layers`);
      initializers.set(name, t);
    });
  }
  return { ...graph, initializers };
}
