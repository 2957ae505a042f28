// Folds an inference-mode BatchNormalization into the Conv, ConvTranspose or Gemm before it:
//   y = (z - mean) * s + B with s = scale / sqrt(var + eps), z = W*x + b
//   => W' = W * s (per output channel), b' = (b - mean) * s + B.
// The new weights and bias are computed in float64 from the float32 (or float16/float64) values and
// rounded once to the original dtype, so the folded graph differs from the unfolded one only by
// the rounding of W' and of the products: relative error ~1e-6 (a few float32 ulps) of the
// output's scale. Requires constant BatchNormalization parameters and weights, training_mode 0,
// no running_mean/var outputs read, and the producer's output read only by the BatchNormalization.
// For Gemm: transA = 0, and a C that broadcasts per column ([N], [1, N] or a scalar).
import { NameGenerator, rewriteRecursively, UseDefIndex, type RewriteScope } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { Tensor } from '../tensor/tensor.js';
import { definePass } from './pass.js';
import { constantOf, floatAttr, intAttr, isOnnx } from './util.js';

const FLOATS = new Set(['float32', 'float16', 'float64']);

function foldIn(graph: Graph, scope: RewriteScope): Graph {
  if (!graph.nodes.some((n) => isOnnx(n, 'BatchNormalization'))) return graph;
  const index = new UseDefIndex(graph);
  const names = new NameGenerator(graph);
  const replaced = new Map<Node, Node>();
  const removed = new Set<Node>();
  const added = new Map<string, Tensor>();
  for (const bn of graph.nodes) {
    if (!isOnnx(bn, 'BatchNormalization') || intAttr(bn, 'training_mode', 0) !== 0) continue;
    if (bn.outputs.slice(1).some((o) => o && index.isUsed(o))) continue;
    const z = bn.inputs[0]!;
    const prod = index.producer(z);
    if (!prod || !isOnnx(prod, 'Conv', 'ConvTranspose', 'Gemm') || index.soleConsumer(z) !== bn || removed.has(prod) || replaced.has(prod)) continue;
    const params = bn.inputs.slice(1, 5).map((n) => constantOf(graph, scope, n));
    const w = constantOf(graph, scope, prod.inputs[1]);
    const b = prod.inputs[2] ? constantOf(graph, scope, prod.inputs[2]) : undefined;
    if (params.some((p) => !p) || !w || !FLOATS.has(w.type) || (prod.inputs[2] && !b)) continue;
    const [scale, beta, mean, variance] = params.map((p) => toNumbers(p!));
    const C = scale!.length;
    if ([beta, mean, variance].some((p) => p!.length !== C)) continue;
    const eps = floatAttr(bn, 'epsilon', 1e-5);
    // float32 attribute: the kernel computes with the float32 epsilon.
    const epsF = Math.fround(eps);
    const s = Array.from({ length: C }, (_, c) => scale![c]! / Math.sqrt(variance![c]! + epsF));
    const W = toNumbers(w);
    const W2 = new Float64Array(W.length);
    let bias0: Float64Array;
    if (prod.op === 'Conv' || prod.op === 'ConvTranspose') {
      const group = intAttr(prod, 'group', 1);
      if (prod.op === 'Conv') {
        if (w.dims[0] !== C) continue;
        const per = W.length / C;
        for (let i = 0; i < W.length; i++) W2[i] = W[i]! * s[Math.floor(i / per)]!;
      } else {
        // ConvTranspose W: [C_in, C_out / group, k...]; output channel = g * (C_out/group) + j.
        const cin = w.dims[0]!;
        const cpg = w.dims[1]!;
        if (cpg * group !== C || cin % group !== 0) continue;
        const inPerGroup = cin / group;
        const k = W.length / (cin * cpg);
        for (let i = 0; i < W.length; i++) {
          const ci = Math.floor(i / (cpg * k));
          const j = Math.floor(i / k) % cpg;
          W2[i] = W[i]! * s[Math.floor(ci / inPerGroup) * cpg + j]!;
        }
      }
      if (b && b.size !== C) continue;
      bias0 = b ? toNumbers(b) : new Float64Array(C);
    } else {
      // Gemm: Y = alpha * A' B' + beta * C; BN over columns (dim 1 of the [M, N] output).
      if (intAttr(prod, 'transA', 0) !== 0 || w.dims.length !== 2) continue;
      const transB = intAttr(prod, 'transB', 0) === 1;
      const N = transB ? w.dims[0]! : w.dims[1]!;
      if (N !== C) continue;
      const K = transB ? w.dims[1]! : w.dims[0]!;
      for (let kk = 0; kk < K; kk++) {
        for (let n = 0; n < N; n++) {
          const i = transB ? n * K + kk : kk * N + n;
          W2[i] = W[i]! * s[n]!;
        }
      }
      const beta = floatAttr(prod, 'beta', 1);
      if (b && !(b.size === 1 || (b.size === C && b.dims.at(-1) === C && b.dims.length <= 2))) continue;
      const bv = b ? toNumbers(b) : undefined;
      bias0 = Float64Array.from({ length: C }, (_, c) => (bv ? bv[bv.length === 1 ? 0 : c]! * beta : 0));
    }
    const bias = Float64Array.from({ length: C }, (_, c) => (bias0[c]! - mean![c]!) * s[c]! + beta![c]!);
    const wName = names.fresh(`${prod.inputs[1]}__bnfold`);
    const bName = names.fresh(`${prod.name || prod.outputs[0]}__bnfold_bias`);
    added.set(wName, fromNumbers(w.type, W2, w.dims));
    added.set(bName, fromNumbers(w.type, bias, [C]));
    const attrs = prod.op === 'Gemm' ? { ...prod.attrs, beta: 1 } : prod.attrs;
    replaced.set(prod, { ...prod, inputs: [prod.inputs[0]!, wName, bName], outputs: [bn.outputs[0]!], attrs });
    removed.add(bn);
  }
  if (replaced.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  return { ...graph, nodes, initializers: new Map([...graph.initializers, ...added]) };
}

export const foldBatchNorm = definePass<Record<string, never>>('foldBatchNorm', (graph) => rewriteRecursively(graph, foldIn));
