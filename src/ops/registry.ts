import { nodeLabel, ONNX_DOMAIN, opKey, type Graph, type Node, type ValueKind, type ValueType } from '../graph/ir.js';
import type { DType } from '../tensor/dtype.js';
import type { Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Value } from '../tensor/value.js';
import { Attrs, attrMatchesType, type AttrSpec } from './attrs.js';

export interface PortSpec {
  name: string;
  /** May be omitted ('' in the node) or absent at the end of the list. */
  optional?: boolean;
  /** Takes all remaining values (at least one unless also optional). Only the last port. */
  variadic?: boolean;
  /** Accepted dtypes; omitted means any. */
  types?: readonly DType[];
  /** Accepted kinds of value; omitted means tensors only. */
  kinds?: readonly ValueKind[];
}

/** What shape inference sees of one node. */
export interface InferContext {
  /** Input types; undefined for omitted optional inputs. */
  inputs: readonly (ValueType | undefined)[];
  attrs: Attrs;
  /** The value of input i when it is known before running (an initializer or a folded constant). */
  constant(i: number): Tensor | undefined;
  /** A fresh symbolic dimension for sizes only known at run time. */
  unknownDim(): Dim;
  /** Message prefix naming the node, for errors. */
  where: string;
  /** Number of outputs the node names (Split without sizes divides by it). */
  outputCount: number;
  /** Output types of a subgraph given its inputs' types; it sees the types of the scope around the node. */
  inferSubgraph: SubgraphTyper;
}

export interface KernelContext {
  attrs: Attrs;
  where: string;
  /** Number of outputs the node asks for (some ops have optional outputs). */
  outputCount: number;
  /** Runs a subgraph on its inputs (in declared order); it reads outer values from the scope around the node. */
  runSubgraph: SubgraphRunner;
}

/** Runs a subgraph: `inputs` bind its formal inputs in order; returns its outputs in order. */
export type SubgraphRunner = (graph: Graph, inputs: readonly Value[]) => Value[];
/** Types a subgraph's outputs from its inputs' types (undefined: use the declared type). */
export type SubgraphTyper = (graph: Graph, inputs: readonly (ValueType | undefined)[]) => ValueType[];

export interface OpDef {
  name: string;
  /** '' for ai.onnx. */
  domain?: string;
  inputs: readonly PortSpec[];
  outputs: readonly PortSpec[];
  attrs?: Readonly<Record<string, AttrSpec>>;
  /** Output types from input types; throw with ctx.where on a mismatch. */
  inferShape(ctx: InferContext): ValueType[];
  /** The reference kernel: plain TypeScript, the oracle for every backend. */
  reference?(inputs: readonly (Tensor | undefined)[], ctx: KernelContext): Tensor[];
  /** The kernel instead of `reference` for ops that take or give sequences or optionals. */
  evaluate?(inputs: readonly (Value | undefined)[], ctx: KernelContext): Value[];
}

export interface RegisteredOp extends OpDef {
  domain: string;
  attrs: Readonly<Record<string, AttrSpec>>;
}

const registry = new Map<string, RegisteredOp>();

export function defineOp(def: OpDef): RegisteredOp {
  const op: RegisteredOp = { ...def, domain: def.domain ?? ONNX_DOMAIN, attrs: def.attrs ?? {} };
  const key = opKey(op.domain, op.name);
  if (registry.has(key)) throw new Error(`op ${key} is defined twice`);
  if (!op.reference === !op.evaluate) throw new Error(`op ${key} must define exactly one of reference and evaluate`);
  registry.set(key, op);
  return op;
}

export function findOp(domain: string, name: string): RegisteredOp | undefined {
  return registry.get(opKey(domain === 'ai.onnx' ? ONNX_DOMAIN : domain, name));
}

export function getOp(domain: string, name: string, opset?: number): RegisteredOp {
  const op = findOp(domain, name);
  if (!op) {
    throw new Error(`unsupported op '${name}' (domain '${domain || 'ai.onnx'}'${opset !== undefined ? `, opset ${opset}` : ''})`);
  }
  return op;
}

export function listOps(): RegisteredOp[] {
  return [...registry.values()];
}

/** Validates a node's attributes against its schema and returns typed access to them. */
export function attrsOf(op: RegisteredOp, node: Node): Attrs {
  const where = nodeLabel(node);
  for (const [name, value] of Object.entries(node.attrs)) {
    // Attribute names come from the model file: `constructor` must not find Object.prototype's.
    const spec = Object.hasOwn(op.attrs, name) ? op.attrs[name] : undefined;
    if (!spec) throw new Error(`${where}: unknown attribute '${name}'`);
    if (!attrMatchesType(value, spec.type)) throw new Error(`${where}: attribute '${name}' must be of type ${spec.type}`);
    const problem = spec.validate?.(value);
    if (problem) throw new Error(`${where}: attribute '${name}': ${problem}`);
  }
  for (const [name, spec] of Object.entries(op.attrs)) {
    if (spec.required && node.attrs[name] === undefined) throw new Error(`${where}: required attribute '${name}' is missing`);
  }
  return new Attrs(node.attrs, op.attrs, where);
}

/** Checks the number of inputs/outputs against the schema's ports. */
export function checkArity(op: RegisteredOp, node: Node): void {
  const where = nodeLabel(node);
  const check = (ports: readonly PortSpec[], names: string[], kind: string) => {
    const last = ports[ports.length - 1];
    const variadic = last?.variadic === true;
    const max = variadic ? Infinity : ports.length;
    let min = 0;
    ports.forEach((p, i) => { if (!p.optional) min = i + 1; });
    if (names.length > max) throw new Error(`${where}: takes at most ${max} ${kind}s, got ${names.length}`);
    if (names.length < min) throw new Error(`${where}: needs at least ${min} ${kind}s, got ${names.length}`);
    ports.forEach((p, i) => {
      if (!p.optional && !p.variadic && names[i] === '') throw new Error(`${where}: ${kind} '${p.name}' is required`);
    });
  };
  check(op.inputs, node.inputs, 'input');
  check(op.outputs, node.outputs, 'output');
}

/** The port spec that describes input/output index i (variadic ports cover the tail). */
export function portAt(ports: readonly PortSpec[], i: number): PortSpec | undefined {
  if (i < ports.length) return ports[i];
  const last = ports[ports.length - 1];
  return last?.variadic ? last : undefined;
}
