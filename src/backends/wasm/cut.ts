// The end of a plan at a node whose output shapes only the data can tell (NonZero, a Reshape to a
// computed shape, a Loop with scan outputs, an If whose branches differ in shape). When the node's
// shapes follow from the values of its small integer inputs (a Reshape target, Tile repeats, a
// Range limit computed at run time), the node and the rest of the graph are planned with those
// values as constants, once per distinct set of values, so the node itself runs on a WASM kernel.
// Otherwise the node runs alone (If, Loop, Scan on their planned subgraphs; any other op on its
// reference kernel), and the rest of the graph is planned for the shapes it produced, once per
// distinct set of shapes. Either way the values before the cut are read in place.
import type { Graph, Node } from '../../graph/ir.js';
import type { DType } from '../../tensor/dtype.js';
import { isConcrete } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { LazyCache, planLazily } from './lazy-region.js';
import { controlExec, isControlNode, type ControlExec } from './plan-control.js';
import { copyInto, planGraph, profiledMs, type GraphPlan, type Placed, type PlanEnv, type PlanScope } from './plan-graph.js';
import { runOnReference } from './reference-step.js';

/** Inputs of at most this many elements may be planned as constants (shape-like values). */
const SMALL_INPUT_LIMIT = 64;
/** Distinct sets of such values past which a cut stops planning per value (they are data, not shapes). */
const VALUE_PLAN_LIMIT = 16;
const SHAPE_LIKE: readonly DType[] = ['int64', 'int32'];

export class Cut {
  readonly node: Node;
  private readonly residuals = new LazyCache();
  private control: { epoch: number; exec: ControlExec } | undefined;
  private current: GraphPlan | undefined;
  /** The node's small integer inputs computed at run time (candidates for planning by value). */
  private readonly small: string[];
  private readonly byValue = new LazyCache();
  private readonly valueKeys = new Set<string>();
  /** Planning by value left the node's shapes unknown: its shapes depend on more than those values. */
  private byValueFailed = false;

  constructor(
    private readonly env: PlanEnv,
    private readonly graph: Graph,
    /** The cut node, then every node after it in topological order. */
    private readonly rest: readonly Node[],
    private readonly scope: PlanScope,
  ) {
    this.node = rest[0]!;
    this.small = isControlNode(this.node) ? [] : [...new Set(this.node.inputs)].filter((n) => {
      const t = n ? scope.type(n) : undefined;
      if (!n || !t || !t.shape || !isConcrete(t.shape) || !SHAPE_LIKE.includes(t.dtype) || scope.constant(n)) return false;
      return scope.placed(n) !== undefined && t.shape.reduce((a, b) => a * b, 1) <= SMALL_INPUT_LIMIT;
    });
  }

  /** The plans of the cut live in the run-time area, which the enclosing activation leaves alone. */
  reset(): void {
    this.current = undefined;
  }

  private outputsOfNode(): Tensor[] {
    const env = this.env;
    const source = (n: string): Placed | undefined => this.scope.placed(n) ?? this.scope.constant(n);
    if (!isControlNode(this.node)) return runOnReference(env, this.node, source);
    if (this.control?.epoch !== env.lazyEpoch) this.control = { epoch: env.lazyEpoch, exec: controlExec(env, this.node, this.scope, undefined) };
    return this.control.exec.exec().map((p) => (p instanceof Tensor ? p : env.mem.read(p)));
  }

  run(): void {
    if (this.runByValue()) return;
    const outs = this.profiled(() => this.outputsOfNode());
    const named = this.node.outputs.map((name, i) => ({ name, t: outs[i] })).filter((x): x is { name: string; t: Tensor } => !!x.name && !!x.t);
    const key = named.map((x) => `${x.t.type}:${x.t.dims.join('x')}`).join('|');
    const plan = this.residuals.get(this.env, key, () => planLazily(this.env, (at) => planGraph(this.env, this.residualGraph(named), this.scope, at)));
    if (!plan) throw new Error(`graph '${this.graph.name}': cannot plan the nodes after '${this.node.name}'`);
    for (const x of named) {
      const slot = plan.values.get(x.name);
      if (slot) copyInto(this.env.mem, slot, x.t);
    }
    this.current = plan;
    plan.run();
  }

  /** Runs `f` (the cut node alone), recording its time when profiling; bodies record their own. */
  private profiled<T>(f: () => T): T {
    const profile = this.env.profile;
    if (!profile) return f();
    const control = isControlNode(this.node);
    const key = control ? this.node.op : `${this.node.op} (reference fallback)`;
    const inner = control ? profiledMs(profile) : 0;
    const t0 = performance.now();
    const out = f();
    const row = profile.get(key) ?? { ms: 0, calls: 0 };
    row.ms += performance.now() - t0 - (control ? profiledMs(profile) - inner : 0);
    row.calls++;
    profile.set(key, row);
    return out;
  }

  /**
   * Plans the node and the rest with the node's small integer inputs as constants (cached per
   * set of values) and runs that; false when this does not give the node concrete shapes.
   */
  private runByValue(): boolean {
    if (this.small.length === 0 || this.byValueFailed) return false;
    const env = this.env;
    const frozen = this.small.map((n) => env.mem.read(this.scope.placed(n)!));
    const key = frozen.map((t) => `${t.dims.join('x')}=${Array.from(t.data as ArrayLike<number | bigint>).join(',')}`).join('|');
    if (!this.valueKeys.has(key)) {
      if (this.valueKeys.size >= VALUE_PLAN_LIMIT) return false;
      this.valueKeys.add(key);
    }
    const plan = this.byValue.get(env, key, () => planLazily(env, (at) => {
      const g: Graph = {
        ...this.graph,
        name: `${this.graph.name} from ${this.node.name}`,
        nodes: [...this.rest],
        inputs: [],
        initializers: new Map(this.small.map((n, i) => [n, frozen[i]!])),
        valueInfo: new Map(),
      };
      let p: GraphPlan;
      try {
        p = planGraph(env, g, this.scope, at);
      } catch {
        // The reference path below runs the node and reports what is wrong with it.
        return undefined;
      }
      return p.cutNode === this.node ? undefined : p;
    }));
    if (!plan) {
      this.byValueFailed = true;
      return false;
    }
    this.current = plan;
    plan.run();
    return true;
  }

  /** Values of the part after the cut (the cut node's outputs included), for the current run. */
  source(name: string): Placed | undefined {
    return this.current?.ownSource(name);
  }

  private residualGraph(named: readonly { name: string; t: Tensor }[]): Graph {
    return {
      ...this.graph,
      name: `${this.graph.name} after ${this.node.name}`,
      nodes: this.rest.slice(1),
      inputs: named.map((x) => ({ name: x.name, dtype: x.t.type, shape: x.t.dims })),
      initializers: new Map(),
      valueInfo: new Map(),
    };
  }
}
