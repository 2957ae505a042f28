// Dynamic int8 quantization of MatMul / Gemm with constant weights, as onnxruntime's dynamic
// quantizer writes it: weights int8 per output column (symmetric), activations quantized at run
// time to uint8 over their own range:
//   DynamicQuantizeLinear(A) -> MatMulInteger(A_q, W_q, A_zp) -> Cast(float) -> Mul(A_scale * W_scale) [-> Add(bias)]
// No calibration data. Error: half a step of A's per-run scale per activation plus half a step of
// each column's weight scale per weight, accumulated over K.
import { NameGenerator, UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node } from '../../graph/ir.js';
import { fromNumbers, toNumbers } from '../../tensor/convert.js';
import { Tensor } from '../../tensor/tensor.js';
import { definePass } from '../pass.js';
import { quantizePerChannel } from './params.js';
import { dropUnusedInitializers, prepareForQuantization } from './prepare.js';
import { checkKeepFloat } from './static-qdq.js';

export interface DynamicQuantOptions {
  /** 8 (default) or 7 (weights in [-63, 63] for the relaxed-SIMD int8 dot). */
  weightBits?: 7 | 8;
  keepFloat?: readonly string[];
}

function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.dims as [number, number];
  const v = toNumbers(t);
  const out = new Float64Array(v.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v[i * c + j]!;
  return fromNumbers('float32', out, [c, r]);
}

export function quantizeDynamic(input: Graph, options: DynamicQuantOptions = {}): Graph {
  const graph = prepareForQuantization(input);
  const keep = checkKeepFloat(graph, options.keepFloat);
  const bits = options.weightBits ?? 8;
  const idx = new UseDefIndex(graph);
  const names = new NameGenerator(graph);
  const initializers = new Map(graph.initializers);
  const replace = new Map<Node, Node[]>();
  const mk = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node => ({ name: names.fresh(`${outputs[0]}_${op}`), op, domain: '', inputs, outputs, attrs });
  for (const node of graph.nodes) {
    if (node.domain !== '' || (node.op !== 'MatMul' && node.op !== 'Gemm') || keep.has(node.name)) continue;
    const wName = node.inputs[1] ?? '';
    let w = graph.initializers.get(wName);
    if (!w || w.type !== 'float32' || w.dims.length !== 2 || idx.isGraphOutput(wName) || graph.initializers.has(node.inputs[0]!)) continue;
    let alpha = 1;
    let beta = 1;
    if (node.op === 'Gemm') {
      if ((node.attrs.transA ?? 0) !== 0) continue;
      if (node.attrs.transB === 1) w = transpose2d(w);
      alpha = typeof node.attrs.alpha === 'number' ? node.attrs.alpha : 1;
      beta = typeof node.attrs.beta === 'number' ? node.attrs.beta : 1;
    }
    const y = node.outputs[0]!;
    const qw = quantizePerChannel(w, 1, bits);
    const wq = names.fresh(`${wName}_quantized`);
    const ws = names.fresh(`${wName}_scale`);
    initializers.set(wq, qw.q);
    initializers.set(ws, new Tensor('float32', qw.scale.map((s) => Math.fround(s * alpha)), [qw.scale.length]));
    const [aq, as, az] = [names.fresh(`${node.inputs[0]}_quantized`), names.fresh(`${node.inputs[0]}_scale`), names.fresh(`${node.inputs[0]}_zero_point`)];
    const acc = names.fresh(`${y}_int32`);
    const accF = names.fresh(`${y}_int32_float`);
    const scale = names.fresh(`${y}_scale`);
    const biasName = node.op === 'Gemm' ? node.inputs[2] ?? '' : '';
    const scaled = biasName ? names.fresh(`${y}_unbiased`) : y;
    const nodes: Node[] = [
      mk('DynamicQuantizeLinear', [node.inputs[0]!], [aq, as, az]),
      mk('MatMulInteger', [aq, wq, az], [acc]),
      mk('Cast', [acc], [accF], { to: 1 }),
      mk('Mul', [as, ws], [scale]),
      mk('Mul', [accF, scale], [scaled]),
    ];
    if (biasName) {
      let b = biasName;
      if (beta !== 1) {
        const c = graph.initializers.get(biasName);
        if (!c) continue;
        b = names.fresh(`${biasName}_scaled`);
        initializers.set(b, fromNumbers('float32', toNumbers(c).map((v) => v * beta), c.dims));
      }
      nodes.push(mk('Add', [scaled, b], [y]));
    }
    replace.set(node, nodes);
  }
  if (replace.size === 0) throw new Error(`quantizeDynamic: graph '${graph.name}' has no MatMul or Gemm with a constant 2-D float32 weight outside keepFloat`);
  return dropUnusedInitializers({ ...graph, nodes: graph.nodes.flatMap((n) => replace.get(n) ?? [n]), initializers });
}

export const quantizeDynamicPass = definePass<DynamicQuantOptions>('quantizeDynamic', (graph, options) => quantizeDynamic(graph, options));
