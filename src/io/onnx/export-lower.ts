// Kiln's own ops (domain ai.kiln) written back as the standard ONNX nodes they stand for, so that
// an exported model runs in any ONNX runtime. Each ai.kiln op is defined as a base op followed by
// an optional bias Add and an activation (src/ops/fused.ts, src/ops/dequant-matmul.ts); the
// lowering writes exactly that chain, so the reference backend computes the same bits before and
// after. An ai.kiln op with no such definition is refused, naming the node.
import { inferInScope, mapSubgraphs, NameGenerator, rewriteRecursively } from '../../graph/edit.js';
import { nodeLabel, ONNX_DOMAIN, type AttrValue, type Graph, type Node } from '../../graph/ir.js';
import { DEQUANT_MATMUL_OPS } from '../../ops/dequant-matmul.js';
import { KILN_DOMAIN } from '../../ops/fused.js';
import { Tensor } from '../../tensor/tensor.js';
import type { DType } from '../../tensor/dtype.js';

const FUSED_BASE: Record<string, 'Conv' | 'Gemm' | 'MatMul'> = { FusedConv: 'Conv', FusedGemm: 'Gemm', FusedMatMul: 'MatMul' };
const DEQUANT_BASE: Record<string, 'MatMul' | 'Gemm'> = { [DEQUANT_MATMUL_OPS.MatMul]: 'MatMul', [DEQUANT_MATMUL_OPS.Gemm]: 'Gemm' };
/** Attributes the ai.kiln ops add to their base op's. */
const KILN_ATTRS = new Set(['activation', 'activation_params', 'axis', 'block_size', 'accuracy_level']);

/** Whether a graph (or any subgraph) holds an ai.kiln node. */
export function usesKilnOps(graph: Graph): boolean {
  return graph.nodes.some((n) => n.domain === KILN_DOMAIN || Object.values(n.attrs).some((a) => isSubgraph(a) && usesKilnOps(a)));
}

function isSubgraph(a: AttrValue): a is Graph {
  return typeof a === 'object' && a !== null && !Array.isArray(a) && 'nodes' in a && 'initializers' in a;
}

/** The graph with every ai.kiln node replaced by standard ONNX nodes (a new graph; the input is untouched). */
export function lowerKilnOps(graph: Graph): Graph {
  if (!usesKilnOps(graph)) return graph;
  return lowerIn(graph, new NameGenerator(graph));
}

function lowerIn(graph: Graph, names: NameGenerator): Graph {
  const withSubs = mapSubgraphs(graph, (sub) => (usesKilnOps(sub) ? lowerIn(sub, names) : sub));
  const initializers = new Map(withSubs.initializers);
  const nodes: Node[] = [];
  for (const node of withSubs.nodes) {
    if (node.domain !== KILN_DOMAIN) { nodes.push(node); continue; }
    nodes.push(...lowerNode(node, names, initializers));
  }
  const opsets = { ...withSubs.opsets };
  delete opsets[KILN_DOMAIN];
  return { ...withSubs, nodes, initializers, opsets };
}

function lowerNode(node: Node, names: NameGenerator, initializers: Map<string, Tensor>): Node[] {
  const baseAttrs = Object.fromEntries(Object.entries(node.attrs).filter(([k]) => !KILN_ATTRS.has(k)));
  const make = (op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): Node =>
    ({ name: names.fresh(`${node.name}__${op.toLowerCase()}`), op, domain: ONNX_DOMAIN, inputs, outputs, attrs });
  const out = node.outputs[0]!;
  const chain: Node[] = [];
  let x: string;
  let bias = '';
  const fused = Object.hasOwn(FUSED_BASE, node.op) ? FUSED_BASE[node.op] : undefined;
  const dequant = Object.hasOwn(DEQUANT_BASE, node.op) ? DEQUANT_BASE[node.op] : undefined;
  if (fused) {
    const baseInputs = fused === 'MatMul' ? node.inputs.slice(0, 2) : node.inputs;
    if (fused === 'MatMul') bias = node.inputs[2] ?? '';
    x = names.fresh(`${out}__${fused.toLowerCase()}`);
    chain.push({ ...make(fused, baseInputs, [x], baseAttrs), name: node.name });
  } else if (dequant) {
    const [a, bq, scale, zp, last] = node.inputs;
    const b = names.fresh(`${bq}__dequantized`);
    const dqAttrs: Record<string, AttrValue> = { axis: num(node.attrs.axis, 1) };
    if (num(node.attrs.block_size, 0) !== 0) dqAttrs.block_size = num(node.attrs.block_size, 0);
    chain.push(make('DequantizeLinear', [bq!, scale!, ...(zp ? [zp] : [])], [b], dqAttrs));
    x = names.fresh(`${out}__${dequant.toLowerCase()}`);
    const baseInputs = dequant === 'Gemm' && last ? [a!, b, last] : [a!, b];
    if (dequant === 'MatMul') bias = last ?? '';
    chain.push({ ...make(dequant, baseInputs, [x], baseAttrs), name: node.name });
  } else {
    throw new Error(`saveOnnx: ${nodeLabel(node)} is a Kiln-only op with no ONNX equivalent; export the graph before Kiln's lowering passes`);
  }
  if (bias) {
    const y = names.fresh(`${out}__bias`);
    chain.push(make('Add', [x, bias], [y]));
    x = y;
  }
  const activation = node.attrs.activation;
  if (typeof activation === 'string') {
    const params = Array.isArray(node.attrs.activation_params) ? (node.attrs.activation_params as number[]) : [];
    chain.push(activationOf(activation, params, x, make, names, initializers, node));
  }
  // The last node of the chain writes the fused node's output.
  const last = chain[chain.length - 1]!;
  if (last.outputs[0] !== out) chain[chain.length - 1] = { ...last, outputs: [out] };
  return chain;
}

