// Static int8 quantization in QDQ form, from calibrated activation ranges (src/optimize/calibrate.ts
// measures them): the graph stays a float graph with QuantizeLinear -> DequantizeLinear pairs on
// every activation a quantized layer reads or writes, and int8 weights behind DequantizeLinear, as
// onnxruntime's QDQ quantizer writes it. Backends with int8 kernels turn the patterns into them
// (lower-qdq.ts); the reference backend runs the graph as written.
//  - weights (Conv, MatMul, Gemm): int8, per output channel, symmetric (zero point 0); 7-bit on
//    request ([-63, 63]: the relaxed-SIMD int8 dot is exact only for those);
//  - bias: int32 with scale x_scale * w_scale[c], zero point 0 (what QLinearConv adds);
//  - activations: per tensor, asymmetric, uint8 (default) or int8, range widened to include 0;
//  - MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Relu and Concat share one scale
//    between their inputs and output (ranges merged), so they pass int8 through unchanged; a Relu
//    whose input feeds nothing else gives that input its clipped range [0, max], so the
//    quantizer's clamp at the zero point *is* the Relu and lowering can drop it;
//  - Add and Mul of two activations (residual connections) are quantized on both sides, so the
//    int8 path continues through them (QLinearAdd / QLinearMul after lowering).
// Error: each quantized activation carries at most half a step of its scale; weights half a step
// of their channel's scale.
import { UseDefIndex, NameGenerator } from '../../graph/edit.js';
import { inferGraph } from '../../graph/infer.js';
import type { Graph, Node } from '../../graph/ir.js';
import { topoSort } from '../../graph/topo.js';
import { fromNumbers } from '../../tensor/convert.js';
import { Tensor } from '../../tensor/tensor.js';
import { layerKind, weightChannelAxis, type LayerKind } from './layers.js';
import { affineFromRange, quantizeBias, quantizePerChannel, type Affine } from './params.js';
import { dropUnusedInitializers, prepareForQuantization } from './prepare.js';

export interface TensorRange {
  min: number;
  max: number;
}

export interface StaticQdqOptions {
  /** Calibrated [min, max] of each float activation (names as in the prepared graph). */
  ranges: ReadonlyMap<string, TensorRange>;
  /** Activation type; default 'uint8' (asymmetric either way). */
  activationType?: 'uint8' | 'int8';
  /** 8 (default) or 7: weights in [-63, 63] for the relaxed-SIMD int8 dot. */
  weightBits?: 7 | 8;
  /** Node names left in float (their neighbours may still be quantized). */
  keepFloat?: readonly string[];
}

