// Cross-layer equalization (Nagel et al., "Data-Free Quantization Through Weight Equalization and
// Bias Correction", 2019) for chains Conv -> [Relu | LeakyRelu | PRelu | MaxPool]* -> Conv.
//
// Why: static int8 quantizes a Conv's weight per output channel, over all of its input channels
// at once. When a few input channels carry much larger weights than the rest, those set the
// channel's step and the small ones lose their precision (superres-core's last conv: its output
// PSNR against float is 33 dB with only that weight quantized). Scaling moves the imbalance into
// the activation between the two convs, which has precision to spare.
//
// How: for a positive s_i, conv A's output channel i divided by s_i (weights and bias), then the
// channel-wise ops between (positively homogeneous: f(x / s) = f(x) / s for s > 0, as Relu,
// LeakyRelu, PRelu with any slope and MaxPool are), then conv B's input channel i multiplied by
// s_i computes the same function.
// With r1_i = max |W_A[i, ...]| and r2_i = max over B's outputs and taps of |W_B[:, i, ...]|,
// s_i = sqrt(r1_i / r2_i) makes both ranges sqrt(r1_i * r2_i). A conv in the middle of a longer
// chain is the consumer of one pair and the producer of the next; the pairs are swept in graph
// order once by default (Nagel et al. repeat the sweeps until the scales converge: `sweeps`, which
// says why one is the default). Each weight is then rewritten once, from the original values
// times the accumulated scales, and rounded to float32 once.
//
// Error: exact in real arithmetic; in float32 the rounding of the rescaled weights and bias and
// of the reordered products, a few ulps (~1e-6 relative to the output's scale). With
// `powerOfTwo` the accumulated scales are rounded to powers of two: then every rescaled value is
// exact (barring subnormals) and the float outputs are bit-identical, at a small cost in balance.
//
// Applies only where the rescaling is invisible outside the chain: both convs group 1, float32
// weights (and bias) that are initializers of this graph read by that conv alone, conv A's output
// and each op's output read once (by the next link, never a graph output or a subgraph), no
// second output read (MaxPool's Indices), PRelu's slope an initializer (independent of the
// scaled value). Grouped and
// depthwise convs are left alone: as consumer their channels do not all mix (a scale would have
// to continue through them); as producer the rescaling would be valid, but on ultraface-RFB-320
// (int8 static, 8 random calibration images, 4 others) letting depthwise producers in took the
// scores' PSNR against float from 55.0 to 52.5 dB (25 pairs instead of 7): a 3x3 depthwise
// channel's 9 weights are a poor guide to its output's range. Recurses into subgraphs.
import { rewriteRecursively, UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node } from '../../graph/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { definePass } from '../pass.js';
import { intAttr, isOnnx } from '../util.js';

export interface EqualizeOptions {
  /**
   * Sweeps over the pairs, in graph order (default 1). Nagel et al. repeat them until the scales
   * converge; that fixed point also balances each producer's own output-channel ranges, which
   * per-channel weight quantization does not need, at the cost of the consumers' column balance:
   * on superres-core (int8 static, minmax) one sweep gives 53.9 dB output PSNR on test digits,
   * two 50.3 dB, convergence 48.9 dB (and 48.8 / 45.6 / 43.9 dB on 1/f-noise images).
   */
  sweeps?: number;
  /** Round the accumulated scales to powers of two, so the float outputs are bit-identical. */
  powerOfTwo?: boolean;
}

/** One equalizable link: conv `a`, the channel-wise ops between (possibly none), conv `b`. */
export interface EqualizationPair {
  a: Node;
  between: Node[];
  b: Node;
}

/** Channel-wise ops with f(x / s) = f(x) / s for s > 0 (MaxPool: the max of scaled values). */
const HOMOGENEOUS = new Set(['Relu', 'LeakyRelu', 'PRelu', 'MaxPool']);

const MIN_NORMAL_F32 = 2 ** -126;

