// Running and typing one node through its registered op: shared by the reference backend,
// shape inference, constant folding and tests.
import { kindOf, nodeLabel, type Node, type ValueKind, type ValueType } from '../graph/ir.js';
import { MAX_ELEMENTS, type Dim } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, elemTypeOf, valueKind, type Value } from '../tensor/value.js';
import { attrsOf, checkArity, getOp, portAt, type RegisteredOp, type SubgraphRunner, type SubgraphTyper } from './registry.js';

export function resolveOp(node: Node, opset?: number): RegisteredOp {
  try {
    return getOp(node.domain, node.op, opset);
  } catch (e) {
    throw new Error(`${nodeLabel(node)}: ${(e as Error).message}`);
  }
}

function checkInputTypes(op: RegisteredOp, node: Node, types: readonly (ValueType | undefined)[]): void {
  types.forEach((t, i) => {
    const port = portAt(op.inputs, i);
    if (!t || !port) return;
    const kinds: readonly ValueKind[] = port.kinds ?? ['tensor'];
    if (!kinds.includes(kindOf(t))) {
      throw new Error(`${nodeLabel(node)}: input '${port.name}' is a ${kindOf(t)}, expected a ${kinds.join(' or ')}`);
    }
    if (port.types && !port.types.includes(t.dtype)) {
      throw new Error(`${nodeLabel(node)}: input '${port.name}' has dtype ${t.dtype}, expected one of ${port.types.join(', ')}`);
    }
  });
}

/** Stands in where the caller gave no scope for subgraphs (a node without subgraphs never calls it). */
function noScope(where: string): never {
  throw new Error(`${where}: runs a subgraph, which needs the graph around the node (use a backend or inferGraph)`);
}

/**
 * Runs the op's kernel on concrete values (tensors, sequences, optionals). Nodes with subgraphs
 * (If, Loop, Scan) need `runSubgraph` from the interpreter that holds the values of the scope
 * around the node.
 */
export function evalNodeValues(node: Node, inputs: readonly (Value | undefined)[], runSubgraph?: SubgraphRunner): Value[] {
  const op = resolveOp(node);
  checkArity(op, node);
  checkInputTypes(op, node, inputs.map((v) => (v ? { dtype: elemTypeOf(v), kind: valueKind(v) } : undefined)));
  const where = nodeLabel(node);
  const ctx = { attrs: attrsOf(op, node), where, outputCount: node.outputs.length, runSubgraph: runSubgraph ?? (() => noScope(where)) };
  let outs: Value[];
  try {
    // Tensor ops only ever get tensors: the kind check above turned anything else away.
    outs = op.evaluate ? op.evaluate(inputs, ctx) : op.reference!(inputs as readonly (Tensor | undefined)[], ctx);
  } catch (e) {
    throw oversizeAllocation(e, where) ?? withNode(e, where);
  }
  if (outs.length < node.outputs.filter((o) => o !== '').length) {
    throw new Error(`${where}: kernel produced ${outs.length} outputs, node names ${node.outputs.length}`);
  }
  return outs;
}

/**
 * Safety net for sizes computed from tensor values (shape operands, pads, repeats) that an op's
 * own checks missed: the host's RangeError for a typed array past the element limit becomes a
 * plain Error naming the node. Smaller invalid lengths (negative, fractional) stay RangeErrors,
 * since they point at a kernel bug rather than at the input.
 */
function oversizeAllocation(e: unknown, where: string): Error | undefined {
  if (!(e instanceof RangeError)) return undefined;
  const m = /^Invalid typed array length: (.+)$|^Array buffer allocation failed$/.exec(e.message);
  if (!m) return undefined;
  const n = m[1] === undefined ? Infinity : Number(m[1]);
  if (!(n > MAX_ELEMENTS)) return undefined;
  return new Error(`${where}: an intermediate of ${m[1] ?? 'this'} elements exceeds the limit of ${MAX_ELEMENTS} (sizes computed from the input values)`);
}

/** allocData's refusal of an oversized tensor does not know the node: name it. */
function withNode(e: unknown, where: string): unknown {
  return e instanceof Error && e.constructor === Error && e.message.endsWith('Kiln allocates for one tensor') ? new Error(`${where}: ${e.message}`) : e;
}

/** evalNodeValues for nodes whose inputs and outputs are all tensors (the common case). */
export function evalNodeReference(node: Node, inputs: readonly (Tensor | undefined)[], runSubgraph?: SubgraphRunner): Tensor[] {
  const outs = evalNodeValues(node, inputs, runSubgraph);
  outs.forEach((v, i) => {
    if (node.outputs[i] && !(v instanceof Tensor)) throw new Error(`${nodeLabel(node)}: output '${node.outputs[i]}' is a ${describeValue(v)}, not a tensor`);
  });
  return outs as Tensor[];
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
