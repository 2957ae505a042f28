// Graph <-> JSON header, apart from tensors: those go to the tensor table and are referenced here
// by index, so the JSON stays small and their bytes stay exact.
import { isGraphAttr, type AttrValue, type Graph, type Node, type Provenance, type ValueInfo } from '../../graph/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { decodeNumber, encodeNumber, type AttrJson, type GraphJson, type NodeJson, type SubgraphJson, type ValueInfoJson } from './header.js';
import { asArray, asDType, asInt, asObject, asString, asStrings, optional, show, type Json } from './json-check.js';

/** `addTensor` files an attribute tensor in the tensor table and returns its index. */
export function encodeGraph(g: Graph, addTensor: (t: Tensor, label: string) => number): GraphJson {
  return {
    name: g.name,
    inputs: g.inputs.map(encodeValueInfo),
    outputs: g.outputs.map(encodeValueInfo),
    valueInfo: [...g.valueInfo.values()].map(encodeValueInfo),
    nodes: g.nodes.map((n) => encodeNode(n, addTensor)),
    opsets: { ...g.opsets },
    provenance: g.provenance.map((p) => ({ ...p })),
  };
}

function encodeValueInfo(v: ValueInfo): ValueInfoJson {
  for (const d of v.shape ?? []) {
    const ok = typeof d === 'string' || (Number.isSafeInteger(d) && d >= 0);
    if (!ok) throw new Error(`saveKiln: value '${v.name}' has invalid dim ${show(d)} in its shape`);
  }
  const out: ValueInfoJson = v.shape ? { name: v.name, dtype: v.dtype, shape: [...v.shape] } : { name: v.name, dtype: v.dtype };
  if (v.untyped) out.untyped = true;
  if (v.kind && v.kind !== 'tensor') out.kind = v.kind;
  return out;
}

function encodeNode(n: Node, addTensor: (t: Tensor, label: string) => number): NodeJson {
  const attrs: [string, AttrJson][] = Object.entries(n.attrs).map(([k, v]) => [k, encodeAttr(v, `${n.name}/${k}`, addTensor)]);
  return { name: n.name, op: n.op, domain: n.domain, inputs: [...n.inputs], outputs: [...n.outputs], attrs: Object.fromEntries(attrs) };
}

/** `label` names the attribute (`node/attr`) for the tensor table and for errors. */
function encodeAttr(v: AttrValue, label: string, addTensor: (t: Tensor, label: string) => number): AttrJson {
  if (typeof v === 'number') return { type: 'number', value: encodeNumber(v) };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (v instanceof Tensor) return { type: 'tensor', value: addTensor(v, label) };
  if (isGraphAttr(v)) {
    const initializers: [string, number][] = [...v.initializers].map(([name, t]) => [name, addTensor(t, `${label}/${name}`)]);
    return { type: 'graph', value: { ...encodeGraph(v, addTensor), initializers } };
  }
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) return { type: 'numbers', value: (v as number[]).map(encodeNumber) };
    if (v.every((x) => typeof x === 'string')) return { type: 'strings', value: [...(v as string[])] };
  }
  throw new Error(`saveKiln: attribute ${label} is not a number, string, list of either, Tensor or Graph: ${show(v)}`);
}

/**
 * Subgraphs nest (an If inside a Loop body...) and each level recurses here, in inference and in
 * the interpreters; real models nest a few levels, a corrupt header could nest thousands.
 */
export const MAX_SUBGRAPH_DEPTH = 64;
/** Far beyond any ONNX release; a larger number is a corrupt field. */
const MAX_OPSET_VERSION = 1000;

/** The graph minus initializers; `tensorAt` resolves attribute tensor indices. */
export function decodeGraph(v: unknown, tensorAt: (i: number, where: string) => Tensor, where = 'graph', depth = 0): Omit<Graph, 'initializers'> {
  if (depth > MAX_SUBGRAPH_DEPTH) throw new Error(`kiln header: ${where}: subgraphs nest more than ${MAX_SUBGRAPH_DEPTH} levels deep`);
  const o = asObject(v, where);
  const valueInfos = (key: string) => asArray(o[key], `${where}.${key}`).map((x, i) => decodeValueInfo(x, `${where}.${key}[${i}]`));
  const opsets = asObject(o.opsets, `${where}.opsets`);
  return {
    name: asString(o.name, `${where}.name`),
    inputs: valueInfos('inputs'),
    outputs: valueInfos('outputs'),
    valueInfo: new Map(valueInfos('valueInfo').map((vi) => [vi.name, vi])),
    nodes: asArray(o.nodes, `${where}.nodes`).map((x, i) => decodeNode(x, `${where}.nodes[${i}]`, tensorAt, depth)),
    opsets: Object.fromEntries(Object.entries(opsets).map(([k, x]) => [k, opsetVersion(x, `${where}.opsets.${k}`)])),
    provenance: asArray(o.provenance, `${where}.provenance`).map((x, i) => decodeProvenance(x, `${where}.provenance[${i}]`)),
  };
}