/** A group-1 Conv whose float32 weight (and bias) are initializers read by this node alone. */
function ownsWeights(node: Node, graph: Graph, index: UseDefIndex): boolean {
  if (!isOnnx(node, 'Conv') || intAttr(node, 'group', 1) !== 1) return false;
  const w = graph.initializers.get(node.inputs[1] ?? '');
  if (!w || w.type !== 'float32' || w.dims.length < 3 || index.useCount(node.inputs[1]!) !== 1) return false;
  const bName = node.inputs[2];
  if (bName) {
    const b = graph.initializers.get(bName);
    if (!b || b.type !== 'float32' || b.size !== w.dims[0] || index.useCount(bName) !== 1) return false;
  }
  return true;
}

/** The Conv -> [channel-wise ops] -> Conv links of one graph (not of its subgraphs) that equalization may rescale. */
export function equalizationPairs(graph: Graph): EqualizationPair[] {
  const index = new UseDefIndex(graph);
  const pairs: EqualizationPair[] = [];
  for (const a of graph.nodes) {
    if (!ownsWeights(a, graph, index) || a.outputs.length !== 1) continue;
    // Walk the channel-wise, positively homogeneous ops between the two convs.
    let link = a.outputs[0]!;
    let next = index.soleConsumer(link);
    const between: Node[] = [];
    while (next && next.domain === '' && HOMOGENEOUS.has(next.op) && next.inputs[0] === link) {
      if (next.op === 'PRelu' && (!graph.initializers.has(next.inputs[1] ?? '') || next.inputs[1] === link)) break;
      // An op with a second output read elsewhere (MaxPool's Indices) is not a private link.
      if (next.outputs.slice(1).some((o) => o && index.isUsed(o))) break;
      between.push(next);
      link = next.outputs[0]!;
      next = index.soleConsumer(link);
    }
    const b = next;
    if (!b || !ownsWeights(b, graph, index) || b === a) continue;
    if (b.inputs[0] !== link || b.inputs.indexOf(link, 1) !== -1) continue;
    const channels = graph.initializers.get(a.inputs[1]!)!.dims[0]!;
    if (graph.initializers.get(b.inputs[1]!)!.dims[1] !== channels) continue;
    pairs.push({ a, between, b });
  }
  return pairs;
}

/** max |W[c, ...]| per output channel (axis 0). */
function outputRanges(w: Float64Array, channels: number): Float64Array {
  const per = w.length / channels;
  const r = new Float64Array(channels);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / per);
    const v = Math.abs(w[i]!);
    if (v > r[c]!) r[c] = v;
  }
  return r;
}

/** max |W[:, c, ...]| per input channel (axis 1). */
function inputRanges(w: Float64Array, dims: readonly number[]): Float64Array {
  const cin = dims[1]!;
  const inner = w.length / (dims[0]! * cin);
  const r = new Float64Array(cin);
  for (let i = 0; i < w.length; i++) {
    const c = Math.floor(i / inner) % cin;
    const v = Math.abs(w[i]!);
    if (v > r[c]!) r[c] = v;
  }
  return r;
}

/**
 * The accumulated per-channel scales s (one array per pair, producer channel i divided by s[i],
 * consumer input channel i multiplied by it) that equalize the pairs' weight ranges.
 */
