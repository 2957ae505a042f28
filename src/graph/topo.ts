import { nodeLabel, nodeReads, type Graph, type Node } from './ir.js';

/** Names that exist before any node runs: graph inputs and initializers. */
export function sourceValues(graph: Graph): Set<string> {
  const s = new Set<string>(graph.initializers.keys());
  for (const v of graph.inputs) s.add(v.name);
  return s;
}

/**
 * Nodes in an order where every input is produced before use (Kahn's algorithm, stable with
 * respect to the stored order). Inputs include the values a node's subgraphs read. Throws on
 * cycles and on inputs nothing produces; for a subgraph, `outer` says which names the enclosing
 * scopes provide.
 */
export function topoSort(graph: Graph, outer?: (name: string) => boolean): Node[] {
  const available = sourceValues(graph);
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => { if (o) producer.set(o, i); }));
  const pending = new Array<number>(graph.nodes.length).fill(0);
  const consumers = new Map<number, number[]>();
  graph.nodes.forEach((n, i) => {
    for (const inp of nodeReads(n)) {
      if (available.has(inp)) continue;
      const p = producer.get(inp);
      if (p === undefined && outer?.(inp)) continue;
      if (p === undefined) throw new Error(`${nodeLabel(n)}: input '${inp}' is not produced by any node, graph input or initializer`);
      pending[i]!++;
      const list = consumers.get(p) ?? [];
      list.push(i);
      consumers.set(p, list);
    }
  });
  const ready: number[] = [];
  pending.forEach((c, i) => { if (c === 0) ready.push(i); });
  const order: Node[] = [];
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(graph.nodes[i]!);
    for (const c of consumers.get(i) ?? []) if (--pending[c]! === 0) ready.push(c);
  }
  if (order.length !== graph.nodes.length) {
    const stuck = graph.nodes.filter((_, i) => pending[i]! > 0).slice(0, 3).map(nodeLabel).join(', ');
    throw new Error(`graph '${graph.name}' has a cycle through ${stuck}`);
  }
  return order;
}
