// One graph planned for the WASM backend: the top-level graph, an If branch, a Loop or Scan body,
// or the part of a graph after a node whose output shapes only the data can tell.
//
// A plan owns one region of the session memory: [packed weights | constants | arena | scratch],
// followed by the regions of its static children (If branches). Names a subgraph reads from the
// graphs around it resolve to the enclosing plan's placed values (read in place, never copied).
// Planning stops at the first node whose outputs have no concrete shape (NonZero, a Reshape of a
// computed shape, a Loop with scan outputs): that node runs alone and the rest of the graph is
// planned at run time for the shapes it produced (a "cut", see cut.ts), so one data-dependent node
// never sends the whole graph to the reference interpreter.
import { inferGraph } from '../../graph/infer.js';
import { implicitInputs, kindOf, nodeLabel, nodeReads, subgraphsOf, type Graph, type Node, type ValueType } from '../../graph/ir.js';
import { topoSort } from '../../graph/topo.js';
import { attrsOf, getOp } from '../../ops/registry.js';
import { byteLengthOf } from '../../tensor/dtype.js';
import { isConcrete } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { PlannedType, PreparedKernel, WasmValue } from './kernel.js';
import { wasmFactoriesFor } from './kernel.js';
import type { SessionMemory } from './memory.js';
import { align, planArena, type Lifetime } from './plan.js';
import { foldConstants } from './constant-fold.js';
import { planControlNode, type ControlStep } from './plan-control.js';
import { Cut } from './cut.js';
import { referenceStep } from './reference-step.js';

/** Where a value is at run time: placed in memory, or a constant known when planning. */
export type Placed = WasmValue | Tensor;

/** What every plan of one session shares. */
export interface PlanEnv {
  readonly mem: SessionMemory;
  readonly threads: number;
  /** Labels of the nodes that ran on a reference kernel in the current run. */
  readonly ranOnReference: Set<string>;
  /** Per-op time while profiling is on. */
  profile: Map<string, { ms: number; calls: number }> | undefined;
  /**
   * Plans made while the model runs (bodies, the parts after a cut) each get a fresh region from
   * `lazyTop` upward, beyond every static plan; `lazyEpoch` changes when that area is reset and
   * every plan cached there must be made again.
   */
  lazyBase: number;
  lazyTop: number;
  lazyEpoch: number;
  lazyCount: number;
  /** Some plan made at run time splits work over threads: the executable starts the pool. */
  wantsPool: boolean;
}

/** What a plan reads of the plans around it. */
export interface PlanScope {
  type(name: string): ValueType | undefined;
  constant(name: string): Tensor | undefined;
  placed(name: string): WasmValue | undefined;
}

/** Graphs whose values are not all tensors (sequences, optionals) cannot be placed. */
export class NonTensorGraphError extends Error {}

export interface PlanOptions {
  /** Inputs stay placed for the whole run (Loop and Scan bodies write their next inputs there). */
  inputsLive?: boolean;
}

interface StepRunner {
  node: Node;
  /** Profile key. */
  key: string;
  /** A control-flow step: the steps of its bodies record their own time. */
  control?: boolean;
  run(): void;
}

/** Total time recorded so far (to leave a control step's bodies out of its own row). */
export const profiledMs = (profile: ReadonlyMap<string, { ms: number }>) => {
  let ms = 0;
  for (const r of profile.values()) ms += r.ms;
  return ms;
};

const EMPTY: WasmValue = { dtype: 'float32', dims: [0], ptr: 0, byteLength: 0 };

export class GraphPlan {
  constructor(
    readonly env: PlanEnv,
    readonly graph: Graph,
    readonly scope: PlanScope | undefined,
    readonly types: ReadonlyMap<string, ValueType>,
    readonly values: ReadonlyMap<string, WasmValue>,
    readonly constants: ReadonlyMap<string, Tensor>,
    private readonly steps: readonly StepRunner[],
    private readonly init: () => void,
    private readonly children: readonly GraphPlan[],
    private readonly cut: Cut | undefined,
    readonly scratchStride: number,
    /** First byte after this plan's region and its static children's. */
    readonly end: number,
    /** Some kernel here or in a static child splits work over the pool. */
    readonly threaded: boolean,
  ) {}

