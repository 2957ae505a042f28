// A node run on its reference kernel inside a WASM plan: inputs are copied out of the session
// memory, the kernel runs on the host, and the outputs go back to their placed slots (or, for a
// node whose output shapes only the data can tell, to the caller). Every run records the node in
// the session's fallback list.
import { nodeLabel, subgraphsOf, type Node } from '../../graph/ir.js';
import { evalNodeReference } from '../../ops/invoke.js';
import { Tensor } from '../../tensor/tensor.js';
import { subgraphRunner } from '../reference/index.js';
import type { WasmValue } from './kernel.js';
import { copyInto, type PlanEnv, type Placed } from './plan-graph.js';

/** How fallbackNodes() names a node. */
export const fallbackLabel = (node: Node): string => `${node.op}(${node.name})`;

/** Runs `node` on its reference kernel over host copies of its inputs; returns its outputs. */
export function runOnReference(env: PlanEnv, node: Node, source: (name: string) => Placed | undefined): Tensor[] {
  const copies = new Map<string, Tensor>();
  const lookup = (n: string): Tensor | undefined => {
    let t = copies.get(n);
    if (!t) {
      const s = source(n);
      t = s === undefined ? undefined : s instanceof Tensor ? s : env.mem.read(s);
      if (t) copies.set(n, t);
    }
    return t;
  };
  const inputs = node.inputs.map((n) => {
    if (!n) return undefined;
    const t = lookup(n);
    if (!t) throw new Error(`${nodeLabel(node)}: input '${n}' has no value`);
    return t;
  });
  env.ranOnReference.add(fallbackLabel(node));
  return evalNodeReference(node, inputs, subgraphsOf(node).length ? subgraphRunner(lookup) : undefined);
}

/** A plan step running `node` on its reference kernel into its placed outputs. */
export function referenceStep(env: PlanEnv, node: Node, outputs: readonly WasmValue[], source: (name: string) => Placed | undefined): () => void {
  return () => {
    const outs = runOnReference(env, node, source);
    outputs.forEach((o, i) => {
      if (!node.outputs[i]) return;
      const t = outs[i]!;
      checkDims(node, i, t.dims, o.dims);
      copyInto(env.mem, o, t);
    });
  };
}

export function checkDims(node: Node, i: number, got: readonly number[], planned: readonly number[]): void {
  if (got.length !== planned.length || got.some((d, k) => d !== planned[k])) {
    throw new Error(`${nodeLabel(node)}: output '${node.outputs[i]}' has shape [${got.join(', ')}], the plan expected [${planned.join(', ')}]`);
  }
}
