// Each clean-up pass on small graphs: the exact graph after (ops, inputs, initializers), that the
// input graph is left untouched, and the reference outputs before/after within the pass's
// documented error (exact for all but foldBatchNorm and matMulAddToGemm).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { cancelTransposeReshape } from '../../src/passes/cancel-transpose-reshape.js';
import { cleanupPasses } from '../../src/passes/cleanup.js';
import { constantFolding } from '../../src/passes/constant-folding.js';
import { commonSubexpressionElimination } from '../../src/passes/cse.js';
import { deadCodeElimination } from '../../src/passes/dead-code.js';
import { foldBatchNorm } from '../../src/passes/fold-batchnorm.js';
import { matMulAddToGemm } from '../../src/passes/matmul-add-to-gemm.js';
import { applyPass, type Pass } from '../../src/passes/pass.js';
import { optimize } from '../../src/passes/pipeline.js';
import { removeIdentity } from '../../src/passes/remove-identity.js';
import { simplifyShapeOps } from '../../src/passes/simplify-shape-ops.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectSameOutputs, f32, graph, i64, node, ops, randT, runRef } from './helpers.js';

/** Applies a pass, checking it did not mutate its input (nodes, lists and initializers). */
function apply(g: Graph, pass: Pass): Graph {
  const snapshot = JSON.stringify({ nodes: g.nodes, outputs: g.outputs, inits: [...g.initializers.keys()] });
  const out = applyPass(g, pass);
  expect(JSON.stringify({ nodes: g.nodes, outputs: g.outputs, inits: [...g.initializers.keys()] })).toBe(snapshot);
  return out;
}

describe('constantFolding', () => {
  it('folds constant chains and Shape of a concrete input, keeping big results at run time', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const c = b.op('Mul', [b.constant('a', f32([1, 2, 3], [3])), b.constant('k', f32([2], []))], {}, { outputs: ['c'] });
    const s = b.op('Shape', [x], {}, { outputs: ['s'] });
    const r = b.op('Reshape', [b.op('Add', [x, c], {}, { outputs: ['y'] }), s], {}, { outputs: ['r'] });
    const big = b.op('ConstantOfShape', [b.constant('dims', i64([64, 64]))], { value: f32([1], [1]) }, { outputs: ['big'] });
    b.output(r);
    b.output(big);
    const g = b.build();
    const out = apply(g, constantFolding({ maxElements: 1000 }));
    expect(ops(out)).toEqual(['Add', 'Reshape', 'ConstantOfShape']);
    expect(Array.from(out.initializers.get('c')!.data as Float32Array)).toEqual([2, 4, 6]);
    expect(Array.from(out.initializers.get('s')!.data as BigInt64Array)).toEqual([2n, 3n]);
    await expectSameOutputs(g, out, { x: randT([2, 3], 1) });
    // With the default limit the 4096-element ConstantOfShape folds too.
    expect(ops(apply(g, constantFolding()))).toEqual(['Add', 'Reshape']);
  });

  it('never folds random ops', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2]);
    b.output(b.op('Add', [x, b.op('RandomUniform', [], { shape: [2] })]));
    b.output(b.op('RandomNormalLike', [b.constant('c', f32([1, 2, 3], [3]))], { seed: 3 }));
    const g = b.build();
    expect(apply(g, constantFolding())).toBe(g);
    // Unseeded, two runs differ (the values were not frozen into the graph).
    const feeds = { x: f32([0, 0], [2]) };
    const [a1, a2] = [await runRef(g, feeds), await runRef(g, feeds)];
    const name = g.outputs[0]!.name;
    expect(Array.from(a1.get(name)!.data as Float32Array)).not.toEqual(Array.from(a2.get(name)!.data as Float32Array));
  });
});

describe('deadCodeElimination', () => {
  it('removes unread nodes and initializers, keeps inputs and everything outputs need', async () => {
    const g = graph('g', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3] }, { name: 'unused_in', dtype: 'float32', shape: [3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3] }],
      initializers: new Map([['w', f32([1, 2, 3], [3])], ['dead_w', f32([1], [1])]]),
      nodes: [node('Add', ['x', 'w'], ['y']), node('Mul', ['x', 'dead_w'], ['d1']), node('Neg', ['d1'], ['d2'])],
    });
    const out = apply(g, deadCodeElimination());
    expect(ops(out)).toEqual(['Add']);
    expect([...out.initializers.keys()]).toEqual(['w']);
    expect(out.inputs.map((v) => v.name)).toEqual(['x', 'unused_in']);
    await expectSameOutputs(g, out, { x: randT([3], 2), unused_in: randT([3], 3) });
  });

  it('keeps a node whose output only an If branch reads', () => {
    const branch = (name: string) => graph(name, { outputs: [{ name: `${name}_o`, dtype: 'float32', shape: [3] }], nodes: [node('Neg', ['h'], [`${name}_o`])] });
    const g = graph('g', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3] }, { name: 'c', dtype: 'bool', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3] }],
      nodes: [node('Relu', ['x'], ['h']), node('If', ['c'], ['y'], { then_branch: branch('t'), else_branch: branch('e') })],
    });
    expect(apply(g, deadCodeElimination())).toBe(g);
  });
});

