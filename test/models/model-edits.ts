// Test-time edits of real models' ONNX bytes, for the real-model catalog (test/models/real-models.ts):
// chunked packages reassembled into one file, and fixed-resolution segmenters rewritten to a smaller
// input so that the reference interpreter finishes in seconds. The weights are never touched; only
// declared shapes and the constant target sizes of Resize nodes change. Both engines (Kiln and
// onnxruntime-web) get the same edited bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelProtoType } from '../../src/io/onnx/schema.js';

/** One entry of @imgly/background-removal-data's dist/resources.json: a file split into chunks. */
interface ChunkedResource {
  size: number;
  chunks: { hash: string; offsets: [number, number] }[];
}

/**
 * Reassembles a file that a package ships as content-addressed chunks listed in a JSON index
 * (`{ [key]: { size, chunks: [{ hash, offsets: [start, end] }] } }`, each chunk a file named by its
 * hash next to the index). Every byte must be covered exactly once.
 */
export function reassembleChunks(indexPath: string, key: string): Uint8Array {
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as Record<string, ChunkedResource | undefined>;
  const entry = index[key];
  if (!entry) throw new Error(`${indexPath}: no resource ${key}`);
  const out = new Uint8Array(entry.size);
  let covered = 0;
  for (const c of entry.chunks) {
    const [start, end] = c.offsets;
    const bytes = readFileSync(join(indexPath, '..', c.hash));
    if (bytes.length !== end - start || end > entry.size) throw new Error(`${key}: chunk ${c.hash} has ${bytes.length} bytes, index says ${end - start}`);
    out.set(bytes, start);
    covered += bytes.length;
  }
  if (covered !== entry.size) throw new Error(`${key}: chunks cover ${covered} of ${entry.size} bytes`);
  return out;
}

// The protobufjs message shapes this file touches (field names as protobufjs camel-cases them).
interface LongLike { toNumber(): number }
interface DimProto { dimValue?: number | LongLike; dimParam?: string }
interface ValueInfoProto { name?: string; type?: { tensorType?: { shape?: { dim?: DimProto[] } | null } | null } | null }
interface TensorProto { name?: string; dataType?: number; dims?: (number | LongLike)[]; int64Data?: (number | LongLike)[]; rawData?: Uint8Array }
interface NodeProto { opType?: string; domain?: string; input?: string[]; output?: string[]; attribute?: { name?: string; t?: TensorProto | null }[] }
interface ModelProto {
  graph?: { node?: NodeProto[]; initializer?: TensorProto[]; input?: ValueInfoProto[]; output?: ValueInfoProto[]; valueInfo?: ValueInfoProto[] };
}

const INT64 = 7;

/** An int64 initializer's values, from raw_data (little-endian) or int64_data. */
function int64Values(t: TensorProto): number[] {
  if (t.rawData && t.rawData.length > 0) {
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    return Array.from({ length: t.rawData.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  }
  return (t.int64Data ?? []).map((v) => (typeof v === 'number' ? v : v.toNumber()));
}

function setInt64Values(t: TensorProto, values: number[]): void {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  t.rawData = raw;
  t.int64Data = [];
}

/**
 * Rewrites an NCHW image model trained (and exported) at `from` x `from` pixels to take `to` x `to`:
 * the first input's declared H and W become `to`; every Resize whose `sizes` input is a constant
 * initializer gets its H and W scaled by to/from (they must stay integers); declared shapes of
 * outputs and intermediate values are dropped (both engines infer them). Fully convolutional models
 * (ISNet) compute the same function at the new size; a Reshape to constant spatial dims would break,
 * and onnxruntime would refuse the edited model, so a wrong edit cannot pass silently.
 */
export function atResolution(bytes: Uint8Array, from: number, to: number): Uint8Array {
  const model = ModelProtoType.decode(bytes) as unknown as ModelProto;
  const g = model.graph;
  const input = g?.input?.[0]?.type?.tensorType?.shape?.dim;
  if (!g || !input || input.length !== 4) throw new Error('atResolution: expected an NCHW image input');
  input[2] = { dimValue: to };
  input[3] = { dimValue: to };
  for (const out of g.output ?? []) if (out.type?.tensorType) out.type.tensorType.shape = null;
  g.valueInfo = [];
  // Constant tensors by value name: initializers and Constant nodes' `value`.
  const constants = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const producers = new Map<string, NodeProto>();
  for (const node of g.node ?? []) {
    for (const o of node.output ?? []) producers.set(o, node);
    const value = node.opType === 'Constant' ? node.attribute?.find((a) => a.name === 'value')?.t : undefined;
    if (value && node.output?.[0]) constants.set(node.output[0], value);
  }
  const scaled = new Set<TensorProto>();
  // Scales the values at `axes` of a constant int64 tensor, once even when several nodes share it.
  const scale = (t: TensorProto, axes: number[], count: number): void => {
    if (scaled.has(t)) return;
    if (t.dataType !== INT64) throw new Error(`atResolution: Resize sizes ${t.name ?? ''} is not int64`);
    const v = int64Values(t);
    if (v.length !== count) throw new Error(`atResolution: Resize sizes ${t.name ?? ''} has ${v.length} values, expected ${count}`);
    for (const axis of axes) {
      const s = (v[axis]! * to) / from;
      if (!Number.isInteger(s) || s < 1) throw new Error(`atResolution: Resize size ${v[axis]} does not scale to an integer at ${to}`);
      v[axis] = s;
    }
    setInt64Values(t, v);
    scaled.add(t);
  };
  for (const node of g.node ?? []) {
    if (node.opType !== 'Resize' || (node.domain ?? '') !== '') continue;
    const name = node.input?.[3] ?? '';
    if (!name) continue; // scales: resolution-independent
    const sizes = constants.get(name);
    const concat = producers.get(name);
    // Either constant [N, C, H, W] sizes, or Concat(Shape(x)[:2], constant [H, W]) as exporters write it.
    if (sizes) scale(sizes, [2, 3], 4);
    else if (concat?.opType === 'Concat' && constants.has(concat.input?.at(-1) ?? '')) scale(constants.get(concat.input!.at(-1)!)!, [0, 1], 2);
    else throw new Error(`atResolution: Resize ${name} sizes are neither constant nor Concat(..., constant H and W)`);
  }
  return ModelProtoType.encode(model as unknown as Record<string, unknown>).finish();
}
