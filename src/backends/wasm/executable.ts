// A model compiled for the WASM backend: one plan per distinct set of input shapes, each with
// kernels chosen, weights packed and every activation placed in one statically planned arena.
import { inferGraph } from '../../graph/infer.js';
import { implicitInputs, nodeLabel, subgraphsOf, type Graph, type Node } from '../../graph/ir.js';
import { topoSort } from '../../graph/topo.js';
import { attrsOf, getOp } from '../../ops/registry.js';
import { evalNodeReference } from '../../ops/invoke.js';
import { byteLengthOf } from '../../tensor/dtype.js';
import { isConcrete } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Value } from '../../tensor/value.js';
import type { Executable, ProfileRow } from '../backend.js';
import { ReferenceExecutable, subgraphRunner } from '../reference/index.js';
import type { PlannedType, PreparedKernel, WasmValue } from './kernel.js';
import { wasmFactoriesFor } from './kernel.js';
import { createMemory, instantiate, threadsAvailable, type WasmVariant } from './loader.js';
import { POOL_KERNELS } from './pool-kernels.js';
import { ThreadPool } from './threads/pool.js';
import { SessionMemory } from './memory.js';
import { align, planArena, type Lifetime } from './plan.js';

interface Step {
  node: Node;
  /** Placed operands, resolved once when the plan is made (nothing is looked up per run). */
  inputs: (WasmValue | undefined)[];
  outputs: WasmValue[];
  /** undefined: the node runs on the reference kernel (the plan lists these). */
  kernel?: PreparedKernel;
  persistentPtr: number;
}

interface CompiledPlan {
  /** Writes constants and packs weights; plans share one memory, so this runs on every switch. */
  activate(): void;
  steps: Step[];
  values: Map<string, WasmValue>;
  constants: Map<string, Tensor>;
  scratchPtr: number;
  scratchStride: number;
  /** Some kernel of the plan splits work over the thread pool. */
  threaded: boolean;
  fallbacks: string[];
}

function typeOf(name: string, types: ReturnType<typeof inferGraph>['types'], where: string): PlannedType {
  const t = types.get(name);
  if (t?.kind && t.kind !== 'tensor') throw new DynamicShapeError(`${where}: value '${name}' is a ${t.kind}; the WASM backend plans tensors only`);
  if (!t || !t.shape || !isConcrete(t.shape)) {
    throw new DynamicShapeError(`${where}: value '${name}' has no concrete shape; the WASM backend plans memory statically`);
  }
  return { dtype: t.dtype, dims: t.shape };
}

/** Feeds small enough to be shape parameters (Reshape targets, Slice bounds, Range limits). */
const SHAPE_FEED_LIMIT = 64;

class DynamicShapeError extends Error {}

export class WasmExecutable implements Executable {
  private readonly plans = new Map<string, CompiledPlan>();
  private active: CompiledPlan | undefined;
  /** Per-op time while profiling is on (see enableProfiling). */
  private profile: Map<string, { ms: number; calls: number }> | undefined;

  enableProfiling(on = true): void {
    this.profile = on ? new Map() : undefined;
  }

  profileReport(): ProfileRow[] {
    return [...(this.profile ?? new Map<string, { ms: number; calls: number }>())].map(([op, r]) => ({ op, ...r })).sort((a, b) => b.ms - a.ms);
  }
  private readonly mem: SessionMemory;

  /**
   * `threads` > 1 (and a host with shared memory and workers) gives the session a shared memory;
   * the worker pool itself starts with the first plan that has work worth splitting.
   */
  constructor(private readonly graph: Graph, variant: WasmVariant, private readonly threads = 1) {
    const shared = threads > 1 && threadsAvailable(variant);
    const memory = createMemory(shared);
    const inst = instantiate(variant, memory);
    this.mem = new SessionMemory(memory, inst.exports, variant);
    if (!shared) this.threads = 1;
  }

  private async ensurePool(): Promise<void> {
    if (this.threads <= 1 || this.mem.pool) return;
    this.mem.pool = await ThreadPool.forVariant(this.mem.variant, this.mem.memory, this.threads, { kernels: POOL_KERNELS });
  }

  get variant(): WasmVariant {
    return this.mem.variant;
  }

  /** Nodes of the most recent plan that run on the reference kernel, for reports. */
  fallbackNodes(): string[] {
    if (this.lastRunDynamic) return this.graph.nodes.map((n) => `${n.op}(${n.name}) [data-dependent shapes: whole graph on reference]`);
    return this.active?.fallbacks ?? [];
  }

  /** Reference interpreter for feeds whose shapes cannot be planned statically. */
  private dynamic: ReferenceExecutable | undefined;
  private lastRunDynamic = false;

  /**
   * Set once a plan needed feed values to know its shapes: from then on small feeds are planned as
   * constants and the plan cache is keyed by their values.
   */
  private valueDependent = false;

