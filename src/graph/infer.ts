// Shape and dtype inference over a whole graph, with light constant propagation so that shape
// computations (Shape -> Gather -> Concat -> Reshape) resolve to concrete dims where possible.
import { inferNodeTypes, evalNodeReference } from '../ops/invoke.js';
import type { SubgraphTyper } from '../ops/registry.js';
import { isConcrete, MAX_ELEMENTS } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { kindOf, nodeLabel, subgraphsOf, type Graph, type ValueType } from './ir.js';
import { topoSort } from './topo.js';

/** Constants up to this many elements are evaluated during inference. */
const FOLD_LIMIT = 4096;

export interface InferResult {
  types: Map<string, ValueType>;
  /** Values known before running: initializers plus small folded results. */
  constants: Map<string, Tensor>;
}

/** What a subgraph sees of the graphs around it. */
export interface OuterScope {
  type(name: string): ValueType | undefined;
  constant(name: string): Tensor | undefined;
}

/**
 * Types every value of `graph`. For a subgraph, `outer` resolves the names it reads from the
 * enclosing graphs; the result then holds only the subgraph's own values.
 */
export function inferGraph(graph: Graph, outer?: OuterScope): InferResult {
  const types = new Map<string, ValueType>();
  const constants = new Map<string, Tensor>(graph.initializers);
  for (const [name, t] of graph.initializers) types.set(name, { dtype: t.type, shape: t.dims });
  for (const v of graph.inputs) types.set(v.name, { dtype: v.dtype, ...(v.shape ? { shape: v.shape } : {}), ...(v.kind ? { kind: v.kind } : {}) });
  const typeOf = (n: string) => types.get(n) ?? outer?.type(n);
  const constantOf = (n: string) => constants.get(n) ?? outer?.constant(n);
  const scope: OuterScope = { type: typeOf, constant: constantOf };
  const order = topoSort(graph, outer ? (n) => outer.type(n) !== undefined : undefined);
  for (const node of order) {
    const inTypes = node.inputs.map((n) => (n ? typeOf(n) : undefined));
    const typer = subgraphsOf(node).length ? subgraphTyper(scope) : undefined;
    const outTypes = inferNodeTypes(node, inTypes, (i) => constantOf(node.inputs[i] ?? ''), Object.hasOwn(graph.opsets, node.domain) ? graph.opsets[node.domain] : undefined, typer);
    node.outputs.forEach((o, i) => {
      if (!o) return;
      const t = outTypes[i];
      if (!t) throw new Error(`${nodeLabel(node)}: shape inference gave no type for output '${o}'`);
      checkSize(node, o, t);
      types.set(o, t);
    });
    // Folding a node with subgraphs would need an interpreter for them; backends run those.
    if (!typer) foldIfConstant(node, inTypes, constantOf, constants, types);
  }
  return { types, constants };
}

/**
 * Sizes come from the file (pads, strides, kernel_shape, shape operands): an output whose known
 * shape holds more elements than a tensor may is refused here, before any backend allocates it.
 * Only fully known, non-negative integer shapes are judged.
 */
function checkSize(node: Graph['nodes'][number], name: string, t: ValueType): void {
  const s = t.shape;
  if (!s || !s.every((d): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0)) return;
  const n = s.reduce((a, b) => a * b, 1);
  if (n > MAX_ELEMENTS) throw new Error(`${nodeLabel(node)}: output '${name}' would have ${n} elements [${s.join(', ')}], more than the limit of ${MAX_ELEMENTS}`);
}

/** Infers a subgraph with the given input types inside `scope`; returns its output types. */
function subgraphTyper(scope: OuterScope): SubgraphTyper {
  return (sub, inputTypes) => {
    const inputs = sub.inputs.map((v, i) => {
      const given = inputTypes[i];
      if (!given) {
        if (v.untyped) throw new Error(`subgraph '${sub.name}': input '${v.name}' has no type and the node gives none`);
        return v;
      }
      if (!v.untyped && (v.dtype !== given.dtype || kindOf(v) !== kindOf(given))) {
        throw new Error(`subgraph '${sub.name}': input '${v.name}' is declared ${describeType(v)} but receives ${describeType(given)}`);
      }
      return { name: v.name, ...given };
    });
    const { types } = inferGraph({ ...sub, inputs }, scope);
    return sub.outputs.map((v) => {
      const t = types.get(v.name) ?? scope.type(v.name);
      if (!t) throw new Error(`subgraph '${sub.name}': output '${v.name}' is not produced by the subgraph or the scopes around it`);
      if (!v.untyped && (t.dtype !== v.dtype || kindOf(t) !== kindOf(v))) {
        throw new Error(`subgraph '${sub.name}': output '${v.name}' is declared ${describeType(v)} but computes ${describeType(t)}`);
      }
      return t;
    });
  };
}

/** 'float32', or 'sequence of float32' for non-tensor kinds. */
export function describeType(t: ValueType): string {
  return t.kind && t.kind !== 'tensor' ? `${t.kind} of ${t.dtype}` : t.dtype;
}

function foldIfConstant(
  node: Graph['nodes'][number],
  inTypes: (ValueType | undefined)[],
  constantOf: (name: string) => Tensor | undefined,
  constants: Map<string, Tensor>,
  types: Map<string, ValueType>,
): void {
  // Shape and Size only need the input's shape, not its value.
  if ((node.op === 'Shape' || node.op === 'Size') && node.domain === '') {
    const s = inTypes[0]?.shape;
    if (!s || !isConcrete(s)) return;
    const dims = [...s];
    const shapeTensor = new Tensor('int64', BigInt64Array.from(dims.map(BigInt)), [dims.length]);
    const out = node.op === 'Shape'
      ? evalShapeAttrs(node, shapeTensor)
      : new Tensor('int64', BigInt64Array.of(BigInt(dims.reduce((a, b) => a * b, 1))), []);
    constants.set(node.outputs[0]!, out);
    return;
  }
  const inputs = node.inputs.map((n) => (n ? constantOf(n) : undefined));
  if (node.inputs.some((n, i) => n && !inputs[i])) return;
  const small = node.outputs.every((o) => {
    if (o && types.get(o)?.kind) return false; // only tensors fold (sequences and optionals are run-time values)
    const s = types.get(o)?.shape;
    return s && isConcrete(s) && s.reduce((a, b) => a * b, 1) <= FOLD_LIMIT;
  });
  if (!small) return;
  const outs = evalNodeReference(node, inputs);
  node.outputs.forEach((o, i) => { if (o && outs[i]) constants.set(o, outs[i]!); });
}

function evalShapeAttrs(node: Graph['nodes'][number], shape: Tensor<'int64'>): Tensor {
  const rank = shape.size;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clamp((node.attrs.start as number | undefined) ?? 0);
  const end = clamp((node.attrs.end as number | undefined) ?? rank);
  const dims = Array.from(shape.data).slice(start, Math.max(start, end));
  return new Tensor('int64', BigInt64Array.from(dims), [dims.length]);
}
