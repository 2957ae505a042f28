import type { DType } from '../tensor/dtype.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Attribute values as Kiln stores them; the op schema says whether a number is an int or a float. */
export type AttrValue = number | string | readonly number[] | readonly string[] | Tensor;

/** The type of a value: dtype plus shape. `shape` undefined means the rank is unknown. */
export interface ValueType {
  dtype: DType;
  shape?: Shape;
}

export interface ValueInfo extends ValueType {
  name: string;
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

export function nodeLabel(n: Node): string {
  return `node '${n.name}' (${n.domain || 'ai.onnx'}::${n.op})`;
}
