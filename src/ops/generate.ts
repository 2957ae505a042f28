// Generator ops: Constant, ConstantOfShape, Range, EyeLike, OneHot. They create tensors from
// attributes or from a shape rather than transforming their inputs' elements.
import type { ValueType } from '../graph/ir.js';
import type { DType, TensorData } from '../tensor/dtype.js';
import { allocData, dtypeOfOnnxCode } from '../tensor/dtype.js';
import { fromNumbers, scalarOf, toIntList, toNumbers } from '../tensor/convert.js';
import { MAX_ELEMENTS, validateDims, type Dim } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Attrs } from './attrs.js';
import { axisIn, constInts, elementAt, filled, knownLength, takeElements } from './layout-util.js';
import { defineOp } from './registry.js';
import { ALL_TYPES, FLOAT_TYPES, INDEX_TYPES, inputType, NUMERIC_TYPES, sameDType } from './util.js';

// ---- Constant ----

const CONSTANT_ATTRS = ['value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings'];

/** The one value attribute a Constant node carries, as a tensor. */
function constantValue(attrs: Attrs, where: string): Tensor {
  const given = CONSTANT_ATTRS.filter((a) => attrs.has(a));
  if (given.length !== 1) {
    throw new Error(`${where}: exactly one of ${CONSTANT_ATTRS.join(', ')} must be set, got ${given.length ? given.join(', ') : 'none'}`);
  }
  switch (given[0]) {
    case 'value': return attrs.tensor('value');
    case 'value_float': return new Tensor('float32', Float32Array.of(attrs.float('value_float')), []);
    case 'value_floats': {
      const v = attrs.floats('value_floats');
      return new Tensor('float32', Float32Array.from(v), [v.length]);
    }
    case 'value_int': return new Tensor('int64', BigInt64Array.of(BigInt(attrs.int('value_int'))), []);
    case 'value_ints': {
      const v = attrs.ints('value_ints');
      return new Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), [v.length]);
    }
    default: throw new Error(`${where}: string constants are not supported (Kiln tensors hold numbers only)`);
  }
}

defineOp({
  name: 'Constant',
  inputs: [],
  outputs: [{ name: 'output' }],
  attrs: {
    value: { type: 'tensor' },
    value_float: { type: 'float' },
    value_floats: { type: 'floats' },
    value_int: { type: 'int' },
    value_ints: { type: 'ints' },
    value_string: { type: 'string' },
    value_strings: { type: 'strings' },
  },
  inferShape: (ctx) => {
    const v = constantValue(ctx.attrs, ctx.where);
    return [{ dtype: v.type, shape: [...v.dims] }];
  },
  reference: (_, ctx) => {
    const v = constantValue(ctx.attrs, ctx.where);
    // Copy so callers that write into outputs cannot corrupt the node's attribute.
    const out = new Tensor(v.type, v.data.slice() as TensorData, v.dims);
    if (v.quant) out.quant = v.quant;
    return [out];
  },
});

// ---- ConstantOfShape ----

function fillValue(attrs: Attrs, where: string): Tensor {
  const v = attrs.optTensor('value') ?? new Tensor('float32', new Float32Array(1), [1]);
  if (v.size !== 1) throw new Error(`${where}: attribute 'value' must hold exactly one element, got ${v.size}`);
  return v;
}

