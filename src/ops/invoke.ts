// Running and typing one node through its registered op: shared by the reference backend,
// shape inference, constant folding and tests.
import { nodeLabel, type Node, type ValueType } from '../graph/ir.js';
import type { Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { attrsOf, checkArity, getOp, portAt, type RegisteredOp, type SubgraphRunner, type SubgraphTyper } from './registry.js';

export function resolveOp(node: Node, opset?: number): RegisteredOp {
  try {
    return getOp(node.domain, node.op, opset);
  } catch (e) {
    throw new Error(`${nodeLabel(node)}: ${(e as Error).message}`);
  }
}

function checkInputTypes(op: RegisteredOp, node: Node, types: readonly ({ dtype: string } | undefined)[]): void {
  types.forEach((t, i) => {
    const port = portAt(op.inputs, i);
    if (t && port?.types && !port.types.includes(t.dtype as never)) {
      throw new Error(`${nodeLabel(node)}: input '${port.name}' has dtype ${t.dtype}, expected one of ${port.types.join(', ')}`);
    }
  });
}

/** Stands in where the caller gave no scope for subgraphs (a node without subgraphs never calls it). */
function noScope(where: string): never {
  throw new Error(`${where}: runs a subgraph, which needs the graph around the node (use a backend or inferGraph)`);
}

/**
 * Runs the op's reference kernel on concrete inputs. Nodes with subgraphs (If, Loop, Scan) need
 * `runSubgraph` from the interpreter that holds the values of the scope around the node.
 */
export function evalNodeReference(node: Node, inputs: readonly (Tensor | undefined)[], runSubgraph?: SubgraphRunner): Tensor[] {
  const op = resolveOp(node);
  checkArity(op, node);
  checkInputTypes(op, node, inputs.map((t) => (t ? { dtype: t.type } : undefined)));
  const where = nodeLabel(node);
  const outs = op.reference(inputs, {
    attrs: attrsOf(op, node), where, outputCount: node.outputs.length, runSubgraph: runSubgraph ?? (() => noScope(where)),
  });
  if (outs.length < node.outputs.filter((o) => o !== '').length) {
    throw new Error(`${where}: kernel produced ${outs.length} outputs, node names ${node.outputs.length}`);
  }
  return outs;
}

let unknownCounter = 0;

/** Infers output types of one node from input types and any known constant inputs. */
export function inferNodeTypes(
  node: Node,
  inputs: readonly (ValueType | undefined)[],
  constant: (i: number) => Tensor | undefined,
  opset?: number,
  inferSubgraph?: SubgraphTyper,
): ValueType[] {
  const op = resolveOp(node, opset);
  checkArity(op, node);
  checkInputTypes(op, node, inputs);
  const where = nodeLabel(node);
  return op.inferShape({
    inputs,
    attrs: attrsOf(op, node),
    constant,
    unknownDim: (): Dim => `unk_${++unknownCounter}`,
    where,
    outputCount: node.outputs.length,
    inferSubgraph: inferSubgraph ?? (() => noScope(where)),
  });
}
