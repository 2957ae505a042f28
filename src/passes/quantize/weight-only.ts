// Weight-only quantization: the constant B of every MatMul (K x N) and Gemm (N x K with transB)
// becomes int4 / int8 (symmetric) or uint4 / uint8 (asymmetric) in blocks of `block` values along
// K, behind a blocked DequantizeLinear; activations stay float. On WASM, int4 / uint4 with block 32
// run on the int4 GEMV kernels (fuseDequantMatMul); other choices run DequantizeLinear + the float
// op. Error: each weight moves by at most half a step of its block's scale.
import { NameGenerator, UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node } from '../../graph/ir.js';
import { definePass } from '../pass.js';
import { quantizeBlocked } from './params.js';
import { checkKeepFloat } from './static-qdq.js';
import { dropUnusedInitializers, prepareForQuantization } from './prepare.js';

export interface WeightOnlyOptions {
  /** 4 (default) or 8. */
  bits?: 4 | 8;
  /** Block length along K: 16, 32 (default), 64 or 128. */
  block?: 16 | 32 | 64 | 128;
  /** Symmetric (default true): zero point 0; else per-block zero points (unsigned types). */
  symmetric?: boolean;
  /** Node names left in float. */
  keepFloat?: readonly string[];
}

export function quantizeWeights(input: Graph, options: WeightOnlyOptions = {}): Graph {
  const bits = options.bits ?? 4;
  const block = options.block ?? 32;
  const symmetric = options.symmetric ?? true;
  if (bits !== 4 && bits !== 8) throw new Error(`quantizeWeights: bits must be 4 or 8, got ${String(bits)}`);
  if (![16, 32, 64, 128].includes(block)) throw new Error(`quantizeWeights: block must be 16, 32, 64 or 128, got ${String(block)}`);
  const graph = prepareForQuantization(input);
  const keep = checkKeepFloat(graph, options.keepFloat);
  const idx = new UseDefIndex(graph);
  const names = new NameGenerator(graph);
  const initializers = new Map(graph.initializers);
  const done = new Map<string, Node>();
  const replace = new Map<Node, Node[]>();
  for (const node of graph.nodes) {
    if (node.domain !== '' || (node.op !== 'MatMul' && node.op !== 'Gemm') || keep.has(node.name)) continue;
    const wName = node.inputs[1] ?? '';
    const w = graph.initializers.get(wName);
    if (!w || w.type !== 'float32' || w.dims.length !== 2 || idx.isGraphOutput(wName)) continue;
    if (node.op === 'Gemm' && (node.attrs.transA ?? 0) !== 0) continue;
    const kAxis = node.op === 'Gemm' && node.attrs.transB === 1 ? 1 : 0;
    let dq = done.get(wName);
    const added: Node[] = [];
    if (!dq) {
      const q = quantizeBlocked(w, kAxis, block, bits, symmetric);
      const qName = names.fresh(`${wName}_quantized`);
      const sName = names.fresh(`${wName}_scale`);
      initializers.set(qName, q.q);
      initializers.set(sName, q.scale);
      const inputs = [qName, sName];
      if (q.zeroPoint) {
        const zName = names.fresh(`${wName}_zero_point`);
        initializers.set(zName, q.zeroPoint);
        inputs.push(zName);
      }
      dq = { name: names.fresh(`${wName}_DequantizeLinear`), op: 'DequantizeLinear', domain: '', inputs, outputs: [names.fresh(`${wName}_dequantized`)], attrs: { axis: kAxis, block_size: block } };
      done.set(wName, dq);
      added.push(dq);
    }
    replace.set(node, [...added, { ...node, inputs: node.inputs.map((v, i) => (i === 1 ? dq!.outputs[0]! : v)) }]);
  }
  if (replace.size === 0) {
    throw new Error(`quantizeWeights: graph '${graph.name}' has no MatMul or Gemm with a constant 2-D float32 weight outside keepFloat`);
  }
  const nodes = graph.nodes.flatMap((n) => replace.get(n) ?? [n]);
  // DequantizeLinear with block_size needs opset 21.
  const opsets = { ...graph.opsets, '': Math.max(graph.opsets[''] ?? 21, 21) };
  return dropUnusedInitializers({ ...graph, nodes, initializers, opsets });
}

export const quantizeWeightsPass = definePass<WeightOnlyOptions>('quantizeWeights', (graph, options) => quantizeWeights(graph, options));
