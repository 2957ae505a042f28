// The pure-TypeScript interpreter: runs each node's reference kernel in topological order and
// drops intermediate values after their last use.
import { topoSort } from '../../graph/topo.js';
import type { Graph, Node } from '../../graph/ir.js';
import { nodeLabel } from '../../graph/ir.js';
import { evalNodeReference } from '../../ops/invoke.js';
import type { Tensor } from '../../tensor/tensor.js';
import { registerBackend, type Backend, type Executable } from '../backend.js';

export class ReferenceExecutable implements Executable {
  private readonly order: Node[];
  /** For each step, values whose last reader it is (freed after the step). */
  private readonly releases: string[][];

  constructor(private readonly graph: Graph) {
    this.order = topoSort(graph);
    const lastUse = new Map<string, number>();
    this.order.forEach((n, i) => n.inputs.forEach((v) => { if (v) lastUse.set(v, i); }));
    this.releases = this.order.map(() => []);
    for (const [v, i] of lastUse) this.releases[i]!.push(v);
  }

  async run(feeds: ReadonlyMap<string, Tensor>, fetches: readonly string[]): Promise<Map<string, Tensor>> {
    const values = new Map<string, Tensor>(this.graph.initializers);
    for (const [k, v] of feeds) values.set(k, v);
    const keep = new Set(fetches);
    this.order.forEach((node, step) => {
      const inputs = node.inputs.map((name) => {
        if (!name) return undefined;
        const t = values.get(name);
        if (!t) throw new Error(`${nodeLabel(node)}: input '${name}' has no value`);
        return t;
      });
      const outs = evalNodeReference(node, inputs);
      node.outputs.forEach((o, i) => { if (o && outs[i]) values.set(o, outs[i]!); });
      for (const v of this.releases[step]!) {
        if (!keep.has(v) && !this.graph.initializers.has(v)) values.delete(v);
      }
    });
    const result = new Map<string, Tensor>();
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