describe('commonSubexpressionElimination', () => {
  it('merges equal nodes and equal initializers', async () => {
    const g = graph('g', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3] }],
      initializers: new Map([['k1', f32([2], [])], ['k2', f32([2], [])], ['k3', f32([3], [])]]),
      nodes: [
        node('Mul', ['x', 'k1'], ['a']), node('Mul', ['x', 'k2'], ['b']), node('Mul', ['x', 'k3'], ['c']),
        node('Sum', ['a', 'b', 'c'], ['y']),
      ],
    });
    const out = apply(g, commonSubexpressionElimination());
    expect(ops(out)).toEqual(['Mul', 'Mul', 'Sum']);
    expect(out.nodes[2]!.inputs).toEqual(['a', 'a', 'c']);
    expect([...out.initializers.keys()]).toEqual(['k1', 'k3']);
    await expectSameOutputs(g, out, { x: randT([3], 4) });
  });

  it('does not merge nodes with different attributes, or random ops', () => {
    const g = graph('g', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3] }, { name: 'r', dtype: 'float32', shape: [3] }],
      nodes: [
        node('LeakyRelu', ['x'], ['a'], { alpha: 0.1 }), node('LeakyRelu', ['x'], ['b'], { alpha: 0.2 }), node('Add', ['a', 'b'], ['y']),
        node('RandomUniformLike', ['x'], ['r1']), node('RandomUniformLike', ['x'], ['r2']), node('Add', ['r1', 'r2'], ['r']),
      ],
    });
    expect(apply(g, commonSubexpressionElimination())).toBe(g);
  });
});

describe('simplifyShapeOps', () => {
  it('folds Gather(Shape(x)) of concrete dims with a symbolic batch, and Squeeze(Unsqueeze)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['N', 3, 4]);
    const s = b.op('Shape', [x], {}, { outputs: ['s'] });
    const d = b.op('Gather', [s, b.constant('idx', i64([1, 2]))], { axis: 0 }, { outputs: ['d'] });
    const r = b.op('Reshape', [x, b.op('Concat', [b.constant('m1', i64([-1])), d], { axis: 0 })], {}, { outputs: ['r'] });
    const u = b.op('Unsqueeze', [r, b.constant('ax', i64([0]))], {}, { outputs: ['u'] });
    b.output(b.op('Squeeze', [u, b.constant('ax2', i64([-4]))], {}, { outputs: ['y'] }));
    const g = b.build();
    const out = apply(g, simplifyShapeOps());
    expect(ops(out)).toEqual(['Shape', 'Identity', 'Concat', 'Reshape', 'Unsqueeze', 'Identity']);
    expect(out.nodes[1]!.inputs).toEqual(['d__const']);
    expect(Array.from(out.initializers.get('d__const')!.data as BigInt64Array)).toEqual([3n, 4n]);
    expect(out.nodes[5]!.inputs).toEqual(['r']);
    await expectSameOutputs(g, out, { x: randT([2, 3, 4], 5) });
    // The whole pipeline: Shape and Gather gone, Concat folded, one Reshape left.
    const { graph: clean } = await optimize(g, cleanupPasses());
    expect(ops(clean)).toEqual(['Reshape']);
    expect(clean.outputs.map((v) => v.name)).toEqual(['y']);
    await expectSameOutputs(g, clean, { x: randT([5, 3, 4], 6) });
  });
});

