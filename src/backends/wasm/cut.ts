// The end of a plan at a node whose output shapes only the data can tell (NonZero, a Reshape to a
// computed shape, a Loop with scan outputs, an If whose branches differ in shape). That node runs
// alone, on its own (If, Loop, Scan run their planned subgraphs; any other op its reference
// kernel), and the rest of the graph is planned for the shapes it produced, once per distinct
// set of shapes, reading the values before the cut in place.
import type { Graph, Node } from '../../graph/ir.js';
import { Tensor } from '../../tensor/tensor.js';
import { LazyCache, planLazily } from './lazy-region.js';
import { controlExec, isControlNode, type ControlExec } from './plan-control.js';
import { copyInto, planGraph, type GraphPlan, type Placed, type PlanEnv, type PlanScope } from './plan-graph.js';
import { runOnReference } from './reference-step.js';

export class Cut {
  private readonly node: Node;
  private readonly residuals = new LazyCache();
  private control: { epoch: number; exec: ControlExec } | undefined;
  private current: GraphPlan | undefined;

  constructor(
    private readonly env: PlanEnv,
    private readonly graph: Graph,
    /** The cut node, then every node after it in topological order. */
    private readonly rest: readonly Node[],
    private readonly scope: PlanScope,
  ) {
    this.node = rest[0]!;
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
    const outs = this.outputsOfNode();
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
