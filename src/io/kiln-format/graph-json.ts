// Graph <-> JSON header, apart from tensors: those go to the tensor table and are referenced here
// by index, so the JSON stays small and their bytes stay exact.
import type { AttrValue, Graph, Node, Provenance, ValueInfo } from '../../graph/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { decodeNumber, encodeNumber, type AttrJson, type GraphJson, type NodeJson, type ValueInfoJson } from './header.js';
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
  return v.shape ? { name: v.name, dtype: v.dtype, shape: [...v.shape] } : { name: v.name, dtype: v.dtype };
}

function encodeNode(n: Node, addTensor: (t: Tensor, label: string) => number): NodeJson {
  const attrs: [string, AttrJson][] = Object.entries(n.attrs).map(([k, v]) => [k, encodeAttr(v, () => addTensor(v as Tensor, `${n.name}/${k}`), `${n.name}.${k}`)]);
  return { name: n.name, op: n.op, domain: n.domain, inputs: [...n.inputs], outputs: [...n.outputs], attrs: Object.fromEntries(attrs) };
}

function encodeAttr(v: AttrValue, addTensor: () => number, where: string): AttrJson {
  if (typeof v === 'number') return { type: 'number', value: encodeNumber(v) };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (v instanceof Tensor) return { type: 'tensor', value: addTensor() };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) return { type: 'numbers', value: (v as number[]).map(encodeNumber) };
    if (v.every((x) => typeof x === 'string')) return { type: 'strings', value: [...(v as string[])] };
  }
  throw new Error(`saveKiln: attribute ${where} is not a number, string, list of either, or Tensor: ${show(v)}`);
}

/** The graph minus initializers; `tensorAt` resolves attribute tensor indices. */
export function decodeGraph(v: unknown, tensorAt: (i: number, where: string) => Tensor): Omit<Graph, 'initializers'> {
  const o = asObject(v, 'graph');
  const valueInfos = (key: string) => asArray(o[key], `graph.${key}`).map((x, i) => decodeValueInfo(x, `graph.${key}[${i}]`));
  const opsets = asObject(o.opsets, 'graph.opsets');
  return {
    name: asString(o.name, 'graph.name'),
    inputs: valueInfos('inputs'),
    outputs: valueInfos('outputs'),
    valueInfo: new Map(valueInfos('valueInfo').map((vi) => [vi.name, vi])),
    nodes: asArray(o.nodes, 'graph.nodes').map((x, i) => decodeNode(x, `graph.nodes[${i}]`, tensorAt)),
    opsets: Object.fromEntries(Object.entries(opsets).map(([k, x]) => [k, asInt(x, `graph.opsets.${k}`)])),
    provenance: asArray(o.provenance, 'graph.provenance').map((x, i) => decodeProvenance(x, `graph.provenance[${i}]`)),
  };
}

function decodeValueInfo(v: unknown, where: string): ValueInfo {
  const o = asObject(v, where);
  const vi: ValueInfo = { name: asString(o.name, `${where}.name`), dtype: asDType(o.dtype, `${where}.dtype`) };
  const shape = optional(o, 'shape', where, asArray);
  if (shape) {
    vi.shape = shape.map((d, i) => (typeof d === 'string' ? d : asInt(d, `${where}.shape[${i}]`)));
  }
  return vi;
}

function decodeNode(v: unknown, where: string, tensorAt: (i: number, where: string) => Tensor): Node {
  const o = asObject(v, where);
  const attrs = asObject(o.attrs, `${where}.attrs`);
  return {
    name: asString(o.name, `${where}.name`),
    op: asString(o.op, `${where}.op`),
    domain: asString(o.domain, `${where}.domain`),
    inputs: asStrings(o.inputs, `${where}.inputs`),
    outputs: asStrings(o.outputs, `${where}.outputs`),
    attrs: Object.fromEntries(Object.entries(attrs).map(([k, a]) => [k, decodeAttr(a, `${where}.attrs.${k}`, tensorAt)])),
  };
}

function decodeAttr(v: unknown, where: string, tensorAt: (i: number, where: string) => Tensor): AttrValue {
  const o = asObject(v, where);
  const at = `${where}.value`;
  switch (o.type) {
    case 'number': return decodeNumber(o.value, at);
    case 'numbers': return asArray(o.value, at).map((x, i) => decodeNumber(x, `${at}[${i}]`));
    case 'string': return asString(o.value, at);
    case 'strings': return asStrings(o.value, at);
    case 'tensor': return tensorAt(asInt(o.value, at), at);
    default: throw new Error(`kiln header: ${where}.type: unknown attribute type ${show(o.type)}`);
  }
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