describe('cancelTransposeReshape', () => {
  it('removes inverse Transposes, merges others, collapses Reshape chains', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4]);
    const t1 = b.op('Transpose', [x], { perm: [1, 2, 0] }, { outputs: ['t1'] });
    const t2 = b.op('Transpose', [t1], { perm: [2, 0, 1] }, { outputs: ['t2'] }); // inverse: back to x
    const t3 = b.op('Transpose', [t1], { perm: [1, 0, 2] }, { outputs: ['t3'] }); // composite [2, 1, 0]
    const r1 = b.op('Reshape', [x, b.constant('s1', i64([6, 4]))], {}, { outputs: ['r1'] });
    const r2 = b.op('Reshape', [r1, b.constant('s2', i64([4, -1]))], {}, { outputs: ['r2'] });
    const r3 = b.op('Reshape', [r2, b.constant('s3', i64([2, 3, 4]))], {}, { outputs: ['r3'] }); // back to x's shape
    for (const v of [t2, t3, r2, r3]) b.output(v);
    const g = b.build();
    const out = apply(g, cancelTransposeReshape());
    expect(out.nodes.map((n) => `${n.op}(${n.inputs.join(',')})`)).toEqual([
      'Transpose(x)', 'Identity(x)', 'Transpose(x)', 'Reshape(x,s1)', 'Reshape(x,s2)', 'Identity(x)',
    ]);
    expect(out.nodes[2]!.attrs.perm).toEqual([2, 1, 0]);
    await expectSameOutputs(g, out, { x: randT([2, 3, 4], 7) });
  });

  it('leaves a Reshape with a 0 (copy the intermediate dim) alone', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4]);
    const r1 = b.op('Reshape', [x, b.constant('s1', i64([6, 4]))]);
    b.output(b.op('Reshape', [r1, b.constant('s2', i64([0, 2, 2]))]));
    const g = b.build();
    expect(apply(g, cancelTransposeReshape())).toBe(g);
  });
});

describe('removeIdentity', () => {
  it('bypasses Identity and inference Dropout; a graph output keeps its name', async () => {
    const g = graph('g', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3] }, { name: 'z', dtype: 'float32', shape: [3] }],
      nodes: [
        node('Relu', ['x'], ['a']), node('Identity', ['a'], ['b']), node('Dropout', ['b'], ['c', '']),
        node('Neg', ['c'], ['m']), node('Identity', ['m'], ['y']), node('Abs', ['b'], ['z']),
      ],
    });
    const out = apply(g, removeIdentity());
    expect(out.nodes.map((n) => `${n.op}(${n.inputs.join(',')})->${n.outputs.join(',')}`)).toEqual(['Relu(x)->a', 'Neg(a)->y', 'Abs(a)->z']);
    expect(out.outputs.map((v) => v.name)).toEqual(['y', 'z']);
    await expectSameOutputs(g, out, { x: randT([3], 8) });
  });

  it('keeps an Identity from a graph input to a graph output, and a Dropout whose mask is read', () => {
    const g = graph('g', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3] }, { name: 'mask', dtype: 'bool', shape: [3] }],
      nodes: [node('Identity', ['x'], ['y']), node('Dropout', ['x'], ['d', 'mask'])],
    });
    expect(apply(g, removeIdentity())).toBe(g);
  });

  it('rewrites reads inside an If branch', async () => {
    const branch = (name: string, op: string) => graph(name, { outputs: [{ name: `${name}_o`, dtype: 'float32', shape: [3] }], nodes: [node(op, ['b'], [`${name}_o`])] });
    const g = graph('g', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3] }, { name: 'c', dtype: 'bool', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3] }],
      nodes: [node('Identity', ['x'], ['b']), node('If', ['c'], ['y'], { then_branch: branch('t', 'Neg'), else_branch: branch('e', 'Abs') })],
    });
    const out = apply(g, removeIdentity());
    expect(ops(out)).toEqual(['If']);
    expect((out.nodes[0]!.attrs.then_branch as Graph).nodes[0]!.inputs).toEqual(['x']);
    await expectSameOutputs(g, out, { x: randT([3], 9), c: new Tensor('bool', Uint8Array.of(1), []) });
  });
});