function opsetVersion(v: unknown, where: string): number {
  const n = asInt(v, where, 1);
  if (n > MAX_OPSET_VERSION) throw new Error(`kiln header: ${where}: opset version ${n} is invalid (expected 1 to ${MAX_OPSET_VERSION})`);
  return n;
}

function decodeValueInfo(v: unknown, where: string): ValueInfo {
  const o = asObject(v, where);
  const vi: ValueInfo = { name: asString(o.name, `${where}.name`), dtype: asDType(o.dtype, `${where}.dtype`) };
  const shape = optional(o, 'shape', where, asArray);
  if (shape) {
    vi.shape = shape.map((d, i) => (typeof d === 'string' ? d : asInt(d, `${where}.shape[${i}]`)));
  }
  const untyped = o.untyped;
  if (untyped !== undefined && untyped !== true) throw new Error(`kiln header: ${where}.untyped: expected true, got ${show(untyped)}`);
  if (untyped) vi.untyped = true;
  const kind = o.kind;
  if (kind !== undefined) {
    if (kind !== 'sequence' && kind !== 'optional' && kind !== 'optional-sequence') {
      throw new Error(`kiln header: ${where}.kind: expected 'sequence', 'optional' or 'optional-sequence', got ${show(kind)}`);
    }
    vi.kind = kind;
  }
  return vi;
}

function decodeNode(v: unknown, where: string, tensorAt: (i: number, where: string) => Tensor, depth: number): Node {
  const o = asObject(v, where);
  const attrs = asObject(o.attrs, `${where}.attrs`);
  return {
    name: asString(o.name, `${where}.name`),
    op: asString(o.op, `${where}.op`),
    domain: asString(o.domain, `${where}.domain`),
    inputs: asStrings(o.inputs, `${where}.inputs`),
    outputs: asStrings(o.outputs, `${where}.outputs`),
    attrs: Object.fromEntries(Object.entries(attrs).map(([k, a]) => [k, decodeAttr(a, `${where}.attrs.${k}`, tensorAt, depth)])),
  };
}

function decodeAttr(v: unknown, where: string, tensorAt: (i: number, where: string) => Tensor, depth: number): AttrValue {
  const o = asObject(v, where);
  const at = `${where}.value`;
  switch (o.type) {
    case 'number': return decodeNumber(o.value, at);
    case 'numbers': return asArray(o.value, at).map((x, i) => decodeNumber(x, `${at}[${i}]`));
    case 'string': return asString(o.value, at);
    case 'strings': return asStrings(o.value, at);
    case 'tensor': return tensorAt(asInt(o.value, at), at);
    case 'graph': return decodeSubgraph(o.value, at, tensorAt, depth + 1);
    default: throw new Error(`kiln header: ${where}.type: unknown attribute type ${show(o.type)}`);
  }
}

function decodeSubgraph(v: unknown, where: string, tensorAt: (i: number, where: string) => Tensor, depth: number): Graph {
  if (depth > MAX_SUBGRAPH_DEPTH) throw new Error(`kiln header: ${where}: subgraphs nest more than ${MAX_SUBGRAPH_DEPTH} levels deep`);
  const o = asObject(v, where);
  const initializers = new Map<string, Tensor>();
  asArray(o.initializers, `${where}.initializers`).forEach((e, i) => {
    const at = `${where}.initializers[${i}]`;
    const pair = asArray(e, at);
    const name = asString(pair[0], `${at}[0]`);
    if (initializers.has(name)) throw new Error(`kiln header: ${at}: initializer '${name}' appears twice`);
    initializers.set(name, tensorAt(asInt(pair[1], `${at}[1]`), `${at}[1]`));
  });
  return { ...decodeGraph(o, tensorAt, where, depth), initializers };
}

function decodeProvenance(v: unknown, where: string): Provenance {
  const o = asObject(v, where);
  const p: Provenance = { pass: asString(o.pass, `${where}.pass`) };
  const options = optional(o, 'options', where, asObject);
  if (options) p.options = options as Json;
  const at = optional(o, 'at', where, asString);
  if (at !== undefined) p.at = at;
  return p;
}
