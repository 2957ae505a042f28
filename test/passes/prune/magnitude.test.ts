// pruneMagnitude on small graphs: exact zeroed entries for global and per-layer thresholds, ties,
// minDensity, keepDense, N:M along each op's reduction axis, which weights are prunable, the
// rewritten graph (a computed weight becomes an initializer), purity, the Pass's provenance
// record, and the errors for bad input. Outputs are checked on the reference backend against the
// same graph with the expected zeros written by hand (exact: the same weights, the same kernels).
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../src/graph/ir.js';
import { verifyGraph } from '../../../src/graph/verify.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { findPrunableLayers, pruneMagnitude, pruneMagnitudePass } from '../../../src/passes/prune/index.js';
import { attachSparse, csrFromDense, isNmSparse, nmFromDense } from '../../../src/tensor/sparse.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { expectSameOutputs, f32, graph, i64, node, ops, randT } from '../helpers.js';

const W1 = [0.5, -0.1, 0.3, -0.7, 0.2, 0.05, -0.9, 0.4];
const W2 = [0.6, -0.25, 0.15, 0.02];

/** y = MatMul(Relu(MatMul(x, W1 [4, 2])), W2 [2, 2]) */
function mlp(w1 = W1, w2 = W2): Graph {
  return graph('mlp', {
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 2] }],
    initializers: new Map([['W1', f32(w1, [4, 2])], ['W2', f32(w2, [2, 2])]]),
    nodes: [node('MatMul', ['x', 'W1'], ['h'], {}, 'fc1'), node('Relu', ['h'], ['r'], {}, 'relu'), node('MatMul', ['r', 'W2'], ['y'], {}, 'fc2')],
  });
}

const values = (g: Graph, name: string): number[] => Array.from(g.initializers.get(name)!.data as Float32Array);
const f = (v: number[]): number[] => Array.from(Float32Array.from(v));
const feeds = { x: randT([3, 4], 7) };

