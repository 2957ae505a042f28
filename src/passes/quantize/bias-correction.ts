// Bias correction (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
// Correction", 2019, the empirical variant): rounding a Conv's weights to int8 moves each output
// channel's mean by E[(W_q - W) x] = sum over inputs and taps of (W_q - W)[o, i, k] * E[x_i];
// subtracting that from the float bias before quantization cancels the shift on average.
//
// Why it matters: after a ReLU the inputs have a large positive mean, so the rounding errors of a
// channel's weights do not average out but add up to an offset; on superres-core with 1/f-noise
// images this offset was most of the int8 error (output PSNR against float 30.4 -> 39.3 dB with
// bias correction alone, 48.8 -> 49.2 dB on top of cross-layer equalization).
//
// E[x_i] is the mean of input channel i over the calibration data (src/optimize/channel-means.ts
// measures it), used for every tap: near the borders the zero padding makes a tap's true mean
// smaller, which this ignores. The quantized weights are computed exactly as static-qdq.ts will
// (per output channel, symmetric, `weightBits`), so the correction matches the rounding it undoes.
// Conv only (any group); its weight must be a float32 initializer and its bias, if any, a float32
// initializer read by that conv alone (a Conv without a bias gets one). Pure; not recursive (the
// means are of the top-level graph's values).
import { NameGenerator, UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node } from '../../graph/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { intAttr, isOnnx } from '../util.js';
import { quantizePerChannel } from './params.js';

export interface BiasCorrectionOptions {
  /** The weight bits quantizeStatic will use (8 or 7); default 8. */
  weightBits?: 7 | 8;
  /** Node names that stay float (their weights are not rounded, so nothing to correct). */
  keepFloat?: readonly string[];
}

/** The Convs whose bias correctBiases may adjust, with the activation each reads. */
export function biasCorrectionTargets(graph: Graph): { node: Node; input: string }[] {
  const index = new UseDefIndex(graph);
  const out: { node: Node; input: string }[] = [];
  for (const node of graph.nodes) {
    if (!isOnnx(node, 'Conv') || !node.inputs[0] || graph.initializers.has(node.inputs[0])) continue;
    const w = graph.initializers.get(node.inputs[1] ?? '');
    if (!w || w.type !== 'float32' || w.dims.length < 3) continue;
    const bName = node.inputs[2];
    if (bName) {
      const b = graph.initializers.get(bName);
      if (!b || b.type !== 'float32' || b.size !== w.dims[0] || index.useCount(bName) !== 1) continue;
    }
    out.push({ node, input: node.inputs[0] });
  }
  return out;
}

/**
 * Subtracts each target Conv's expected int8 weight-rounding error from its bias. `inputMeans`
 * maps a Conv's input activation to its per-channel mean; Convs whose input has none are left alone.
 */
export function correctBiases(graph: Graph, inputMeans: ReadonlyMap<string, Float64Array>, options: BiasCorrectionOptions = {}): Graph {
  const bits = options.weightBits ?? 8;
  const names = new NameGenerator(graph);
  const initializers = new Map(graph.initializers);
  const replaced = new Map<Node, Node>();
  const keep = new Set(options.keepFloat ?? []);
  for (const { node, input } of biasCorrectionTargets(graph)) {
    const mean = inputMeans.get(input);
    if (!mean || keep.has(node.name)) continue;
    const w = graph.initializers.get(node.inputs[1]!)!;
    const [cout, cinPerGroup] = [w.dims[0]!, w.dims[1]!];
    const group = intAttr(node, 'group', 1);
    if (mean.length !== cinPerGroup * group) {
      throw new Error(`correctBiases: Conv '${node.name}' reads ${cinPerGroup * group} channels but ${mean.length} means were given for '${input}'`);
    }
    const q = quantizePerChannel(w, 0, bits);
    const qv = q.q.data as Int8Array;
    const wv = w.data as Float32Array;
    const taps = wv.length / (cout * cinPerGroup);
    const outPerGroup = cout / group;
    const shift = new Float64Array(cout);
    for (let o = 0; o < cout; o++) {
      const first = Math.floor(o / outPerGroup) * cinPerGroup;
      let e = 0;
      for (let i = 0; i < cinPerGroup; i++) {
        let d = 0;
        for (let k = (o * cinPerGroup + i) * taps, end = k + taps; k < end; k++) d += qv[k]! * q.scale[o]! - wv[k]!;
        e += d * mean[first + i]!;
      }
      shift[o] = e;
    }
    const bName = node.inputs[2];
    const old = bName ? (graph.initializers.get(bName)!.data as Float32Array) : new Float32Array(cout);
    const name = bName ?? names.fresh(`${node.name || node.outputs[0]}_bias`);
    initializers.set(name, new Tensor('float32', Float32Array.from(old, (b, o) => b - shift[o]!), [cout]));
    if (!bName) replaced.set(node, { ...node, inputs: [node.inputs[0]!, node.inputs[1]!, name] });
  }
  const nodes = replaced.size ? graph.nodes.map((n) => replaced.get(n) ?? n) : graph.nodes;
  return { ...graph, nodes, initializers };
}