function checkShape(dims: number[], where: string): number[] {
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${where}: shape [${dims.join(', ')}] has negative dims`);
  // The shape is data (often a file's constant): bound its element count before allocating.
  validateDims(dims, `${where}: output`);
  return dims;
}

defineOp({
  name: 'ConstantOfShape',
  inputs: [{ name: 'input', types: INDEX_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { value: { type: 'tensor' } },
  inferShape: (ctx) => {
    const dtype = fillValue(ctx.attrs, ctx.where).type;
    const dims = constInts(ctx, 0);
    if (dims) return [{ dtype, shape: checkShape(dims, ctx.where) }];
    const n = knownLength(ctx, 0);
    return [{ dtype, shape: n === undefined ? undefined : Array.from({ length: n }, () => ctx.unknownDim()) }];
  },
  reference: ([shape], ctx) => {
    const v = fillValue(ctx.attrs, ctx.where);
    if (shape!.dims.length > 1) throw new Error(`${ctx.where}: shape input must be 1-D, got rank ${shape!.dims.length}`);
    return [filled(v.type, checkShape(toIntList(shape!), ctx.where), elementAt(v, 0))];
  },
});

// ---- Range ----

const RANGE_TYPES: readonly DType[] = [...FLOAT_TYPES, 'int16', 'int32', 'int64', 'int8', 'uint8'];

function rangeScalar(t: Tensor, name: string, where: string): void {
  if (t.size !== 1) throw new Error(`${where}: '${name}' must be a scalar, got [${t.dims.join(', ')}]`);
}

/** Range's element count: max(ceil((limit - start) / delta), 0); int64 stays in BigInt to remain exact. */
function rangeCount(start: Tensor, limit: Tensor, delta: Tensor, where: string): number {
  if (start.type === 'int64') {
    const [s, l, d] = [start, limit, delta].map((t) => (t.data as BigInt64Array)[0]!) as [bigint, bigint, bigint];
    if (d === 0n) throw new Error(`${where}: delta may not be 0`);
    const span = l - s;
    // Ceiling division for either sign of delta.
    let q = span / d;
    if (q * d !== span && (span > 0n) === (d > 0n)) q += 1n;
    return checkRangeCount(q > 0n ? Number(q) : 0, where);
  }
  const [s, l, d] = [start, limit, delta].map((t) => scalarOf(t)) as [number, number, number];
  if (d === 0) throw new Error(`${where}: delta may not be 0`);
  if (![s, l, d].every(Number.isFinite)) throw new Error(`${where}: start, limit and delta must be finite, got ${s}, ${l}, ${d}`);
  return checkRangeCount(Math.max(Math.ceil((l - s) / d), 0), where);
}

/** The count comes from the values: a span of 2^60 steps is refused, not allocated. */
function checkRangeCount(n: number, where: string): number {
  if (n > MAX_ELEMENTS) throw new Error(`${where}: ${n} elements exceeds the limit of ${MAX_ELEMENTS}`);
  return n;
}

defineOp({
  name: 'Range',
  inputs: [{ name: 'start', types: RANGE_TYPES }, { name: 'limit', types: RANGE_TYPES }, { name: 'delta', types: RANGE_TYPES }],
  outputs: [{ name: 'output' }],
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1, 2]);
    const [s, l, d] = [ctx.constant(0), ctx.constant(1), ctx.constant(2)];
    const n: Dim = s && l && d ? rangeCount(s, l, d, ctx.where) : ctx.unknownDim();
    return [{ dtype, shape: [n] }];
  },
  reference: ([start, limit, delta], ctx) => {
    const names = ['start', 'limit', 'delta'];
    [start, limit, delta].forEach((t, i) => {
      rangeScalar(t!, names[i]!, ctx.where);
      if (t!.type !== start!.type) throw new Error(`${ctx.where}: '${names[i]}' has dtype ${t!.type} but start has ${start!.type}`);
    });
    const n = rangeCount(start!, limit!, delta!, ctx.where);
    if (start!.type === 'int64') {
      const s = (start!.data as BigInt64Array)[0]!;
      const d = (delta!.data as BigInt64Array)[0]!;
      const out = new BigInt64Array(n);
      for (let i = 0, v = s; i < n; i++, v += d) out[i] = v;
      return [new Tensor('int64', out, [n])];
    }
    const s = scalarOf(start!);
    const d = scalarOf(delta!);
    // Plain loops straight into the output where its array holds plain numbers: values can ask
    // for 10^9 elements, and a float64 staging copy (or Array.from's callback) triples the cost.
    const type = start!.type;
    if (type === 'float32' || type === 'float64' || type === 'int32' || type === 'int16' || type === 'int8' || type === 'uint8') {
      const out = allocData(type, n) as Float32Array;
      for (let i = 0; i < n; i++) out[i] = s + i * d;
      return [new Tensor(type, out, [n])];
    }
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = s + i * d;
    return [fromNumbers(type, values, [n])];
  },
});

// ---- EyeLike ----

function dtypeAttr(attrs: Attrs, name: string, fallback: DType, where: string): DType {
  if (!attrs.has(name)) return fallback;
  const code = attrs.int(name);
  const d = dtypeOfOnnxCode(code);
  if (!d) throw new Error(`${where}: ${name} ${code} is not a dtype Kiln supports`);
  return d;
}

defineOp({
  name: 'EyeLike',
  inputs: [{ name: 'input', types: ALL_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { dtype: { type: 'int' }, k: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (x.shape && x.shape.length !== 2) throw new Error(`${ctx.where}: input must be 2-D, got rank ${x.shape.length}`);
    return [{ dtype: dtypeAttr(ctx.attrs, 'dtype', x.dtype, ctx.where), shape: x.shape ?? [ctx.unknownDim(), ctx.unknownDim()] }];
  },
  reference: ([x], ctx) => {
    if (x!.dims.length !== 2) throw new Error(`${ctx.where}: input must be 2-D, got rank ${x!.dims.length}`);
    const [rows, cols] = x!.dims as [number, number];
    const k = ctx.attrs.int('k');
    const v = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const c = r + k;
      if (c >= 0 && c < cols) v[r * cols + c] = 1;
    }
    return [fromNumbers(dtypeAttr(ctx.attrs, 'dtype', x!.type, ctx.where), v, [rows, cols])];
  },
});

// ---- OneHot ----

function oneHotDepth(t: Tensor, where: string): number {
  if (t.size !== 1) throw new Error(`${where}: depth must be a scalar, got [${t.dims.join(', ')}]`);
  const d = Math.trunc(scalarOf(t));
  if (!(d >= 1)) throw new Error(`${where}: depth must be positive, got ${d}`);
  if (d > MAX_ELEMENTS) throw new Error(`${where}: depth ${d} exceeds the limit of ${MAX_ELEMENTS}`);
  return d;
}

defineOp({
  name: 'OneHot',
  inputs: [{ name: 'indices', types: NUMERIC_TYPES }, { name: 'depth', types: NUMERIC_TYPES }, { name: 'values', types: ALL_TYPES }],
  outputs: [{ name: 'output' }],
  attrs: { axis: { type: 'int', default: -1 } },
  inferShape: (ctx): ValueType[] => {
    const ind = inputType(ctx, 0).shape;
    const dtype = inputType(ctx, 2).dtype;
    if (!ind) return [{ dtype }];
    const depthT = ctx.constant(1);
    const depth: Dim = depthT ? oneHotDepth(depthT, ctx.where) : ctx.unknownDim();
    const axis = axisIn(ctx.attrs.int('axis'), ind.length + 1, ctx.where);
    return [{ dtype, shape: [...ind.slice(0, axis), depth, ...ind.slice(axis)] }];
  },
  reference: ([indices, depthT, values], ctx) => {
    if (values!.size !== 2) throw new Error(`${ctx.where}: values must hold [off_value, on_value], got ${values!.size} elements`);
    const depth = oneHotDepth(depthT!, ctx.where);
    const iDims = indices!.dims;
    const axis = axisIn(ctx.attrs.int('axis'), iDims.length + 1, ctx.where);
    const outer = iDims.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = iDims.slice(axis).reduce((a, b) => a * b, 1);
    const idx = toNumbers(indices!);
    // Each output element picks values[0] (off) or values[1] (on); out-of-range indices stay all off.
    validateDims([...iDims, depth], `${ctx.where}: output`);
    const map = new Int32Array(outer * depth * inner);
    for (let b = 0; b < outer; b++) {
      for (let j = 0; j < inner; j++) {
        // Non-integer indices match no position (as in the reference and onnxruntime).
        let v = idx[b * inner + j]!;
        if (v < 0) v += depth;
        if (Number.isInteger(v) && v >= 0 && v < depth) map[(b * depth + v) * inner + j] = 1;
      }
    }
    const flat = values!.dims.length === 1 ? values! : new Tensor(values!.type, values!.data, [2]);
    return [takeElements(flat, map, [...iDims.slice(0, axis), depth, ...iDims.slice(axis)])];
  },
});