describe('pruneMagnitude: unstructured', () => {
  it('global: one threshold over all layers zeroes the smallest round(amount * total)', async () => {
    const g = mlp();
    const r = pruneMagnitude(g, { amount: 0.5 });
    // |w| sorted: 0.02 (W2), 0.05, 0.1 (W1), 0.15 (W2), 0.2 (W1), 0.25 (W2) are the 6 of 12.
    expect(values(r.graph, 'W1')).toEqual(f([0.5, 0, 0.3, -0.7, 0, 0, -0.9, 0.4]));
    expect(values(r.graph, 'W2')).toEqual(f([0.6, 0, 0, 0]));
    expect(ops(r.graph)).toEqual(['MatMul', 'Relu', 'MatMul']);
    expect(r.graph.nodes).toEqual(g.nodes);
    expect(r.layers).toEqual([
      { name: 'fc1', op: 'MatMul', weight: 'W1', dims: [4, 2], size: 8, zerosBefore: 0, zeros: 3, sparsity: 0.375, keptDense: false },
      { name: 'fc2', op: 'MatMul', weight: 'W2', dims: [2, 2], size: 4, zerosBefore: 0, zeros: 3, sparsity: 0.75, keptDense: false },
    ]);
    expect([r.size, r.zeros, r.sparsity]).toEqual([12, 6, 0.5]);
    await expectSameOutputs(mlp([0.5, 0, 0.3, -0.7, 0, 0, -0.9, 0.4], [0.6, 0, 0, 0]), r.graph, feeds);
  });

  it('layer: each layer loses round(amount * size) of its own smallest', async () => {
    const r = pruneMagnitude(mlp(), { amount: 0.5, kind: 'layer' });
    expect(values(r.graph, 'W1')).toEqual(f([0.5, 0, 0, -0.7, 0, 0, -0.9, 0.4]));
    expect(values(r.graph, 'W2')).toEqual(f([0.6, -0.25, 0, 0]));
    expect(r.layers.map((l) => l.sparsity)).toEqual([0.5, 0.5]);
    await expectSameOutputs(mlp([0.5, 0, 0, -0.7, 0, 0, -0.9, 0.4], [0.6, -0.25, 0, 0]), r.graph, feeds);
  });

  it('minDensity caps each layer; global pruning takes the rest from the other layers', () => {
    const r = pruneMagnitude(mlp(), { amount: 0.5, minDensity: 0.5 });
    // W2 may lose 2 of 4 (0.02, 0.15); 0.25 is skipped and W1 gives its 4 smallest instead.
    expect(values(r.graph, 'W2')).toEqual(f([0.6, -0.25, 0, 0]));
    expect(values(r.graph, 'W1')).toEqual(f([0.5, 0, 0, -0.7, 0, 0, -0.9, 0.4]));
    expect(r.zeros).toBe(6);
    // When the caps forbid the amount, pruning stops at them: 90% with every layer >= 50% dense.
    expect(pruneMagnitude(mlp(), { amount: 0.9, minDensity: 0.5 }).layers.map((l) => l.zeros)).toEqual([4, 2]);
    // ceil: a 4-weight layer at minDensity 0.3 keeps 2.
    expect(pruneMagnitude(mlp(), { amount: 1, kind: 'layer', minDensity: 0.3 }).layers.map((l) => l.zeros)).toEqual([5, 2]);
  });

  it('ties go by position: the earlier layer, then the lower index, is zeroed first', () => {
    const tie = pruneMagnitude(mlp([1, -1, 1, -1, 0.5, -0.5, 1, 1], [1, 1, 1, 1]), { amount: 0.5 });
    // 6 of 12: the two 0.5s, then the four earliest 1s, all in W1 (before W2).
    expect(values(tie.graph, 'W1')).toEqual([0, 0, 0, 0, 0, 0, 1, 1]);
    expect(values(tie.graph, 'W2')).toEqual([1, 1, 1, 1]);
    const layer = pruneMagnitude(mlp([1, -1, 1, -1, 0.5, -0.5, 1, 1], [1, 1, 1, 1]), { amount: 0.5, kind: 'layer' });
    expect(values(layer.graph, 'W1')).toEqual([0, 0, 1, -1, 0, 0, 1, 1]);
    expect(values(layer.graph, 'W2')).toEqual([0, 0, 1, 1]);
  });

  it('existing zeros count toward the amount; NaN is never pruned', () => {
    const g = mlp([0, 0, 0, 0, 1, 2, 3, 4], [0, 0, 1, 2]);
    expect(pruneMagnitude(g, { amount: 0.5 }).graph).toBe(g);
    const n = pruneMagnitude(mlp([Number.NaN, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], [1, 1, 1, 1]), { amount: 1, kind: 'layer' });
    expect(values(n.graph, 'W1')).toEqual([Number.NaN, 0, 0, 0, 0, 0, 0, 0]);
    expect(n.layers[0]!.zeros).toBe(7);
  });

  it('0% (and any setting that zeroes nothing new) returns the input graph itself', () => {
    const g = mlp();
    for (const o of [{ amount: 0 }, { amount: 0, kind: 'layer' as const }, { amount: 0.04 }]) expect(pruneMagnitude(g, o).graph).toBe(g);
    expect(pruneMagnitude(g, { amount: 0.05 }).graph).not.toBe(g); // round(0.6) = 1 weight
  });

  it('keepDense leaves the named layers (node or weight name) untouched', () => {
    for (const keep of ['fc2', 'W2']) {
      const r = pruneMagnitude(mlp(), { amount: 0.5, keepDense: [keep] });
      expect(values(r.graph, 'W2')).toEqual(f(W2));
      expect(values(r.graph, 'W1')).toEqual(f([0.5, 0, 0, -0.7, 0, 0, -0.9, 0.4]));
      expect(r.layers[1]!.keptDense).toBe(true);
      expect(r.sparsity).toBe(4 / 12);
    }
  });

  it('is pure: the input graph, its maps and tensors are unchanged', () => {
    const g = withComputedWeight();
    const before = { nodes: JSON.stringify(g.nodes), inits: [...g.initializers].map(([k, t]) => [k, Array.from(t.data as Float32Array | BigInt64Array, Number)]) };
    const r = pruneMagnitude(g, { amount: 0.9 });
    expect(r.graph).not.toBe(g);
    expect(JSON.stringify(g.nodes)).toBe(before.nodes);
    expect([...g.initializers].map(([k, t]) => [k, Array.from(t.data as Float32Array | BigInt64Array, Number)])).toEqual(before.inits);
    expect(g.provenance).toEqual([]);
  });
});

