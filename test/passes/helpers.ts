// Small-graph helpers for pass tests: deterministic tensors, hand-written nodes and graphs, and a
// check that the reference backend's outputs agree before and after a pass.
import { expect } from 'vitest';
import { ReferenceExecutable } from '../../src/backends/reference/index.js';
import { emptyGraph, type Graph, type Node } from '../../src/graph/ir.js';
import { verifyGraph } from '../../src/graph/verify.js';
import '../../src/ops/index.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';

export function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

export const randT = (dims: number[], seed: number): Tensor => new Tensor('float32', rand(dims.reduce((a, b) => a * b, 1), seed), dims);
export const f32 = (values: number[], dims: number[]): Tensor => new Tensor('float32', Float32Array.from(values), dims);
export const i64 = (values: number[], dims: number[] = [values.length]): Tensor => new Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

export const node = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}, name?: string): Node =>
  ({ name: name ?? `${op}_${outputs[0]}`, op, domain: '', inputs, outputs, attrs });

export function graph(name: string, parts: Partial<Graph>): Graph {
  return { ...emptyGraph(name), ...parts };
}

/** Node ops in order, with the domain for non-ONNX ops. */
export const ops = (g: Graph): string[] => g.nodes.map((n) => (n.domain ? `${n.domain}::${n.op}` : n.op));

export async function runRef(g: Graph, feeds: Record<string, Tensor>): Promise<Map<string, Tensor>> {
  const exec = new ReferenceExecutable(g);
  const out = await exec.run(new Map(Object.entries(feeds)), g.outputs.map((v) => v.name));
  return out as Map<string, Tensor>;
}

/**
 * Verifies `after`, runs both graphs on the reference backend and checks every output: same
 * names, dtypes, shapes, and values within |a - b| <= atol * max|b| + rtol * |b| (exact with 0, 0).
 */
export async function expectSameOutputs(before: Graph, after: Graph, feeds: Record<string, Tensor>, rtol = 0, atol = 0): Promise<void> {
  verifyGraph(after);
  expect(after.outputs.map((v) => v.name)).toEqual(before.outputs.map((v) => v.name));
  const want = await runRef(before, feeds);
  const got = await runRef(after, feeds);
  for (const [name, w] of want) {
    const a = got.get(name)!;
    expect(a.type, name).toBe(w.type);
    expect(a.dims, name).toEqual(w.dims);
    const x = toNumbers(a);
    const y = toNumbers(w);
    const scale = y.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < y.length; i++) {
      if (Object.is(x[i], y[i])) continue;
      const err = Math.abs(x[i]! - y[i]!);
      if (!(err <= atol * scale + rtol * Math.abs(y[i]!))) expect.fail(`output '${name}'[${i}] = ${x[i]}, want ${y[i]} (rtol ${rtol}, atol ${atol} x ${scale})`);
    }
  }
}
