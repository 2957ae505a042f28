// Sequence and optional ops (ONNX opset 11+ / 15+): sequences are ordered lists of tensors of one
// dtype (TensorSequence), optionals hold a tensor or a sequence or nothing (OptionalValue). These
// values never reach tensor kernels; every op here works through `evaluate`. A sequence's type
// carries its elements' dtype, and their shape where all elements agree.
import type { ValueKind, ValueType } from '../graph/ir.js';
import { kindOf } from '../graph/ir.js';
import { dtypeOfOnnxCode, type DType } from '../tensor/dtype.js';
import { allocData } from '../tensor/dtype.js';
import { toIntList } from '../tensor/convert.js';
import { sizeOfDims, type Dim, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { expectTensor, OptionalValue, TensorSequence, type Value } from '../tensor/value.js';
import { copyRun } from './layout-util.js';
import { defineOp, type InferContext } from './registry.js';
import { ALL_TYPES, INDEX_TYPES, inputType } from './util.js';

const SEQ: readonly ValueKind[] = ['sequence'];
const OPTIONALS: readonly ValueKind[] = ['optional', 'optional-sequence'];
const ANY_KIND: readonly ValueKind[] = ['tensor', 'sequence', 'optional', 'optional-sequence'];

// ---- helpers ----------------------------------------------------------------------------------

function asSequence(v: Value | undefined, where: string): TensorSequence {
  if (!(v instanceof TensorSequence)) throw new Error(`${where}: input_sequence must be a sequence`);
  return v;
}

/** The shape two tensors share: dims that differ become unknown; undefined when ranks differ or are unknown. */
function commonShape(a: Shape | undefined, b: Shape | undefined, ctx: InferContext): Shape | undefined {
  if (!a || !b || a.length !== b.length) return undefined;
  return a.map((d, i) => (d === b[i] ? d : ctx.unknownDim()));
}

function sequenceType(dtype: DType, shape: Shape | undefined): ValueType {
  return { dtype, kind: 'sequence', ...(shape ? { shape } : {}) };
}

/** A scalar position (int32 or int64), checked against [-n, n - 1], or [-n, n] when `end` may be named. */
function positionOf(t: Tensor, n: number, allowEnd: boolean, where: string): number {
  if (t.size !== 1) throw new Error(`${where}: position must be a scalar, got shape [${t.dims.join(', ')}]`);
  const p = toIntList(t)[0]!;
  const hi = allowEnd ? n : n - 1;
  if (p < -n || p > hi) throw new Error(`${where}: position ${p} is out of range [${-n}, ${hi}] for a sequence of ${n}`);
  return p < 0 ? p + n : p;
}

function checkElemType(seq: TensorSequence | ValueType, t: { type?: DType; dtype?: DType }, where: string): void {
  const want = seq instanceof TensorSequence ? seq.elemType : seq.dtype;
  const got = t.type ?? t.dtype;
  if (got !== want) throw new Error(`${where}: tensor is ${got}, the sequence holds ${want}`);
}

function normalizedAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Rows [from, from + count) along `axis`, the axis kept (count may be 0). */
function sliceAlong(t: Tensor, axis: number, from: number, count: number): Tensor {
  const outer = sizeOfDims(t.dims.slice(0, axis));
  const inner = sizeOfDims(t.dims.slice(axis + 1));
  const len = t.dims[axis]!;
  const out = allocData(t.type, outer * count * inner);
  for (let o = 0; o < outer; o++) copyRun(t.type, out, o * count * inner, t.data, (o * len + from) * inner, count * inner);
  return new Tensor(t.type, out, t.dims.map((d, i) => (i === axis ? count : d)));
}

// ---- building and reading sequences -------------------------------------------------------------

defineOp({
  name: 'SequenceEmpty',
  inputs: [],
  outputs: [{ name: 'output', kinds: SEQ }],
  attrs: { dtype: { type: 'int', default: 1 } },
  inferShape: (ctx) => [sequenceType(dtypeAttr(ctx.attrs.int('dtype'), ctx.where), undefined)],
  evaluate: (_, ctx) => [new TensorSequence(dtypeAttr(ctx.attrs.int('dtype'), ctx.where), [])],
});

function dtypeAttr(code: number, where: string): DType {
  const d = dtypeOfOnnxCode(code);
  if (!d) throw new Error(`${where}: dtype ${code} is not a type Kiln supports`);
  return d;
}

defineOp({
  name: 'SequenceConstruct',
  inputs: [{ name: 'inputs', variadic: true, types: ALL_TYPES }],
  outputs: [{ name: 'output_sequence', kinds: SEQ }],
  inferShape: (ctx) => {
    const first = inputType(ctx, 0);
    let shape = first.shape;
    ctx.inputs.forEach((t, i) => {
      if (t!.dtype !== first.dtype) throw new Error(`${ctx.where}: input ${i} is ${t!.dtype}, input 0 is ${first.dtype}`);
      shape = commonShape(shape, t!.shape, ctx);
    });
    return [sequenceType(first.dtype, shape)];
  },
  evaluate: (inputs, ctx) => {
    const tensors = inputs.map((v, i) => expectTensor(v!, `${ctx.where}: input ${i}`));
    tensors.forEach((t, i) => { if (t.type !== tensors[0]!.type) throw new Error(`${ctx.where}: input ${i} is ${t.type}, input 0 is ${tensors[0]!.type}`); });
    return [new TensorSequence(tensors[0]!.type, tensors)];
  },
});

defineOp({
  name: 'SequenceInsert',
  inputs: [{ name: 'input_sequence', kinds: SEQ }, { name: 'tensor', types: ALL_TYPES }, { name: 'position', optional: true, types: INDEX_TYPES }],
  outputs: [{ name: 'output_sequence', kinds: SEQ }],
  inferShape: (ctx) => {
    const seq = inputType(ctx, 0);
    const t = inputType(ctx, 1);
    checkElemType(seq, t, ctx.where);
    return [sequenceType(seq.dtype, commonShape(seq.shape, t.shape, ctx))];
  },
  evaluate: ([s, t, pos], ctx) => {
    const seq = asSequence(s, ctx.where);
    const tensor = expectTensor(t!, `${ctx.where}: tensor`);
    checkElemType(seq, tensor, ctx.where);
    const at = pos ? positionOf(expectTensor(pos, `${ctx.where}: position`), seq.length, true, ctx.where) : seq.length;
    return [new TensorSequence(seq.elemType, [...seq.tensors.slice(0, at), tensor, ...seq.tensors.slice(at)])];
  },
});

defineOp({
  name: 'SequenceAt',
  inputs: [{ name: 'input_sequence', kinds: SEQ }, { name: 'position', types: INDEX_TYPES }],
  outputs: [{ name: 'tensor' }],
  inferShape: (ctx) => {
    const seq = inputType(ctx, 0);
    return [{ dtype: seq.dtype, ...(seq.shape ? { shape: seq.shape } : {}) }];
  },
  evaluate: ([s, pos], ctx) => {
    const seq = asSequence(s, ctx.where);
    return [seq.tensors[positionOf(expectTensor(pos!, `${ctx.where}: position`), seq.length, false, ctx.where)]!];
  },
});

defineOp({
  name: 'SequenceErase',
  inputs: [{ name: 'input_sequence', kinds: SEQ }, { name: 'position', optional: true, types: INDEX_TYPES }],
  outputs: [{ name: 'output_sequence', kinds: SEQ }],
  inferShape: (ctx) => [{ ...inputType(ctx, 0) }],
  evaluate: ([s, pos], ctx) => {
    const seq = asSequence(s, ctx.where);
    if (seq.length === 0) throw new Error(`${ctx.where}: cannot erase from an empty sequence`);
    const at = pos ? positionOf(expectTensor(pos, `${ctx.where}: position`), seq.length, false, ctx.where) : seq.length - 1;
    return [new TensorSequence(seq.elemType, seq.tensors.filter((_, i) => i !== at))];
  },
});

defineOp({
  name: 'SequenceLength',
  inputs: [{ name: 'input_sequence', kinds: SEQ }],
  outputs: [{ name: 'length' }],
  inferShape: () => [{ dtype: 'int64', shape: [] }],
  evaluate: ([s], ctx) => [new Tensor('int64', BigInt64Array.of(BigInt(asSequence(s, ctx.where).length)), [])],
});

// ---- tensors <-> sequences ----------------------------------------------------------------------

defineOp({
  name: 'SplitToSequence',
  inputs: [{ name: 'input', types: ALL_TYPES }, { name: 'split', optional: true, types: INDEX_TYPES }],
  outputs: [{ name: 'output_sequence', kinds: SEQ }],
  attrs: { axis: { type: 'int', default: 0 }, keepdims: { type: 'int', default: 1 } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [sequenceType(x.dtype, undefined)];
    const axis = normalizedAxis(ctx.attrs.int('axis'), x.shape.length, ctx.where);
    const split = ctx.inputs[1];
    if (!split) {
      // Pieces of one along the axis, which keepdims=0 then drops.
      const shape = ctx.attrs.int('keepdims') ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
      return [sequenceType(x.dtype, shape)];
    }
    const sizes = ctx.constant(1) ? toIntList(ctx.constant(1)!) : undefined;
    const len: Dim = sizes && new Set(sizes).size === 1 && (split.shape?.length ?? 0) === 1 ? sizes[0]! : ctx.unknownDim();
    return [sequenceType(x.dtype, x.shape.map((d, i) => (i === axis ? len : d)))];
  },
  evaluate: ([xv, splitV], ctx) => {
    const x = expectTensor(xv!, `${ctx.where}: input`);
    if (x.dims.length === 0) throw new Error(`${ctx.where}: input must have at least one dimension`);
    const axis = normalizedAxis(ctx.attrs.int('axis'), x.dims.length, ctx.where);
    const dim = x.dims[axis]!;
    let lengths: number[];
    if (!splitV) {
      lengths = new Array<number>(dim).fill(1);
    } else {
      const split = expectTensor(splitV, `${ctx.where}: split`);
      const values = toIntList(split);
      if (split.dims.length === 0) {
        const size = values[0]!;
        if (size <= 0) throw new Error(`${ctx.where}: split size must be positive, got ${size}`);
        // Equal pieces of `size`; the last one takes what is left.
        lengths = Array.from({ length: Math.ceil(dim / size) }, (_, i) => Math.min(size, dim - i * size));
      } else {
        if (split.dims.length !== 1) throw new Error(`${ctx.where}: split must be a scalar or 1-D, got rank ${split.dims.length}`);
        if (values.some((v) => v < 0)) throw new Error(`${ctx.where}: split lengths must not be negative, got [${values.join(', ')}]`);
        const sum = values.reduce((a, b) => a + b, 0);
        if (sum !== dim) throw new Error(`${ctx.where}: split lengths sum to ${sum}, the axis has ${dim}`);
        lengths = values;
      }
    }
    const squeeze = !splitV && ctx.attrs.int('keepdims') === 0;
    let from = 0;
    const parts = lengths.map((n) => {
      const part = sliceAlong(x, axis, from, n);
      from += n;
      return squeeze ? new Tensor(part.type, part.data, part.dims.filter((_, i) => i !== axis)) : part;
    });
    return [new TensorSequence(x.type, parts)];
  },
});

defineOp({
  name: 'ConcatFromSequence',
  inputs: [{ name: 'input_sequence', kinds: SEQ }],
  outputs: [{ name: 'concat_result' }],
  attrs: { axis: { type: 'int', required: true }, new_axis: { type: 'int', default: 0 } },
  inferShape: (ctx) => {
    const seq = inputType(ctx, 0);
    if (!seq.shape) return [{ dtype: seq.dtype }];
    const stack = ctx.attrs.int('new_axis') === 1;
    const axis = normalizedAxis(ctx.attrs.int('axis'), seq.shape.length + (stack ? 1 : 0), ctx.where);
    const shape: Dim[] = [...seq.shape];
    if (stack) shape.splice(axis, 0, ctx.unknownDim());
    else shape[axis] = ctx.unknownDim();
    return [{ dtype: seq.dtype, shape }];
  },
  evaluate: ([s], ctx) => {
    const seq = asSequence(s, ctx.where);
    if (seq.length === 0) throw new Error(`${ctx.where}: cannot concatenate an empty sequence`);
    const stack = ctx.attrs.int('new_axis') === 1;
    const first = seq.tensors[0]!;
    const rank = first.dims.length;
    const axis = normalizedAxis(ctx.attrs.int('axis'), rank + (stack ? 1 : 0), ctx.where);
    // Stacking is concatenation of the elements each given a new axis of one.
    const parts = seq.tensors.map((t) => (stack ? new Tensor(t.type, t.data, [...t.dims.slice(0, axis), 1, ...t.dims.slice(axis)]) : t));
    const dims = parts[0]!.dims;
    parts.forEach((p, i) => {
      if (p.dims.length !== dims.length || p.dims.some((d, k) => k !== axis && d !== dims[k])) {
        throw new Error(`${ctx.where}: element ${i} has shape [${seq.tensors[i]!.dims.join(', ')}], which does not line up with element 0's [${first.dims.join(', ')}]`);
      }
    });
    const total = parts.reduce((a, p) => a + p.dims[axis]!, 0);
    const outer = sizeOfDims(dims.slice(0, axis));
    const inner = sizeOfDims(dims.slice(axis + 1));
    const out = allocData(first.type, outer * total * inner);
    let offset = 0;
    for (const p of parts) {
      const n = p.dims[axis]! * inner;
      for (let o = 0; o < outer; o++) copyRun(first.type, out, o * total * inner + offset, p.data, o * n, n);
      offset += n;
    }
    return [new Tensor(first.type, out, dims.map((d, i) => (i === axis ? total : d)))];
  },
});

// ---- SequenceMap --------------------------------------------------------------------------------

defineOp({
  name: 'SequenceMap',
  inputs: [{ name: 'input_sequence', kinds: SEQ }, { name: 'additional_inputs', optional: true, variadic: true, kinds: ['tensor', 'sequence'] }],
  outputs: [{ name: 'out_sequence', variadic: true, kinds: SEQ }],
  attrs: { body: { type: 'graph', required: true } },
  inferShape: (ctx) => {
    const body = ctx.attrs.graph('body');
    if (body.inputs.length !== ctx.inputs.length) throw new Error(`${ctx.where}: body takes ${body.inputs.length} inputs, the node gives ${ctx.inputs.length}`);
    if (body.outputs.length !== ctx.outputCount) throw new Error(`${ctx.where}: body returns ${body.outputs.length} values, the node names ${ctx.outputCount}`);
    // Sequences hand the body one element at a time; tensors go in whole.
    const elems = ctx.inputs.map((t): ValueType => (kindOf(t!) === 'sequence' ? { dtype: t!.dtype, ...(t!.shape ? { shape: t!.shape } : {}) } : t!));
    return ctx.inferSubgraph(body, elems).map((t, k) => {
      if (kindOf(t) !== 'tensor') throw new Error(`${ctx.where}: body output ${k} must be a tensor`);
      return sequenceType(t.dtype, t.shape);
    });
  },
  evaluate: (inputs, ctx) => {
    const body = ctx.attrs.graph('body');
    const n = asSequence(inputs[0], ctx.where).length;
    inputs.forEach((v, i) => {
      if (v instanceof TensorSequence && v.length !== n) throw new Error(`${ctx.where}: input ${i} holds ${v.length} tensors, input_sequence ${n}`);
    });
    const results: Tensor[][] = body.outputs.map(() => []);
    for (let i = 0; i < n; i++) {
      const args = inputs.map((v) => (v instanceof TensorSequence ? v.tensors[i]! : v!));
      ctx.runSubgraph(body, args).forEach((o, k) => results[k]!.push(expectTensor(o, `${ctx.where}: body output ${k}`)));
    }
    return results.map((list, k) => {
      const declared = body.outputs[k]!;
      if (list.length === 0 && declared.untyped) throw new Error(`${ctx.where}: body output ${k} has no declared type, so an empty input gives no dtype`);
      return new TensorSequence(list[0]?.type ?? declared.dtype, list);
    });
  },
});

// ---- optionals ----------------------------------------------------------------------------------

/** Parses the importer's type strings: 'tensor(float32)', 'seq(tensor(int64))'. */
function parseTypeAttr(s: string, where: string): { dtype: DType; sequence: boolean } {
  const m = /^(seq\()?tensor\(([a-z0-9]+)\)\)?$/.exec(s);
  if (!m || !!m[1] !== s.endsWith('))')) throw new Error(`${where}: type '${s}' must be tensor(<dtype>) or seq(tensor(<dtype>))`);
  const dtype = m[2] as DType;
  if (!(ALL_TYPES as readonly string[]).includes(dtype)) throw new Error(`${where}: type '${s}' names an unsupported dtype`);
  return { dtype, sequence: !!m[1] };
}

defineOp({
  name: 'Optional',
  inputs: [{ name: 'input', optional: true, kinds: ['tensor', 'sequence'] }],
  outputs: [{ name: 'output', kinds: OPTIONALS }],
  attrs: { type: { type: 'string' } },
  inferShape: (ctx) => {
    const t = ctx.inputs[0];
    if (t) return [{ dtype: t.dtype, kind: kindOf(t) === 'sequence' ? 'optional-sequence' : 'optional', ...(t.shape ? { shape: t.shape } : {}) }];
    if (!ctx.attrs.has('type')) throw new Error(`${ctx.where}: an Optional without input needs the type attribute`);
    const { dtype, sequence } = parseTypeAttr(ctx.attrs.string('type'), ctx.where);
    return [{ dtype, kind: sequence ? 'optional-sequence' : 'optional' }];
  },
  evaluate: ([v], ctx) => {
    if (v) return [OptionalValue.of(v as Tensor | TensorSequence)];
    const { dtype, sequence } = parseTypeAttr(ctx.attrs.string('type'), ctx.where);
    return [new OptionalValue(undefined, dtype, sequence)];
  },
});

defineOp({
  name: 'OptionalHasElement',
  // Opset 18 also takes a plain tensor or sequence (always present) and no input at all (never).
  inputs: [{ name: 'input', optional: true, kinds: ANY_KIND }],
  outputs: [{ name: 'output' }],
  inferShape: () => [{ dtype: 'bool', shape: [] }],
  evaluate: ([v]) => {
    const has = v instanceof OptionalValue ? v.value !== undefined : v !== undefined;
    return [new Tensor('bool', Uint8Array.of(has ? 1 : 0), [])];
  },
});

defineOp({
  name: 'OptionalGetElement',
  inputs: [{ name: 'input', kinds: ANY_KIND }],
  outputs: [{ name: 'output', kinds: ['tensor', 'sequence'] }],
  inferShape: (ctx) => {
    const t = inputType(ctx, 0);
    const kind = kindOf(t);
    const shape = t.shape ? { shape: t.shape } : {};
    if (kind === 'optional') return [{ dtype: t.dtype, ...shape }];
    if (kind === 'optional-sequence') return [{ dtype: t.dtype, kind: 'sequence', ...shape }];
    return [{ ...t }];
  },
  evaluate: ([v], ctx) => {
    if (!(v instanceof OptionalValue)) return [v!];
    if (!v.value) throw new Error(`${ctx.where}: the optional is empty`);
    return [v.value];
  },
});
