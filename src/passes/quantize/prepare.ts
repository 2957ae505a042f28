// Pre-quantization clean-up, exact in float (up to float32 rounding of the folded bias sum):
//  - weights computed from constants (mnist-8 reshapes its MatMul weight with a Reshape node)
//    become initializers, so the quantizer sees a constant it can quantize;
//  - Conv followed by Add of a per-channel constant becomes Conv with a bias (models exported
//    from CNTK and Keras write the bias as a separate Add), so the bias is quantized to int32 inside
//    QLinearConv instead of costing an extra requantized Add.
// Initializers nothing reads any more are dropped.
import { inferGraph } from '../../graph/infer.js';
import type { Graph, Node } from '../../graph/ir.js';
import { UseDefIndex } from '../../graph/edit.js';
import { fromNumbers, toNumbers } from '../../tensor/convert.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Ops whose input 1 is a weight the quantizers want as an initializer. */
const WEIGHT_OPS = new Set(['Conv', 'MatMul', 'Gemm']);

export function prepareForQuantization(graph: Graph): Graph {
  let g = materializeWeights(graph);
  g = foldConvBiasAdd(g);
  return dropUnusedInitializers(g);
}

function materializeWeights(graph: Graph): Graph {
  const idx = new UseDefIndex(graph);
  const wanted = graph.nodes
    .filter((n) => n.domain === '' && WEIGHT_OPS.has(n.op) && n.inputs[1] && !graph.initializers.has(n.inputs[1]) && idx.producer(n.inputs[1])?.outputs.length === 1)
    .map((n) => n.inputs[1]!);
  if (wanted.length === 0) return graph;
  const { constants } = inferGraph(graph);
  const initializers = new Map(graph.initializers);
  const removed = new Set<Node>();
  for (const name of wanted) {
    const t = constants.get(name);
    if (!t) continue;
    initializers.set(name, t);
    removed.add(idx.producer(name)!);
  }
  if (removed.size === 0) return graph;
  return { ...graph, initializers, nodes: graph.nodes.filter((n) => !removed.has(n)) };
}

/** The per-channel values of a constant that broadcasts along axis 1 only of a rank-`rank` output with `C` channels. */
function perChannel(t: Tensor, rank: number, C: number): Float64Array | undefined {
  if (t.size !== C || t.dims.length > rank) return undefined;
  const offset = rank - t.dims.length;
  const ok = t.dims.every((d, i) => (i + offset === 1 ? d === C : d === 1));
  return ok || (C === 1 && t.size === 1) ? toNumbers(t) : undefined;
}

function foldConvBiasAdd(graph: Graph): Graph {
  const idx = new UseDefIndex(graph);
  const replace = new Map<Node, Node>();
  const removed = new Set<Node>();
  const initializers = new Map(graph.initializers);
  for (const conv of graph.nodes) {
    if (conv.op !== 'Conv' || conv.domain !== '') continue;
    const w = graph.initializers.get(conv.inputs[1] ?? '');
    const y = conv.outputs[0]!;
    const add = idx.soleConsumer(y);
    if (!w || !add || add.op !== 'Add' || add.domain !== '') continue;
    const other = add.inputs[0] === y ? add.inputs[1]! : add.inputs[0]!;
    const c = graph.initializers.get(other);
    const oldBias = conv.inputs[2] ? graph.initializers.get(conv.inputs[2]) : undefined;
    if (!c || c.type !== w.type || (conv.inputs[2] && !oldBias)) continue;
    // Conv output rank = weight rank (N, C, spatial...).
    const vals = perChannel(c, w.dims.length, w.dims[0]!);
    if (!vals) continue;
    if (oldBias) {
      const b = toNumbers(oldBias);
      for (let i = 0; i < vals.length; i++) vals[i] = vals[i]! + b[i]!;
    }
    let biasName = `${conv.name || y}_bias`;
    for (let k = 1; initializers.has(biasName) || idx.producer(biasName); k++) biasName = `${conv.name || y}_bias_${k}`;
    initializers.set(biasName, fromNumbers(w.type, vals, [vals.length]));
    replace.set(conv, { ...conv, inputs: [conv.inputs[0]!, conv.inputs[1]!, biasName], outputs: [add.outputs[0]!] });
    removed.add(add);
  }
  if (replace.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replace.get(n) ?? n);
  const valueInfo = new Map(graph.valueInfo);
  return { ...graph, nodes, initializers, valueInfo };
}

export function dropUnusedInitializers(graph: Graph): Graph {
  const idx = new UseDefIndex(graph);
  const unused = [...graph.initializers.keys()].filter((k) => !idx.isUsed(k));
  if (unused.length === 0) return graph;
  const initializers = new Map(graph.initializers);
  for (const k of unused) initializers.delete(k);
  return { ...graph, initializers };
}
