// The pure-TypeScript interpreter: runs each node's reference kernel in topological order and
// drops intermediate values after their last use. Subgraphs (If branches, Loop and Scan bodies)
// run through the same loop, reading the values of the scopes around them by name.
import { topoSort } from '../../graph/topo.js';
import type { Graph, Node } from '../../graph/ir.js';
import { nodeLabel, nodeReads, subgraphsOf } from '../../graph/ir.js';
import { evalNodeValues } from '../../ops/invoke.js';
import type { SubgraphRunner } from '../../ops/registry.js';
import type { Value } from '../../tensor/value.js';
import { registerBackend, type Backend, type Executable } from '../backend.js';

/** Values visible from enclosing scopes, by name. */
export type ValueLookup = (name: string) => Value | undefined;

interface Schedule {
  order: Node[];
  /** For each step, values whose last reader it is (freed after the step). */
  releases: string[][];
}

function schedule(graph: Graph, outer?: (name: string) => boolean): Schedule {
  const order = topoSort(graph, outer);
  const lastUse = new Map<string, number>();
  order.forEach((n, i) => { for (const v of nodeReads(n)) lastUse.set(v, i); });
  const releases: string[][] = order.map(() => []);
  for (const [v, i] of lastUse) releases[i]!.push(v);
  return { order, releases };
}

/** Subgraph schedules, made once per subgraph (a Loop body runs many times). */
const subgraphSchedules = new WeakMap<Graph, Schedule>();

/**
 * Runs the nodes of `graph` over `values` (feeds and initializers already in it). Names not in
 * `values` come from `outer`; only values of this graph are freed, and never those in `keep`.
 */
function interpret(graph: Graph, sched: Schedule, values: Map<string, Value>, outer: ValueLookup | undefined, keep: ReadonlySet<string>): void {
  const lookup: ValueLookup = (name) => values.get(name) ?? outer?.(name);
  const runSubgraph = subgraphRunner(lookup);
  sched.order.forEach((node, step) => {
    const inputs = node.inputs.map((name) => {
      if (!name) return undefined;
      const t = lookup(name);
      if (!t) throw new Error(`${nodeLabel(node)}: input '${name}' has no value`);
      return t;
    });
    const outs = evalNodeValues(node, inputs, subgraphsOf(node).length ? runSubgraph : undefined);
    node.outputs.forEach((o, i) => { if (o && outs[i]) values.set(o, outs[i]!); });
    for (const v of sched.releases[step]!) {
      if (!keep.has(v) && !graph.initializers.has(v)) values.delete(v);
    }
  });
}

/** A SubgraphRunner whose subgraphs see `lookup` as their enclosing scope. */
export function subgraphRunner(lookup: ValueLookup): SubgraphRunner {
  return (sub, inputs) => {
    if (inputs.length !== sub.inputs.length) {
      throw new Error(`subgraph '${sub.name}' takes ${sub.inputs.length} inputs, got ${inputs.length}`);
    }
    let sched = subgraphSchedules.get(sub);
    // Inference already checked that outer names resolve; here any name may come from outside.
    if (!sched) subgraphSchedules.set(sub, (sched = schedule(sub, () => true)));
    const values = new Map<string, Value>(sub.initializers);
    sub.inputs.forEach((v, i) => values.set(v.name, inputs[i]!));
    interpret(sub, sched, values, lookup, new Set(sub.outputs.map((v) => v.name)));
    return sub.outputs.map((v) => {
      const t = values.get(v.name) ?? lookup(v.name);
      if (!t) throw new Error(`subgraph '${sub.name}': output '${v.name}' was not computed`);
      return t;
    });
  };
}

export class ReferenceExecutable implements Executable {
  private readonly sched: Schedule;

  constructor(private readonly graph: Graph) {
    this.sched = schedule(graph);
  }

  async run(feeds: ReadonlyMap<string, Value>, fetches: readonly string[]): Promise<Map<string, Value>> {
    const values = new Map<string, Value>(this.graph.initializers);
    for (const [k, v] of feeds) values.set(k, v);
    interpret(this.graph, this.sched, values, undefined, new Set(fetches));
    const result = new Map<string, Value>();
    for (const f of fetches) {
      const t = values.get(f);
      if (!t) throw new Error(`output '${f}' was not computed`);
      result.set(f, t);
    }
    return result;
  }

  dispose(): void {}
}

export const referenceBackend: Backend = {
  name: 'reference',
  isAvailable: async () => true,
  compile: async (graph) => new ReferenceExecutable(graph),
};

registerBackend(referenceBackend);
