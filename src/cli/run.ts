// `kiln run <model>`: run any supported model on generated inputs and summarize its outputs.
import type { BackendName } from '../backends/backend.js';
import type { ValueInfo } from '../graph/ir.js';
import { InferenceSession } from '../runtime/session.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { isFloatDType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

export interface RunOptions {
  backend: BackendName | 'auto';
  /** Sizes for symbolic dimensions, e.g. { N: 4 }; unspecified ones are 1. */
  dims: Record<string, number>;
  runs: number;
}

/** Deterministic inputs: floats uniform in [-1, 1) from a fixed-seed LCG, integers and bools zero. */
export function generatedInput(v: ValueInfo, dims: Record<string, number>, seed = 1): Tensor {
  if (!v.shape) throw new Error(`input '${v.name}' has unknown rank; kiln run cannot make up a value for it`);
  const shape = v.shape.map((d) => (typeof d === 'number' ? d : (dims[d] ?? 1)));
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float64Array(n);
  if (isFloatDType(v.dtype)) {
    let s = seed >>> 0;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      values[i] = s / 2 ** 31 - 1;
    }
  }
  return fromNumbers(v.dtype, values, shape);
}

export async function runModel(source: string, opts: RunOptions, log = console.log): Promise<void> {
  const session = await InferenceSession.create(source, { backend: opts.backend });
  const feeds = Object.fromEntries(session.inputMetadata.map((v, i) => [v.name, generatedInput(v, opts.dims, i + 1)]));
  for (const [name, t] of Object.entries(feeds)) log(`input  ${name}: ${t.type}[${t.dims.join(', ')}] (generated)`);
  const times: number[] = [];
  let outs: Record<string, Tensor> = {};
  for (let r = 0; r < Math.max(1, opts.runs); r++) {
    const t0 = performance.now();
    outs = await session.run(feeds);
    times.push(performance.now() - t0);
  }
  for (const [name, t] of Object.entries(outs)) {
    const v = toNumbers(t);
    let min = Infinity, max = -Infinity, sum = 0;
    for (const x of v) { min = Math.min(min, x); max = Math.max(max, x); sum += x; }
    const head = Array.from(v.slice(0, 6)).map((x) => +x.toPrecision(5)).join(', ');
    log(`output ${name}: ${t.type}[${t.dims.join(', ')}] min ${+min.toPrecision(5)} max ${+max.toPrecision(5)} mean ${+(sum / Math.max(v.length, 1)).toPrecision(5)} [${head}${v.length > 6 ? ', ...' : ''}]`);
  }
  times.sort((a, b) => a - b);
  log(`backend ${session.backend}: ${times.length} run(s), median ${times[Math.floor(times.length / 2)]!.toFixed(2)} ms`);
}