describe('foldBatchNorm', () => {
  const bnParams = (b: GraphBuilder, c: number, seed: number) => [
    b.constant(`scale${seed}`, randT([c], seed)), b.constant(`bias${seed}`, randT([c], seed + 1)),
    b.constant(`mean${seed}`, randT([c], seed + 2)), b.constant(`var${seed}`, f32(Array.from(randT([c], seed + 3).data as Float32Array, (v) => v * v + 0.1), [c])),
  ];

  it('folds into Conv (with and without bias), grouped ConvTranspose and Gemm', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 4, 5, 5]);
    const c1 = b.op('Conv', [x, b.constant('w1', randT([6, 4, 3, 3], 1))], { pads: [1, 1, 1, 1] });
    const y1 = b.op('BatchNormalization', [c1, ...bnParams(b, 6, 10)], { epsilon: 1e-3 }, { outputs: ['y1'] });
    const c2 = b.op('ConvTranspose', [x, b.constant('w2', randT([4, 3, 2, 2], 2)), b.constant('b2', randT([6], 3))], { group: 2, strides: [2, 2] });
    const y2 = b.op('BatchNormalization', [c2, ...bnParams(b, 6, 20)], {}, { outputs: ['y2'] });
    const f = b.op('Flatten', [x]);
    const g3 = b.op('Gemm', [f, b.constant('w3', randT([7, 100], 4)), b.constant('b3', randT([7], 5))], { transB: 1, beta: 0.5 });
    const y3 = b.op('BatchNormalization', [g3, ...bnParams(b, 7, 30)], {}, { outputs: ['y3'] });
    for (const v of [y1, y2, y3]) b.output(v);
    const g = b.build();
    const out = apply(g, foldBatchNorm());
    expect(ops(out)).toEqual(['Conv', 'ConvTranspose', 'Flatten', 'Gemm']);
    expect(out.nodes[0]!.inputs).toEqual(['x', 'w1__bnfold', 'Conv_0__bnfold_bias']);
    expect(out.nodes[0]!.outputs).toEqual(['y1']);
    expect(out.nodes[3]!.attrs).toEqual({ transB: 1, beta: 1 });
    // Folded weights rounded once to float32: a few float32 ulps of the output's scale.
    await expectSameOutputs(g, out, { x: randT([1, 4, 5, 5], 6) }, 1e-5, 2e-6);
  });

  it('leaves a BatchNormalization whose input has another reader', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [1, 2, 3, 3]);
    const c = b.op('Conv', [x, b.constant('w', randT([2, 2, 1, 1], 1))], {}, { outputs: ['c'] });
    b.output(b.op('BatchNormalization', [c, ...bnParams(b, 2, 40)]));
    b.output(c);
    const g = b.build();
    expect(apply(g, foldBatchNorm())).toBe(g);
  });
});

describe('matMulAddToGemm', () => {
  it('turns 2-D MatMul + broadcastable bias into Gemm, not 3-D or growing broadcasts', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 4]);
    const x3 = b.input('x3', 'float32', [2, 2, 4]);
    const w = b.constant('w', randT([4, 3], 1));
    const y1 = b.op('Add', [b.constant('bias', randT([3], 2)), b.op('MatMul', [x, w])], {}, { outputs: ['y1'] });
    const y2 = b.op('Add', [b.op('MatMul', [x3, w]), b.constant('bias3', randT([3], 3))], {}, { outputs: ['y2'] });
    const y3 = b.op('Add', [b.op('MatMul', [x, w]), b.constant('grow', randT([5, 1, 3], 4))], {}, { outputs: ['y3'] });
    for (const v of [y1, y2, y3]) b.output(v);
    const g = b.build();
    const out = apply(g, matMulAddToGemm());
    expect(out.nodes.map((n) => `${n.op}(${n.inputs.join(',')})`)).toEqual(['Gemm(x,w,bias)', 'MatMul(x3,w)', 'Add(MatMul_2_out0,bias3)', 'MatMul(x,w)', 'Add(MatMul_4_out0,grow)']);
    expect(out.nodes[0]!.outputs).toEqual(['y1']);
    await expectSameOutputs(g, out, { x: randT([2, 4], 5), x3: randT([2, 2, 4], 6) }, 1e-6, 1e-7);
  });
});

describe('optimize()', () => {
  it('records each pass that changed the graph, reports the check-set error, and names a pass that breaks the graph', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 4]);
    b.output(b.op('Add', [b.op('MatMul', [b.op('Identity', [x]), b.constant('w', randT([4, 3], 1))]), b.constant('c', randT([3], 2))]));
    const g = b.build();
    const events: string[] = [];
    const { graph: out, report } = await optimize(g, [removeIdentity(), matMulAddToGemm(), deadCodeElimination()], {
      check: { feeds: [{ x: randT([2, 4], 3) }, { x: randT([2, 4], 4) }] },
      onProgress: (e) => events.push(`${e.pass}:${e.phase}`),
    });
    expect(ops(out)).toEqual(['Gemm']);
    expect(out.provenance.map((p) => p.pass)).toEqual(['removeIdentity', 'matMulAddToGemm']);
    expect(report.map((r) => r.changed)).toEqual([true, true, false]);
    expect(report[0]!.error!.vsOriginal.maxAbs).toBe(0);
    expect(report[1]!.error!.vsOriginal.maxRel).toBeLessThan(1e-6);
    expect(events).toEqual(['removeIdentity:start', 'removeIdentity:done', 'matMulAddToGemm:start', 'matMulAddToGemm:done', 'deadCodeElimination:start', 'deadCodeElimination:done']);
    const broken: Pass = { name: 'broken', options: {}, run: (gr) => ({ ...gr, nodes: gr.nodes.slice(1) }) };
    await expect(optimize(g, [broken])).rejects.toThrow(/pass 'broken' produced an invalid graph/);
  });
});