/** Union-find over activation names: members of one set share scale and zero point. */
class Groups {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    if (p !== x) { p = this.find(p); this.parent.set(x, p); }
    return p;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

export function checkKeepFloat(graph: Graph, keepFloat: readonly string[] | undefined): Set<string> {
  const names = new Set(graph.nodes.map((n) => n.name));
  for (const k of keepFloat ?? []) {
    if (!names.has(k)) {
      const sample = graph.nodes.slice(0, 12).map((n) => n.name).join(', ');
      throw new Error(`keepFloat: no node named '${k}' in graph '${graph.name}' (nodes: ${sample}${graph.nodes.length > 12 ? ', ...' : ''})`);
    }
  }
  return new Set(keepFloat ?? []);
}

/** Which activations get QDQ and which share parameters. `graph` must be prepared (prepareForQuantization). */
export function planActivations(graph: Graph, keep: ReadonlySet<string>): { kinds: Map<Node, LayerKind>; tensors: Set<string>; groups: Groups; clipped: Set<string> } {
  const { types, constants } = inferGraph(graph);
  const isConstant = (v: string) => constants.has(v);
  const isFloatAct = (v: string) => !!v && !isConstant(v) && types.get(v)?.dtype === 'float32';
  const idx = new UseDefIndex(graph);
  const kinds = new Map<Node, LayerKind>();
  const tensors = new Set<string>();
  const groups = new Groups();
  const clipped = new Set<string>();
  for (const node of topoSort(graph)) {
    if (keep.has(node.name)) continue;
    const kind = layerKind(node, graph, isConstant);
    if (!kind) continue;
    const acts = kind === 'weighted' ? [node.inputs[0]!] : kind === 'passthrough' ? [node.inputs[0]!] : node.inputs.filter(Boolean);
    const out = node.outputs[0]!;
    if (!acts.every(isFloatAct) || !isFloatAct(out)) continue;
    // A pass-through op is worth quantizing only when its input already is (else it would add a
    // QDQ pair that lowering cannot use).
    if (kind === 'passthrough' && !tensors.has(acts[0]!)) continue;
    kinds.set(node, kind);
    for (const a of acts) tensors.add(a);
    tensors.add(out);
    if (kind === 'passthrough') {
      if (node.op !== 'Relu') groups.union(acts[0]!, out);
      else if (idx.soleConsumer(acts[0]!) === node) {
        groups.union(acts[0]!, out);
        clipped.add(acts[0]!);
      }
    }
    if (kind === 'concat' && acts.every((a) => idx.soleConsumer(a) === node)) for (const a of acts) groups.union(out, a);
  }
  return { kinds, tensors, groups, clipped };
}

export function quantizeStaticQdq(input: Graph, options: StaticQdqOptions): Graph {
  const graph = prepareForQuantization(input);
  const keep = checkKeepFloat(graph, options.keepFloat);
  const { kinds, tensors, groups, clipped } = planActivations(graph, keep);
  if (kinds.size === 0) {
    throw new Error(`quantizeStatic: graph '${graph.name}' has no quantizable op (Conv, MatMul or Gemm with constant float32 weights, Add, Mul, Concat, pooling) outside keepFloat`);
  }
  const actType = options.activationType ?? 'uint8';
  const bits = options.weightBits ?? 8;

  // One parameter set per group, over the union of its members' ranges.
  const union = new Map<string, TensorRange>();
  for (const t of tensors) {
    const r = options.ranges.get(t);
    if (!r) throw new Error(`quantizeStatic: no calibrated range for activation '${t}'`);
    const lo = clipped.has(t) ? Math.max(r.min, 0) : r.min;
    const g = groups.find(t);
    const u = union.get(g);
    union.set(g, u ? { min: Math.min(u.min, lo), max: Math.max(u.max, r.max) } : { min: lo, max: r.max });
  }
  const params = new Map<string, Affine>();
  for (const t of tensors) {
    const u = union.get(groups.find(t))!;
    params.set(t, affineFromRange(u.min, u.max, actType));
  }

  const names = new NameGenerator(graph);
  const initializers = new Map(graph.initializers);
  const outputs = new Set(graph.outputs.map((v) => v.name));
  const inputs = new Set(graph.inputs.map((v) => v.name));
  const rename = new Map<string, string>(); // activation -> its DequantizeLinear output
  const producerRename = new Map<string, string>(); // graph output produced by a node -> the node's new output name
  const qdqAfter = new Map<string, Node[]>(); // activation -> its Q and DQ nodes
  const qdqAtStart: Node[] = [];

  for (const t of tensors) {
    const a = params.get(t)!;
    const scale = names.fresh(`${t}_scale`);
    const zp = names.fresh(`${t}_zero_point`);
    initializers.set(scale, new Tensor('float32', Float32Array.of(a.scale), []));
    initializers.set(zp, fromNumbers(actType, [a.zeroPoint], []));
    const q = names.fresh(`${t}_quantized`);
    let source = t;
    let dq: string;
    if (outputs.has(t) && !inputs.has(t)) {
      // Keep the model's output name on the dequantized value.
      source = names.fresh(`${t}_float`);
      producerRename.set(t, source);
      dq = t;
    } else {
      dq = names.fresh(`${t}_dequantized`);
      rename.set(t, dq);
    }
    const pair: Node[] = [
      { name: names.fresh(`${t}_QuantizeLinear`), op: 'QuantizeLinear', domain: '', inputs: [source, scale, zp], outputs: [q], attrs: {} },
      { name: names.fresh(`${t}_DequantizeLinear`), op: 'DequantizeLinear', domain: '', inputs: [q, scale, zp], outputs: [dq], attrs: {} },
    ];
    if (inputs.has(t) || graph.initializers.has(t)) qdqAtStart.push(...pair);
    else qdqAfter.set(t, pair);
  }

  // Weights and biases of the weighted layers.
  const weightDq = new Map<string, { node: Node; scale: Float32Array }>();
  const nodes: Node[] = [...qdqAtStart];
  for (const node of topoSort(graph)) {
    const kind = kinds.get(node);
    let out = node;
    if (kind === 'weighted') {
      const inputsNew = [...node.inputs];
      const wName = node.inputs[1]!;
      let w = weightDq.get(wName);
      if (!w) {
        const axis = weightChannelAxis(node);
        const qw = quantizePerChannel(graph.initializers.get(wName)!, axis, bits);
        const qName = names.fresh(`${wName}_quantized`);
        const sName = names.fresh(`${wName}_scale`);
        initializers.set(qName, qw.q);
        initializers.set(sName, new Tensor('float32', qw.scale, [qw.scale.length]));
        w = {
          node: { name: names.fresh(`${wName}_DequantizeLinear`), op: 'DequantizeLinear', domain: '', inputs: [qName, sName], outputs: [names.fresh(`${wName}_dequantized`)], attrs: { axis } },
          scale: qw.scale,
        };
        weightDq.set(wName, w);
        nodes.push(w.node);
      }
      inputsNew[1] = w.node.outputs[0]!;
      const bName = node.inputs[2];
      const bias = bName ? graph.initializers.get(bName) : undefined;
      const xScale = params.get(node.inputs[0]!)!.scale;
      if (bias && bias.dims.length === 1 && bias.type === 'float32' && (w.scale.length === 1 || w.scale.length === bias.size) && (node.op !== 'Gemm' || ((node.attrs.beta ?? 1) === 1 && (node.attrs.alpha ?? 1) === 1))) {
        const qb = quantizeBias(bias, xScale, w.scale);
        const qName = names.fresh(`${bName}_quantized`);
        const sName = names.fresh(`${bName}_scale`);
        initializers.set(qName, qb.q);
        initializers.set(sName, new Tensor('float32', qb.scale, [qb.scale.length]));
        const dq: Node = { name: names.fresh(`${bName}_DequantizeLinear`), op: 'DequantizeLinear', domain: '', inputs: [qName, sName], outputs: [names.fresh(`${bName}_dequantized`)], attrs: { axis: 0 } };
        nodes.push(dq);
        inputsNew[2] = dq.outputs[0]!;
      }
      out = { ...node, inputs: inputsNew };
    }
    out = {
      ...out,
      inputs: out.inputs.map((v) => rename.get(v) ?? v),
      outputs: out.outputs.map((v) => producerRename.get(v) ?? v),
    };
    nodes.push(out);
    for (const o of node.outputs) nodes.push(...(qdqAfter.get(o) ?? []));
  }
  // Subgraph reads of quantized activations keep reading the float values (still computed).
  const result: Graph = { ...graph, nodes, initializers, valueInfo: new Map(graph.valueInfo) };
  return dropUnusedInitializers(result);
}
