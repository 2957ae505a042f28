// A pass is a pure Graph -> Graph function with a name; it records itself in the provenance.
import type { Graph, Provenance } from '../graph/ir.js';

export interface Pass<O = Record<string, unknown>> {
  name: string;
  run(graph: Graph, options?: O): Graph;
}

export function withProvenance(graph: Graph, entry: Provenance): Graph {
  return { ...graph, provenance: [...graph.provenance, { at: new Date().toISOString(), ...entry }] };
}