  /** The plan stops at a node whose output shapes only the data can tell. */
  get hasCut(): boolean {
    return this.cut !== undefined;
  }

  /** The node the plan stops at, if any. */
  get cutNode(): Node | undefined {
    return this.cut?.node;
  }

  /** Writes constants and packs weights, here and in the static children. */
  activate(): void {
    this.init();
    for (const c of this.children) c.activate();
    this.cut?.reset();
  }

  run(): void {
    const mem = this.env.mem;
    const outerStride = mem.scratchStride;
    mem.scratchStride = this.scratchStride;
    const profile = this.env.profile;
    for (const step of this.steps) {
      if (!profile) { step.run(); continue; }
      const inner = step.control ? profiledMs(profile) : 0;
      const t0 = performance.now();
      step.run();
      const row = profile.get(step.key) ?? { ms: 0, calls: 0 };
      row.ms += performance.now() - t0 - (step.control ? profiledMs(profile) - inner : 0);
      row.calls++;
      profile.set(step.key, row);
    }
    this.cut?.run();
    mem.scratchStride = outerStride;
  }

  /** Where value `name` is after run(): this plan, the part after its cut, or the scopes around it. */
  source(name: string): Placed | undefined {
    return this.ownSource(name) ?? this.scope?.placed(name) ?? this.scope?.constant(name);
  }

  /** source() without the scopes around the plan. */
  ownSource(name: string): Placed | undefined {
    return this.cut?.source(name) ?? this.values.get(name) ?? this.constants.get(name);
  }

  /** A value as a host tensor after run(). */
  read(name: string, where: string): Tensor {
    const s = this.source(name);
    if (!s) throw new Error(`${where}: value '${name}' was not computed`);
    return s instanceof Tensor ? s : this.env.mem.read(s);
  }
}

/** Copies a value into a placed slot of the same size (a no-op when it already is that slot). */
export function copyInto(mem: SessionMemory, dst: WasmValue, src: Placed): void {
  if (src instanceof Tensor) { mem.write(dst.ptr, src); return; }
  if (src.ptr === dst.ptr || dst.byteLength === 0) return;
  new Uint8Array(mem.buffer()).copyWithin(dst.ptr, src.ptr, src.ptr + dst.byteLength);
}

export function dimsOf(p: Placed): readonly number[] {
  return p instanceof Tensor ? p.dims : p.dims;
}

function concreteType(t: ValueType | undefined): PlannedType | undefined {
  if (!t || (t.kind && t.kind !== 'tensor') || !t.shape || !isConcrete(t.shape)) return undefined;
  return { dtype: t.dtype, dims: t.shape };
}

const sizeOf = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * Plans `graph` (inputs with concrete shapes) at `base`. `scope` resolves the names it reads from
 * enclosing plans. Throws NonTensorGraphError when a value is a sequence or an optional.
 */
