// fp16 weights: every float32 initializer of at least `minElements` values is stored as float16
// and read through a Cast back to float32, so the file is about half the size while every op
// still computes in float32 (the WASM backend folds the Casts of constants once, at plan time).
//
//   W (float32 initializer)   ->   W_fp16 (float16 initializer) -> Cast(to FLOAT) -> W
//
// The Cast's output keeps the weight's name, so no consumer changes and subgraphs that read the
// weight from the outer scope still find it. Casts go first, in initializer order.
// Left in float32: initializers read by a node in keepFloat (a layer kept float keeps its exact
// weights), graph outputs, small tensors (scales, Clip bounds, shapes given as floats: the bytes
// saved are nothing, and a rounded Clip bound would change the op), and tensors with a finite
// value beyond float16's range (65504), which would become infinite.
// Error: each weight rounds to the nearest float16, a relative change of at most 2^-11 (float16
// has 11 significant bits), or at most 2^-25 absolute below 2^-14 (subnormals). For a dot product
// y = sum_k x_k w_k + b that moves y by at most 2^-11 * (sum_k |x_k w_k| + |b|) plus the
// subnormal term; the test checks exactly this bound on the reference backend.
import { NameGenerator, UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node } from '../../graph/ir.js';
import { ONNX_CODE_OF_DTYPE } from '../../tensor/dtype.js';
import { float32ToFloat16 } from '../../tensor/float16.js';
import { Tensor } from '../../tensor/tensor.js';
import { definePass } from '../pass.js';
import { dropUnusedInitializers, prepareForQuantization } from './prepare.js';
import { checkKeepFloat } from './static-qdq.js';

export interface Fp16WeightsOptions {
  /** Node names whose weights stay float32. */
  keepFloat?: readonly string[];
  /** Initializers with fewer values stay float32 (default 16). */
  minElements?: number;
}

/** Largest finite float16. */
const FLOAT16_MAX = 65504;

export function quantizeFp16(input: Graph, options: Fp16WeightsOptions = {}): Graph {
  const minElements = options.minElements ?? 16;
  if (!Number.isInteger(minElements) || minElements < 1) throw new Error(`quantizeFp16: minElements must be a positive integer, got ${String(minElements)}`);
  const graph = prepareForQuantization(input);
  const keep = checkKeepFloat(graph, options.keepFloat);
  const index = new UseDefIndex(graph);
  const names = new NameGenerator(graph);
  const initializers = new Map(graph.initializers);
  const casts: Node[] = [];
  for (const [name, w] of graph.initializers) {
    if (w.type !== 'float32' || w.size < minElements || index.isGraphOutput(name)) continue;
    const users = index.consumers(name);
    if (users.length === 0 || users.some((n) => keep.has(n.name))) continue;
    const data = w.data as Float32Array;
    if (data.some((v) => Number.isFinite(v) && Math.abs(v) > FLOAT16_MAX)) continue;
    const half = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) half[i] = float32ToFloat16(data[i]!);
    const stored = names.fresh(`${name}_fp16`);
    initializers.delete(name);
    initializers.set(stored, new Tensor('float16', half, w.dims));
    casts.push({ name: names.fresh(`${name}_cast`), op: 'Cast', domain: '', inputs: [stored], outputs: [name], attrs: { to: ONNX_CODE_OF_DTYPE.float32 } });
  }
  if (casts.length === 0) {
    throw new Error(`quantizeFp16: graph '${graph.name}' has no float32 initializer of at least ${minElements} values outside keepFloat`);
  }
  return dropUnusedInitializers({ ...graph, nodes: [...casts, ...graph.nodes], initializers });
}

export const quantizeFp16Pass = definePass<Fp16WeightsOptions>('quantizeFp16', (graph, options) => quantizeFp16(graph, options));