export function equalizationScales(graph: Graph, pairs: readonly EqualizationPair[], options: EqualizeOptions = {}): Float64Array[] {
  const weights = new Map<string, Float64Array>();
  const weightOf = (n: Node): Float64Array => {
    const name = n.inputs[1]!;
    let w = weights.get(name);
    if (!w) {
      w = Float64Array.from(graph.initializers.get(name)!.data as Float32Array);
      weights.set(name, w);
    }
    return w;
  };
  const scales = pairs.map((p) => new Float64Array(graph.initializers.get(p.a.inputs[1]!)!.dims[0]!).fill(1));
  const sweeps = options.sweeps ?? 1;
  if (!(sweeps >= 1)) throw new Error(`equalize: sweeps must be at least 1, got ${sweeps}`);
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let moved = 0;
    pairs.forEach((p, k) => {
      const wa = weightOf(p.a);
      const wb = weightOf(p.b);
      const bDims = graph.initializers.get(p.b.inputs[1]!)!.dims;
      const C = scales[k]!.length;
      const r1 = outputRanges(wa, C);
      const r2 = inputRanges(wb, bDims);
      const perA = wa.length / C;
      const innerB = wb.length / (bDims[0]! * C);
      for (let c = 0; c < C; c++) {
        // A channel that is all zeros on either side has nothing to balance; one whose balanced
        // range would be subnormal would lose its small weights to underflow.
        if (!(r1[c]! > 0 && r2[c]! > 0) || !(Math.sqrt(r1[c]! * r2[c]!) >= MIN_NORMAL_F32)) continue;
        const s = Math.sqrt(r1[c]! / r2[c]!);
        if (!Number.isFinite(s) || s === 1) continue;
        moved = Math.max(moved, Math.abs(Math.log(s)));
        scales[k]![c]! *= s;
        for (let i = c * perA; i < (c + 1) * perA; i++) wa[i]! /= s;
        for (let o = 0; o < bDims[0]!; o++) {
          const start = (o * C + c) * innerB;
          for (let i = start; i < start + innerB; i++) wb[i]! *= s;
        }
      }
    });
    if (moved < 1e-7) break;
  }
  if (options.powerOfTwo) for (const s of scales) for (let c = 0; c < s.length; c++) s[c] = 2 ** Math.round(Math.log2(s[c]!));
  return scales;
}

function equalizeIn(graph: Graph, options: EqualizeOptions): Graph {
  const pairs = equalizationPairs(graph);
  if (pairs.length === 0) return graph;
  const scales = equalizationScales(graph, pairs, options);
  // Already balanced (an equalized graph, or powers of two that round to 1): nothing changes.
  if (scales.every((s) => s.every((v) => v === 1))) return graph;
  // Per tensor: the factor each element is multiplied by (a weight can be both a consumer's and a
  // producer's, on different axes).
  const factors = new Map<string, { dims: readonly number[]; f: Float64Array }>();
  const factorOf = (name: string) => {
    let e = factors.get(name);
    if (!e) {
      const t = graph.initializers.get(name)!;
      e = { dims: t.dims, f: new Float64Array(t.size).fill(1) };
      factors.set(name, e);
    }
    return e.f;
  };
  pairs.forEach((p, k) => {
    const s = scales[k]!;
    const C = s.length;
    const fa = factorOf(p.a.inputs[1]!);
    const perA = fa.length / C;
    for (let i = 0; i < fa.length; i++) fa[i]! /= s[Math.floor(i / perA)]!;
    if (p.a.inputs[2]) {
      const fb = factorOf(p.a.inputs[2]);
      for (let c = 0; c < C; c++) fb[c]! /= s[c]!;
    }
    const wb = factorOf(p.b.inputs[1]!);
    const innerB = wb.length / (graph.initializers.get(p.b.inputs[1]!)!.dims[0]! * C);
    for (let i = 0; i < wb.length; i++) wb[i]! *= s[Math.floor(i / innerB) % C]!;
  });
  const initializers = new Map(graph.initializers);
  for (const [name, { dims, f }] of factors) {
    const src = graph.initializers.get(name)!.data as Float32Array;
    initializers.set(name, new Tensor('float32', Float32Array.from(src, (v, i) => v * f[i]!), dims));
  }
  return { ...graph, initializers };
}

/** Equalizes every Conv -> [Relu | LeakyRelu | PRelu | MaxPool]* -> Conv chain (see the header). */
export function equalizeConvChains(graph: Graph, options: EqualizeOptions = {}): Graph {
  return rewriteRecursively(graph, (g) => equalizeIn(g, options));
}

export const crossLayerEqualization = definePass<EqualizeOptions>('crossLayerEqualization', (g, o) => equalizeConvChains(g, o));
