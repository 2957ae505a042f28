// Removes Identity nodes and inference-mode Dropout (no training_mode input or a constant false
// one, mask output unused): readers of the output read the input instead. A graph output keeps
// its name: the node that produced the input is renamed to produce the output directly; where
// that is impossible (the input is a graph input, an initializer, another output, or a value of an
// enclosing scope) the Identity stays. Exact.
import { renameValue, replaceAllUses, rewriteRecursively, UseDefIndex, type RewriteScope } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { toNumbers } from '../tensor/convert.js';
import { definePass } from './pass.js';
import { constantOf, isOnnx } from './util.js';

function isPassThrough(graph: Graph, scope: RewriteScope, n: Node, index: UseDefIndex): boolean {
  if (!n.inputs[0]) return false;
  if (isOnnx(n, 'Identity')) return true;
  if (!isOnnx(n, 'Dropout')) return false;
  const mask = n.outputs[1];
  if (mask && index.isUsed(mask)) return false;
  const training = n.inputs[2];
  if (!training) return true;
  const t = constantOf(graph, scope, training);
  return t !== undefined && toNumbers(t)[0] === 0;
}

function removeIn(graph: Graph, scope: RewriteScope): Graph {
  let g = graph;
  const index = new UseDefIndex(graph);
  const candidates = graph.nodes.filter((n) => isPassThrough(graph, scope, n, index));
  if (candidates.length === 0) return graph;
  // Internal values first, all at once: readers of y read x.
  const map = new Map<string, string>();
  const removed = new Set<Node>();
  const atOutputs: Node[] = [];
  for (const n of candidates) {
    if (index.isGraphOutput(n.outputs[0]!)) atOutputs.push(n);
    else { map.set(n.outputs[0]!, n.inputs[0]!); removed.add(n); }
  }
  if (removed.size) g = replaceAllUses({ ...g, nodes: g.nodes.filter((n) => !removed.has(n)) }, map);
  // Graph outputs: rename the producer of x to y, when x is a plain internal value.
  for (const n of atOutputs) {
    const idx = new UseDefIndex(g);
    const current = g.nodes.find((m) => m.outputs[0] === n.outputs[0] && (m.op === 'Identity' || m.op === 'Dropout'));
    if (!current) continue;
    const x = current.inputs[0]!;
    const y = current.outputs[0]!;
    if (!idx.producer(x) || idx.isGraphOutput(x)) continue;
    g = renameValue({ ...g, nodes: g.nodes.filter((m) => m !== current) }, x, y);
  }
  return g;
}

export const removeIdentity = definePass<Record<string, never>>('removeIdentity', (graph) => rewriteRecursively(graph, removeIn));
