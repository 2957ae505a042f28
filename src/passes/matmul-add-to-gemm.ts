// MatMul(A, B) + C -> Gemm(A, B, C) for 2-D A and B (Gemm is 2-D only) when C broadcasts to the
// [M, N] product the way Gemm's C does and the Add does not grow the result: C of shape [], [N],
// [1, N], [M, 1] or [M, N] with concrete dims. The MatMul's output must be read only by the Add.
// Float types Gemm accepts (float32, float16, float64, bfloat16). Exact up to the order of the
// bias addition (Gemm adds C to each dot product, as MatMul then Add does): float32 rounding.
import { inferInScope, rewriteRecursively, UseDefIndex, type RewriteScope } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { isConcrete } from '../tensor/shape.js';
import { definePass } from './pass.js';
import { isOnnx } from './util.js';

const GEMM_TYPES = new Set(['float32', 'float16', 'float64', 'bfloat16']);

function fuseIn(graph: Graph, scope: RewriteScope): Graph {
  if (!graph.nodes.some((n) => isOnnx(n, 'MatMul'))) return graph;
  const inferred = inferInScope(graph, scope.outer);
  if (!inferred) return graph;
  const { types } = inferred;
  const index = new UseDefIndex(graph);
  const replaced = new Map<Node, Node>();
  const removed = new Set<Node>();
  for (const mm of graph.nodes) {
    if (!isOnnx(mm, 'MatMul')) continue;
    const [a, b] = mm.inputs;
    const y = mm.outputs[0]!;
    const ta = types.get(a!);
    const tb = types.get(b!);
    if (!ta?.shape || !tb?.shape || ta.shape.length !== 2 || tb.shape.length !== 2 || !GEMM_TYPES.has(ta.dtype)) continue;
    const add = index.soleConsumer(y);
    if (!add || !isOnnx(add, 'Add')) continue;
    const c = add.inputs[0] === y ? add.inputs[1] : add.inputs[0];
    if (!c || c === y) continue;
    const ty = types.get(y)?.shape;
    const tc = types.get(c)?.shape;
    if (!ty || !isConcrete(ty) || !tc || !isConcrete(tc)) continue;
    const [M, N] = ty;
    const ok = tc.length === 0 || (tc.length === 1 && (tc[0] === N || tc[0] === 1)) ||
      (tc.length === 2 && (tc[0] === M || tc[0] === 1) && (tc[1] === N || tc[1] === 1));
    if (!ok) continue;
    replaced.set(mm, { ...mm, op: 'Gemm', inputs: [a!, b!, c], outputs: [add.outputs[0]!], attrs: {} });
    removed.add(add);
  }
  if (replaced.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n) };
}

export const matMulAddToGemm = definePass<Record<string, never>>('matMulAddToGemm', (graph) => rewriteRecursively(graph, fuseIn));