/** MatMul(x, Reshape(Wflat, [4, 2])) with an already-dead Identity that pruning must not touch. */
function withComputedWeight(): Graph {
  return graph('computed', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
    initializers: new Map<string, Tensor>([['Wflat', f32(W1, [8])], ['shape', i64([4, 2])], ['unused', f32([1], [1])]]),
    nodes: [
      node('Reshape', ['Wflat', 'shape'], ['W'], {}, 'reshape'),
      node('Identity', ['unused'], ['dead'], {}, 'dead'),
      node('MatMul', ['x', 'W'], ['y'], {}, 'fc'),
    ],
  });
}

describe('pruneMagnitude: which weights', () => {
  it('a weight computed from constants becomes an initializer; what only fed it goes', async () => {
    const g = withComputedWeight();
    const r = pruneMagnitude(g, { amount: 0.5 });
    expect(r.graph.nodes.map((n) => n.name)).toEqual(['dead', 'fc']);
    expect([...r.graph.initializers.keys()].sort()).toEqual(['W', 'unused']);
    expect(r.graph.initializers.get('W')!.dims).toEqual([4, 2]);
    expect(values(r.graph, 'W')).toEqual(f([0.5, 0, 0, -0.7, 0, 0, -0.9, 0.4]));
    verifyGraph(r.graph);
    const masked = graph('masked', { ...g, initializers: new Map([['W', f32([0.5, 0, 0, -0.7, 0, 0, -0.9, 0.4], [4, 2])]]), nodes: [node('MatMul', ['x', 'W'], ['y'])] });
    await expectSameOutputs(masked, r.graph, { x: randT([1, 4], 3) });
  });

  it('biases, activations and weights read elsewhere are not prunable', () => {
    const g = graph('mixed', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 3, 3] }, { name: 'B', dtype: 'float32', shape: [9, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }, { name: 'z', dtype: 'float32', shape: [1, 2] }, { name: 'u', dtype: 'float32', shape: [9, 2] }],
      initializers: new Map([
        ['Wc', f32([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], [1, 1, 3, 3])], ['bc', f32([0.001], [1])],
        ['Wg', f32([1, 2, 3, 4], [2, 2])], ['Cg', f32([0.001, 0.002], [2])], ['Ws', f32([5, 6, 7, 8], [2, 2])],
      ]),
      nodes: [
        node('Conv', ['x', 'Wc', 'bc'], ['c'], {}, 'conv'),
        node('Flatten', ['c'], ['cf'], {}, 'flat'),
        node('Gemm', ['cf', 'Wg', 'Cg'], ['y'], {}, 'gemm'),
        node('MatMul', ['Ws', 'y'], ['z0'], {}, 'left'), // Ws is A: an activation slot
        node('MatMul', ['y', 'Ws'], ['z1'], {}, 'right'), // ... and also read as B
        node('Add', ['z0', 'z1'], ['z'], {}, 'add'),
        node('MatMul', ['x', 'B'], ['u'], {}, 'input-weight'), // B is a graph input
      ],
    });
    expect(findPrunableLayers(g).map((l) => [l.name, l.weight])).toEqual([['conv', 'Wc'], ['gemm', 'Wg']]);
    const r = pruneMagnitude(g, { amount: 0.5, kind: 'layer' });
    expect(r.graph.initializers.get('bc')).toBe(g.initializers.get('bc'));
    expect(r.graph.initializers.get('Cg')).toBe(g.initializers.get('Cg'));
    expect(r.graph.initializers.get('Ws')).toBe(g.initializers.get('Ws'));
    expect(values(r.graph, 'Wc')).toEqual(f([0, 0, 0, 0, 0, 0.6, 0.7, 0.8, 0.9]));
    expect(values(r.graph, 'Wg')).toEqual([0, 0, 3, 4]);
  });

  it('a weight shared by two layers is one layer, pruned once', () => {
    const g = graph('shared', {
      inputs: [{ name: 'a', dtype: 'float32', shape: [1, 2] }, { name: 'b', dtype: 'float32', shape: [1, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }, { name: 'z', dtype: 'float32', shape: [1, 2] }],
      initializers: new Map([['W', f32([4, -1, 2, 3], [2, 2])]]),
      nodes: [node('MatMul', ['a', 'W'], ['y'], {}, 'first'), node('MatMul', ['b', 'W'], ['z'], {}, 'second')],
    });
    const r = pruneMagnitude(g, { amount: 0.5, keepDense: [] });
    expect(r.layers.map((l) => l.name)).toEqual(['first']);
    expect(values(r.graph, 'W')).toEqual([4, 0, 0, 3]);
    // Either reader's name names the layer.
    expect(() => pruneMagnitude(g, { amount: 0.5, keepDense: ['second'] })).toThrow("keepDense names every prunable layer of graph 'shared'");
  });
});

