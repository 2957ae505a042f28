// Kiln Graph -> ONNX ModelProto bytes, with the importer's schema (schema.ts) so that what is
// written is what Kiln reads back. Runs anywhere the library runs (no Node built-ins).
//
// - ai.kiln nodes become the standard nodes they stand for, and zero points ONNX requires but Kiln
//   lets a graph omit become zero constants (export-lower.ts); nodes of domains
//   Kiln does not know, and ops it has no schema for, are refused: an attribute's ONNX type (INT or
//   FLOAT) comes from the op's schema, Kiln stores both as numbers.
// - The importer rewrites old-opset nodes into the latest forms (upgrade.ts), so the graph follows
//   the semantics of recent ai.onnx opsets whatever opset it was read from: the ai.onnx opset
//   written is at least EXPORT_MIN_OPSET, where those forms are valid and the importer leaves every
//   node as it is (import(saveOnnx(g)) gives g back).
// - Tensors go in raw_data, little-endian, sub-byte types packed two (or four) per byte, lowest
//   bits first: Kiln's own storage layout, which is ONNX's.
// - Provenance (the passes applied) goes to metadata_props under PROVENANCE_KEY as JSON.
import { isGraphAttr, ONNX_DOMAIN, nodeLabel, type AttrValue, type Graph, type Node, type ValueInfo } from '../../graph/ir.js';
import '../../ops/index.js';
import type { AttrType } from '../../ops/attrs.js';
import { KILN_DOMAIN } from '../../ops/fused.js';
import { findOp } from '../../ops/registry.js';
import { byteLengthOf, ONNX_CODE_OF_DTYPE, type DType } from '../../tensor/dtype.js';
import { Tensor } from '../../tensor/tensor.js';
import { fillRequiredZeroPoints, lowerKilnOps } from './export-lower.js';
import { PROVENANCE_KEY } from './provenance.js';
import { ModelProtoType, OnnxAttrType } from './schema.js';

/** Lowest ai.onnx opset written: Kiln's op forms are those of opset 21 and later (see above). */
export const EXPORT_MIN_OPSET = 21;

export interface SaveOnnxOptions {
  /** ModelProto.producer_version (default: none). */
  producerVersion?: string;
  /** Extra metadata_props entries. */
  metadata?: Readonly<Record<string, string>>;
}

const utf8 = new TextEncoder();

/** Writes `graph` as an ONNX model. Throws, naming the node, for what ONNX cannot express. */
export function saveOnnx(graph: Graph, options: SaveOnnxOptions = {}): Uint8Array {
  const g = fillRequiredZeroPoints(lowerKilnOps(graph));
  const used = new Set<string>();
  const proto = graphProto(g, used, 'graph');
  const opsets = exportOpsets(g, used);
  const metadata = Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value }));
  if (graph.provenance.length > 0) metadata.push({ key: PROVENANCE_KEY, value: JSON.stringify(graph.provenance) });
  const model = {
    irVersion: irVersionFor(opsets[ONNX_DOMAIN]!),
    opsetImport: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
    producerName: 'kiln',
    ...(options.producerVersion ? { producerVersion: options.producerVersion } : {}),
    graph: proto,
    metadataProps: metadata,
  };
  // Plain objects shaped like the messages encode directly (fromObject would copy every tensor).
  return ModelProtoType.encode(model).finish();
}

/**
 * The graph's opset imports (but ai.kiln) plus every domain a node uses; the
 * ai.onnx version raised to EXPORT_MIN_OPSET.
 */
function exportOpsets(g: Graph, used: ReadonlySet<string>): Record<string, number> {
  const opsets: Record<string, number> = Object.create(null) as Record<string, number>;
  opsets[ONNX_DOMAIN] = Math.max(g.opsets[ONNX_DOMAIN] ?? EXPORT_MIN_OPSET, EXPORT_MIN_OPSET);
  // ai.kiln is never written: its nodes were lowered, and no other runtime knows the domain.
  for (const [d, v] of Object.entries(g.opsets)) if (d !== ONNX_DOMAIN && d !== KILN_DOMAIN) opsets[d] = v;
  for (const d of used) if (!Object.hasOwn(opsets, d)) opsets[d] = 1;
  return opsets;
}

