// Shape-op simplification, on shapes that shape inference knows:
//  - Shape(x) (with start/end) and Size(x) where the dims read are concrete -> a constant, also when
//    other dims of x are symbolic, and Gather(Shape(x), constant indices) / Slice(Shape(x), ...)
//    where only concrete dims are read -> a constant (the batch dim may stay symbolic);
//  - Squeeze(Unsqueeze(x, a), a) and Unsqueeze(Squeeze(x, a), a) with the same explicit axes -> x;
//  - Reshape(x, s) where x already has the concrete shape s, Expand to x's own shape -> x.
// Removed computations become Identity nodes (removeIdentity then drops them, keeping output
// names), and dead Shape nodes go with deadCodeElimination. Exact.
import { inferInScope, rewriteRecursively, UseDefIndex, type RewriteScope } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { isConcrete, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { definePass } from './pass.js';
import { constantOf, intAttr, intsOf, isOnnx } from './util.js';

const int64 = (v: number[]): Tensor => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);

/** The dims Shape(x, start, end) reads from a shape of known rank. */
function shapeSlice(node: Node, shape: Shape): Shape {
  const rank = shape.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clamp(intAttr(node, 'start', 0));
  const end = clamp(intAttr(node, 'end', rank));
  return shape.slice(start, Math.max(start, end));
}

function normAxes(axes: number[] | undefined, rank: number): string | undefined {
  if (!axes) return undefined;
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b).join(',');
}

function simplifyIn(graph: Graph, scope: RewriteScope): Graph {
  const inferred = inferInScope(graph, scope.outer);
  if (!inferred) return graph;
  const { types } = inferred;
  const index = new UseDefIndex(graph);
  const replaced = new Map<Node, Node>();
  const initializers = new Map(graph.initializers);
  const toConstant = (n: Node, value: Tensor) => {
    // The node becomes Identity of a new initializer named after its output (kept name).
    const name = `${n.outputs[0]!}__const`;
    if (initializers.has(name) || index.producer(name)) return;
    initializers.set(name, value);
    replaced.set(n, { ...n, op: 'Identity', domain: '', inputs: [name], outputs: [n.outputs[0]!], attrs: {} });
  };
  const identity = (n: Node, x: string) => replaced.set(n, { ...n, op: 'Identity', domain: '', inputs: [x], outputs: [n.outputs[0]!], attrs: {} });
  for (const n of graph.nodes) {
    if (n.domain !== '') continue;
    const x = n.inputs[0];
    if (!x) continue;
    const xShape = types.get(x)?.shape;
    if (n.op === 'Shape' && xShape && !constantOf(graph, scope, x)) {
      const dims = shapeSlice(n, xShape);
      if (isConcrete(dims)) toConstant(n, int64([...dims]));
      continue;
    }
    if (n.op === 'Gather' && index.producer(x) && isOnnx(index.producer(x)!, 'Shape')) {
      const shapeNode = index.producer(x)!;
      const src = types.get(shapeNode.inputs[0]!)?.shape;
      const idx = constantOf(graph, scope, n.inputs[1]);
      const ids = intsOf(idx);
      if (!src || !idx || !ids || intAttr(n, 'axis', 0) !== 0) continue;
      const dims = shapeSlice(shapeNode, src);
      const picked = ids.map((i) => dims[i < 0 ? i + dims.length : i]);
      if (picked.some((d) => typeof d !== 'number')) continue;
      const vals = picked as number[];
      toConstant(n, new Tensor('int64', BigInt64Array.from(vals.map(BigInt)), idx.dims));
      continue;
    }
    if ((n.op === 'Squeeze' || n.op === 'Unsqueeze') && index.producer(x)) {
      const inner = index.producer(x)!;
      const other = n.op === 'Squeeze' ? 'Unsqueeze' : 'Squeeze';
      if (!isOnnx(inner, other) || !inner.inputs[0]) continue;
      const innerIn = types.get(inner.inputs[0])?.shape;
      const outer = types.get(n.outputs[0]!)?.shape;
      const a = normAxes(intsOf(constantOf(graph, scope, n.inputs[1])), n.op === 'Squeeze' ? (xShape?.length ?? -1) : (outer?.length ?? -1));
      const b = normAxes(intsOf(constantOf(graph, scope, inner.inputs[1])), inner.op === 'Squeeze' ? (innerIn?.length ?? -1) : (xShape?.length ?? -1));
      if (a !== undefined && a === b && !a.includes('-')) identity(n, inner.inputs[0]);
      continue;
    }
    if ((n.op === 'Reshape' || n.op === 'Expand') && xShape && isConcrete(xShape)) {
      const out = types.get(n.outputs[0]!)?.shape;
      if (out && isConcrete(out) && out.length === xShape.length && out.every((d, i) => d === xShape[i])) identity(n, x);
    }
  }
  if (replaced.size === 0) return graph;
  return { ...graph, initializers, nodes: graph.nodes.map((n) => replaced.get(n) ?? n) };
}

export const simplifyShapeOps = definePass<Record<string, never>>('simplifyShapeOps', (graph) => rewriteRecursively(graph, simplifyIn));
