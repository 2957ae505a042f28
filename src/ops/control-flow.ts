// Control flow: If, Loop and Scan run subgraphs (attributes of type 'graph') through the kernel
// context's runSubgraph, which the executing interpreter provides with the scope around the node,
// so bodies can read outer values by name. Shape inference types the bodies the same way
// (ctx.inferSubgraph); sizes known only at run time (trip counts) become unknown dims.
import { kindOf, type Graph, type ValueKind, type ValueType } from '../graph/ir.js';
import type { DType } from '../tensor/dtype.js';
import { allocData } from '../tensor/dtype.js';
import { sizeOfDims, type Dim, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { expectTensor, type Value } from '../tensor/value.js';
import { copyRun } from './layout-util.js';
import { defineOp, type InferContext } from './registry.js';

// ---- helpers ----------------------------------------------------------------------------------

/** The single boolean of a condition tensor (ONNX allows any single-element shape). */
function truthOf(t: Tensor, what: string, where: string): boolean {
  if (t.size !== 1) throw new Error(`${where}: ${what} must hold exactly one element, got shape [${t.dims.join(', ')}]`);
  return (t.data as Uint8Array)[0] !== 0;
}

/** Values of every kind pass through If and Loop (sequences and optionals included). */
const ANY_KIND: readonly ValueKind[] = ['tensor', 'sequence', 'optional', 'optional-sequence'];

/** What an optional kind holds. */
const OPTIONAL_HOLDS: Partial<Record<ValueKind, ValueKind>> = { optional: 'tensor', 'optional-sequence': 'sequence' };

/** One type that covers both: dims that differ become unknown, and so does the rank when that differs. */
function unionType(a: ValueType, b: ValueType, ctx: InferContext, what: string): ValueType {
  if (a.dtype !== b.dtype) throw new Error(`${ctx.where}: ${what} is ${a.dtype} in one case and ${b.dtype} in the other`);
  if (kindOf(a) !== kindOf(b)) throw new Error(`${ctx.where}: ${what} is a ${kindOf(a)} in one case and a ${kindOf(b)} in the other`);
  const kind = a.kind ? { kind: a.kind } : {};
  if (!a.shape || !b.shape || a.shape.length !== b.shape.length) return { dtype: a.dtype, ...kind };
  return { dtype: a.dtype, shape: a.shape.map((d, i) => (d === b.shape![i] ? d : ctx.unknownDim())), ...kind };
}

/** Slice `index` along `axis` (the axis dropped). */
function sliceAt(t: Tensor, axis: number, index: number): Tensor {
  const dims = t.dims;
  const outer = sizeOfDims(dims.slice(0, axis));
  const inner = sizeOfDims(dims.slice(axis + 1));
  const len = dims[axis]!;
  const out = allocData(t.type, outer * inner);
  for (let o = 0; o < outer; o++) copyRun(t.type, out, o * inner, t.data, (o * len + index) * inner, inner);
  return new Tensor(t.type, out, [...dims.slice(0, axis), ...dims.slice(axis + 1)]);
}

/** Stacks equally shaped parts along a new axis `axis`. `dims` is the part shape when there are no parts. */
function stackAt(parts: readonly Tensor[], axis: number, dtype: DType, dims: readonly number[], what: string, where: string): Tensor {
  for (const p of parts) {
    if (p.type !== dtype) throw new Error(`${where}: ${what} is ${p.type} in one iteration and ${dtype} in another`);
    if (p.dims.join(',') !== dims.join(',')) {
      throw new Error(`${where}: ${what} has shape [${p.dims.join(', ')}] in one iteration and [${dims.join(', ')}] in another`);
    }
  }
  const outer = sizeOfDims(dims.slice(0, axis));
  const inner = sizeOfDims(dims.slice(axis));
  const n = parts.length;
  const out = allocData(dtype, outer * n * inner);
  parts.forEach((p, k) => {
    for (let o = 0; o < outer; o++) copyRun(dtype, out, (o * n + k) * inner, p.data, o * inner, inner);
  });
  return new Tensor(dtype, out, [...dims.slice(0, axis), n, ...dims.slice(axis)]);
}

/** The concrete declared shape of a subgraph output, for stacking zero iterations; else undefined. */
function declaredDims(g: Graph, i: number): number[] | undefined {
  const v = g.outputs[i]!;
  return !v.untyped && v.shape?.every((d): d is number => typeof d === 'number') ? [...v.shape] : undefined;
}

function requireOutputs(g: Graph, n: number, what: string, where: string): void {
  if (g.outputs.length !== n) throw new Error(`${where}: ${what} must have ${n} outputs, has ${g.outputs.length}`);
}

// ---- If ---------------------------------------------------------------------------------------

defineOp({
  name: 'If',
  inputs: [{ name: 'cond', types: ['bool'] }],
  outputs: [{ name: 'outputs', variadic: true, kinds: ANY_KIND }],
  attrs: { then_branch: { type: 'graph', required: true }, else_branch: { type: 'graph', required: true } },
  inferShape: (ctx) => {
    const thenG = ctx.attrs.graph('then_branch');
    const elseG = ctx.attrs.graph('else_branch');
    for (const [g, w] of [[thenG, 'then_branch'], [elseG, 'else_branch']] as const) {
      if (g.inputs.length) throw new Error(`${ctx.where}: ${w} must take no inputs, takes ${g.inputs.length}`);
      requireOutputs(g, ctx.outputCount, w, ctx.where);
    }
    const cond = ctx.constant(0);
    if (cond) return ctx.inferSubgraph(truthOf(cond, 'cond', ctx.where) ? thenG : elseG, []);
    // Branches are often valid only under their condition (a Split sized for one rank, say): a
    // branch that fails to type cannot be the one that runs, so the other one's types stand.
    const attempt = (g: Graph) => {
      try {
        return { types: ctx.inferSubgraph(g, []) };
      } catch (e) {
        return { error: e as Error };
      }
    };
    const a = attempt(thenG), b = attempt(elseG);
    if (a.types && b.types) return a.types.map((t, i) => unionType(t, b.types[i]!, ctx, `output ${i}`));
    if (a.types) return a.types;
    if (b.types) return b.types;
    throw a.error!;
  },
  evaluate: ([cond], ctx) => {
    const g = ctx.attrs.graph(truthOf(cond as Tensor, 'cond', ctx.where) ? 'then_branch' : 'else_branch');
    return ctx.runSubgraph(g, []);
  },
});

// ---- Loop -------------------------------------------------------------------------------------

const SCALAR_I64: ValueType = { dtype: 'int64', shape: [] };
const SCALAR_BOOL: ValueType = { dtype: 'bool', shape: [] };

/** N loop-carried values and K scan outputs of a Loop node. */
function loopCounts(body: Graph, inputCount: number, where: string): { N: number; K: number } {
  const N = Math.max(0, inputCount - 2);
  if (body.inputs.length !== N + 2) {
    throw new Error(`${where}: body must take ${N + 2} inputs (iteration number, condition and ${N} loop-carried values), takes ${body.inputs.length}`);
  }
  const K = body.outputs.length - 1 - N;
  if (K < 0) throw new Error(`${where}: body must return the condition and ${N} loop-carried values, returns ${body.outputs.length} values`);
  return { N, K };
}

defineOp({
  name: 'Loop',
  inputs: [
    { name: 'M', optional: true, types: ['int64'] },
    { name: 'cond', optional: true, types: ['bool'] },
    { name: 'v_initial', optional: true, variadic: true, kinds: ANY_KIND },
  ],
  outputs: [{ name: 'v_final_and_scan_outputs', variadic: true, kinds: ANY_KIND }],
  attrs: { body: { type: 'graph', required: true } },
  inferShape: (ctx) => {
    const body = ctx.attrs.graph('body');
    const { N, K } = loopCounts(body, ctx.inputs.length, ctx.where);
    if (ctx.outputCount > N + K) throw new Error(`${ctx.where}: names ${ctx.outputCount} outputs, the body gives ${N} loop-carried values and ${K} scan outputs`);
    // M and cond hold one element; their declared shapes can show otherwise before any run.
    (['M', 'cond'] as const).forEach((what, i) => {
      const dims = ctx.inputs[i]?.shape;
      if (dims && dims.every((d) => typeof d === 'number') && (dims as number[]).reduce((a, b) => a * b, 1) !== 1) {
        throw new Error(`${ctx.where}: ${what} must hold exactly one element, got shape [${dims.join(', ')}]`);
      }
    });
    const carried = ctx.inputs.slice(2);
    carried.forEach((t, i) => { if (!t) throw new Error(`${ctx.where}: loop-carried input ${i} is missing`); });
    const outs = ctx.inferSubgraph(body, [SCALAR_I64, SCALAR_BOOL, ...carried]);
    if (outs[0]!.dtype !== 'bool') throw new Error(`${ctx.where}: body condition output must be bool, got ${outs[0]!.dtype}`);
    // Loop-carried values may change shape between iterations: keep what the first and the
    // next iteration agree on. Scan outputs gain a leading dim of the (run-time) trip count.
    const final = carried.map((t, i) => {
      const out = outs[1 + i]!;
      // An optional loop-carried value may come back as the value it holds (opset 16): the
      // body's type is then what the Loop ends with.
      const held = OPTIONAL_HOLDS[kindOf(t!)];
      const start: ValueType = held && held === kindOf(out) ? { dtype: t!.dtype, ...(t!.shape ? { shape: t!.shape } : {}), ...(out.kind ? { kind: out.kind } : {}) } : t!;
      return unionType(start, out, ctx, `loop-carried value ${i}`);
    });
    const scans = outs.slice(1 + N).map((t, k): ValueType => {
      if (kindOf(t) !== 'tensor') throw new Error(`${ctx.where}: scan output ${k} must be a tensor, the body gives a ${kindOf(t)}`);
      return t.shape ? { dtype: t.dtype, shape: [ctx.unknownDim(), ...t.shape] } : { dtype: t.dtype };
    });
    return [...final, ...scans].slice(0, ctx.outputCount);
  },
  evaluate: (inputs, ctx) => {
    const body = ctx.attrs.graph('body');
    const { N, K } = loopCounts(body, inputs.length, ctx.where);
    const [mT, condT] = inputs as readonly (Tensor | undefined)[];
    // Both optional: an absent trip count is unbounded, an absent condition starts true. As in
    // onnxruntime and the ONNX reference, the body's condition output always decides the next trip.
    const maxTrips = mT ? tripCount(mT, ctx.where) : Infinity;
    let cond = condT ? truthOf(condT, 'cond', ctx.where) : true;
    let carried: Value[] = inputs.slice(2).map((t, i) => {
      if (!t) throw new Error(`${ctx.where}: loop-carried input ${i} is missing`);
      return t;
    });
    const scans: Tensor[][] = Array.from({ length: K }, () => []);
    let trip = 0;
    for (; trip < maxTrips && cond; trip++) {
      const iter = new Tensor('int64', BigInt64Array.of(BigInt(trip)), []);
      const condIn = new Tensor('bool', Uint8Array.of(cond ? 1 : 0), []);
      const outs = ctx.runSubgraph(body, [iter, condIn, ...carried]);
      cond = truthOf(expectTensor(outs[0]!, `${ctx.where}: the body condition`), 'the body condition output', ctx.where);
      carried = outs.slice(1, 1 + N);
      outs.slice(1 + N).forEach((t, k) => scans[k]!.push(expectTensor(t, `${ctx.where}: scan output ${k}`)));
    }
    const stacked = scans.map((parts, k) => {
      const first = parts[0];
      // With no iteration the per-iteration shape is only known when the body declares it.
      const dims = first?.dims ?? declaredDims(body, 1 + N + k) ?? [];
      const dtype = first?.type ?? body.outputs[1 + N + k]!.dtype;
      return stackAt(parts, 0, dtype, dims, `scan output ${k}`, ctx.where);
    });
    return [...carried, ...stacked];
  },
});

/** The trip count M as a number (negative counts run no iteration). */
function tripCount(m: Tensor, where: string): number {
  if (m.size !== 1) throw new Error(`${where}: M must hold exactly one element, got shape [${m.dims.join(', ')}]`);
  const v = (m.data as BigInt64Array)[0]!;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Math.max(0, Number(v));
}

// ---- Scan -------------------------------------------------------------------------------------

interface ScanPlan {
  body: Graph;
  /** State variables (N) and scan inputs (M). */
  N: number;
  M: number;
  /** Scan outputs. */
  K: number;
  inAxes: number[];
  inReverse: boolean[];
  /** Output axes, not yet normalized (that needs the rank of each scan output). */
  outAxes: number[];
  outReverse: boolean[];
}

function directions(list: number[] | undefined, n: number, what: string, where: string): boolean[] {
  if (list && list.length !== n) throw new Error(`${where}: ${what} has ${list.length} entries for ${n} values`);
  return Array.from({ length: n }, (_, i) => {
    const d = list?.[i] ?? 0;
    if (d !== 0 && d !== 1) throw new Error(`${where}: ${what}[${i}] must be 0 (forward) or 1 (reverse), got ${d}`);
    return d === 1;
  });
}

function scanPlan(ctx: { attrs: InferContext['attrs']; where: string }, inputCount: number): ScanPlan {
  const where = ctx.where;
  const body = ctx.attrs.graph('body');
  const M = ctx.attrs.int('num_scan_inputs');
  if (M < 1 || M > inputCount) throw new Error(`${where}: num_scan_inputs must be between 1 and the ${inputCount} inputs, got ${M}`);
  const N = inputCount - M;
  if (body.inputs.length !== N + M) throw new Error(`${where}: body must take ${N + M} inputs (${N} states, ${M} scan slices), takes ${body.inputs.length}`);
  const K = body.outputs.length - N;
  if (K < 0) throw new Error(`${where}: body must return at least the ${N} state values, returns ${body.outputs.length}`);
  const inAxes = ctx.attrs.optInts('scan_input_axes') ?? new Array<number>(M).fill(0);
  if (inAxes.length !== M) throw new Error(`${where}: scan_input_axes has ${inAxes.length} entries for ${M} scan inputs`);
  const outAxes = ctx.attrs.optInts('scan_output_axes') ?? new Array<number>(K).fill(0);
  if (outAxes.length !== K) throw new Error(`${where}: scan_output_axes has ${outAxes.length} entries for ${K} scan outputs`);
  return {
    body, N, M, K, inAxes, outAxes,
    inReverse: directions(ctx.attrs.optInts('scan_input_directions'), M, 'scan_input_directions', where),
    outReverse: directions(ctx.attrs.optInts('scan_output_directions'), K, 'scan_output_directions', where),
  };
}

/** Normalizes an axis in [-rank, rank - 1]. */
function axisOf(axis: number, rank: number, what: string, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${where}: ${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

defineOp({
  name: 'Scan',
  inputs: [{ name: 'initial_state_and_scan_inputs', variadic: true }],
  outputs: [{ name: 'final_state_and_scan_outputs', variadic: true }],
  attrs: {
    body: { type: 'graph', required: true },
    num_scan_inputs: { type: 'int', required: true },
    scan_input_axes: { type: 'ints' },
    scan_input_directions: { type: 'ints' },
    scan_output_axes: { type: 'ints' },
    scan_output_directions: { type: 'ints' },
  },
  inferShape: (ctx) => {
    const p = scanPlan(ctx, ctx.inputs.length);
    if (ctx.outputCount > p.N + p.K) throw new Error(`${ctx.where}: names ${ctx.outputCount} outputs, the body gives ${p.N} states and ${p.K} scan outputs`);
    let seq: Dim | undefined;
    const slices = ctx.inputs.slice(p.N).map((t, j): ValueType => {
      if (!t) throw new Error(`${ctx.where}: scan input ${j} is missing`);
      if (!t.shape) return { dtype: t.dtype };
      const axis = axisOf(p.inAxes[j]!, t.shape.length, `scan_input_axes[${j}]`, ctx.where);
      const len = t.shape[axis]!;
      if (typeof seq === 'number' && typeof len === 'number' && seq !== len) {
        throw new Error(`${ctx.where}: scan inputs have sequence lengths ${seq} and ${len}`);
      }
      if (seq === undefined || typeof len === 'number') seq = len;
      return { dtype: t.dtype, shape: t.shape.filter((_, i) => i !== axis) };
    });
    const states = ctx.inputs.slice(0, p.N).map((t, i) => {
      if (!t) throw new Error(`${ctx.where}: state input ${i} is missing`);
      return t;
    });
    const outs = ctx.inferSubgraph(p.body, [...states, ...slices]);
    const final = states.map((t, i) => unionType(t, outs[i]!, ctx, `state ${i}`));
    const len = seq ?? ctx.unknownDim();
    outs.forEach((t, i) => { if (kindOf(t) !== 'tensor') throw new Error(`${ctx.where}: body output ${i} must be a tensor, is a ${kindOf(t)}`); });
    const scans = outs.slice(p.N).map((t, k): ValueType => {
      if (!t.shape) return { dtype: t.dtype };
      const axis = axisOf(p.outAxes[k]!, t.shape.length + 1, `scan_output_axes[${k}]`, ctx.where);
      return { dtype: t.dtype, shape: [...t.shape.slice(0, axis), len, ...t.shape.slice(axis)] as Shape };
    });
    return [...final, ...scans].slice(0, ctx.outputCount);
  },
  reference: (inputs, ctx) => {
    const p = scanPlan(ctx, inputs.length);
    const scanIns = inputs.slice(p.N).map((t, j) => {
      if (!t) throw new Error(`${ctx.where}: scan input ${j} is missing`);
      return { t, axis: axisOf(p.inAxes[j]!, t.dims.length, `scan_input_axes[${j}]`, ctx.where) };
    });
    const seq = scanIns[0]!.t.dims[scanIns[0]!.axis]!;
    scanIns.forEach(({ t, axis }, j) => {
      if (t.dims[axis] !== seq) throw new Error(`${ctx.where}: scan input ${j} has sequence length ${t.dims[axis]}, scan input 0 has ${seq}`);
    });
    let states = inputs.slice(0, p.N).map((t, i) => {
      if (!t) throw new Error(`${ctx.where}: state input ${i} is missing`);
      return t;
    });
    const parts: Tensor[][] = Array.from({ length: p.K }, () => []);
    for (let it = 0; it < seq; it++) {
      const slices = scanIns.map(({ t, axis }, j) => sliceAt(t, axis, p.inReverse[j] ? seq - 1 - it : it));
      const outs = ctx.runSubgraph(p.body, [...states, ...slices]).map((v, i) => expectTensor(v, `${ctx.where}: body output ${i}`));
      states = outs.slice(0, p.N);
      outs.slice(p.N).forEach((t, k) => parts[k]!.push(t));
    }
    const scans = parts.map((list, k) => {
      const first = list[0];
      const dims = first?.dims ?? declaredDims(p.body, p.N + k);
      if (!dims) throw new Error(`${ctx.where}: scan output ${k} of an empty sequence needs a declared shape in the body`);
      const axis = axisOf(p.outAxes[k]!, dims.length + 1, `scan_output_axes[${k}]`, ctx.where);
      const ordered = p.outReverse[k] ? [...list].reverse() : list;
      return stackAt(ordered, axis, first?.type ?? p.body.outputs[p.N + k]!.dtype, dims, `scan output ${k}`, ctx.where);
    });
    return [...states, ...scans];
  },
});
