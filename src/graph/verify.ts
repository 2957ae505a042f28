// Structural and type checks for a graph. Passes and loaders call this so a broken graph fails
// with a message naming the value or node, not deep inside a kernel.
import type { Shape } from '../tensor/shape.js';
import { describeType, inferGraph, type InferResult } from './infer.js';
import { kindOf, nodeLabel, subgraphsOf, type Graph, type ValueType } from './ir.js';
import { resolveOp } from '../ops/invoke.js';
import { attrsOf, checkArity } from '../ops/registry.js';

export function verifyGraph(graph: Graph): InferResult {
  const defined = new Map<string, string>();
  const define = (name: string, by: string) => {
    if (!name) return;
    const prev = defined.get(name);
    if (prev) throw new Error(`value '${name}' is defined twice: by ${prev} and by ${by}`);
    defined.set(name, by);
  };
  for (const v of graph.inputs) define(v.name, 'a graph input');
  for (const name of graph.initializers.keys()) define(name, 'an initializer');
  for (const n of graph.nodes) for (const o of n.outputs) define(o, nodeLabel(n));
  for (const v of graph.outputs) {
    if (!defined.has(v.name)) throw new Error(`graph output '${v.name}' is not produced by any node, input or initializer`);
  }
  checkSubgraphNodes(graph);
  const result = inferGraph(graph); // also rejects dangling inputs, cycles, unknown ops and bad attributes
  for (const v of graph.outputs) checkDeclared(v.name, v, result.types.get(v.name), 'graph output');
  for (const [name, v] of graph.valueInfo) {
    const t = result.types.get(name);
    if (t) checkDeclared(name, v, t, 'value');
  }
  return result;
}

/**
 * A node's op, arity and attributes do not depend on types, so they are checked in every If
 * branch and Loop/Scan body when the model loads. Inference alone would not: If keeps the types of
 * one branch when the other fails to type (branches are often valid only under their condition),
 * which left an unknown attribute or op in a branch to be reported only when that branch ran.
 */
function checkSubgraphNodes(graph: Graph): void {
  for (const node of graph.nodes) {
    for (const sub of subgraphsOf(node)) {
      for (const n of sub.nodes) {
        const op = resolveOp(n, Object.hasOwn(sub.opsets, n.domain) ? sub.opsets[n.domain] : undefined);
        checkArity(op, n);
        attrsOf(op, n);
      }
      checkSubgraphNodes(sub);
    }
  }
}

function checkDeclared(name: string, declared: ValueType, inferred: ValueType | undefined, what: string): void {
  if (!inferred) return;
  if (declared.dtype !== inferred.dtype || kindOf(declared) !== kindOf(inferred)) {
    throw new Error(`${what} '${name}' is declared ${describeType(declared)} but computes ${describeType(inferred)}`);
  }
  if (declared.shape && inferred.shape && !shapesCompatible(declared.shape, inferred.shape)) {
    throw new Error(`${what} '${name}' is declared [${declared.shape.join(', ')}] but computes [${inferred.shape.join(', ')}]`);
  }
}

/** Same rank and equal wherever both sides give a concrete size. */
export function shapesCompatible(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  return a.every((d, i) => typeof d !== 'number' || typeof b[i] !== 'number' || d === b[i]);
}
