// Common-subexpression elimination: a node with the same op, domain, inputs and attributes as an
// earlier one is dropped and its outputs' readers read the earlier node's outputs. Identical small
// initializers (same dtype, dims and bytes, up to `maxInitializerElements`) merge the same way,
// which lets nodes that read equal constants merge too. Nodes with subgraphs, nondeterministic ops
// and nodes whose outputs are graph outputs are kept. Exact.
import { replaceAllUses, rewriteRecursively, sameAttrs, type RewriteScope } from '../graph/edit.js';
import { subgraphsOf, type Graph, type Node } from '../graph/ir.js';
import { topoSort } from '../graph/topo.js';
import type { Tensor } from '../tensor/tensor.js';
import { definePass } from './pass.js';
import { NONDETERMINISTIC_OPS } from './util.js';

export interface CseOptions {
  /** Initializers up to this many elements are compared by value (default 4096). */
  maxInitializerElements?: number;
}

function tensorKey(t: Tensor): string {
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
  return `${t.type}|${t.dims.join(',')}|${bytes.length}|${h >>> 0}`;
}

function sameBytes(a: Tensor, b: Tensor): boolean {
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function cseIn(graph: Graph, scope: RewriteScope, maxInit: number): Graph {
  const outputs = new Set(graph.outputs.map((v) => v.name));
  const map = new Map<string, string>();
  // Equal initializers (quantization parameters and sparse layouts must match too: compare only
  // plain tensors).
  const byKey = new Map<string, string[]>();
  const dropInit: string[] = [];
  for (const [name, t] of graph.initializers) {
    if (t.size > maxInit || t.quant || t.sparse || outputs.has(name) || typeof t.data === 'object' && !ArrayBuffer.isView(t.data)) continue;
    const key = tensorKey(t);
    const same = (byKey.get(key) ?? []).find((n) => sameBytes(graph.initializers.get(n)!, t));
    if (same) { map.set(name, same); dropInit.push(name); }
    else byKey.set(key, [...(byKey.get(key) ?? []), name]);
  }
  const canon = (v: string) => map.get(v) ?? v;
  const seen = new Map<string, Node[]>();
  const removed = new Set<Node>();
  for (const n of topoSort(graph, scope.node ? () => true : undefined)) {
    if (subgraphsOf(n).length || (n.domain === '' && NONDETERMINISTIC_OPS.has(n.op))) continue;
    if (n.outputs.some((o) => outputs.has(o))) continue;
    const key = `${n.domain}::${n.op}(${n.inputs.map(canon).join(',')})#${n.outputs.length}`;
    const earlier = (seen.get(key) ?? []).find((m) => sameAttrs(m.attrs, n.attrs) && m.outputs.every((o, i) => (o === '') === (n.outputs[i] === '')));
    if (earlier) {
      n.outputs.forEach((o, i) => { if (o) map.set(o, earlier.outputs[i]!); });
      removed.add(n);
    } else {
      seen.set(key, [...(seen.get(key) ?? []), n]);
    }
  }
  if (map.size === 0) return graph;
  const initializers = new Map(graph.initializers);
  for (const k of dropInit) initializers.delete(k);
  return replaceAllUses({ ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)), initializers }, map);
}

export const commonSubexpressionElimination = definePass<CseOptions>('commonSubexpressionElimination', (graph, options) =>
  rewriteRecursively(graph, (g, scope) => cseIn(g, scope, options.maxInitializerElements ?? 4096)));