/** One-op graph: y = op(x, W) with `W` given, for N:M geometry checks. */
function oneOp(op: string, w: Tensor, xDims: number[], attrs: Record<string, number> = {}): Graph {
  return graph(op, {
    inputs: [{ name: 'x', dtype: 'float32', shape: xDims }],
    outputs: [{ name: 'y', dtype: 'float32' }],
    initializers: new Map([['W', w]]),
    nodes: [node(op, ['x', 'W'], ['y'], attrs, 'layer')],
  });
}

/** Column-major source for a [8, 2] K x N matrix: column n's 8 values along K. */
const COL0 = [0.1, -0.4, 0.3, 0.2, 0.9, 0.8, -0.7, 0.6];
const COL1 = [1, 1, 1, 1, 0, 0.5, -0.5, 0];
const KEPT0 = [0, -0.4, 0.3, 0, 0.9, 0.8, 0, 0];
const KEPT1 = [0, 0, 1, 1, 0, 0.5, -0.5, 0];
const kn = (c0: number[], c1: number[]): number[] => c0.flatMap((v, k) => [v, c1[k]!]);

describe('pruneMagnitude: N:M along the reduction axis', () => {
  it('MatMul B [K, N]: groups of 4 run down K (each column)', async () => {
    const g = oneOp('MatMul', f32(kn(COL0, COL1), [8, 2]), [1, 8]);
    const r = pruneMagnitude(g, { kind: '2:4' });
    expect(values(r.graph, 'W')).toEqual(f(kn(KEPT0, KEPT1)));
    expect(r.sparsity).toBe(0.5);
    await expectSameOutputs(oneOp('MatMul', f32(kn(KEPT0, KEPT1), [8, 2]), [1, 8]), r.graph, { x: randT([1, 8], 5) });
  });

  it('Gemm with transB (B [N, K]): groups run along each stored row', async () => {
    const g = oneOp('Gemm', f32([...COL0, ...COL1], [2, 8]), [1, 8], { transB: 1 });
    const r = pruneMagnitude(g, { kind: '2:4', amount: 0.5 });
    expect(values(r.graph, 'W')).toEqual(f([...KEPT0, ...KEPT1]));
    await expectSameOutputs(oneOp('Gemm', f32([...KEPT0, ...KEPT1], [2, 8]), [1, 8], { transB: 1 }), r.graph, { x: randT([1, 8], 5) });
    // Without transB the same data is [K=2, N=8]: K = 2 is no multiple of 4.
    expect(() => pruneMagnitude(oneOp('Gemm', f32([...COL0, ...COL1], [2, 8]), [1, 2]), { kind: '2:4' })).toThrow('K = dims[0] = 2');
  });

  it('Conv W [Cout, Cin, kh, kw]: groups along the flattened Cin * kh * kw of each filter', async () => {
    const w = f32([0.1, 0.2, 0.3, 0.4, -0.5, 0.05, 0.6, -0.01, 0, 0, 0, 0, 1, 2, 3, 4], [2, 2, 2, 2]);
    const r = pruneMagnitude(oneOp('Conv', w, [1, 2, 3, 3]), { kind: '2:4' });
    const want = [0, 0, 0.3, 0.4, -0.5, 0, 0.6, 0, 0, 0, 0, 0, 0, 0, 3, 4];
    expect(values(r.graph, 'W')).toEqual(f(want));
    expect(r.layers[0]!.zerosBefore).toBe(4);
    await expectSameOutputs(oneOp('Conv', f32(want, [2, 2, 2, 2]), [1, 2, 3, 3]), r.graph, { x: randT([1, 2, 3, 3], 9) });
    // 1:4 and 3:4 keep 1 and 3 of every 4.
    expect(values(pruneMagnitude(oneOp('Conv', w, [1, 2, 3, 3]), { kind: '1:4' }).graph, 'W')).toEqual(f([0, 0, 0, 0.4, 0, 0, 0.6, 0, 0, 0, 0, 0, 0, 0, 0, 4]));
    expect(values(pruneMagnitude(oneOp('Conv', w, [1, 2, 3, 3]), { kind: '3:4' }).graph, 'W')).toEqual(f([0, 0.2, 0.3, 0.4, -0.5, 0.05, 0.6, 0, 0, 0, 0, 0, 0, 2, 3, 4]));
  });

  it('ConvTranspose W [Cin, Cout/group, k...]: each output channel groups over its Cin', async () => {
    // Cin 4, Cout 2: element (ci, oc) at ci * 2 + oc. Channel 0 sees 0.1..0.4, channel 1 0.9..0.6.
    const w = f32([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6], [4, 2, 1, 1]);
    const r = pruneMagnitude(oneOp('ConvTranspose', w, [1, 4, 2, 2]), { kind: '2:4' });
    const want = [0, 0.9, 0, 0.8, 0.3, 0, 0.4, 0];
    expect(values(r.graph, 'W')).toEqual(f(want));
    await expectSameOutputs(oneOp('ConvTranspose', f32(want, [4, 2, 1, 1]), [1, 4, 2, 2]), r.graph, { x: randT([1, 4, 2, 2], 4) });
    // group 2, W [8, 1, 1, 1]: each group's output channel sums over its own 4 input channels.
    const grouped = findPrunableLayers(oneOp('ConvTranspose', f32([1, 2, 3, 4, 5, 6, 7, 8], [8, 1, 1, 1]), [1, 8, 1, 1], { group: 2 }))[0]!;
    expect([grouped.rows, grouped.reduction, grouped.at(1, 0), grouped.at(1, 3)]).toEqual([2, 4, 4, 7]);
  });

  it('a reduction that is not a multiple of M is an error naming the layer', () => {
    const g = oneOp('Conv', randT([2, 1, 3, 3], 1), [1, 1, 4, 4]);
    expect(() => pruneMagnitude(g, { kind: '2:4' })).toThrow(
      "pruneMagnitude: 2:4 pruning needs the reduction dimension of layer 'layer' (Conv, weight 'W' [2, 1, 3, 3]) to be a multiple of 4, but Cin/group * kernel = 1 * 3 * 3 = 9. Leave it dense with keepDense: ['layer'], or skipIndivisible");
    expect(() => pruneMagnitude(oneOp('MatMul', randT([6, 3], 1), [1, 6]), { kind: '2:4' })).toThrow('K = dims[0] = 6');
    expect(() => pruneMagnitude(g, { kind: '2:4', skipIndivisible: true })).toThrow("no layer of graph 'Conv' outside keepDense has a reduction dimension that is a multiple of 4");
  });

  it('every indivisible layer is named; skipIndivisible leaves them dense and says why', () => {
    // conv1: 1 * 3 * 3 = 9, depthwise: 1 * 3 * 3 = 9, conv3: 2 * 2 * 2 = 8.
    const g = graph('cnn', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 8, 8] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      initializers: new Map([['W1', randT([2, 1, 3, 3], 1)], ['W2', randT([2, 1, 3, 3], 2)], ['W3', randT([4, 2, 2, 2], 3)]]),
      nodes: [
        node('Conv', ['x', 'W1'], ['a'], {}, 'conv1'),
        node('Conv', ['a', 'W2'], ['b'], { group: 2 }, 'depthwise'),
        node('Conv', ['b', 'W3'], ['y'], {}, 'conv3'),
      ],
    });
    expect(() => pruneMagnitude(g, { kind: '2:4' })).toThrow(
      "but Cin/group * kernel = 1 * 3 * 3 = 9; the same for 'depthwise' (9). Leave them dense with keepDense: ['conv1', 'depthwise'], or skipIndivisible");
    const r = pruneMagnitude(g, { kind: '2:4', skipIndivisible: true });
    expect(r.layers.map((l) => [l.name, l.keptDense, l.reason, l.sparsity])).toEqual([
      ['conv1', true, 'reduction 9 is not a multiple of 4', 0],
      ['depthwise', true, 'reduction 9 is not a multiple of 4', 0],
      ['conv3', false, undefined, 0.5],
    ]);
    expect(r.graph.initializers.get('W1')).toBe(g.initializers.get('W1'));
    expect(pruneMagnitude(g, { kind: '2:4', keepDense: ['conv1', 'depthwise'] }).graph.initializers).toEqual(r.graph.initializers);
  });
});

