// Dead-code elimination: removes nodes none of whose outputs is read (by a node, a subgraph or a
// graph output), then initializers nothing reads. Graph inputs stay (they are the interface), and
// so do subgraph inputs (positional). Exact: the outputs are computed by the same nodes.
import { rewriteRecursively } from '../graph/edit.js';
import { nodeReads, type Graph, type Node } from '../graph/ir.js';
import { topoSort } from '../graph/topo.js';
import { definePass } from './pass.js';

function eliminate(graph: Graph, isSubgraph: boolean): Graph {
  const live = new Set(graph.outputs.map((v) => v.name));
  const order = topoSort(graph, isSubgraph ? () => true : undefined);
  const dead = new Set<Node>();
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    if (n.outputs.some((o) => o && live.has(o))) for (const v of nodeReads(n)) live.add(v);
    else dead.add(n);
  }
  const unusedInit = [...graph.initializers.keys()].filter((k) => !live.has(k));
  if (dead.size === 0 && unusedInit.length === 0) return graph;
  const initializers = new Map(graph.initializers);
  for (const k of unusedInit) initializers.delete(k);
  return { ...graph, nodes: graph.nodes.filter((n) => !dead.has(n)), initializers };
}

export const deadCodeElimination = definePass<Record<string, never>>('deadCodeElimination', (graph) =>
  rewriteRecursively(graph, (g, scope) => eliminate(g, scope.node !== undefined)));
