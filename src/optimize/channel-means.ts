// Per-channel means of activations over a data set (axis 1 of an [N, C, ...] tensor): what bias
// correction (src/passes/quantize/bias-correction.ts) needs as E[x_i]. Each sample weighs the
// same; within a sample, the mean over the batch and spatial positions.
import type { BackendName } from '../backends/backend.js';
import type { Graph } from '../graph/ir.js';
import { InferenceSession } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';
import { floatActivations } from './calibrate.js';
import { toDataset, type Dataset } from './dataset.js';

export async function channelMeans(graph: Graph, data: Dataset | readonly Record<string, Tensor>[], tensors: readonly string[], backend: BackendName = 'wasm'): Promise<Map<string, Float64Array>> {
  const ds = toDataset(data);
  if (ds.length === 0) throw new Error('channelMeans: the data set is empty');
  const acts = floatActivations(graph);
  const byName = new Map(acts.map((v) => [v.name, v]));
  const inputs = new Set(graph.inputs.map((v) => v.name));
  const have = new Set(graph.outputs.map((v) => v.name));
  for (const t of tensors) if (!byName.has(t)) throw new Error(`channelMeans: '${t}' is not a float32 activation of graph '${graph.name}'`);
  const extra = tensors.filter((t) => !have.has(t) && !inputs.has(t)).map((t) => byName.get(t)!);
  const session = await InferenceSession.create({ ...graph, outputs: [...graph.outputs, ...extra] }, { backend });
  const sums = new Map<string, Float64Array>();
  try {
    for (let s = 0; s < ds.length; s++) {
      const feeds = ds.sample(s);
      const outs = await session.run(feeds, tensors.filter((t) => !inputs.has(t)));
      for (const t of tensors) {
        const v: Tensor | undefined = outs[t] ?? feeds[t];
        if (!v || v.dims.length < 2) throw new Error(`channelMeans: '${t}' has no [N, C, ...] value`);
        const C = v.dims[1]!;
        const inner = v.dims.slice(2).reduce((a, b) => a * b, 1);
        const n = v.dims[0]! * inner;
        const d = v.data as Float32Array;
        let acc = sums.get(t);
        if (!acc) sums.set(t, (acc = new Float64Array(C)));
        if (acc.length !== C) throw new Error(`channelMeans: '${t}' has ${C} channels in sample ${s}, ${acc.length} before`);
        for (let c = 0; c < C; c++) {
          let sum = 0;
          for (let b = 0; b < v.dims[0]!; b++) for (let k = (b * C + c) * inner, end = k + inner; k < end; k++) sum += d[k]!;
          acc[c]! += n ? sum / n / ds.length : 0;
        }
      }
    }
  } finally {
    await session.release();
  }
  return sums;
}
