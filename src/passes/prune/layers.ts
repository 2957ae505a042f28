// Which weights magnitude pruning may zero, and how each is viewed as `rows x reduction` so that
// N:M groups run along the axis the layer sums over.
//
// Prunable: the weight input (slot 1) of a top-level ONNX-domain
//  - MatMul whose B is 2-D [K, N] or batched [..., K, N] (groups along K),
//  - Gemm's B, [K, N], or [N, K] with transB = 1 (groups along K either way),
//  - Conv's W [Cout, Cin/group, k...] (groups along the flattened Cin/group * k... of each filter),
//  - ConvTranspose's W [Cin, Cout/group, k...] (each output channel sums over its group's Cin and
//    the kernel positions; groups run along that flattened (cin, k...) order),
// when the weight is a float32 / float16 / bfloat16 / float64 constant (an initializer, or the single
// output of a node that constant-folds, as mnist-8's Reshape of its MatMul weight) that is not a
// graph input, not a graph output, and read by nothing but such weight slots with the same
// geometry. Biases, activations, MatMul's A, Gemm's A and C, float8 storage types and weights
// inside subgraphs (If / Loop / Scan bodies) are never pruned, nor is a weight computed from
// quantized data (DequantizeLinear of int8 in a QDQ model): pruning would store it in float again.
import { UseDefIndex } from '../../graph/edit.js';
import { inferGraph } from '../../graph/infer.js';
import type { Graph, Node } from '../../graph/ir.js';
import type { DType } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Ops that read or make quantized (integer-coded) tensors. */
export const QUANTIZED_OPS: ReadonlySet<string> = new Set(['DequantizeLinear', 'QuantizeLinear', 'DynamicQuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger']);

/** The dtypes pruning writes zeros into (their +0 is the all-zero bit pattern). */
const PRUNABLE_DTYPES: ReadonlySet<DType> = new Set<DType>(['float32', 'float16', 'bfloat16', 'float64']);

export interface PrunableLayer {
  /** The first reading node's name (its weight's name when the node has none). */
  readonly name: string;
  readonly op: string;
  /** Every node that reads the weight (more than one when layers share it). */
  readonly nodes: readonly Node[];
  readonly weight: string;
  readonly tensor: Tensor;
  /** True when the weight is an initializer; false when it is computed from constants. */
  readonly isInitializer: boolean;
  /** Output units: the weight is viewed as `rows` reductions of `reduction` elements each. */
  readonly rows: number;
  readonly reduction: number;
  /** How `reduction` is made from the dims, for error messages. */
  readonly reductionLabel: string;
  /** Flat index into the weight's data of element `k` of row `r`'s reduction. */
  at(r: number, k: number): number;
}

type Geometry = Pick<PrunableLayer, 'rows' | 'reduction' | 'reductionLabel' | 'at'> & { key: string };

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

