// Fuses DequantizeLinear of constant weights into the MatMul / Gemm that consumes it (ai.kiln
// DequantMatMul / DequantGemm, src/ops/dequant-matmul.ts), so backends can run kernels that read
// the quantized weights as stored instead of a float32 copy:
//  - int4 / uint4 weights in blocks of 32 along K (weight-only int4: a K x N MatMul B, or Gemm's
//    N x K B with transB = 1), with float32 scales and optional zero points;
//  - int8 / uint8 weights that carry a sparse layout (tensor.sparse, CSR or N:M), zero point 0,
//    one float32 scale per tensor or per output column.
// Only a DequantizeLinear whose input is an initializer and whose output feeds nothing but B of
// the one MatMul / Gemm is fused. Run it after fuseActivations: the fused node keeps the
// activation, bias and Gemm attributes of a FusedMatMul / FusedGemm.
import { inferInScope, rewriteRecursively, UseDefIndex, type RewriteScope } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { DEQUANT_MATMUL_OPS } from '../ops/dequant-matmul.js';
import { KILN_DOMAIN } from '../ops/fused.js';
import { toNumbers } from '../tensor/convert.js';
import type { Tensor } from '../tensor/tensor.js';
import { applyPass, definePass } from './pass.js';

export interface FuseDequantMatMulOptions {
  /**
   * Let backends quantize activations to int8 (per block of 32) for int4 weights: 2-3x faster
   * GEMV, at the cost of one int8 rounding of each activation (relative error ~1/254 of the
   * block's largest magnitude per term). Default false: float32 activations, results within
   * float32 rounding of the unfused graph.
   */
  int8Activations?: boolean;
}

/** Block size of the int4 kernels (block-wise scales along K). */
export const INT4_BLOCK = 32;

const BASES: Record<string, 'MatMul' | 'Gemm'> = {
  MatMul: 'MatMul', Gemm: 'Gemm', [`${KILN_DOMAIN}::FusedMatMul`]: 'MatMul', [`${KILN_DOMAIN}::FusedGemm`]: 'Gemm',
};

function baseOf(node: Node): 'MatMul' | 'Gemm' | undefined {
  return BASES[node.domain === '' ? node.op : `${node.domain}::${node.op}`];
}

const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);

/** Why a DequantizeLinear + consumer pair qualifies, or undefined. */
function qualifies(dq: Node, consumer: Node, base: 'MatMul' | 'Gemm', graph: Graph, constants: Map<string, Tensor>): boolean {
  const x = graph.initializers.get(dq.inputs[0]!);
  const scale = constants.get(dq.inputs[1] ?? '');
  const zpName = dq.inputs[2] ?? '';
  const zp = zpName ? constants.get(zpName) : undefined;
  if (!x || x.dims.length !== 2 || !scale || scale.type !== 'float32' || (zpName && !zp)) return false;
  if (num(dq.attrs.output_dtype, 0) !== 0) return false;
  let transB = false;
  if (base === 'Gemm') {
    if (num(consumer.attrs.transA, 0) !== 0) return false;
    transB = num(consumer.attrs.transB, 0) === 1;
  }
  const kAxis = transB ? 1 : 0;
  const nAxis = 1 - kAxis;
  const axis = num(dq.attrs.axis, 1);
  const normAxis = axis < 0 ? axis + 2 : axis;
  const block = num(dq.attrs.block_size, 0);
  if (x.type === 'int4' || x.type === 'uint4') {
    // Block-wise along K with the kernels' block, one scale per (block, column).
    const blocks = Math.ceil(x.dims[kAxis]! / INT4_BLOCK);
    const want = kAxis === 0 ? [blocks, x.dims[1]!] : [x.dims[0]!, blocks];
    return block === INT4_BLOCK && normAxis === kAxis && scale.dims.length === 2 && scale.dims.every((d, i) => d === want[i]);
  }
  if ((x.type === 'int8' || x.type === 'uint8') && x.sparse) {
    // A sparse layout's absent elements are raw 0: real zeros only with zero point 0.
    if (zp && toNumbers(zp).some((v) => v !== 0)) return false;
    if (block !== 0) return false;
    return scale.size === 1 || (normAxis === nAxis && scale.size === x.dims[nAxis]);
  }
  return false;
}

function fuseInGraph(graph: Graph, options: FuseDequantMatMulOptions, scope: RewriteScope): Graph {
  // Most graphs have no DequantizeLinear: skip the inference.
  if (!graph.nodes.some((n) => n.op === 'DequantizeLinear' && n.domain === '')) return graph;
  const inferred = inferInScope(graph, scope.outer);
  if (!inferred) return graph;
  const { constants } = inferred;
  // Uses include reads inside If/Loop/Scan subgraphs: a dequantized weight that a branch also
  // reads must stay.
  const index = new UseDefIndex(graph);
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  for (const node of graph.nodes) {
    const base = baseOf(node);
    const bName = node.inputs[1];
    if (!base || !bName) continue;
    const dq = index.producer(bName);
    if (!dq || dq.op !== 'DequantizeLinear' || dq.domain !== '' || removed.has(dq)) continue;
    if (index.soleConsumer(bName) !== node || node.inputs.indexOf(bName) !== 1) continue;
    if (!qualifies(dq, node, base, graph, constants)) continue;
    const x = graph.initializers.get(dq.inputs[0]!)!;
    const attrs: Node['attrs'] = { ...node.attrs, axis: num(dq.attrs.axis, 1), block_size: num(dq.attrs.block_size, 0) };
    if (options.int8Activations && (x.type === 'int4' || x.type === 'uint4')) attrs.accuracy_level = 4;
    const last = node.inputs[2] ?? '';
    replaced.set(node, {
      ...node, op: DEQUANT_MATMUL_OPS[base], domain: KILN_DOMAIN,
      inputs: [node.inputs[0]!, dq.inputs[0]!, dq.inputs[1]!, dq.inputs[2] ?? '', last].slice(0, last ? 5 : dq.inputs[2] ? 4 : 3),
      attrs,
    });
    removed.add(dq);
  }
  if (replaced.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { ...graph, nodes, opsets: { ...graph.opsets, [KILN_DOMAIN]: 1 } };
}

/** The fusion as a pipeline pass (backends list it in loweringPasses); recurses into subgraphs. */
export const fuseDequantMatMulPass = definePass<FuseDequantMatMulOptions>('fuseDequantMatMul', (graph, options) =>
  rewriteRecursively(graph, (g, scope) => fuseInGraph(g, options, scope)));

/** Applies the fusion and records it in the provenance. */
export function fuseDequantMatMul(graph: Graph, options: FuseDequantMatMulOptions = {}): Graph {
  return applyPass(graph, fuseDequantMatMulPass(options));
}
