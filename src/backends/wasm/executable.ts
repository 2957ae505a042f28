// A model compiled for the WASM backend: one plan per distinct set of input shapes, each with
// kernels chosen, weights packed, constants folded and every activation placed in one statically
// planned arena. Control flow runs planned subgraphs and a node whose output shapes depend on data
// runs alone, the rest planned for the shapes it gives (see plan-graph.ts); only graphs carrying
// sequences or optionals run on the reference interpreter as a whole.
import type { Graph } from '../../graph/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Value } from '../../tensor/value.js';
import type { Executable, ProfileRow } from '../backend.js';
import { ReferenceExecutable } from '../reference/index.js';
import { resetLazyArea, trimLazyArea } from './lazy-region.js';
import { createMemory, instantiate, threadsAvailable, type WasmVariant } from './loader.js';
import { SessionMemory } from './memory.js';
import { align } from './plan.js';
import { NonTensorGraphError, planGraph, type GraphPlan, type PlanEnv } from './plan-graph.js';
import { POOL_KERNELS } from './pool-kernels.js';
import { ThreadPool } from './threads/pool.js';

/** Feeds small enough to be shape parameters (Reshape targets, Slice bounds, Range limits). */
const SHAPE_FEED_LIMIT = 64;
/**
 * Plans kept per session. Plans keyed by feed values can be one per run when a small feed is
 * data rather than a shape: past this many the cache starts over instead of growing.
 */
const PLAN_CACHE_LIMIT = 64;

export class WasmExecutable implements Executable {
  private readonly plans = new Map<string, GraphPlan>();
  private active: GraphPlan | undefined;
  private readonly mem: SessionMemory;
  private readonly env: PlanEnv;
  private lastFallbacks: string[] = [];

  enableProfiling(on = true): void {
    this.env.profile = on ? new Map() : undefined;
  }

  profileReport(): ProfileRow[] {
    return [...(this.env.profile ?? new Map<string, { ms: number; calls: number }>())].map(([op, r]) => ({ op, ...r })).sort((a, b) => b.ms - a.ms);
  }

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
    const base = align(this.mem.exports.heapBase());
    this.env = {
      mem: this.mem, threads: this.threads, ranOnReference: new Set(), profile: undefined,
      lazyBase: base, lazyTop: base, lazyEpoch: 0, lazyCount: 0, wantsPool: false,
    };
  }

  private async ensurePool(): Promise<void> {
    if (this.threads <= 1 || this.mem.pool) return;
    this.mem.pool = await ThreadPool.forVariant(this.mem.variant, this.mem.memory, this.threads, { kernels: POOL_KERNELS });
  }

  get variant(): WasmVariant {
    return this.mem.variant;
  }

  /** Nodes the last run executed on a reference kernel, subgraphs included. */
  fallbackNodes(): string[] {
    return this.lastFallbacks;
  }

  /** Reference interpreter for graphs that carry sequences or optionals. */
  private dynamic: ReferenceExecutable | undefined;
  /** The graph holds sequences or optionals: no plan can place them. */
  private nonTensor = false;

  /**
   * Set once a plan needed feed values to know its shapes (a plan without them stops at a
   * data-dependent node, one with them does not): from then on small feeds are planned as
   * constants and the plan cache is keyed by their values.
   */
  private valueDependent = false;

  private isShapeFeed(t: Tensor): boolean {
    return this.valueDependent && t.size <= SHAPE_FEED_LIMIT;
  }

  private keyOf(feeds: ReadonlyMap<string, Tensor>): string {
    return this.graph.inputs.map((v) => {
      const t = feeds.get(v.name)!;
      return this.isShapeFeed(t) ? `${t.dims.join('x')}=${Array.from(t.data as ArrayLike<number | bigint>).join(',')}` : t.dims.join('x');
    }).join('|');
  }

  private compile(feeds: ReadonlyMap<string, Tensor>): GraphPlan {
    const initializers = new Map(this.graph.initializers);
    for (const [name, t] of feeds) if (this.isShapeFeed(t)) initializers.set(name, t);
    const g: Graph = {
      ...this.graph,
      initializers,
      inputs: this.graph.inputs.filter((v) => !initializers.has(v.name)).map((v) => ({ ...v, shape: feeds.get(v.name)!.dims })),
    };
    // Plans for different input shapes share the memory above the module's statics (the one
    // about to run is activated); plans made while running live above all of them.
    const plan = planGraph(this.env, g, undefined, align(this.mem.exports.heapBase()));
    if (plan.end > this.env.lazyBase) resetLazyArea(this.env, align(plan.end));
    return plan;
  }

  private planFor(feeds: ReadonlyMap<string, Tensor>): GraphPlan {
    const key = this.keyOf(feeds);
    let plan = this.plans.get(key);
    if (plan) return plan;
    plan = this.compile(feeds);
    if (plan.hasCut && !this.valueDependent && [...feeds.values()].some((t) => t.size <= SHAPE_FEED_LIMIT)) {
      // Maybe the shapes depend only on small feeds (a Reshape target, a Range limit): then a
      // plan per feed value has no cut at all.
      this.valueDependent = true;
      const byValue = this.compile(feeds);
      if (!byValue.hasCut) {
        this.plans.clear();
        this.plans.set(this.keyOf(feeds), byValue);
        this.active = undefined;
        return byValue;
      }
      this.valueDependent = false;
      this.active = undefined;
    }
    if (this.plans.size >= PLAN_CACHE_LIMIT) {
      this.plans.clear();
      this.active = undefined;
    }
    this.plans.set(key, plan);
    return plan;
  }

  async run(valueFeeds: ReadonlyMap<string, Value>, fetches: readonly string[]): Promise<Map<string, Value>> {
    // Sequences and optionals have no place in a static plan: such graphs run on the reference interpreter.
    if (this.nonTensor || ![...valueFeeds.values()].every((v) => v instanceof Tensor)) return this.runOnReference(valueFeeds, fetches);
    const feeds = valueFeeds as ReadonlyMap<string, Tensor>;
    trimLazyArea(this.env);
    let plan: GraphPlan;
    try {
      plan = this.planFor(feeds);
    } catch (e) {
      if (!(e instanceof NonTensorGraphError)) throw e;
      this.nonTensor = true;
      return this.runOnReference(feeds, fetches);
    }
    if (this.active !== plan) {
      if (plan.threaded) await this.ensurePool();
      plan.activate();
      this.active = plan;
    }
    this.env.ranOnReference.clear();
    for (const [name, t] of feeds) {
      const v = plan.values.get(name);
      if (v) this.mem.write(v.ptr, t);
    }
    plan.run();
    this.lastFallbacks = [...this.env.ranOnReference];
    const result = new Map<string, Value>();
    for (const f of fetches) {
      const s = plan.source(f);
      result.set(f, s === undefined ? feeds.get(f)! : s instanceof Tensor ? s : this.mem.read(s));
    }
    // Plans made during the run may split work over threads from the next run on.
    if (this.env.wantsPool) await this.ensurePool();
    return result;
  }

  private runOnReference(feeds: ReadonlyMap<string, Value>, fetches: readonly string[]): Promise<Map<string, Value>> {
    this.dynamic ??= new ReferenceExecutable(this.graph);
    this.active = undefined;
    this.lastFallbacks = this.graph.nodes.map((n) => `${n.op}(${n.name}) [sequence or optional values: whole graph on reference]`);
    return this.dynamic.run(feeds, fetches);
  }

  dispose(): void {
    this.plans.clear();
    this.active = undefined;
    this.mem.pool?.dispose();
    this.mem.pool = undefined;
  }
}
