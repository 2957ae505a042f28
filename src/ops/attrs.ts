import { isGraphAttr, type AttrValue, type Graph } from '../graph/ir.js';
import { Tensor } from '../tensor/tensor.js';

export type AttrType = 'int' | 'float' | 'string' | 'ints' | 'floats' | 'strings' | 'tensor' | 'graph';

export interface AttrSpec {
  type: AttrType;
  /** Value used when the node omits the attribute. No default and not required: absent. */
  default?: AttrValue;
  required?: boolean;
  /** Returns an error message when the value is not acceptable. */
  validate?: (v: AttrValue) => string | undefined;
}

export function attrMatchesType(v: AttrValue, type: AttrType): boolean {
  switch (type) {
    case 'int': return typeof v === 'number' && Number.isInteger(v);
    case 'float': return typeof v === 'number';
    case 'string': return typeof v === 'string';
    case 'ints': return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x));
    case 'floats': return Array.isArray(v) && v.every((x) => typeof x === 'number');
    case 'strings': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'tensor': return v instanceof Tensor;
    case 'graph': return isGraphAttr(v);
  }
}

/** Typed read access to a node's attributes with the schema's defaults applied. */
export class Attrs {
  constructor(
    private readonly values: Record<string, AttrValue>,
    private readonly specs: Record<string, AttrSpec>,
    private readonly where: string,
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  /** The value the node sets explicitly (no default applied), e.g. to copy attributes to another node. */
  explicit(name: string): AttrValue | undefined {
    return this.values[name];
  }

  private get(name: string): AttrValue | undefined {
    const v = Object.hasOwn(this.values, name) ? this.values[name] : undefined;
    if (v !== undefined) return v;
    const spec = Object.hasOwn(this.specs, name) ? this.specs[name] : undefined;
    if (!spec) throw new Error(`${this.where}: attribute '${name}' is not declared by the op schema`);
    return spec.default;
  }

  private need(name: string): AttrValue {
    const v = this.get(name);
    if (v === undefined) throw new Error(`${this.where}: required attribute '${name}' is missing`);
    return v;
  }

  int(name: string): number;
  int(name: string, fallback: number): number;
  int(name: string, fallback?: number): number {
    const v = fallback !== undefined ? (this.get(name) ?? fallback) : this.need(name);
    if (typeof v !== 'number') throw new Error(`${this.where}: attribute '${name}' must be an int`);
    return v;
  }
  float(name: string): number {
    const v = this.need(name);
    if (typeof v !== 'number') throw new Error(`${this.where}: attribute '${name}' must be a float`);
    return v;
  }
  string(name: string): string {
    const v = this.need(name);
    if (typeof v !== 'string') throw new Error(`${this.where}: attribute '${name}' must be a string`);
    return v;
  }
  ints(name: string): number[] {
    const v = this.need(name);
    if (!Array.isArray(v)) throw new Error(`${this.where}: attribute '${name}' must be a list of ints`);
    return [...(v as number[])];
  }
  /** A list attribute, or undefined when absent and without default. */
  optInts(name: string): number[] | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : this.ints(name);
  }
  floats(name: string): number[] {
    const v = this.need(name);
    if (!Array.isArray(v)) throw new Error(`${this.where}: attribute '${name}' must be a list of floats`);
    return [...(v as number[])];
  }
  strings(name: string): string[] {
    const v = this.need(name);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new Error(`${this.where}: attribute '${name}' must be a list of strings`);
    }
    return [...(v as string[])];
  }
  /** A strings attribute, or undefined when absent and without default. */
  optStrings(name: string): string[] | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : this.strings(name);
  }
  optFloat(name: string): number | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : this.float(name);
  }
  tensor(name: string): Tensor {
    const v = this.need(name);
    if (!(v instanceof Tensor)) throw new Error(`${this.where}: attribute '${name}' must be a tensor`);
    return v;
  }
  optTensor(name: string): Tensor | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : this.tensor(name);
  }
  /** A subgraph (If branches, Loop and Scan bodies); run it with the kernel context's runSubgraph. */
  graph(name: string): Graph {
    const v = this.need(name);
    if (!isGraphAttr(v)) throw new Error(`${this.where}: attribute '${name}' must be a graph`);
    return v;
  }
  optGraph(name: string): Graph | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : this.graph(name);
  }
}