/** The rows x reduction view of `node`'s weight of dims `d`, or undefined when the node is not prunable. */
function geometry(node: Node, d: readonly number[]): Geometry | undefined {
  if (node.domain !== '' || node.inputs.length < 2) return undefined;
  switch (node.op) {
    case 'MatMul':
    case 'Gemm': {
      const transB = node.op === 'Gemm' && node.attrs.transB === 1;
      if (node.op === 'Gemm' ? d.length !== 2 : d.length < 2) return undefined;
      const batch = prod(d.slice(0, -2));
      const a = d[d.length - 2]!;
      const b = d[d.length - 1]!;
      if (transB) return { key: 'NK', rows: a, reduction: b, reductionLabel: `K = dims[1] = ${b}`, at: (r, k) => r * b + k };
      // [..., K, N]: row r is (batch r / N, column r % N); element k of it sits K-major.
      return {
        key: 'KN', rows: batch * b, reduction: a, reductionLabel: `K = dims[${d.length - 2}] = ${a}`,
        at: (r, k) => Math.floor(r / b) * a * b + k * b + (r % b),
      };
    }
    case 'Conv': {
      if (d.length < 3) return undefined;
      const k = prod(d.slice(1));
      return { key: 'conv', rows: d[0]!, reduction: k, reductionLabel: `Cin/group * kernel = ${d.slice(1).join(' * ')} = ${k}`, at: (r, i) => r * k + i };
    }
    case 'ConvTranspose': {
      const g = typeof node.attrs.group === 'number' ? node.attrs.group : 1;
      if (d.length < 3 || g < 1 || d[0]! % g !== 0) return undefined;
      const cinG = d[0]! / g;
      const coutG = d[1]!;
      const s = prod(d.slice(2));
      // Row r is output channel (group r / coutG, channel r % coutG); element k is (cin k / s, kernel position k % s).
      return {
        key: `convT/${g}`, rows: g * coutG, reduction: cinG * s, reductionLabel: `Cin/group * kernel = ${[cinG, ...d.slice(2)].join(' * ')} = ${cinG * s}`,
        at: (r, k) => ((Math.floor(r / coutG) * cinG + Math.floor(k / s)) * coutG + (r % coutG)) * s + (k % s),
      };
    }
    default:
      return undefined;
  }
}

/** The prunable layers of `graph`'s top level, in node order (one per distinct weight). */
export function findPrunableLayers(graph: Graph): PrunableLayer[] {
  const idx = new UseDefIndex(graph);
  const inputs = new Set(graph.inputs.map((v) => v.name));
  const seen = new Set<string>();
  const candidates: string[] = [];
  for (const node of graph.nodes) {
    const w = node.inputs[1];
    if (!w || seen.has(w) || node.domain !== '' || !['MatMul', 'Gemm', 'Conv', 'ConvTranspose'].includes(node.op)) continue;
    seen.add(w);
    if (inputs.has(w) || idx.isGraphOutput(w)) continue;
    candidates.push(w);
  }
  // Weights computed from constants need the constant values; infer only when one exists.
  let constants: ReadonlyMap<string, Tensor> | undefined;
  const constantOf = (w: string): Tensor | undefined => {
    const init = graph.initializers.get(w);
    if (init) return init;
    const p = idx.producer(w);
    if (!p || p.outputs.filter(Boolean).length !== 1 || fromQuantized(idx, p)) return undefined;
    constants ??= inferGraph(graph).constants;
    return constants.get(w);
  };
  const layers: PrunableLayer[] = [];
  for (const w of candidates) {
    const uses = idx.usesOf(w);
    if (uses.some((u) => u.input !== 1)) continue;
    const tensor = constantOf(w);
    if (!tensor || !PRUNABLE_DTYPES.has(tensor.type) || tensor.size === 0) continue;
    const nodes = [...new Set(uses.map((u) => u.node))];
    const geos = nodes.map((n) => geometry(n, tensor.dims));
    const g = geos[0];
    if (!g || geos.some((x) => !x || x.key !== g.key)) continue;
    const first = nodes[0]!;
    layers.push({
      name: first.name || w, op: first.op, nodes, weight: w, tensor, isInitializer: graph.initializers.has(w),
      rows: g.rows, reduction: g.reduction, reductionLabel: g.reductionLabel, at: g.at,
    });
  }
  return layers;
}

/** True when `node` or a node it depends on is a quantization op. */
function fromQuantized(idx: UseDefIndex, node: Node): boolean {
  const seen = new Set<Node>();
  const stack = [node];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (QUANTIZED_OPS.has(n.op)) return true;
    for (const v of n.inputs) {
      const p = v ? idx.producer(v) : undefined;
      if (p) stack.push(p);
    }
  }
  return false;
}

/** "'conv1' (Conv, W [8, 1, 5, 5])" */
export function describeLayer(l: PrunableLayer): string {
  return `'${l.name}' (${l.op}, weight '${l.weight}' [${l.tensor.dims.join(', ')}])`;
}