describe('pruneMagnitude: bad input', () => {
  it.each([1.5, -0.1, Number.NaN, Infinity])('amount %s', (amount) => {
    expect(() => pruneMagnitude(mlp(), { amount })).toThrow(`pruneMagnitude: amount must be a number in [0, 1] (the fraction of weights set to zero), got ${String(amount)}`);
    expect(() => pruneMagnitude(mlp(), { amount, kind: 'layer' })).toThrow('amount must be a number in [0, 1]');
  });

  it('other options', () => {
    expect(() => pruneMagnitude(mlp(), {})).toThrow("amount is required for 'global' pruning");
    expect(() => pruneMagnitude(mlp(), { amount: 0.5, minDensity: 2 })).toThrow('minDensity must be a number in [0, 1]');
    expect(() => pruneMagnitude(mlp(), { kind: 'channel' as 'global', amount: 0.5 })).toThrow("kind must be 'global', 'layer' or an N:M pattern such as '2:4', got 'channel'");
    expect(() => pruneMagnitude(mlp(), { kind: '4:2' })).toThrow("N:M pattern '4:2' needs 1 <= N < M <= 256");
    expect(() => pruneMagnitude(mlp(), { kind: '2:4', amount: 0.9 })).toThrow('2:4 pruning zeroes exactly 0.5 of the weights; amount 0.9 does not apply');
    expect(() => pruneMagnitude(mlp(), { kind: '2:4', minDensity: 0.6 })).toThrow('minDensity 0.6 is above the density 0.5 that 2:4 keeps');
  });

  it('keepDense names that are not prunable layers list the prunable ones', () => {
    expect(() => pruneMagnitude(mlp(), { amount: 0.5, keepDense: ['fc3'] })).toThrow("keepDense: 'fc3' names no layer of graph 'mlp' (prunable layers: 'fc1', 'fc2')");
    expect(() => pruneMagnitude(mlp(), { amount: 0.5, keepDense: ['relu'] })).toThrow("keepDense: 'relu' is not a prunable layer of graph 'mlp' (prunable layers: 'fc1', 'fc2')");
    expect(() => pruneMagnitude(mlp(), { amount: 0.5, keepDense: ['fc1', 'W2'] })).toThrow("keepDense names every prunable layer of graph 'mlp'");
  });

  it('nothing prunable', () => {
    const g = graph('relu-only', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 2] }, { name: 'W', dtype: 'float32', shape: [2, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 2] }],
      nodes: [node('MatMul', ['x', 'W'], ['h']), node('Relu', ['h'], ['y'])],
    });
    expect(() => pruneMagnitude(g, { amount: 0.5 })).toThrow("pruneMagnitude: graph 'relu-only' has nothing prunable (no Conv, ConvTranspose, MatMul or Gemm whose weight is a constant float tensor read only as that weight)");
    const q = graph('quantized', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
      initializers: new Map<string, Tensor>([['Wq', new Tensor('int8', Int8Array.from([1, 2, 3, 4]), [2, 2])], ['s', f32([0.1], [])]]),
      nodes: [node('DequantizeLinear', ['Wq', 's'], ['W']), node('MatMul', ['x', 'W'], ['y'])],
    });
    expect(() => pruneMagnitude(q, { amount: 0.5 })).toThrow('has nothing prunable (no Conv, ConvTranspose, MatMul or Gemm whose weight is a constant float tensor read only as that weight); its weights are quantized: prune the float model, then quantize');
  });
});

