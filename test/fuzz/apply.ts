// Applies a plan's edits to a seed: raw bytes, decoded ONNX protobuf messages, .kiln header JSON.
// Edits never throw on a selector that misses (they pick modulo the collection size, or do
// nothing on an empty one); they write values the encoder accepts, whatever the model means.
import protobuf from 'protobufjs/light.js';
import { ModelProtoType } from '../../src/io/onnx/schema.js';
import type { ByteEdit, JsonEdit, ProtoEdit } from './plans.js';

export function applyBytes(src: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let b = Uint8Array.from(src);
  for (const e of edits) {
    const n = b.length;
    switch (e.k) {
      case 'set':
        if (n) b[e.at % n] = e.byte;
        break;
      case 'truncate':
        b = b.slice(0, n ? e.at % n : 0);
        break;
      case 'insert': {
        const at = n ? e.at % (n + 1) : 0;
        b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]);
        break;
      }
      case 'delete': {
        const at = n ? e.at % n : 0;
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + e.len)]);
        break;
      }
      case 'copy':
        if (n) b.copyWithin(e.at % n, e.from % n, (e.from % n) + e.len);
        break;
    }
  }
  return b;
}

type Msg = Record<string, unknown>;
const list = (o: Msg | undefined, key: string): Msg[] => {
  if (!o) return [];
  if (!Array.isArray(o[key])) o[key] = [];
  return o[key] as Msg[];
};
/** protobufjs int64 fields decode to Long objects, which Number() reads as NaN. */
const num = (x: unknown): number => (x && typeof x === 'object' && 'toNumber' in x ? (x as { toNumber(): number }).toNumber() : Number(x ?? 0));
const pick = <T>(xs: readonly T[], sel: number): T | undefined => (xs.length ? xs[sel % xs.length] : undefined);

/** Every graph of the model, subgraphs included, so edits reach If/Loop bodies too. */
function graphsOf(model: Msg): Msg[] {
  const out: Msg[] = [];
  const walk = (g: Msg | undefined | null) => {
    if (!g) return;
    out.push(g);
    for (const n of list(g, 'node')) for (const a of list(n, 'attribute')) walk(a.g as Msg | undefined);
  };
  walk(model.graph as Msg | undefined);
  return out;
}

const nodesOf = (model: Msg) => graphsOf(model).flatMap((g) => list(g, 'node'));
const initsOf = (model: Msg) => graphsOf(model).flatMap((g) => list(g, 'initializer').map((t) => ({ g, t })));
/** Initializers and the tensors held by attributes (Constant nodes' values, ConstantOfShape's fill). */
const tensorsOf = (model: Msg): Msg[] => [
  ...initsOf(model).map(({ t }) => t),
  ...nodesOf(model).flatMap((n) => list(n, 'attribute')).map((a) => a.t as Msg | undefined).filter((t): t is Msg => !!t),
];
const valueInfosOf = (model: Msg) => graphsOf(model).flatMap((g) => [...list(g, 'input'), ...list(g, 'output'), ...list(g, 'valueInfo')]);

/** The dims lists an edit may change: initializer dims and value-info shapes. */
function dimListsOf(model: Msg): { get(): number[]; set(d: number[]): void }[] {
  const out: { get(): number[]; set(d: number[]): void }[] = [];
  for (const { t } of initsOf(model)) {
    out.push({ get: () => (list(t, 'dims') as unknown as unknown[]).map(num), set: (d) => { t.dims = d; } });
  }
  for (const v of valueInfosOf(model)) {
    const tt = (v.type as Msg | undefined)?.tensorType as Msg | undefined;
    const shape = tt?.shape as Msg | undefined;
    if (!shape) continue;
    out.push({
      get: () => list(shape, 'dim').map((d) => (d.dimParam ? 1 : num(d.dimValue))),
      set: (ds) => { shape.dim = ds.map((x) => ({ dimValue: x })); },
    });
  }
  return out;
}