/** ONNX's IR version that introduced each ai.onnx opset (onnx/helper.py's VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset >= 25) return 13;
  if (opset >= 24) return 12;
  if (opset >= 23) return 11;
  return 10;
}

function graphProto(g: Graph, used: Set<string>, what: string): object {
  const initializerNames = new Set(g.initializers.keys());
  return {
    name: g.name,
    node: g.nodes.map((n) => nodeProto(n, used)),
    initializer: [...g.initializers].map(([name, t]) => tensorProto(t, name, `${what} initializer '${name}'`)),
    input: g.inputs.filter((v) => !initializerNames.has(v.name)).map(valueInfoProto),
    output: g.outputs.map(valueInfoProto),
    valueInfo: [...g.valueInfo.values()].filter((v) => !v.untyped).map(valueInfoProto),
  };
}

function nodeProto(n: Node, used: Set<string>): object {
  used.add(n.domain);
  const op = findOp(n.domain, n.op);
  if (!op) throw new Error(`saveOnnx: ${nodeLabel(n)} is not an op Kiln knows, so the types of its attributes are unknown`);
  const attribute = Object.entries(n.attrs).filter(([, v]) => v !== undefined).map(([name, v]) => {
    const spec = Object.hasOwn(op.attrs, name) ? op.attrs[name] : undefined;
    if (!spec) throw new Error(`saveOnnx: ${nodeLabel(n)} has attribute '${name}', which its op does not declare`);
    const where = `saveOnnx: ${nodeLabel(n)} attribute '${name}'`;
    // Optional's `type` is a TypeProto in ONNX; Kiln keeps it as a type string.
    if (n.domain === ONNX_DOMAIN && n.op === 'Optional' && name === 'type') return { name, type: OnnxAttrType.TYPE_PROTO, tp: typeProtoOfString(v, where) };
    return { name, ...attrValue(v, spec.type, where, used) };
  });
  return { name: n.name, opType: n.op, domain: n.domain, input: [...n.inputs], output: [...n.outputs], attribute };
}

function attrValue(v: AttrValue, type: AttrType, where: string, used: Set<string>): object {
  const numbers = (list: readonly unknown[], int: boolean): number[] => list.map((x) => {
    if (typeof x !== 'number' || (int && !Number.isInteger(x))) throw new Error(`${where}: ${String(x)} is not ${int ? 'an integer' : 'a number'}`);
    return x;
  });
  const list = (x: AttrValue): readonly unknown[] => {
    if (!Array.isArray(x)) throw new Error(`${where}: expected a list, got ${typeof x}`);
    return x as readonly unknown[];
  };
  switch (type) {
    case 'int': return { type: OnnxAttrType.INT, i: numbers([v], true)[0] };
    case 'float': return { type: OnnxAttrType.FLOAT, f: numbers([v], false)[0] };
    case 'ints': return { type: OnnxAttrType.INTS, ints: numbers(list(v), true) };
    case 'floats': return { type: OnnxAttrType.FLOATS, floats: numbers(list(v), false) };
    case 'string':
      if (typeof v !== 'string') throw new Error(`${where}: expected a string`);
      return { type: OnnxAttrType.STRING, s: utf8.encode(v) };
    case 'strings':
      return { type: OnnxAttrType.STRINGS, strings: list(v).map((s) => {
        if (typeof s !== 'string') throw new Error(`${where}: ${String(s)} is not a string`);
        return utf8.encode(s);
      }) };
    case 'tensor':
      if (!(v instanceof Tensor)) throw new Error(`${where}: expected a tensor`);
      return { type: OnnxAttrType.TENSOR, t: tensorProto(v, '', where) };
    case 'graph':
      if (!isGraphAttr(v)) throw new Error(`${where}: expected a graph`);
      return { type: OnnxAttrType.GRAPH, g: graphProto(v, used, `subgraph '${v.name}'`) };
  }
}

/** A Kiln tensor as a TensorProto with its bytes in raw_data. */
export function tensorProto(t: Tensor, name: string, where = 'tensor'): object {
  const bytes = byteLengthOf(t.type, t.size);
  const view = new Uint8Array(t.data.buffer, t.data.byteOffset, bytes);
  if (t.type === 'bool' && view.some((b) => b > 1)) throw new Error(`saveOnnx: ${where}: bool tensor holds a byte other than 0 or 1`);
  // Copy: protobufjs keeps a reference, and the model's buffer must not alias the graph's tensors.
  return { ...(name ? { name } : {}), dims: [...t.dims], dataType: ONNX_CODE_OF_DTYPE[t.type], rawData: view.slice() };
}

function tensorType(dtype: DType, shape?: ValueInfo['shape']): object {
  const dims = shape?.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { tensorType: { elemType: ONNX_CODE_OF_DTYPE[dtype], ...(dims ? { shape: { dim: dims } } : {}) } };
}

function valueInfoProto(v: ValueInfo): object {
  // An untyped subgraph input or output: ONNX lets the node running the subgraph decide.
  if (v.untyped) return { name: v.name, type: {} };
  const seq = () => ({ sequenceType: { elemType: tensorType(v.dtype) } });
  switch (v.kind ?? 'tensor') {
    case 'tensor': return { name: v.name, type: tensorType(v.dtype, v.shape) };
    case 'sequence': return { name: v.name, type: seq() };
    case 'optional': return { name: v.name, type: { optionalType: { elemType: tensorType(v.dtype) } } };
    case 'optional-sequence': return { name: v.name, type: { optionalType: { elemType: seq() } } };
  }
}

/** Optional's type attribute: 'tensor(float32)' or 'seq(tensor(int64))' -> TypeProto. */
function typeProtoOfString(v: AttrValue, where: string): object {
  const m = typeof v === 'string' ? /^(seq\()?tensor\(([a-z0-9]+)\)\)?$/.exec(v) : null;
  const dtype = m?.[2] as DType | undefined;
  if (!m || !dtype || !Object.hasOwn(ONNX_CODE_OF_DTYPE, dtype)) throw new Error(`${where}: '${String(v)}' is not tensor(<dtype>) or seq(tensor(<dtype>))`);
  return m[1] ? { sequenceType: { elemType: tensorType(dtype) } } : tensorType(dtype);
}
