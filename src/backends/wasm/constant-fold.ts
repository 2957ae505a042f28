// Plan-time constant folding: every node whose inputs are all known before the model runs
// (initializers, Constant nodes, folded shapes) is evaluated once with its reference kernel while
// planning, whatever the size of its result, so it never runs per inference and is never a
// fallback. inferGraph folds only small tensors (it runs for every verification and must stay
// cheap); a plan is made once per input signature, where the one-time cost pays off.
import { subgraphsOf, type Node, type ValueType } from '../../graph/ir.js';
import { evalNodeReference } from '../../ops/invoke.js';
import { isConcrete } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Ops whose result must not be computed once for all runs. */
const NOT_FOLDABLE = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);

/**
 * Adds to `constants` the outputs of every node of `order` (topological) computable from
 * constants: its own, or those of the scopes around the graph (`outer`).
 */
export function foldConstants(
  order: readonly Node[],
  types: ReadonlyMap<string, ValueType>,
  constants: Map<string, Tensor>,
  outer?: { constant(name: string): Tensor | undefined },
): void {
  const constantOf = (n: string) => constants.get(n) ?? outer?.constant(n);
  for (const node of order) {
    if (node.outputs.every((o) => !o || constants.has(o))) continue;
    if (NOT_FOLDABLE.has(node.op) || subgraphsOf(node).length) continue;
    const inputs = node.inputs.map((n) => (n ? constantOf(n) : undefined));
    if (node.inputs.some((n, i) => n && !inputs[i])) continue;
    const tensorsOnly = node.outputs.every((o) => {
      if (!o) return true;
      const t = types.get(o);
      return !!t && (!t.kind || t.kind === 'tensor') && !!t.shape && isConcrete(t.shape);
    });
    if (!tensorsOnly) continue;
    let outs: Tensor[];
    try {
      outs = evalNodeReference(node, inputs);
    } catch {
      // Left to run per inference (an op with no reference kernel, such as a backend's fused
      // op, or an error that belongs to the run, which then reports it).
      continue;
    }
    node.outputs.forEach((o, i) => { if (o && outs[i]) constants.set(o, outs[i]!); });
  }
}