export function planGraph(env: PlanEnv, graph: Graph, scope: PlanScope | undefined, base: number, options: PlanOptions = {}): GraphPlan {
  const mem = env.mem;
  const outer = scope ? { type: scope.type, constant: scope.constant } : undefined;
  const { types, constants } = inferGraph(graph, outer);
  for (const [name, t] of types) {
    if (kindOf(t) !== 'tensor') throw new NonTensorGraphError(`value '${name}' is a ${kindOf(t)}; the WASM backend places tensors only`);
  }
  const order = topoSort(graph, scope ? (n) => scope.type(n) !== undefined : undefined);
  // Everything computable from constants is computed now, once, whatever its size.
  foldConstants(order, types, constants, scope);
  const constantOf = (n: string) => constants.get(n) ?? scope?.constant(n);
  const isOuterPlaced = (n: string) => !types.has(n) && scope?.placed(n) !== undefined;

  interface Planned {
    node: Node;
    kernel?: PreparedKernel;
    control?: ControlStep;
    persistentPtr: number;
  }
  const planned: Planned[] = [];
  const runtime = new Set<string>(graph.inputs.map((v) => v.name));
  const lifetimes = new Map<string, Lifetime>();
  const aliasRoot = new Map<string, string>();
  const rootOf = (v: string): string => aliasRoot.get(v) ?? v;
  const constantUses = new Set<string>();
  let persistent = 0;
  let scratch = 0;
  for (const v of graph.inputs) {
    const t = concreteType(types.get(v.name));
    if (!t) throw new Error(`graph '${graph.name}': input '${v.name}' has no concrete shape`);
    lifetimes.set(v.name, { start: -1, end: options.inputsLive ? Infinity : -1, bytes: byteLengthOf(t.dtype, sizeOf(t.dims)) });
  }
  const tempPtr = align(base);
  mem.ensure(tempPtr + 256);
  let cutAt = -1;

  for (let index = 0; index < order.length; index++) {
    const node = order[index]!;
    // Nodes folded to constants never run.
    if (node.outputs.every((o) => !o || constants.has(o))) continue;
    const where = nodeLabel(node);
    const outputs = node.outputs.map((n) => (n ? concreteType(types.get(n)) : { dtype: 'float32' as const, dims: [0] }));
    if (outputs.some((t) => !t)) { cutAt = index; break; }
    const inputs = node.inputs.map((n) => {
      if (!n) return undefined;
      const t = concreteType(types.get(n) ?? scope?.type(n));
      if (!t) throw new Error(`${where}: input '${n}' has no concrete shape`);
      return t;
    });
    const step = planned.length;
    let kernel: PreparedKernel | undefined;
    let control: ControlStep | undefined;
    const op = getOp(node.domain, node.op);
    const ctx = { node, attrs: attrsOf(op, node), inputs, outputs: outputs as PlannedType[], constant: (i: number) => constantOf(node.inputs[i] ?? ''), variant: mem.variant, exports: mem.exports, memory: mem, tempPtr };
    for (const f of wasmFactoriesFor(node)) if ((kernel = f(ctx))) break;
    if (!kernel && subgraphsOf(node).length) control = planControlNode(node, outputs as PlannedType[]);
    planned.push({ node, ...(kernel ? { kernel } : {}), ...(control ? { control } : {}), persistentPtr: persistent });
    persistent += align(kernel?.persistentBytes ?? 0);
    scratch = Math.max(scratch, kernel?.scratchBytes ?? 0);
    node.inputs.forEach((n, i) => {
      if (!n || kernel?.packedInputs?.includes(i)) return;
      if (!runtime.has(n) && !isOuterPlaced(n) && constantOf(n)) { constantUses.add(n); return; }
      const life = lifetimes.get(rootOf(n));
      if (life) life.end = Math.max(life.end, step);
    });
    // Values the node's subgraphs read stay alive until it runs; constants among them are read
    // from this plan's scope by the subgraph plans themselves.
    for (const n of implicitInputs(node)) {
      const life = lifetimes.get(rootOf(n));
      if (life) life.end = Math.max(life.end, step);
    }
    node.outputs.forEach((o, i) => {
      if (!o) return;
      runtime.add(o);
      const src = node.inputs[kernel?.aliasOf ?? -1];
      if (i === 0 && kernel?.aliasOf !== undefined && src && lifetimes.has(rootOf(src))) {
        aliasRoot.set(o, rootOf(src));
        return;
      }
      const t = outputs[i]!;
      lifetimes.set(o, { start: step, end: step, bytes: byteLengthOf(t.dtype, sizeOf(t.dims)) });
    });
  }
  // Graph outputs, and whatever the part after a cut reads, stay placed to the end.
  const keep = new Set(graph.outputs.map((v) => v.name));
  const rest = cutAt >= 0 ? order.slice(cutAt) : [];
  for (const n of rest) for (const v of nodeReads(n)) keep.add(v);
  for (const v of keep) {
    const life = lifetimes.get(rootOf(v));
    if (life) life.end = Infinity;
  }

  // Layout: [packed weights | constants | arena | scratch | static children].
  const start = align(base);
  let cursor = start + persistent;
  const values = new Map<string, WasmValue>();
  const place = (name: string, t: PlannedType, ptr: number) => {
    values.set(name, { ...t, ptr, byteLength: byteLengthOf(t.dtype, sizeOf(t.dims)) });
  };
  for (const c of constantUses) {
    const t = constantOf(c)!;
    place(c, { dtype: t.type, dims: t.dims }, cursor);
    cursor += align(values.get(c)!.byteLength);
  }
  const arenaBase = cursor;
  const arena = planArena(lifetimes);
  for (const [name, off] of arena.offsets) place(name, concreteType(types.get(name))!, arenaBase + off);
  for (const [alias, root] of aliasRoot) place(alias, concreteType(types.get(alias))!, values.get(root)!.ptr);
  const scratchPtr = arenaBase + align(arena.size);
  // One scratch slice per thread: split kernels give thread t the slice at scratchPtr + t * stride.
  const scratchStride = align(scratch);
  let end = scratchPtr + scratchStride * env.threads;
  mem.ensure(end);

  const resolve = (n: string): WasmValue | undefined => values.get(n) ?? (types.has(n) ? undefined : scope?.placed(n));
  // The plan's own scope for its subgraphs (the GraphPlan does not exist yet: this one reads the
  // same maps the GraphPlan will hold).
  const inner: PlanScope = {
    type: (n) => types.get(n) ?? scope?.type(n),
    constant: (n) => constants.get(n) ?? scope?.constant(n),
    placed: (n) => values.get(n) ?? scope?.placed(n),
  };
  const children: GraphPlan[] = [];
  const runners: StepRunner[] = [];
  // `self` is filled once the GraphPlan exists; steps only use it while running.
  const self: { plan?: GraphPlan } = {};
  for (const p of planned) {
    const node = p.node;
    const inputs = node.inputs.map((n) => (n ? resolve(n) : undefined));
    const outputs = node.outputs.map((n) => (n ? values.get(n) ?? EMPTY : EMPTY));
    const persistentPtr = start + p.persistentPtr;
    if (p.kernel) {
      const kernel = p.kernel;
      const alias = kernel.aliasOf;
      const run = alias === undefined
        ? () => kernel.run(mem, inputs, outputs, scratchPtr, persistentPtr)
        // The planner could not share the bytes (e.g. the source is a constant): copy instead.
        : () => { const i = inputs[alias]; if (i && i.ptr !== outputs[0]!.ptr) copyInto(mem, outputs[0]!, i); };
      runners.push({ node, key: node.op, run });
      continue;
    }
    if (p.control) {
      const made = p.control.plan(env, inner, outputs, end);
      children.push(...made.children);
      end = made.end;
      runners.push({ node, key: made.key, control: true, run: made.run });
      continue;
    }
    runners.push({ node, key: `${node.op} (reference fallback)`, run: referenceStep(env, node, outputs, (n) => self.plan!.source(n)) });
  }

  const cut = cutAt >= 0 ? new Cut(env, graph, rest, inner) : undefined;
  const init = () => {
    for (const c of constantUses) mem.write(values.get(c)!.ptr, constantOf(c)!);
    for (const p of planned) p.kernel?.init?.(mem, start + p.persistentPtr, scratchPtr);
  };
  const threaded = planned.some((p) => p.kernel?.threaded) || children.some((c) => c.threaded);
  const plan = new GraphPlan(env, graph, scope, types, values, constants, runners, init, children, cut, scratchStride, end, threaded);
  self.plan = plan;
  return plan;
}
