// Constant folding: evaluates, with the reference kernels, every node whose inputs are all
// constant (initializers, folded values, or constants of enclosing scopes) and whose outputs are
// tensors of at most `maxElements` elements each; the results become initializers and the nodes
// go. Shape and Size of inputs whose shape inference gives concrete dims fold too. Nodes with
// subgraphs and nondeterministic ops (RandomX, Multinomial, Bernoulli) are never folded. Exact:
// the values are those the reference backend computes at run time.
import { inferInScope, rewriteRecursively, type RewriteScope } from '../graph/edit.js';
import { subgraphsOf, type Graph, type Node } from '../graph/ir.js';
import { topoSort } from '../graph/topo.js';
import { evalNodeReference } from '../ops/invoke.js';
import { isConcrete } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { definePass } from './pass.js';
import { NONDETERMINISTIC_OPS } from './util.js';

export interface ConstantFoldingOptions {
  /** Largest folded output, in elements (default 1 << 20): bigger results stay computed at run time. */
  maxElements?: number;
}

const DEFAULT_MAX = 1 << 20;

function foldIn(graph: Graph, scope: RewriteScope, maxElements: number): Graph {
  const inferred = inferInScope(graph, scope.outer);
  const constants = new Map<string, Tensor>(graph.initializers);
  const lookup = (n: string) => constants.get(n) ?? scope.outer?.constant(n);
  const folded = new Map<string, Tensor>();
  const removed = new Set<Node>();
  const order = topoSort(graph, scope.node ? () => true : undefined);
  for (const node of order) {
    if (subgraphsOf(node).length || (node.domain === '' && NONDETERMINISTIC_OPS.has(node.op))) continue;
    let outs: Tensor[] | undefined;
    if (node.domain === '' && (node.op === 'Shape' || node.op === 'Size') && node.inputs[0] && !lookup(node.inputs[0])) {
      const shape = inferred?.types.get(node.inputs[0])?.shape;
      const c = inferred?.constants.get(node.outputs[0]!);
      if (shape && isConcrete(shape) && c) outs = [c];
    } else {
      const inputs = node.inputs.map((n) => (n ? lookup(n) : undefined));
      if (node.inputs.some((n, i) => n && !inputs[i])) continue;
      // Estimate the output size from inference before running a possibly huge kernel.
      const tooBig = node.outputs.some((o) => {
        const s = o ? inferred?.types.get(o)?.shape : undefined;
        return s !== undefined && isConcrete(s) && s.reduce((a, b) => a * b, 1) > maxElements;
      });
      if (tooBig) continue;
      try {
        outs = evalNodeReference(node, inputs);
      } catch {
        continue; // leave it to run time, where the error (if any) names the node with real feeds
      }
    }
    if (!outs || outs.some((t, i) => node.outputs[i] && (!(t instanceof Tensor) || t.size > maxElements))) continue;
    node.outputs.forEach((o, i) => { if (o) { constants.set(o, outs[i]!); folded.set(o, outs[i]!); } });
    removed.add(node);
  }
  if (removed.size === 0) return graph;
  const initializers = new Map(graph.initializers);
  for (const [k, v] of folded) initializers.set(k, v);
  return { ...graph, nodes: graph.nodes.filter((n) => !removed.has(n)), initializers };
}

export const constantFolding = definePass<ConstantFoldingOptions>('constantFolding', (graph, options) =>
  rewriteRecursively(graph, (g, scope) => foldIn(g, scope, options.maxElements ?? DEFAULT_MAX)));
