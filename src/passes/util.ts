// Small helpers the clean-up passes share: constant lookup across scopes, attribute reading and
// the ops that must never be folded or merged.
import type { RewriteScope } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { toNumbers } from '../tensor/convert.js';
import type { Tensor } from '../tensor/tensor.js';

/** Ops whose result differs from run to run: never folded or merged. */
export const NONDETERMINISTIC_OPS: ReadonlySet<string> = new Set([
  'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli',
]);

export function isOnnx(node: Node, ...ops: string[]): boolean {
  return node.domain === '' && ops.includes(node.op);
}

/** A constant value: an initializer of this graph or a constant of the scopes around it. */
export function constantOf(graph: Graph, scope: RewriteScope, name: string | undefined): Tensor | undefined {
  if (!name) return undefined;
  return graph.initializers.get(name) ?? scope.outer?.constant(name);
}

export const intAttr = (node: Node, key: string, dflt: number): number => {
  const v = node.attrs[key];
  return typeof v === 'number' ? v : dflt;
};

export const floatAttr = intAttr;

export function intsAttr(node: Node, key: string): number[] | undefined {
  const v = node.attrs[key];
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
}

/** Integer values of a small constant tensor (axes, shapes, indices). */
export function intsOf(t: Tensor | undefined): number[] | undefined {
  if (!t || t.size > 1 << 16) return undefined;
  return Array.from(toNumbers(t));
}