  private isShapeFeed(t: Tensor): boolean {
    return this.valueDependent && t.size <= SHAPE_FEED_LIMIT;
  }

  private compile(feeds: ReadonlyMap<string, Tensor>): CompiledPlan {
    const initializers = new Map(this.graph.initializers);
    for (const [name, t] of feeds) if (this.isShapeFeed(t)) initializers.set(name, t);
    const g: Graph = {
      ...this.graph,
      initializers,
      inputs: this.graph.inputs.filter((v) => !initializers.has(v.name)).map((v) => ({ ...v, shape: feeds.get(v.name)!.dims })),
    };
    const { types, constants } = inferGraph(g);
    const order = topoSort(g);
    const steps: Step[] = [];
    const fallbacks: string[] = [];
    const runtime = new Set<string>(g.inputs.map((v) => v.name));
    const lifetimes = new Map<string, Lifetime>();
    const aliasRoot = new Map<string, string>();
    const rootOf = (v: string): string => aliasRoot.get(v) ?? v;
    const constantUses = new Set<string>();
    let persistent = 0;
    let scratch = 0;
    for (const v of g.inputs) lifetimes.set(v.name, { start: -1, end: -1, bytes: byteLengthOf(v.dtype, feeds.get(v.name)!.size) });

    for (const node of order) {
      // Nodes whose outputs inference already folded to constants never run.
      if (node.outputs.every((o) => !o || constants.has(o))) continue;
      const where = nodeLabel(node);
      const op = getOp(node.domain, node.op);
      const inputs = node.inputs.map((n) => (n ? typeOf(n, types, where) : undefined));
      // Omitted optional outputs ('') get an empty placeholder type and are never placed.
      const outputs = node.outputs.map((n) => (n ? typeOf(n, types, where) : { dtype: 'float32' as const, dims: [0] }));
      const ctx = { node, attrs: attrsOf(op, node), inputs, outputs, constant: (i: number) => constants.get(node.inputs[i] ?? ''), variant: this.mem.variant, exports: this.mem.exports, memory: this.mem, tempPtr: align(this.mem.exports.heapBase()) };
      let kernel: PreparedKernel | undefined;
      for (const f of wasmFactoriesFor(node)) if ((kernel = f(ctx))) break;
      const step = steps.length;
      steps.push({ node, inputs: [], outputs: [], ...(kernel ? { kernel } : {}), persistentPtr: persistent });
      if (!kernel) fallbacks.push(`${node.op}(${node.name})`);
      persistent += align(kernel?.persistentBytes ?? 0);
      scratch = Math.max(scratch, kernel?.scratchBytes ?? 0);
      node.inputs.forEach((n, i) => {
        if (!n || kernel?.packedInputs?.includes(i)) return;
        if (constants.has(n) && !runtime.has(n)) { constantUses.add(n); return; }
        const life = lifetimes.get(rootOf(n));
        if (life) life.end = Math.max(life.end, step);
      });
      // Values the node's subgraphs read stay alive until it runs (constants are read from the plan).
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
        lifetimes.set(o, { start: step, end: step, bytes: byteLengthOf(outputs[i]!.dtype, outputs[i]!.dims.reduce((a, b) => a * b, 1)) });
      });
    }
    for (const v of g.outputs) {
      const life = lifetimes.get(rootOf(v.name));
      if (life) life.end = Infinity;
    }

    // Layout: [module statics | packed weights | constants | arena | scratch].
    const base = align(this.mem.exports.heapBase());
    let cursor = base + persistent;
    const values = new Map<string, WasmValue>();
    const place = (name: string, ptr: number) => {
      const t = typeOf(name, types, `value '${name}'`);
      values.set(name, { ...t, ptr, byteLength: byteLengthOf(t.dtype, t.dims.reduce((a, b) => a * b, 1)) });
    };
    for (const c of constantUses) { place(c, cursor); cursor += align(values.get(c)!.byteLength); }
    const arenaBase = cursor;
    const arena = planArena(lifetimes);
    for (const [name, off] of arena.offsets) place(name, arenaBase + off);
    for (const [alias, root] of aliasRoot) place(alias, values.get(root)!.ptr);
    const scratchPtr = arenaBase + align(arena.size);
    // One scratch slice per thread: split kernels give thread t the slice at scratchPtr + t * stride.
    const scratchStride = align(scratch);
    this.mem.ensure(scratchPtr + scratchStride * this.threads);

    for (const s of steps) {
      s.persistentPtr += base;
      s.inputs = s.node.inputs.map((n) => (n ? values.get(n) : undefined));
      s.outputs = s.node.outputs.map((n) => values.get(n) ?? { dtype: 'float32', dims: [0], ptr: 0, byteLength: 0 });
    }
    const activate = () => {
      for (const c of constantUses) this.mem.write(values.get(c)!.ptr, constants.get(c)!);
      for (const s of steps) s.kernel?.init?.(this.mem, s.persistentPtr, scratchPtr);
    };
    return { activate, steps, values, constants, scratchPtr, scratchStride, fallbacks, threaded: steps.some((st) => st.kernel?.threaded) };
  }

  async run(valueFeeds: ReadonlyMap<string, Value>, fetches: readonly string[]): Promise<Map<string, Value>> {
    // Sequences and optionals have no place in a static plan: such graphs run on the reference interpreter.
    if (![...valueFeeds.values()].every((v) => v instanceof Tensor)) return this.runOnReference(valueFeeds, fetches);
    const feeds = valueFeeds as ReadonlyMap<string, Tensor>;
    const key = this.graph.inputs.map((v) => {
      const t = feeds.get(v.name)!;
      return this.isShapeFeed(t) ? `${t.dims.join('x')}=${Array.from(t.data as ArrayLike<number | bigint>).join(',')}` : t.dims.join('x');
    }).join('|');
    let plan = this.plans.get(key);
    if (!plan) {
      try {
        plan = this.compile(feeds);
      } catch (e) {
        if (!(e instanceof DynamicShapeError)) throw e;
        if (!this.valueDependent) {
          this.valueDependent = true;
          return this.run(feeds, fetches);
        }
        // Shapes that depend on computed data (NonZero, Unique, NonMaxSuppression): no static
        // plan exists, so the whole graph runs on the reference interpreter, and the report says so.
        return this.runOnReference(feeds, fetches);
      }
      this.plans.set(key, plan);
    }
    this.lastRunDynamic = false;
    if (this.active !== plan) {
      if (plan.threaded) await this.ensurePool();
      plan.activate();
      this.active = plan;
    }
    this.mem.scratchStride = plan.scratchStride;
    for (const [name, t] of feeds) {
      const v = plan.values.get(name);
      if (v) this.mem.write(v.ptr, t);
    }
    const profile = this.profile;
    for (const step of plan.steps) {
      const { inputs, outputs } = step;
      const t0 = profile ? performance.now() : 0;
      if (step.kernel) {
        const alias = step.kernel.aliasOf;
        if (alias === undefined) step.kernel.run(this.mem, inputs, outputs, plan.scratchPtr, step.persistentPtr);
        else if (inputs[alias]!.ptr !== outputs[0]!.ptr) {
          // The planner could not share the bytes (e.g. the source is a constant): copy instead.
          this.mem.u8(outputs[0]!.ptr, outputs[0]!.byteLength).set(this.mem.u8(inputs[alias]!.ptr, outputs[0]!.byteLength));
        }
      } else {
        this.runFallback(step.node, plan, outputs);
      }
      if (profile) {
        const key = `${step.node.op}${step.kernel ? '' : ' (reference fallback)'}`;
        const row = profile.get(key) ?? { ms: 0, calls: 0 };
        row.ms += performance.now() - t0;
        row.calls++;
        profile.set(key, row);
      }
    }
    const result = new Map<string, Value>();
    for (const f of fetches) {
      const v = plan.values.get(f);
      result.set(f, v ? this.mem.read(v) : (plan.constants.get(f) ?? feeds.get(f)!));
    }
    return result;
  }

  private runOnReference(feeds: ReadonlyMap<string, Value>, fetches: readonly string[]): Promise<Map<string, Value>> {
    this.dynamic ??= new ReferenceExecutable(this.graph);
    this.active = undefined;
    this.lastRunDynamic = true;
    return this.dynamic.run(feeds, fetches);
  }

  /** Runs a node on its reference kernel over copies of its inputs (subgraphs read outer values the same way). */
  private runFallback(node: Node, plan: CompiledPlan, outputs: readonly WasmValue[]): void {
    const copies = new Map<string, Tensor>();
    const lookup = (n: string): Tensor | undefined => {
      let t = copies.get(n);
      if (!t) {
        const v = plan.values.get(n);
        t = v ? this.mem.read(v) : plan.constants.get(n);
        if (t) copies.set(n, t);
      }
      return t;
    };
    const inputs = node.inputs.map((n) => (n ? lookup(n) : undefined));
    const outs = evalNodeReference(node, inputs, subgraphsOf(node).length ? subgraphRunner(lookup) : undefined);
    outputs.forEach((o, i) => {
      if (!node.outputs[i]) return;
      const t = outs[i]!;
      if (t.dims.join(',') !== o.dims.join(',')) {
        throw new Error(`${nodeLabel(node)}: produced [${t.dims.join(', ')}], the plan expected [${o.dims.join(', ')}]`);
      }
      this.mem.write(o.ptr, t);
    });
  }

  dispose(): void {
    this.plans.clear();
    this.active = undefined;
    this.mem.pool?.dispose();
    this.mem.pool = undefined;
  }
}
