// Redundant layout pairs:
//  - Transpose(Transpose(x, p), q) -> x when the permutations are inverse, else one
//    Transpose(x, p∘q);
//  - Reshape(Reshape(x, s1), s2) -> Reshape(x, s2) (when s2 has no 0 entries that would copy a dim
//    of the intermediate: allowzero = 0 with a 0 in s2 is left alone), and -> x when s2 is x's
//    own concrete shape; chains of Reshapes are followed to their root the same way.
// The inner node stays for its other readers (deadCodeElimination removes it otherwise). Removed
// computations become Identity (removeIdentity drops them, keeping output names). Exact.
import { inferInScope, rewriteRecursively, UseDefIndex, type RewriteScope } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { isConcrete } from '../tensor/shape.js';
import { definePass } from './pass.js';
import { constantOf, intAttr, intsAttr, intsOf, isOnnx } from './util.js';

function permOf(n: Node, rank: number | undefined): number[] | undefined {
  const p = intsAttr(n, 'perm');
  if (p) return p.map((a) => (a < 0 ? a + p.length : a));
  return rank === undefined ? undefined : Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

function cancelIn(graph: Graph, scope: RewriteScope): Graph {
  if (!graph.nodes.some((n) => isOnnx(n, 'Transpose', 'Reshape'))) return graph;
  const inferred = inferInScope(graph, scope.outer);
  const types = inferred?.types;
  const index = new UseDefIndex(graph);
  const replaced = new Map<Node, Node>();
  for (const n of graph.nodes) {
    const x = n.inputs[0];
    const inner = x ? index.producer(x) : undefined;
    if (!inner || !inner.inputs[0] || inner.op !== n.op || inner.domain !== '' || n.domain !== '') continue;
    const src = inner.inputs[0];
    if (n.op === 'Transpose') {
      const rank = types?.get(src)?.shape?.length;
      const p = permOf(inner, rank);
      const q = permOf(n, rank ?? p?.length);
      if (!p || !q || p.length !== q.length) continue;
      // out[i] = mid[q[i]] = x[p[q[i]]]
      const composite = q.map((i) => p[i]!);
      replaced.set(n, composite.every((v, i) => v === i)
        ? { ...n, op: 'Identity', inputs: [src], attrs: {} }
        : { ...n, inputs: [src], attrs: { perm: composite } });
    } else if (n.op === 'Reshape') {
      // A Reshape's result depends only on its input's elements (and, for a 0 entry, on the
      // input's dims), so a whole chain of Reshapes below it can be skipped: walk to its root.
      const chain = [src];
      for (let p = index.producer(src); p && isOnnx(p, 'Reshape') && p.inputs[0] && chain.length < 64; p = index.producer(p.inputs[0])) chain.push(p.inputs[0]);
      const outShape = types?.get(n.outputs[0]!)?.shape;
      const same = (v: string) => {
        const s = types?.get(v)?.shape;
        return !!s && !!outShape && isConcrete(s) && isConcrete(outShape) && s.length === outShape.length && s.every((d, i) => d === outShape[i]);
      };
      const back = [...chain].reverse().find(same); // the deepest value of the chain with the output's shape
      if (back !== undefined) {
        replaced.set(n, { ...n, op: 'Identity', inputs: [back], attrs: {} });
        continue;
      }
      const s2 = intsOf(constantOf(graph, scope, n.inputs[1]));
      if (!s2 || (intAttr(n, 'allowzero', 0) === 0 && s2.includes(0))) continue;
      replaced.set(n, { ...n, inputs: [chain[chain.length - 1]!, n.inputs[1]!] });
    }
  }
  if (replaced.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.map((n) => replaced.get(n) ?? n) };
}

export const cancelTransposeReshape = definePass<Record<string, never>>('cancelTransposeReshape', (graph) => rewriteRecursively(graph, cancelIn));
