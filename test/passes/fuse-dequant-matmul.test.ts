// fuseDequantMatMul counts uses through the shared use-def index: a dequantized weight that an
// If branch also reads (an implicit input of the If node) must not be fused away. The pass also
// recurses into subgraphs, fusing a weight-only int4 MatMul inside a branch.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/graph/ir.js';
import { verifyGraph } from '../../src/graph/verify.js';
import { fuseDequantMatMul } from '../../src/passes/fuse-dequant-matmul.js';
import { writeInt4 } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectSameOutputs, graph, node, ops, randT } from './helpers.js';

const K = 64;
const N = 8;

/** int4 weights [K, N] with block-32 scales along K: DequantizeLinear(wq, ws) is a fusable B. */
function int4Weights(): Map<string, Tensor> {
  const packed = new Uint8Array((K * N) / 2);
  for (let i = 0; i < K * N; i++) writeInt4(packed, i, ((i * 7) % 16) - 8);
  const scale = new Tensor('float32', Float32Array.from({ length: (K / 32) * N }, (_, i) => 0.01 + i * 0.001), [K / 32, N]);
  return new Map<string, Tensor>([['wq', new Tensor('int4', packed, [K, N])], ['ws', scale]]);
}

const dq = node('DequantizeLinear', ['wq', 'ws'], ['w'], { axis: 0, block_size: 32 });
const cond = (v: boolean) => new Tensor('bool', Uint8Array.of(v ? 1 : 0), []);

/** y = x @ dq(w); z = If(c) then Neg(w) else Abs(w) when `branchReadsW`, else Neg/Abs(x). */
function model(branchReadsW: boolean): Graph {
  const src = branchReadsW ? 'w' : 'x';
  const shape = branchReadsW ? [K, N] : [1, K];
  const branch = (name: string, op: string) => graph(name, {
    outputs: [{ name: `${name}_z`, dtype: 'float32', shape }],
    nodes: [node(op, [src], [`${name}_z`])],
  });
  return graph('m', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, K] }, { name: 'c', dtype: 'bool', shape: [] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, N] }, { name: 'z', dtype: 'float32', shape }],
    initializers: int4Weights(),
    nodes: [dq, node('MatMul', ['x', 'w'], ['y']), node('If', ['c'], ['z'], { then_branch: branch('then', 'Neg'), else_branch: branch('else', 'Abs') })],
  });
}

describe('fuseDequantMatMul and subgraph reads', () => {
  it('keeps DequantizeLinear when an If branch also reads its output', async () => {
    const g = model(true);
    verifyGraph(g);
    const out = fuseDequantMatMul(g);
    expect(out).toBe(g); // nothing fused: the weight has two uses
    expect(ops(out)).toEqual(['DequantizeLinear', 'MatMul', 'If']);
  });

  it('fuses when the branches read other values', async () => {
    const g = model(false);
    const out = fuseDequantMatMul(g);
    expect(ops(out)).toEqual(['ai.kiln::DequantMatMul', 'If']);
    expect(out.nodes[0]!.inputs).toEqual(['x', 'wq', 'ws']);
    expect(out.provenance.at(-1)?.pass).toBe('fuseDequantMatMul');
    expect(g.nodes.map((n) => n.op)).toEqual(['DequantizeLinear', 'MatMul', 'If']); // input untouched
    // DequantMatMul's reference is the unfused computation: exact.
    await expectSameOutputs(g, out, { x: randT([1, K], 3), c: cond(true) });
  });

  it('fuses inside a branch, with the activation read from the outer scope', async () => {
    const weights = int4Weights();
    const then = graph('then', {
      initializers: weights,
      outputs: [{ name: 't_y', dtype: 'float32', shape: [1, N] }],
      nodes: [node('DequantizeLinear', ['wq', 'ws'], ['t_w'], { axis: 0, block_size: 32 }), node('MatMul', ['x', 't_w'], ['t_y'])],
    });
    const els = graph('else', { outputs: [{ name: 'e_y', dtype: 'float32', shape: [1, N] }], nodes: [node('Slice', ['x', 's0', 's1', 's2'], ['e_y'])] });
    const g = graph('m', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, K] }, { name: 'c', dtype: 'bool', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, N] }],
      initializers: new Map([
        ['s0', new Tensor('int64', BigInt64Array.of(0n), [1])], ['s1', new Tensor('int64', BigInt64Array.of(BigInt(N)), [1])], ['s2', new Tensor('int64', BigInt64Array.of(1n), [1])],
      ]),
      nodes: [node('If', ['c'], ['y'], { then_branch: then, else_branch: els })],
    });
    const out = fuseDequantMatMul(g);
    expect(ops(out.nodes[0]!.attrs.then_branch as Graph)).toEqual(['ai.kiln::DequantMatMul']);
    expect(ops(g.nodes[0]!.attrs.then_branch as Graph)).toEqual(['DequantizeLinear', 'MatMul']);
    await expectSameOutputs(g, out, { x: randT([1, K], 5), c: cond(true) });
  });
});