/** Random bytes of a given length from a small LCG, so reshaped initializers are deterministic. */
function filler(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const BYTES_PER: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/**
 * Writes `value` into element `pos` of a tensor message, in whichever field holds its data: shape
 * operands (Reshape's shape, Slice's starts, Tile's repeats, Resize's scales) are often constants,
 * so their values decide output sizes the engine must bound.
 */
function setElement(t: Msg, pos: number, value: number): void {
  const code = num(t.dataType);
  const raw = t.rawData as Uint8Array | undefined;
  const per = BYTES_PER[code];
  if (raw && raw.length && per) {
    const count = Math.floor(raw.length / per);
    if (!count) return;
    const at = (pos % count) * per;
    const bytes = Uint8Array.from(raw);
    const v = new DataView(bytes.buffer);
    const int = Number.isFinite(value) ? Math.trunc(value) : 0;
    switch (code) {
      case 1: v.setFloat32(at, value, true); break;
      case 11: v.setFloat64(at, value, true); break;
      case 7: case 13: v.setBigInt64(at, BigInt(int), true); break;
      case 6: case 12: v.setInt32(at, int | 0, true); break;
      case 5: case 4: case 10: case 16: v.setInt16(at, int | 0, true); break;
      default: v.setInt8(at, int | 0);
    }
    t.rawData = bytes;
    return;
  }
  const field = code === 1 ? 'floatData' : code === 7 ? 'int64Data' : code === 11 ? 'doubleData' : code === 12 || code === 13 ? 'uint64Data' : 'int32Data';
  const data = list(t, field) as unknown as unknown[];
  if (!data.length) return;
  const float = code === 1 || code === 11;
  data[pos % data.length] = float ? value : Number.isFinite(value) ? (field === 'int32Data' ? value | 0 : Math.trunc(value)) : 0;
}

/** Largest element count a reshaped initializer may get: the fuzzer tests checks, not memory. */
const MAX_RESHAPE_ELEMENTS = 1 << 16;

export function applyProto(src: Uint8Array, edits: readonly ProtoEdit[]): Uint8Array {
  const model = ModelProtoType.decode(src) as unknown as Msg;
  edits.forEach((e, i) => applyProtoEdit(model, e, i));
  // protobufjs refuses to encode messages nested past 100 levels (about 33 Ifs); the mutator
  // lifts that for writing only, so the importer's own decode meets files nested deeper.
  const limit = protobuf.util.recursionLimit;
  protobuf.util.recursionLimit = 1 << 20;
  try {
    return ModelProtoType.encode(model as never).finish();
  } finally {
    protobuf.util.recursionLimit = limit;
  }
}

function applyProtoEdit(model: Msg, e: ProtoEdit, index: number): void {
  const nodes = nodesOf(model);
  const node = 'node' in e ? pick(nodes, e.node) : undefined;
  const attr = node && 'attr' in e ? pick(list(node, 'attribute'), e.attr) : undefined;
  switch (e.k) {
    case 'dim': {
      const d = pick(dimListsOf(model), e.sel);
      if (!d) return;
      const dims = d.get();
      if (dims.length) dims[e.pos % dims.length] = e.value;
      d.set(dims);
      return;
    }
    case 'rank': {
      const d = pick(dimListsOf(model), e.sel);
      if (!d) return;
      const dims = d.get();
      d.set(e.grow ? [1, ...dims] : dims.slice(1));
      return;
    }
    case 'reshape-init': {
      // A consistent tensor of another shape: reaches shape rules instead of the length check.
      const it = pick(initsOf(model), e.sel);
      if (!it) return;
      const count = e.dims.reduce((a, b) => a * b, 1);
      const per = BYTES_PER[num(it.t.dataType)];
      if (!per || count > MAX_RESHAPE_ELEMENTS) return;
      for (const k of ['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data']) it.t[k] = [];
      it.t.dims = e.dims;
      it.t.rawData = filler(count * per, index + 1);
      if (num(it.t.dataType) === 1) {
        // float32 bit patterns from random bytes are often NaN; keep them finite and small.
        const f = new Float32Array(count).map((_, j) => ((j * 7919 + index) % 17) / 8 - 1);
        it.t.rawData = new Uint8Array(f.buffer);
      }
      return;
    }
    case 'dtype': {
      const inits = initsOf(model).map(({ t }) => t);
      const vis = valueInfosOf(model).map((v) => (v.type as Msg | undefined)?.tensorType as Msg | undefined).filter((x): x is Msg => !!x);
      const all = [...inits.map((t) => ({ o: t, key: 'dataType' })), ...vis.map((t) => ({ o: t, key: 'elemType' }))];
      const p = pick(all, e.sel);
      if (p) p.o[p.key] = e.code;
      return;
    }
    case 'attr-type':
      if (attr) attr.type = e.code;
      return;
    case 'attr-int':
      if (attr) attr.i = e.value;
      return;
    case 'attr-ints':
      if (attr) attr.ints = e.values;
      return;
    case 'attr-float':
      if (attr) attr.f = e.value;
      return;
    case 'attr-name':
      if (attr) attr.name = e.name;
      return;
    case 'attr-drop':
      if (node && attr) node.attribute = list(node, 'attribute').filter((a) => a !== attr);
      return;
    case 'attr-add':
      if (node) list(node, 'attribute').push({ name: e.name, type: 2, i: e.value });
      return;
    case 'op':
      if (node) node.opType = e.op;
      return;
    case 'domain':
      if (node) node.domain = e.domain;
      return;
    case 'node-io': {
      if (!node) return;
      const names = [...((node[e.output ? 'output' : 'input'] as string[] | undefined) ?? [])];
      const pos = names.length ? e.pos % names.length : 0;
      if (e.action === 'drop') names.splice(pos, 1);
      else if (e.action === 'dup' && names.length) names.push(names[pos]!);
      else if (e.action === 'swap' && names.length > 1) [names[0], names[pos]] = [names[pos]!, names[0]!];
      else if (e.action === 'empty' && names.length) names[pos] = '';
      else if (e.action === 'rename' && names.length) names[pos] = e.name;
      node[e.output ? 'output' : 'input'] = names;
      return;
    }
    case 'node-drop':
    case 'node-dup': {
      for (const g of graphsOf(model)) {
        const ns = list(g, 'node');
        const at = ns.indexOf(node as Msg);
        if (at < 0) continue;
        if (e.k === 'node-drop') ns.splice(at, 1);
        else ns.splice(at, 0, ModelProtoType.lookupType('onnx.NodeProto').decode(ModelProtoType.lookupType('onnx.NodeProto').encode(node as never).finish()) as unknown as Msg);
        return;
      }
      return;
    }
    case 'opset': {
      const ops = list(model, 'opsetImport');
      const same = ops.find((o) => (o.domain ?? '') === e.domain);
      if (same) same.version = e.version;
      else ops.push({ domain: e.domain, version: e.version });
      return;
    }
    case 'ir':
      model.irVersion = e.version;
      return;
    case 'init-dup': {
      const it = pick(initsOf(model), e.sel);
      if (it) list(it.g, 'initializer').push(it.t);
      return;
    }
    case 'init-drop': {
      const it = pick(initsOf(model), e.sel);
      if (it) it.g.initializer = list(it.g, 'initializer').filter((t) => t !== it.t);
      return;
    }
    case 'init-value': {
      const t = pick(tensorsOf(model), e.sel);
      if (t) setElement(t, e.pos, e.value);
      return;
    }
    case 'nest':
      nest(model, e.node, e.depth);
      return;
    case 'init-rename': {
      const it = pick(initsOf(model), e.sel);
      if (it) it.t.name = e.name;
      return;
    }
    case 'graph-io': {
      const g = model.graph as Msg | undefined;
      const vs = list(g, e.output ? 'output' : 'input');
      const v = pick(vs, e.sel);
      if (!v || !g) return;
      if (e.action === 'drop') g[e.output ? 'output' : 'input'] = vs.filter((x) => x !== v);
      else if (e.action === 'dup') vs.push(v);
      else v.name = e.name;
      return;
    }
  }
}

/**
 * Moves one top-level node into `depth` levels of If (then: the next level; else: the node
 * alone), so a graph's subgraph nesting, outer-scope references and untyped subgraph outputs
 * are exercised; the file grows linearly with the depth.
 */
function nest(model: Msg, sel: number, depth: number): void {
  const g = model.graph as Msg | undefined;
  const nodes = list(g, 'node');
  const node = pick(nodes, sel);
  if (!g || !node) return;
  const outs = ((node.output as string[] | undefined) ?? []).filter((o) => o !== '');
  if (!outs.length) return;
  const NodeProto = ModelProtoType.lookupType('onnx.NodeProto');
  const copy = (suffix: string): Msg => {
    const n = NodeProto.decode(NodeProto.encode(node as never).finish()) as unknown as Msg;
    n.output = outs.map((o) => `${o}${suffix}`);
    n.name = `${String(node.name ?? '')}${suffix}`;
    return n;
  };
  const branch = (name: string, inner: Msg, suffix: string): Msg => ({ name, node: [inner], output: outs.map((o) => ({ name: `${o}${suffix}` })) });
  let level: Msg = branch('nest0', copy('__n0'), '__n0');
  for (let k = 1; k < depth; k++) {
    const ifNode: Msg = {
      opType: 'If', name: `nest_if${k}`, domain: '', input: ['fuzz_cond'], output: outs.map((o) => `${o}__n${k}`),
      attribute: [{ name: 'then_branch', type: 5, g: level }, { name: 'else_branch', type: 5, g: branch(`nest_else${k}`, copy(`__e${k}`), `__e${k}`) }],
    };
    level = branch(`nest${k}`, ifNode, `__n${k}`);
  }
  const top: Msg = {
    opType: 'If', name: 'nest_top', domain: '', input: ['fuzz_cond'], output: outs,
    attribute: [{ name: 'then_branch', type: 5, g: level }, { name: 'else_branch', type: 5, g: branch('nest_else', copy('__e'), '__e') }],
  };
  nodes[nodes.indexOf(node)] = top;
  list(g, 'initializer').push({ name: 'fuzz_cond', dataType: 9, dims: [], int32Data: [1] });
}

/** Every (parent, key) slot in a JSON value, in a stable order. */
function slotsOf(root: unknown): { parent: Record<string, unknown> | unknown[]; key: string | number }[] {
  const out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => { out.push({ parent: v, key: i }); walk(x); });
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) { out.push({ parent: v as Record<string, unknown>, key: k }); walk((v as Record<string, unknown>)[k]); }
  };
  walk(root);
  return out;
}

