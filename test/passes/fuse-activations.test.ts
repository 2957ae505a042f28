// The fusion pass must not change results: each graph runs on the reference backend before and
// after, and the fused graph has the expected ops.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { fuseActivations } from '../../src/passes/fuse-activations.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose } from '../helpers/op.js';

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}
const t = (dims: number[], seed: number) => new Tensor('float32', rand(dims.reduce((a, b) => a * b, 1), seed), dims);

async function run(g: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  return (await InferenceSession.create(g, { backend: 'reference' })).run(feeds);
}

async function expectSameResults(g: Graph, feeds: Record<string, Tensor>): Promise<Graph> {
  const fused = fuseActivations(g);
  const before = await run(g, feeds);
  const after = await run(fused, feeds);
  // Fused kernels round once where the unfused graph rounds twice (conv, then bias add): results
  // agree to float32 rounding, measured against the tensor's scale where sums cancel.
  for (const k of Object.keys(before)) {
    const want = before[k]!.data as Float32Array;
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(after[k]!.data as Float32Array, want, 1e-6, 1e-6 * scale);
  }
  return fused;
}

const ops = (g: Graph) => g.nodes.map((n) => (n.domain ? `${n.domain}::${n.op}` : n.op));

describe('fuseActivations', () => {
  it('folds a per-channel Add into Conv bias and fuses the Relu (conv -> add -> relu)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2, 5, 5]);
    const c = b.op('Conv', [x, b.constant('w', t([3, 2, 3, 3], 1))], { pads: [1, 1, 1, 1] });
    const a = b.op('Add', [c, b.constant('bias', t([3, 1, 1], 2))]);
    b.output(b.op('Relu', [a]));
    const fused = await expectSameResults(b.build(), { x: t([1, 2, 5, 5], 3) });
    expect(ops(fused)).toEqual(['ai.kiln::FusedConv']);
    expect(fused.nodes[0]!.inputs).toHaveLength(3);
    expect(fused.provenance.at(-1)?.pass).toBe('fuseActivations');
  });

  it('fuses Gemm + Clip with constant bounds, and MatMul + bias Add + LeakyRelu', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 4]);
    const g1 = b.op('Gemm', [x, b.constant('w', t([4, 3], 4)), b.constant('c', t([3], 5))]);
    const clip = b.op('Clip', [g1, b.constant('lo', new Tensor('float32', Float32Array.of(-0.1), [])), b.constant('hi', new Tensor('float32', Float32Array.of(0.2), []))]);
    const m = b.op('MatMul', [clip, b.constant('w2', t([3, 5], 6))]);
    const add = b.op('Add', [b.constant('b2', t([5], 7)), m]);
    b.output(b.op('LeakyRelu', [add], { alpha: 0.2 }));
    const fused = await expectSameResults(b.build(), { x: t([2, 4], 8) });
    expect(ops(fused)).toEqual(['ai.kiln::FusedGemm', 'ai.kiln::FusedMatMul']);
    expect(fused.nodes[0]!.attrs.activation_params).toEqual([Math.fround(-0.1), Math.fround(0.2)]);
  });

  it('leaves producers alone when their output is also used elsewhere or is a graph output', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 4]);
    const m = b.op('MatMul', [x, b.constant('w', t([4, 4], 9))]);
    b.output(b.op('Relu', [m]));
    b.output(b.op('Sigmoid', [m]));
    const g = b.build();
    expect(fuseActivations(g)).toBe(g);
    const c = new GraphBuilder();
    const y = c.op('Gemm', [c.input('x', 'float32', [2, 4]), c.constant('w', t([4, 4], 10))]);
    c.output(y);
    c.output(c.op('Relu', [y]));
    const g2 = c.build();
    expect(fuseActivations(g2)).toBe(g2);
  });

  it('turns mnist-8 into FusedConv/MaxPool and FusedMatMul with identical outputs', async () => {
    const g = importOnnx(readFileSync(new URL('../../assets/mnist-8.onnx', import.meta.url)));
    const fused = await expectSameResults(g, { Input3: t([1, 1, 28, 28], 11) });
    expect(ops(fused).filter((o) => o.startsWith('ai.kiln'))).toEqual(['ai.kiln::FusedConv', 'ai.kiln::FusedConv', 'ai.kiln::FusedMatMul']);
    expect(ops(fused)).not.toContain('Relu');
  });
});