describe('pruneMagnitudePass', () => {
  it('records which layers were pruned and their sparsity in provenance', async () => {
    const { graph: out, report } = await optimize(mlp(), [pruneMagnitudePass({ amount: 0.5 })]);
    expect(report[0]!.changed).toBe(true);
    expect(out.provenance).toHaveLength(1);
    expect(out.provenance[0]!.pass).toBe('pruneMagnitude');
    expect(out.provenance[0]!.options).toEqual({
      amount: 0.5,
      result: { sparsity: 0.5, layers: { fc1: { weight: 'W1', sparsity: 0.375 }, fc2: { weight: 'W2', sparsity: 0.75 } } },
    });
    expect(values(out, 'W2')).toEqual(f([0.6, 0, 0, 0]));
  });

  it('0% leaves the graph unchanged and unrecorded', async () => {
    const g = mlp();
    const { graph: out, report } = await optimize(g, [pruneMagnitudePass({ amount: 0, keepDense: ['fc2'] })]);
    expect(out).toBe(g);
    expect(report[0]!.changed).toBe(false);
    expect(report[0]!.options).toEqual({ amount: 0, keepDense: ['fc2'], result: { sparsity: 0, layers: { fc1: { weight: 'W1', sparsity: 0 }, fc2: { weight: 'W2', sparsity: 0, keptDense: true } } } });
  });

  it('bad options fail when the pass runs, naming the pass', async () => {
    await expect(optimize(mlp(), [pruneMagnitudePass({ amount: 1.5 })])).rejects.toThrow("pass 'pruneMagnitude' failed: pruneMagnitude: amount must be a number in [0, 1]");
  });
});