/** Edits the parsed header; returns its JSON text (deep nesting is spliced in as text). */
export function applyJson(header: unknown, edits: readonly JsonEdit[]): string {
  const deep: string[] = [];
  for (const e of edits) {
    const slot = pick(slotsOf(header), e.sel);
    if (!slot) continue;
    const { parent, key } = slot;
    const p = parent as Record<string | number, unknown>;
    switch (e.k) {
      case 'set':
        p[key] = e.value;
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete p[key];
        break;
      case 'deep':
        p[key] = `@@DEEP${deep.length}@@`;
        deep.push('['.repeat(e.depth) + ']'.repeat(e.depth));
        break;
      case 'key':
        if (!Array.isArray(parent)) {
          const v = p[key];
          delete p[key];
          Object.defineProperty(p, e.key, { value: v, enumerable: true, configurable: true, writable: true });
        }
        break;
    }
  }
  let text = JSON.stringify(header);
  deep.forEach((d, i) => { text = text.replace(`"@@DEEP${i}@@"`, d); });
  return text;
}

/** A .kiln file with its header replaced (the data section stays put when the new header fits). */
export function withKilnHeader(bytes: Uint8Array, text: string): Uint8Array {
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  const json = new TextEncoder().encode(text);
  const body = json.length <= len ? Uint8Array.from([...json, ...new Uint8Array(len - json.length).fill(0x20)]) : json;
  const out = new Uint8Array(Math.max(bytes.length, 12 + body.length));
  out.set(bytes);
  out.set(body, 12);
  new DataView(out.buffer).setUint32(8, body.length, true);
  return out;
}

export function kilnHeaderOf(bytes: Uint8Array): unknown {
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len)));
}
