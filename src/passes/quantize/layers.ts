// Which nodes the int8 quantizers know, and in which role each of their inputs is.
import type { Graph, Node } from '../../graph/ir.js';

/** Weighted layers: an activation input 0, a constant weight at input 1, an optional bias at 2. */
export const WEIGHTED = new Set(['Conv', 'MatMul', 'Gemm']);
/** Both inputs activations, output requantized (QLinearAdd / QLinearMul after lowering). */
export const BINARY = new Set(['Add', 'Mul']);
/** int8 in, int8 out with the same scale and zero point: the op only moves or selects values. */
export const PASS_THROUGH = new Set(['MaxPool', 'Reshape', 'Transpose', 'Flatten', 'Squeeze', 'Unsqueeze', 'Relu', 'GlobalMaxPool']);
/** Averaging pools: requantized, with their own output parameters. */
export const AVERAGING = new Set(['GlobalAveragePool', 'AveragePool']);

export type LayerKind = 'weighted' | 'binary' | 'passthrough' | 'concat' | 'averaging';

/** The axis of a weighted node's weight that holds output channels (per-channel scales go there). */
export function weightChannelAxis(node: Node): number {
  if (node.op === 'Conv') return 0;
  if (node.op === 'Gemm') return node.attrs.transB === 1 ? 0 : 1;
  return 1; // MatMul B is [K, N]
}

/** How the int8 quantizer treats `node`, or undefined when it leaves the node alone. */
export function layerKind(node: Node, graph: Graph, isConstant: (v: string) => boolean): LayerKind | undefined {
  if (node.domain !== '') return undefined;
  const w = graph.initializers.get(node.inputs[1] ?? '');
  if (WEIGHTED.has(node.op)) {
    if (!w || w.type !== 'float32' || isConstant(node.inputs[0]!)) return undefined;
    if (node.op === 'MatMul' && w.dims.length !== 2) return undefined;
    if (node.op === 'Gemm' && (w.dims.length !== 2 || (node.attrs.transA ?? 0) !== 0)) return undefined;
    if (node.op === 'Conv' && w.dims.length < 3) return undefined;
    return 'weighted';
  }
  if (BINARY.has(node.op)) return node.inputs.every((v) => v && !isConstant(v)) ? 'binary' : undefined;
  if (PASS_THROUGH.has(node.op)) return node.outputs.filter(Boolean).length === 1 && !isConstant(node.inputs[0]!) ? 'passthrough' : undefined;
  if (node.op === 'Concat') return node.inputs.every((v) => v && !isConstant(v)) ? 'concat' : undefined;
  if (AVERAGING.has(node.op)) return 'averaging';
  return undefined;
}

/** Names of the weighted layers (Conv, MatMul, Gemm with constant float weights): what keepFloat and sensitivity talk about. */
export function quantizableLayers(graph: Graph): string[] {
  const isConst = (v: string) => graph.initializers.has(v);
  return graph.nodes.filter((n) => layerKind(n, graph, isConst) === 'weighted').map((n) => n.name);
}