describe('pruneMagnitude: selection against a plain sort', () => {
  /** The definition: walk (|w|, layer, index) ascending, take while the layer is under its cap. */
  function naive(ws: number[][], amount: number, minDensity: number, perLayer: boolean): number[][] {
    const out = ws.map((w) => [...w]);
    const groups = perLayer ? ws.map((_, l) => [l]) : [ws.map((_, l) => l)];
    for (const layers of groups) {
      const entries = layers.flatMap((l) => ws[l]!.map((v, i) => ({ l, i, m: Number.isNaN(v) ? Infinity : Math.abs(v) })));
      entries.sort((a, b) => a.m - b.m || a.l - b.l || a.i - b.i);
      const target = Math.round(amount * entries.length);
      const taken = new Map<number, number>();
      let done = 0;
      for (const e of entries) {
        if (done >= target) break;
        const cap = ws[e.l]!.length - Math.ceil(minDensity * ws[e.l]!.length);
        if ((taken.get(e.l) ?? 0) >= cap || e.m === Infinity) continue;
        taken.set(e.l, (taken.get(e.l) ?? 0) + 1);
        out[e.l]![e.i] = 0;
        done++;
      }
    }
    return out;
  }

  it('agrees on 200 random cases with many ties, zeros, NaN and caps', () => {
    let seed = 1;
    const next = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let c = 0; c < 200; c++) {
      // Three layers [k, 2]; values from a small set so ties are everywhere.
      const ks = [1 + Math.floor(next() * 6), 1 + Math.floor(next() * 6), 1 + Math.floor(next() * 6)];
      const pick = [0, 0.25, -0.25, 0.5, -1, 1, 2, Number.NaN, Infinity];
      const ws = ks.map((k) => Array.from({ length: k * 2 }, () => pick[Math.floor(next() * (next() < 0.1 ? pick.length : 7))]!));
      const g = graph('rand', {
        inputs: ks.map((k, l) => ({ name: `x${l}`, dtype: 'float32' as const, shape: [1, k] })),
        outputs: ks.map((_, l) => ({ name: `y${l}`, dtype: 'float32' as const, shape: [1, 2] })),
        initializers: new Map(ws.map((w, l) => [`W${l}`, f32(w, [ks[l]!, 2])])),
        nodes: ks.map((_, l) => node('MatMul', [`x${l}`, `W${l}`], [`y${l}`], {}, `fc${l}`)),
      });
      const amount = Math.floor(next() * 11) / 10;
      const minDensity = next() < 0.5 ? 0 : Math.floor(next() * 6) / 10;
      for (const perLayer of [false, true]) {
        const r = pruneMagnitude(g, { amount, minDensity, kind: perLayer ? 'layer' : 'global' });
        const want = naive(ws, amount, minDensity, perLayer);
        expect(ws.map((_, l) => values(r.graph, `W${l}`)), `case ${c}, amount ${amount}, minDensity ${minDensity}, ${perLayer ? 'layer' : 'global'}`).toEqual(want);
      }
    }
  });
});

