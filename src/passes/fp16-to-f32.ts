// Runs a float16 model in float32: a lowering pass for backends whose kernels are float32 only (the
// WASM backend). Every float16 value inside the graph becomes float32; the model's own inputs and
// outputs keep their float16 type, with one Cast at each boundary, so callers feed and read the
// same tensors as before.
//
// What changes:
//  - float16 initializers and float16 tensor attributes (Constant, ConstantOfShape) are widened
//    exactly (every binary16 value is a binary32 value);
//  - attributes that name float16 as a result type (Cast `to`, `dtype` of generators and random
//    ops, DequantizeLinear `output_dtype`) name float32 instead;
//  - declared types (value_info; inputs and outputs of If/Loop/Scan bodies) follow;
//  - a float16 model input `x` is read through Cast(x, to=float32); a float16 model output `y` is
//    computed as float32 under a fresh name and written by Cast(to=float16).
//
// Numerics (not exact): the graph as written rounds every intermediate to binary16 (11 significant
// bits); here they keep 24 bits and only the outputs are rounded once. Results are therefore at
// least as close to the real-number result as the float16 graph's, and differ from an engine that
// rounds each op to float16 by about the float16 rounding error accumulated through the graph
// (typically 1e-3 relative). onnxruntime's CPU provider does the same for many float16 ops (it
// computes them in float32). Casts *to* float16 inside the graph become float32 identities, so a
// model that relies on float16 overflow to infinity, or on a float16 round trip as a quantizer,
// behaves as if the rounding were absent. Graphs without float16 are returned unchanged.
import { NameGenerator, renameValue, replaceUses, mapSubgraphs } from '../graph/edit.js';
import { isGraphAttr, type AttrValue, type Graph, type Node, type ValueInfo } from '../graph/ir.js';
import { float16ArrayToFloat32 } from '../tensor/float16.js';
import { Tensor } from '../tensor/tensor.js';
import { applyPass, definePass } from './pass.js';

const FLOAT16_CODE = 10;
const FLOAT32_CODE = 1;
/** Attributes whose value is an ONNX dtype code naming a result type. */
const DTYPE_ATTRS: ReadonlySet<string> = new Set(['to', 'dtype', 'output_dtype']);

/** float16 bit patterns widened to float32 (exact). */
export function widenFloat16(t: Tensor): Tensor<'float32'> {
  return new Tensor('float32', float16ArrayToFloat32(t.data as Uint16Array), t.dims);
}

function isF16Tensor(v: AttrValue | undefined): v is Tensor {
  return v instanceof Tensor && v.type === 'float16';
}

/** True when `graph` or a subgraph has anything float16 this pass would change. */
export function hasFloat16(graph: Graph): boolean {
  const typed = (v: ValueInfo): boolean => v.dtype === 'float16';
  if (graph.inputs.some(typed) || graph.outputs.some(typed) || [...graph.valueInfo.values()].some(typed)) return true;
  if ([...graph.initializers.values()].some((t) => t.type === 'float16')) return true;
  return graph.nodes.some((n) => Object.entries(n.attrs).some(([k, a]) =>
    isF16Tensor(a) || (DTYPE_ATTRS.has(k) && a === FLOAT16_CODE) || (isGraphAttr(a) && hasFloat16(a))));
}

const widenInfo = (v: ValueInfo): ValueInfo => (v.dtype === 'float16' ? { ...v, dtype: 'float32' } : v);

/** A node whose float16 attributes name float32 instead. */
function widenNode(node: Node): Node {
  let attrs: Record<string, AttrValue> | undefined;
  for (const [k, a] of Object.entries(node.attrs)) {
    let v: AttrValue | undefined;
    if (isF16Tensor(a)) v = widenFloat16(a);
    else if (DTYPE_ATTRS.has(k) && a === FLOAT16_CODE) v = FLOAT32_CODE;
    if (v === undefined) continue;
    attrs ??= { ...node.attrs };
    attrs[k] = v;
  }
  return attrs ? { ...node, attrs } : node;
}

/** Widens everything inside `graph`, its own inputs and outputs included (a subgraph's). */
function widenGraph(graph: Graph): Graph {
  const inner = mapSubgraphs(graph, (sub) => widenGraph(sub));
  const initializers = new Map([...inner.initializers].map(([k, t]) => [k, t.type === 'float16' ? widenFloat16(t) : t]));
  const valueInfo = new Map([...inner.valueInfo].map(([k, v]) => [k, widenInfo(v)]));
  return {
    ...inner,
    nodes: inner.nodes.map(widenNode),
    initializers,
    valueInfo,
    inputs: inner.inputs.map(widenInfo),
    outputs: inner.outputs.map(widenInfo),
  };
}

function castNode(name: string, from: string, to: string, code: number): Node {
  return { name, op: 'Cast', domain: '', inputs: [from], outputs: [to], attrs: { to: code } };
}

function toFloat32(graph: Graph): Graph {
  if (!hasFloat16(graph)) return graph;
  const names = new NameGenerator(graph);
  const f16Inputs = graph.inputs.filter((v) => v.dtype === 'float16').map((v) => v.name);
  const f16Outputs = [...new Set(graph.outputs.filter((v) => v.dtype === 'float16').map((v) => v.name))];
  let g = widenGraph(graph);
  // The model's own interface stays float16, and so do initializers that give a float16 input its
  // default value (an initializer listed as a graph input).
  const initializers = new Map(g.initializers);
  for (const x of f16Inputs) if (graph.initializers.has(x)) initializers.set(x, graph.initializers.get(x)!);
  g = { ...g, initializers, inputs: graph.inputs, outputs: graph.outputs };
  const head: Node[] = [];
  for (const x of f16Inputs) {
    const wide = names.fresh(`${x}_f32`);
    g = replaceUses(g, x, wide);
    head.push(castNode(names.fresh(`${x}_to_f32`), x, wide, FLOAT32_CODE));
  }
  const tail: Node[] = [];
  for (const y of f16Outputs) {
    // An output that is a model input is passed through as it came (still float16).
    if (f16Inputs.includes(y)) continue;
    const wide = names.fresh(`${y}_f32`);
    const init = g.initializers.get(y);
    if (init) {
      const initializers = new Map(g.initializers);
      initializers.delete(y);
      initializers.set(wide, init);
      g = replaceUses({ ...g, initializers }, y, wide);
    } else {
      // renameValue renames the model output too; the Cast below writes it under its own name.
      g = { ...renameValue(g, y, wide), outputs: g.outputs };
    }
    tail.push(castNode(names.fresh(`${y}_to_f16`), wide, y, FLOAT16_CODE));
  }
  return { ...g, nodes: [...head, ...g.nodes, ...tail] };
}

/** The pass (the WASM backend lists it first in loweringPasses). */
export const fp16ToF32Pass = definePass('fp16ToF32', (graph) => toFloat32(graph));

/** Applies the pass and records it in the provenance. */
export function fp16ToF32(graph: Graph): Graph {
  return applyPass(graph, fp16ToF32Pass());
}
