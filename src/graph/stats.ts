// Model statistics for `kiln inspect`: op histogram, parameters, bytes, FLOPs, dtypes.
import { byteLengthOf, type DType } from '../tensor/dtype.js';
import { isConcrete, type Shape } from '../tensor/shape.js';
import type { Graph, Node, ValueType } from './ir.js';
import { verifyGraph } from './verify.js';

export interface GraphStats {
  nodes: number;
  ops: Record<string, number>;
  parameters: number;
  parameterBytes: number;
  /** Floating-point (or integer) operations for one run; a multiply-add counts as 2. */
  flops: number;
  /** Nodes whose FLOPs could not be counted because a shape is symbolic. */
  flopsUnknown: number;
  dtypes: Record<string, number>;
}

function count(shape: Shape | undefined): number | undefined {
  if (!shape || !isConcrete(shape)) return undefined;
  return shape.reduce((a, b) => a * b, 1);
}

/** FLOPs of one node from its inferred input and output types. */
export function nodeFlops(node: Node, types: Map<string, ValueType>): number | undefined {
  const t = (i: number) => types.get(node.inputs[i] ?? '');
  const out = count(types.get(node.outputs[0] ?? '')?.shape);
  if (out === undefined) return undefined;
  switch (node.op) {
    case 'Conv': case 'ConvInteger': case 'QLinearConv': {
      const w = t(node.op === 'QLinearConv' ? 3 : 1)?.shape;
      const wc = count(w);
      if (!w || wc === undefined) return undefined;
      // Each output element takes Cin/group * prod(kernel) multiply-adds.
      return 2 * out * (wc / (w[0] as number));
    }
    case 'ConvTranspose': {
      const x = count(t(0)?.shape);
      const w = t(1)?.shape;
      const wc = count(w);
      if (x === undefined || !w || wc === undefined) return undefined;
      return 2 * x * (wc / (w[0] as number));
    }
    case 'MatMul': case 'MatMulInteger': case 'QLinearMatMul': case 'Gemm': {
      const a = t(0)?.shape;
      if (!a || a.length === 0) return undefined;
      const k = node.op === 'Gemm' && node.attrs.transA === 1 ? a[0] : a[a.length - 1];
      return typeof k === 'number' ? 2 * out * k : undefined;
    }
    default:
      return out;
  }
}

/** Statistics with symbolic input dims set to `symbolSize` (1 by default) so that FLOPs are concrete. */
export function graphStats(graph: Graph, symbolSize = 1): GraphStats {
  const concrete: Graph = {
    ...graph,
    inputs: graph.inputs.map((v) => (v.shape ? { ...v, shape: v.shape.map((d) => (typeof d === 'number' ? d : symbolSize)) } : v)),
  };
  const { types } = verifyGraph(concrete);
  const ops: Record<string, number> = {};
  const dtypes: Record<string, number> = {};
  let flops = 0;
  let flopsUnknown = 0;
  for (const n of graph.nodes) {
    const key = n.domain ? `${n.domain}::${n.op}` : n.op;
    ops[key] = (ops[key] ?? 0) + 1;
    const f = nodeFlops(n, types);
    if (f === undefined) flopsUnknown++;
    else flops += f;
  }
  let parameters = 0;
  let parameterBytes = 0;
  for (const t of graph.initializers.values()) {
    parameters += t.size;
    parameterBytes += byteLengthOf(t.type, t.size);
    dtypes[t.type as DType] = (dtypes[t.type] ?? 0) + t.size;
  }
  return { nodes: graph.nodes.length, ops, parameters, parameterBytes, flops, flopsUnknown, dtypes };
}
