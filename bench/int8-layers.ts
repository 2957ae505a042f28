// Per-layer time of a model's QLinearConv / QLinearMatMul nodes on the WASM backend, each run alone
// as a one-node graph with the model's weights, for 1 and 2 threads: the kernel's own time from the
// session's profile (feeds and outputs copied in and out are not counted): the median over quiet
// rounds (see lib/quiet.ts) of the mean over a round's runs.
//   node --experimental-wasm-relaxed-simd --import tsx bench/int8-layers.ts <model.onnx> [--runs 30]
import { readFileSync } from 'node:fs';
import { inferGraph } from '../src/graph/infer.js';
import type { Graph } from '../src/graph/ir.js';
import { InferenceSession } from '../src/runtime/session.js';
import { parseModel } from '../src/runtime/load.js';
import { Tensor } from '../src/tensor/tensor.js';
import { quietMedian } from './lib/quiet.js';

const args = process.argv.slice(2);
const flag = (k: string, d: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args.splice(i, 2)[1]! : d; };
const runs = Number(flag('runs', '10'));
const parsed = parseModel(readFileSync(args[0]!));
// Batch 1 wherever the model leaves a dim symbolic.
const model: Graph = { ...parsed, inputs: parsed.inputs.map((v) => ({ ...v, ...(v.shape ? { shape: v.shape.map((d) => (typeof d === 'number' ? d : 1)) } : {}) })) };
const { types } = inferGraph(model);
let tot1 = 0, tot2 = 0;
for (const node of model.nodes) {
  if (node.op !== 'QLinearConv' && node.op !== 'QLinearMatMul') continue;
  const x = node.inputs[0]!;
  const xt = types.get(x)!;
  const dims = xt.shape as number[];
  const inits = new Map([...model.initializers].filter(([n]) => node.inputs.includes(n)));
  const g: Graph = {
    ...model, nodes: [node], initializers: inits, valueInfo: new Map(),
    inputs: [{ name: x, dtype: xt.dtype, shape: dims }],
    outputs: [{ name: node.outputs[0]!, ...types.get(node.outputs[0]!)! }],
  };
  const n = dims.reduce((a, b) => a * b, 1);
  const feed = new Tensor(xt.dtype, Uint8Array.from({ length: n }, (_, i) => (i * 7919) & 255), dims);
  const res: number[] = [];
  for (const threads of [1, 2]) {
    const s = await InferenceSession.create(g, { backend: 'wasm', threads, profile: true });
    await s.run({ [x]: feed });
    const total = () => s.profileReport().reduce((a, r) => a + r.ms, 0);
    res.push((await quietMedian(async () => {
      const before = total();
      for (let i = 0; i < runs; i++) await s.run({ [x]: feed });
      return (total() - before) / runs;
    })).ms);
    await s.release();
  }
  tot1 += res[0]!; tot2 += res[1]!;
  const w = model.initializers.get(node.inputs[3]!)!.dims;
  console.log(`${node.op} ${dims.join('x')} w ${w.join('x')} g${node.attrs.group ?? 1}: 1t ${res[0]!.toFixed(3)} ms, 2t ${res[1]!.toFixed(3)} ms, x${(res[0]! / res[1]!).toFixed(2)}`);
}
console.log(`sum: 1t ${tot1.toFixed(2)} ms, 2t ${tot2.toFixed(2)} ms, x${(tot1 / tot2).toFixed(2)}`);