describe('pruneMagnitude and Kiln sparse layouts', () => {
  it("2:4 results satisfy Kiln's N:M layout along the reduction axis (so sparsify may store them as 2:4)", () => {
    const mm = pruneMagnitude(oneOp('MatMul', randT([16, 8], 1), [1, 16]), { kind: '2:4' }).graph.initializers.get('W')!;
    expect([isNmSparse(mm, 2, 4, 0), isNmSparse(mm, 2, 4, 1)]).toEqual([true, false]);
    expect(nmFromDense(mm, 2, 4, 0).values.length).toBe(64);
    const gemm = pruneMagnitude(oneOp('Gemm', randT([6, 16], 2), [1, 16], { transB: 1 }), { kind: '2:4' }).graph.initializers.get('W')!;
    expect(isNmSparse(gemm, 2, 4, 1)).toBe(true);
    const conv = pruneMagnitude(oneOp('Conv', randT([4, 3, 2, 2], 3), [1, 3, 4, 4]), { kind: '2:4' }).graph.initializers.get('W')!;
    expect(isNmSparse(conv.reshape([4, 12]), 2, 4, 1)).toBe(true);
    expect(conv.dims).toEqual([4, 3, 2, 2]);
  });

  it('a pruned weight drops a sparse layout it carried (it no longer matches); untouched weights keep theirs', () => {
    const g = mlp();
    const w1 = attachSparse(f32(W1, [4, 2]), csrFromDense(f32(W1, [4, 2])));
    const w2 = attachSparse(f32(W2, [2, 2]), csrFromDense(f32(W2, [2, 2])));
    const r = pruneMagnitude({ ...g, initializers: new Map([['W1', w1], ['W2', w2]]) }, { amount: 0.5, keepDense: ['fc2'] });
    expect(r.graph.initializers.get('W1')!.sparse).toBeUndefined();
    expect(r.graph.initializers.get('W2')).toBe(w2);
    expect(w1.sparse?.kind).toBe('csr');
  });
});
