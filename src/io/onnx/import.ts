// ONNX ModelProto bytes -> Kiln Graph. Nodes are rewritten to the latest op forms (see upgrade.ts)
// so that ops and kernels know only one version of each op.
import { emptyGraph, ONNX_DOMAIN, type AttrValue, type Graph, type Node, type ValueInfo } from '../../graph/ir.js';
import type { Dim } from '../../tensor/shape.js';
import { dtypeFromOnnx, tensorFromProto, toSafeNumber, toSaturatedNumber, type LongLike, type TensorProtoLike } from './tensor.js';
import { ModelProtoType, OnnxAttrType } from './schema.js';
import { upgradeNode } from './upgrade.js';
import { parseProvenance, PROVENANCE_KEY } from './provenance.js';
import { checkAttributeFields, checkIrVersion, checkUnique, opsetsFromProto } from './proto-checks.js';

interface AttributeProtoLike {
  name?: string;
  type?: number;
  f?: number;
  i?: LongLike;
  s?: Uint8Array;
  t?: TensorProtoLike;
  g?: unknown;
  floats?: number[];
  ints?: LongLike[];
  strings?: Uint8Array[];
  tensors?: unknown[];
  graphs?: unknown[];
  tp?: TypeProtoLike | null;
  refAttrName?: string;
  sparseTensor?: unknown;
}
interface NodeProtoLike { input?: string[]; output?: string[]; name?: string; opType?: string; domain?: string; attribute?: AttributeProtoLike[] }
interface TypeProtoLike {
  tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: LongLike; dimParam?: string }[] } } | null;
  sequenceType?: { elemType?: TypeProtoLike | null } | null;
  optionalType?: { elemType?: TypeProtoLike | null } | null;
  mapType?: unknown;
  sparseTensorType?: unknown;
}
interface ValueInfoProtoLike {
  name?: string;
  type?: TypeProtoLike | null;
}
interface GraphProtoLike {
  name?: string;
  node?: NodeProtoLike[];
  initializer?: TensorProtoLike[];
  sparseInitializer?: unknown[];
  input?: ValueInfoProtoLike[];
  output?: ValueInfoProtoLike[];
  valueInfo?: ValueInfoProtoLike[];
}
interface ModelProtoLike {
  irVersion?: LongLike;
  opsetImport?: { domain?: string; version?: LongLike }[];
  graph?: GraphProtoLike;
  functions?: { name?: string }[];
  metadataProps?: { key?: string; value?: string }[];
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function decodeModelProto(bytes: Uint8Array): ModelProtoLike {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('ONNX import: expected a Uint8Array');
  if (bytes.length === 0) throw new Error('ONNX import: the file is empty');
  try {
    return ModelProtoType.decode(bytes) as unknown as ModelProtoLike;
  } catch (e) {
    throw new Error(`ONNX import: malformed or truncated model file (${(e as Error).message})`);
  }
}

export function importOnnx(bytes: Uint8Array): Graph {
  const model = decodeModelProto(bytes);
  const g = model.graph;
  if (!g || !g.node) throw new Error('ONNX import: the model has no graph (is this an ONNX file?)');
  checkIrVersion(model);
  const opsets = opsetsFromProto(model.opsetImport ?? []);
  if ((model.functions ?? []).length > 0) {
    throw new Error(`ONNX import: model-local functions are not supported (${model.functions!.map((f) => f.name).join(', ')})`);
  }
  const graph = graphFromProto(g, { opsets, usedNames: new Set(), depth: 0 }, g.name || 'main', false);
  // A model that declares no output computes nothing a caller can ask for; backends that plan
  // only what the outputs need would then skip every node, others run them all (and their errors).
  if (graph.outputs.length === 0) throw new Error('ONNX import: the main graph declares no outputs');
  // Kiln's exporter records the passes a graph went through (src/io/onnx/provenance.ts).
  const provenance = (model.metadataProps ?? []).find((p) => p.key === PROVENANCE_KEY);
  if (provenance) graph.provenance = parseProvenance(provenance.value ?? '');
  return graph;
}

/** What every graph of one model shares: its opsets, and node names (unique across subgraphs too). */
interface ModelScope {
  opsets: Record<string, number>;
  usedNames: Set<string>;
  /** How many subgraphs enclose the one being read (bounded: every later stage recurses per level). */
  depth: number;
}

const MAX_SUBGRAPH_DEPTH = 64;

/** The main graph or a subgraph (an If branch, a Loop or Scan body), imported the same way. */
function graphFromProto(g: GraphProtoLike, scope: ModelScope, name: string, subgraph: boolean): Graph {
  if ((g.sparseInitializer ?? []).length > 0) throw new Error('ONNX import: sparse_initializer is not supported');
  const graph = emptyGraph(name);
  graph.opsets = { ...scope.opsets };
  for (const t of g.initializer ?? []) {
    if (!t.name) throw new Error('ONNX import: an initializer has no name');
    // onnxruntime refuses these; a map would silently keep the last one.
    if (graph.initializers.has(t.name)) throw new Error(`ONNX import: initializer '${t.name}' appears twice in ${subgraph ? `subgraph '${name}'` : 'the graph'}`);
    graph.initializers.set(t.name, tensorFromProto(t, 'initializer'));
  }
  const what = subgraph ? `subgraph '${name}'` : 'graph';
  // Initializers may also be listed as graph inputs (IR < 4); those are constants, not feeds.
  graph.inputs = (g.input ?? []).filter((v) => !graph.initializers.has(v.name ?? '')).map((v) => valueInfoFromProto(v, `${what} input`, subgraph));
  graph.outputs = (g.output ?? []).map((v) => valueInfoFromProto(v, `${what} output`, subgraph));
  for (const v of g.valueInfo ?? []) {
    if (v.type?.tensorType?.elemType) graph.valueInfo.set(v.name ?? '', valueInfoFromProto(v, 'value_info', false));
  }
  const nodes: Node[] = [];
  (g.node ?? []).forEach((n, i) => {
    const node = nodeFromProto(n, i, scope);
    const domain = node.domain;
    const opset = Object.hasOwn(scope.opsets, domain) ? scope.opsets[domain] : undefined;
    if (opset === undefined) {
      throw new Error(`ONNX import: node '${node.name}' (${node.op}) uses domain '${domain || 'ai.onnx'}' which the model does not import`);
    }
    nodes.push(...upgradeNode(node, opset, graph));
  });
  graph.nodes = nodes;
  return graph;
}

function nodeFromProto(n: NodeProtoLike, index: number, scope: ModelScope): Node {
  const op = n.opType ?? '';
  if (!op) throw new Error(`ONNX import: node #${index} has no op_type`);
  let name = n.name || `${op}_${index}`;
  while (scope.usedNames.has(name)) name = `${name}_${index}`;
  scope.usedNames.add(name);
  const domain = n.domain === 'ai.onnx' || !n.domain ? ONNX_DOMAIN : n.domain;
  const entries: [string, AttrValue][] = [];
  for (const a of n.attribute ?? []) {
    if (!a.name) throw new Error(`ONNX import: node '${name}' (${op}) has an attribute without a name`);
    const what = `ONNX import: node '${name}' (${domain || 'ai.onnx'}::${op}) attribute '${a.name}'`;
    checkAttributeFields(a, what);
    entries.push([a.name, attrFromProto(a, what, scope)]);
  }
  checkUnique(entries.map(([k]) => k), (k) => `ONNX import: node '${name}' (${domain || 'ai.onnx'}::${op}) has attribute '${k}' twice`);
  // fromEntries defines own properties: an attribute named `__proto__` stays a (refused) name
  // instead of replacing the object's prototype.
  return { name, op, domain, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs: Object.fromEntries(entries) };
}

function attrFromProto(a: AttributeProtoLike, what: string, scope: ModelScope): AttrValue {
  if (a.refAttrName) throw new Error(`${what}: attribute references (functions) are not supported`);
  const type = a.type || inferAttrType(a);
  switch (type) {
    case OnnxAttrType.FLOAT: return a.f ?? 0;
    case OnnxAttrType.INT: return toSaturatedNumber(a.i);
    case OnnxAttrType.STRING: return utf8.decode(a.s ?? new Uint8Array());
    case OnnxAttrType.TENSOR:
      if (!a.t) throw new Error(`${what}: tensor attribute has no tensor`);
      return tensorFromProto(a.t, what);
    case OnnxAttrType.FLOATS: return [...(a.floats ?? [])];
    case OnnxAttrType.INTS: return (a.ints ?? []).map((v) => toSaturatedNumber(v));
    case OnnxAttrType.STRINGS: return (a.strings ?? []).map((s) => utf8.decode(s));
    case OnnxAttrType.GRAPH: {
      const g = a.g as GraphProtoLike | undefined;
      if (!g) throw new Error(`${what}: graph attribute has no graph`);
      if (scope.depth >= MAX_SUBGRAPH_DEPTH) throw new Error(`${what}: subgraphs nest more than ${MAX_SUBGRAPH_DEPTH} levels deep`);
      scope.depth++;
      try {
        return graphFromProto(g, scope, g.name || a.name || 'subgraph', true);
      } finally {
        scope.depth--;
      }
    }
    case OnnxAttrType.GRAPHS:
      throw new Error(`${what}: lists of subgraphs are not supported`);
    case OnnxAttrType.TYPE_PROTO:
      if (!a.tp) throw new Error(`${what}: type attribute has no type`);
      return typeString(a.tp, what);
    default:
      throw new Error(`${what}: unsupported attribute type ${type}`);
  }
}

/**
 * Whether a singular field was on the wire. protobufjs puts defaults for absent fields on the
 * message prototype (an empty array for `bytes`, a zero Long for int64, null for messages), so a
 * truthiness test reads an absent `bytes` or int64 field as present; only decoded fields are own
 * properties.
 */
function present(msg: object, field: string): boolean {
  return Object.prototype.hasOwnProperty.call(msg, field) && (msg as Record<string, unknown>)[field] != null;
}

/** Old exporters leave AttributeProto.type unset; the populated field tells. */
function inferAttrType(a: AttributeProtoLike): number {
  if (a.floats && a.floats.length) return OnnxAttrType.FLOATS;
  if (a.ints && a.ints.length) return OnnxAttrType.INTS;
  if (a.strings && a.strings.length) return OnnxAttrType.STRINGS;
  if (a.t) return OnnxAttrType.TENSOR;
  if (a.g) return OnnxAttrType.GRAPH;
  if (a.tp) return OnnxAttrType.TYPE_PROTO;
  if (present(a, 's')) return OnnxAttrType.STRING;
  // An absent int64 decodes as a zero Long (never `=== 0`), which used to shadow a float.
  if (present(a, 'i') && toSaturatedNumber(a.i) !== 0) return OnnxAttrType.INT;
  if (present(a, 'f') && a.f !== 0) return OnnxAttrType.FLOAT;
  return OnnxAttrType.INT;
}

let anonymousDims = 0;

/**
 * Type attributes (Optional's `type`) become Kiln type strings in ONNX's notation with Kiln
 * dtype names: 'tensor(float32)', 'seq(tensor(int64))', 'optional(seq(tensor(float32)))'.
 */
function typeString(tp: TypeProtoLike, what: string): string {
  if (tp.tensorType) return `tensor(${dtypeFromOnnx(tp.tensorType.elemType ?? 0, what)})`;
  if (tp.sequenceType?.elemType) return `seq(${typeString(tp.sequenceType.elemType, what)})`;
  if (tp.optionalType?.elemType) return `optional(${typeString(tp.optionalType.elemType, what)})`;
  throw new Error(`${what}: only tensor, sequence and optional types are supported`);
}

/**
 * Sequences and optionals of tensors keep their element dtype; their element shapes are dropped
 * (elements may differ in shape, and inference gives what it knows).
 */
function containerType(t: TypeProtoLike, where: string): Pick<ValueInfo, 'dtype' | 'kind'> {
  const seq = (s: TypeProtoLike | null | undefined, kind: 'sequence' | 'optional-sequence') => {
    if (!s?.tensorType) throw new Error(`${where}: only sequences of tensors are supported`);
    return { dtype: dtypeFromOnnx(s.tensorType.elemType ?? 0, where), kind };
  };
  if (t.sequenceType) return seq(t.sequenceType.elemType, 'sequence');
  const inner = t.optionalType?.elemType;
  if (inner?.tensorType) return { dtype: dtypeFromOnnx(inner.tensorType.elemType ?? 0, where), kind: 'optional' };
  if (inner?.sequenceType) return seq(inner.sequenceType.elemType, 'optional-sequence');
  throw new Error(`${where}: only tensor, sequence and optional values are supported (map and sparse types are not)`);
}

/** `mayBeUntyped`: a subgraph input or output, whose type ONNX lets the node running it decide. */
function valueInfoFromProto(v: ValueInfoProtoLike, what: string, mayBeUntyped: boolean): ValueInfo {
  const name = v.name ?? '';
  const where = `ONNX import: ${what} '${name}'`;
  const type = v.type ?? undefined; // protobufjs leaves absent messages null
  const tt = type?.tensorType ?? undefined;
  // An empty TypeProto (no value field set) is untyped; mapType/sparseTensorType are `bytes` here,
  // whose absent default is a truthy empty array, so presence is tested on the wire fields.
  const other = !!type && (['sequenceType', 'optionalType', 'mapType', 'sparseTensorType'] as const).some((f) => present(type, f));
  const open = tt ? !tt.elemType && !tt.shape : !other;
  if (mayBeUntyped && open) return { name, dtype: 'float32', untyped: true };
  if (!tt) {
    if (!other) throw new Error(`${where}: has no tensor type`);
    return { name, ...containerType(type!, where) };
  }
  const dtype = dtypeFromOnnx(tt.elemType ?? 0, where);
  if (!tt.shape) return { name, dtype };
  const shape: Dim[] = (tt.shape.dim ?? []).map((d) => {
    if (d.dimParam) return d.dimParam;
    // protobufjs fills absent scalars with defaults; only an explicitly set dim_value is a size.
    if (Object.prototype.hasOwnProperty.call(d, 'dimValue') && d.dimValue !== undefined && d.dimValue !== null) {
      const n = toSafeNumber(d.dimValue, where);
      if (n < 0) throw new Error(`${where}: negative dimension ${n}`);
      return n;
    }
    return `unk_${name}_${++anonymousDims}`;
  });
  return { name, dtype, shape };
}
