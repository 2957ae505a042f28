// Keeping pruned weights at zero between pruning steps. A training loop that prunes on a schedule
// (schedule.ts) recomputes the zeros only at pruning steps; after every other optimizer update it
// re-applies the last masks, so the weights it zeroed stay zero (as TF-MOT's masks do):
//
//   let masks = new Map<string, Uint8Array>();
//   for (let step = 0; step < steps; step++) {
//     graph = applyPruningMasks(trainOneStep(graph), masks);
//     const r = pruneAtStep(graph, schedule, step);
//     if (r) {
//       graph = r.graph;
//       masks = pruningMasks(r);
//     }
//   }
import type { Graph } from '../../graph/ir.js';
import { allocData, type TensorData } from '../../tensor/dtype.js';
import { toNumbers } from '../../tensor/convert.js';
import { Tensor } from '../../tensor/tensor.js';
import type { MagnitudePruneResult } from './magnitude.js';

type Numeric = Exclude<TensorData, BigInt64Array | BigUint64Array>;

/** Per pruned weight (layers not kept dense), 1 where the weight is nonzero and 0 where it is zero. */
export function pruningMasks(result: MagnitudePruneResult): Map<string, Uint8Array> {
  const masks = new Map<string, Uint8Array>();
  for (const l of result.layers) {
    if (l.keptDense) continue;
    const t = result.graph.initializers.get(l.weight);
    if (!t) throw new Error(`pruningMasks: the pruned graph has no initializer '${l.weight}'`);
    const v = toNumbers(t);
    masks.set(l.weight, Uint8Array.from(v, (x) => (x === 0 ? 0 : 1)));
  }
  return masks;
}

/** `graph` with every masked-out (0) weight element set to +0 again; the graph itself when none was nonzero. */
export function applyPruningMasks(graph: Graph, masks: ReadonlyMap<string, Uint8Array>): Graph {
  let initializers: Map<string, Tensor> | undefined;
  for (const [name, mask] of masks) {
    const t = graph.initializers.get(name);
    if (!t) throw new Error(`applyPruningMasks: graph '${graph.name}' has no initializer '${name}'`);
    if (mask.length !== t.size) throw new Error(`applyPruningMasks: the mask of '${name}' has ${mask.length} entries, the weight [${t.dims.join(', ')}] ${t.size}`);
    const v = toNumbers(t);
    let changed = false;
    for (let i = 0; i < v.length && !changed; i++) changed = mask[i] === 0 && v[i] !== 0;
    if (!changed) continue;
    // +0 is the all-zero bit pattern in every prunable dtype (float32/16/64, bfloat16).
    const data = allocData(t.type, t.size) as Numeric;
    data.set(t.data as Numeric);
    for (let i = 0; i < v.length; i++) if (mask[i] === 0 && v[i] !== 0) data[i] = 0;
    initializers ??= new Map(graph.initializers);
    initializers.set(name, new Tensor(t.type, data, t.dims));
  }
  return initializers ? { ...graph, initializers } : graph;
}
