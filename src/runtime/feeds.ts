// Checking user feeds against the graph's declared inputs, with messages a web developer can act on.
import { kindOf, type ValueInfo } from '../graph/ir.js';
import { allocData, isDType, storageLength } from '../tensor/dtype.js';
import { validateDims } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, elemTypeOf, OptionalValue, TensorSequence, valueKind, type Value } from '../tensor/value.js';

/** Anything shaped like a tensor (Kiln's, or onnxruntime-web's). */
export interface TensorLike {
  type: string;
  data: unknown;
  dims: readonly number[];
}

export function checkFeeds(inputs: readonly ValueInfo[], feeds: Record<string, TensorLike | Value>): Map<string, Value> {
  if (feeds === null || typeof feeds !== 'object') throw new TypeError('run(): feeds must be an object mapping input names to Tensors');
  const expected = new Map(inputs.map((v) => [v.name, v]));
  const given = (name: string) => (Object.hasOwn(feeds, name) ? feeds[name] : undefined);
  for (const name of Object.keys(feeds)) {
    if (!expected.has(name)) {
      throw new Error(`run(): unknown input '${name}'; the model's inputs are ${inputs.map((v) => `'${v.name}'`).join(', ')}`);
    }
  }
  const symbols = new Map<string, { size: number; from: string }>();
  const out = new Map<string, Value>();
  for (const info of inputs) {
    const feed = given(info.name);
    if (feed === undefined) throw new Error(`run(): missing input '${info.name}' (${describe(info)})`);
    if (kindOf(info) !== 'tensor' || feed instanceof TensorSequence || feed instanceof OptionalValue) {
      out.set(info.name, checkValue(info, feed));
      continue;
    }
    const t = asTensor(feed, info.name);
    if (t.type !== info.dtype) throw new Error(`run(): input '${info.name}' must be ${info.dtype}, got ${t.type}`);
    if (info.shape) {
      if (t.dims.length !== info.shape.length) {
        throw new Error(`run(): input '${info.name}' must have shape ${describeShape(info)}, got [${t.dims.join(', ')}] (rank ${t.dims.length})`);
      }
      info.shape.forEach((d, i) => {
        const actual = t.dims[i]!;
        if (typeof d === 'number') {
          if (d !== actual) throw new Error(`run(): input '${info.name}' must have shape ${describeShape(info)}, got [${t.dims.join(', ')}]`);
          return;
        }
        const seen = symbols.get(d);
        if (seen && seen.size !== actual) {
          throw new Error(`run(): dimension '${d}' is ${seen.size} in input '${seen.from}' but ${actual} in input '${info.name}'`);
        }
        symbols.set(d, { size: actual, from: info.name });
      });
    }
    out.set(info.name, t);
  }
  return out;
}

/** A sequence or optional feed: its kind and element dtype must match (element shapes vary). */
function checkValue(info: ValueInfo, feed: TensorLike | Value): Value {
  if (!(feed instanceof Tensor || feed instanceof TensorSequence || feed instanceof OptionalValue)) {
    throw new TypeError(`run(): input '${info.name}' must be a ${kindOf(info)} of ${info.dtype}`);
  }
  const held = feed instanceof OptionalValue ? feed.value : feed;
  const tensors = held instanceof TensorSequence ? held.tensors : held ? [held] : [];
  tensors.forEach((t, i) => checkIntact(t, held instanceof TensorSequence ? `${info.name}[${i}]` : info.name));
  if (valueKind(feed) !== kindOf(info) || elemTypeOf(feed) !== info.dtype) {
    throw new Error(`run(): input '${info.name}' must be a ${kindOf(info)} of ${info.dtype}, got a ${describeValue(feed)}`);
  }
  return feed;
}

function asTensor(feed: TensorLike, name: string): Tensor {
  if (feed instanceof Tensor) return checkIntact(feed, name);
  if (feed && typeof feed === 'object' && isDType(feed.type) && Array.isArray(feed.dims)) {
    try {
      return new Tensor(feed.type, feed.data as Float32Array, feed.dims);
    } catch (e) {
      throw new Error(`run(): input '${name}': ${(e as Error).message}`);
    }
  }
  throw new TypeError(`run(): input '${name}' must be a Tensor with a supported type`);
}

/**
 * A Tensor's fields are readonly to TypeScript only: code can reassign `data`, `dims` or `type`
 * after the constructor checked them, and backends trust them (the WASM backend copies `size`
 * elements out of `data`). Re-checking costs O(rank) per feed, nothing per element.
 */
function checkIntact(t: Tensor, name: string): Tensor {
  const where = `run(): input '${name}'`;
  if (!isDType(t.type)) throw new Error(`${where}: unsupported tensor type ${JSON.stringify(String(t.type))}`);
  const dims: unknown = t.dims;
  if (!Array.isArray(dims)) throw new Error(`${where}: dims must be an array of sizes, got ${typeof dims}`);
  let count: number;
  try {
    count = validateDims(dims as number[], where);
  } catch (e) {
    throw new Error((e as Error).message);
  }
  const data: unknown = t.data;
  const ctor = allocData(t.type, 0).constructor as new (n: number) => unknown;
  if (!(data instanceof ctor)) {
    const got = data === null || data === undefined ? String(data) : ((data as object).constructor?.name ?? typeof data);
    throw new Error(`${where}: ${t.type} data must be a ${ctor.name}, got ${got}`);
  }
  const need = storageLength(t.type, count);
  const length = (data as { length: number }).length;
  if (length !== need) throw new Error(`${where}: ${t.type} data has ${length} elements but dims [${dims.join(', ')}] need ${need}`);
  if (t.size !== count) throw new Error(`${where}: tensor size ${String(t.size)} disagrees with dims [${dims.join(', ')}] (fields were changed after construction)`);
  return t;
}

function describeShape(v: ValueInfo): string {
  return v.shape ? `[${v.shape.join(', ')}]` : '(any shape)';
}

function describe(v: ValueInfo): string {
  return kindOf(v) === 'tensor' ? `${v.dtype} ${describeShape(v)}` : `${kindOf(v)} of ${v.dtype}`;
}
