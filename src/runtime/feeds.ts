// Checking user feeds against the graph's declared inputs, with messages a web developer can act on.
import { kindOf, type ValueInfo } from '../graph/ir.js';
import { isDType } from '../tensor/dtype.js';
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
  for (const name of Object.keys(feeds)) {
    if (!expected.has(name)) {
      throw new Error(`run(): unknown input '${name}'; the model's inputs are ${inputs.map((v) => `'${v.name}'`).join(', ')}`);
    }
  }
  const symbols = new Map<string, { size: number; from: string }>();
  const out = new Map<string, Value>();
  for (const info of inputs) {
    const feed = feeds[info.name];
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
  if (valueKind(feed) !== kindOf(info) || elemTypeOf(feed) !== info.dtype) {
    throw new Error(`run(): input '${info.name}' must be a ${kindOf(info)} of ${info.dtype}, got a ${describeValue(feed)}`);
  }
  return feed;
}

function asTensor(feed: TensorLike, name: string): Tensor {
  if (feed instanceof Tensor) return feed;
  if (feed && typeof feed === 'object' && isDType(feed.type) && Array.isArray(feed.dims)) {
    try {
      return new Tensor(feed.type, feed.data as Float32Array, feed.dims);
    } catch (e) {
      throw new Error(`run(): input '${name}': ${(e as Error).message}`);
    }
  }
  throw new TypeError(`run(): input '${name}' must be a Tensor with a supported type`);
}

function describeShape(v: ValueInfo): string {
  return v.shape ? `[${v.shape.join(', ')}]` : '(any shape)';
}

function describe(v: ValueInfo): string {
  return kindOf(v) === 'tensor' ? `${v.dtype} ${describeShape(v)}` : `${kindOf(v)} of ${v.dtype}`;
}
