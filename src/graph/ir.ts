import type { DType } from '../tensor/dtype.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ValueKind } from '../tensor/value.js';

/**
 * Attribute values as Kiln stores them; the op schema says whether a number is an int or a float.
 * A Graph is a subgraph (If branches, Loop and Scan bodies): it may read values of the graphs
 * around it by name (ONNX lexical scoping), and those reads count as uses of the node that holds it.
 */
export type AttrValue = number | string | readonly number[] | readonly string[] | Tensor | Graph;

export type { ValueKind } from '../tensor/value.js';

/**
 * The type of a value: dtype plus shape. `shape` undefined means the rank is unknown. For a
 * sequence or an optional, dtype and shape describe the tensors it holds (shape: when they agree).
 */
export interface ValueType {
  dtype: DType;
  shape?: Shape;
  /** Absent for tensors. */
  kind?: ValueKind;
}

export function kindOf(t: ValueType): ValueKind {
  return t.kind ?? 'tensor';
}

export interface ValueInfo extends ValueType {
  name: string;
  /**
   * Subgraph inputs and outputs only: the model leaves the type open (ONNX allows it there), so
   * `dtype` is a placeholder; the node running the subgraph and inference supply the real type.
   */
  untyped?: true;
}

/** The ai.onnx domain is stored as ''. */
export const ONNX_DOMAIN = '';
export const MS_DOMAIN = 'com.microsoft';

export interface Node {
  name: string;
  op: string;
  domain: string;
  /** Value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** One pass applied to the graph, recorded so a .kiln file says how it was made. */
export interface Provenance {
  pass: string;
  options?: Record<string, unknown>;
  at?: string;
}

export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: Node[];
  /** Constant tensors (weights); they are not graph inputs. */
  initializers: Map<string, Tensor>;
  /** Types of intermediate values, filled by shape inference. */
  valueInfo: Map<string, ValueInfo>;
  /** Operator set version per domain ('' is ai.onnx) the graph was written against. */
  opsets: Record<string, number>;
  provenance: Provenance[];
}

export function emptyGraph(name = 'graph'): Graph {
  return {
    name,
    inputs: [],
    outputs: [],
    nodes: [],
    initializers: new Map(),
    valueInfo: new Map(),
    opsets: { [ONNX_DOMAIN]: 21 },
    provenance: [],
  };
}

export function opKey(domain: string, op: string): string {
  return domain === ONNX_DOMAIN ? op : `${domain}::${op}`;
}

/** Graphs and Tensors are the only object attribute values that are not lists. */
export function isGraphAttr(v: AttrValue | undefined): v is Graph {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'nodes' in v && 'initializers' in v;
}

/** The subgraphs a node holds, in attribute order. */
export function subgraphsOf(node: Node): Graph[] {
  return Object.values(node.attrs).filter(isGraphAttr);
}

/** Names a graph defines itself: its inputs, initializers and node outputs. */
export function definedIn(graph: Graph): Set<string> {
  const s = new Set<string>(graph.initializers.keys());
  for (const v of graph.inputs) s.add(v.name);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) s.add(o);
  return s;
}

/** Values of enclosing scopes a subgraph reads (its own nested subgraphs included). */
export function outerReads(graph: Graph): string[] {
  const own = definedIn(graph);
  const reads = new Set<string>();
  for (const n of graph.nodes) for (const v of nodeReads(n)) if (!own.has(v)) reads.add(v);
  for (const v of graph.outputs) if (!own.has(v.name)) reads.add(v.name);
  return [...reads];
}

/** Values a node's subgraphs read from the scope the node lives in. */
export function implicitInputs(node: Node): string[] {
  const subs = subgraphsOf(node);
  if (subs.length === 0) return [];
  return [...new Set(subs.flatMap(outerReads))];
}

/** Every value a node uses: its inputs (omitted ones skipped) and its implicit inputs. */
export function nodeReads(node: Node): string[] {
  const explicit = node.inputs.filter((v) => v !== '');
  const implicit = implicitInputs(node);
  return implicit.length ? [...explicit, ...implicit] : explicit;
}

export function nodeLabel(n: Node): string {
  return `node '${n.name}' (${n.domain || 'ai.onnx'}::${n.op})`;
}