type Make = (op: string, inputs: string[], outputs: string[], attrs?: Record<string, AttrValue>) => Node;

/** The stand-alone activation node (same mapping as activationNode in src/ops/fused.ts). */
function activationOf(op: string, params: readonly number[], x: string, make: Make, names: NameGenerator, initializers: Map<string, Tensor>, node: Node): Node {
  switch (op) {
    case 'Relu': case 'Sigmoid': return make(op, [x], ['']);
    case 'LeakyRelu': return make(op, [x], [''], { alpha: params[0] ?? 0.01 });
    case 'Gelu': return make(op, [x], [''], params[0] === 1 ? { approximate: 'tanh' } : {});
    case 'Clip': {
      const bound = (label: string, v: number) => {
        const name = names.fresh(`${node.name}__clip_${label}`);
        initializers.set(name, new Tensor('float32', Float32Array.of(v), []));
        return name;
      };
      return make('Clip', [x, bound('min', params[0] ?? -Infinity), bound('max', params[1] ?? Infinity)], ['']);
    }
    default: throw new Error(`saveOnnx: ${nodeLabel(node)} has activation '${op}', which has no ONNX equivalent here`);
  }
}

const num = (v: AttrValue | undefined, dflt: number): number => (typeof v === 'number' ? v : dflt);

/**
 * ONNX requires the zero points of QLinearConv and QLinearMatMul, which Kiln lets a graph omit
 * (meaning 0, as Kiln's QDQ lowering writes them). Each omitted one becomes a zero constant of
 * the type of the value it belongs to, shaped like its scale: the same computation.
 */
const REQUIRED_ZERO_POINTS: Record<string, readonly { zp: number; scale: number; typeOf: number | 'output' }[]> = {
  QLinearConv: [{ zp: 2, scale: 1, typeOf: 0 }, { zp: 5, scale: 4, typeOf: 3 }, { zp: 7, scale: 6, typeOf: 'output' }],
  QLinearMatMul: [{ zp: 2, scale: 1, typeOf: 0 }, { zp: 5, scale: 4, typeOf: 3 }, { zp: 7, scale: 6, typeOf: 'output' }],
};

const needsZeroPoints = (n: Node) => n.domain === ONNX_DOMAIN && Object.hasOwn(REQUIRED_ZERO_POINTS, n.op)
  && REQUIRED_ZERO_POINTS[n.op]!.some((r) => (n.inputs[r.zp] ?? '') === '');

function anyNode(graph: Graph, test: (n: Node) => boolean): boolean {
  return graph.nodes.some((n) => test(n) || Object.values(n.attrs).some((a) => isSubgraph(a) && anyNode(a, test)));
}

export function fillRequiredZeroPoints(graph: Graph): Graph {
  if (!anyNode(graph, needsZeroPoints)) return graph;
  const names = new NameGenerator(graph);
  return rewriteRecursively(graph, (g, scope) => {
    if (!g.nodes.some(needsZeroPoints)) return g;
    const inferred = inferInScope(g, scope.outer);
    const initializers = new Map(g.initializers);
    const nodes = g.nodes.map((n) => {
      if (!needsZeroPoints(n)) return n;
      const inputs = [...n.inputs];
      while (inputs.length < 8) inputs.push('');
      for (const r of REQUIRED_ZERO_POINTS[n.op]!) {
        if (inputs[r.zp] !== '') continue;
        const of = r.typeOf === 'output' ? n.outputs[0]! : inputs[r.typeOf]!;
        const dtype = inferred?.types.get(of)?.dtype ?? scope.outer?.type(of)?.dtype;
        const scaleShape = inferred?.types.get(inputs[r.scale]!)?.shape ?? scope.outer?.type(inputs[r.scale]!)?.shape;
        if ((dtype !== 'uint8' && dtype !== 'int8') || !scaleShape || scaleShape.some((d) => typeof d !== 'number')) {
          throw new Error(`saveOnnx: ${nodeLabel(n)} omits input ${r.zp} (a zero point ONNX requires) and its type or shape cannot be inferred`);
        }
        const name = names.fresh(`${n.name}__zero_point_${r.zp}`);
        initializers.set(name, Tensor.zeros(dtype as DType, scaleShape as number[]));
        inputs[r.zp] = name;
      }
      while (inputs.length > 0 && inputs[inputs.length - 1] === '') inputs.pop();
      return { ...n, inputs };
    });
    return { ...g, nodes, initializers };
  });
}
