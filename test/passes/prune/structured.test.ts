// Structured channel pruning on small graphs: the exact tensors after removing channels (source
// filters, the next layer's input channels, BatchNormalization, depthwise filters and group,
// Concat offsets, biases that absorb removed channels' constants), equality with the masked model,
// joint residual groups, and the refusals and errors.
import { describe, expect, it } from 'vitest';
import type { Graph, ValueInfo } from '../../../src/graph/ir.js';
import { verifyGraph } from '../../../src/graph/verify.js';
import { applyPass } from '../../../src/passes/pass.js';
import { maskChannels, planStructuredPruning, pruneStructured, pruneStructuredPass, type StructuredPruneOptions } from '../../../src/passes/prune/index.js';
import { toNumbers } from '../../../src/tensor/convert.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import { expectSameOutputs, f32, graph, i64, node, randT } from '../helpers.js';

const input = (name: string, shape: number[]): ValueInfo => ({ name, dtype: 'float32', shape });
const out = (name: string): ValueInfo => ({ name, dtype: 'float32' });
const vals = (g: Graph, name: string): number[] => Array.from(toNumbers(g.initializers.get(name)!));
const dims = (g: Graph, name: string): readonly number[] => g.initializers.get(name)!.dims;
const inits = (o: Record<string, Tensor>) => new Map(Object.entries(o));
const byName = (g: Graph, name: string) => g.nodes.find((n) => n.name === name)!;

/** Prunes, verifies, and checks the result against the masked model on the reference backend. */
async function pruneAndCheck(g: Graph, options: StructuredPruneOptions, feeds: Record<string, Tensor>) {
  const r = pruneStructured(g, options);
  verifyGraph(r.graph);
  await expectSameOutputs(maskChannels(g, r.plan), r.graph, feeds, 0, 1e-6);
  return r;
}

describe('Conv -> BatchNormalization -> Relu -> Conv', () => {
  // BN(0) = (0 - mean) * scale / sqrt(var) + beta: channel 2 holds relu(2) = 2 once its filter is
  // zeroed, and the next conv must carry 2 * W[:, 2] in its bias.
  const g = graph('bn', {
    inputs: [input('x', [1, 2, 3, 3])],
    outputs: [out('y')],
    nodes: [
      node('Conv', ['x', 'wa', 'ba'], ['a'], {}, 'A'),
      node('BatchNormalization', ['a', 's', 'beta', 'mean', 'var'], ['n'], { epsilon: 0 }, 'BN'),
      node('Relu', ['n'], ['r']),
      node('Conv', ['r', 'wb', 'bb'], ['y'], {}, 'B'),
    ],
    initializers: inits({
      wa: f32([1, 2, 3, 4, 5, 6], [3, 2, 1, 1]), ba: f32([0.1, 0.2, 0.3], [3]),
      s: f32([1, 2, 3], [3]), beta: f32([0.5, -1, 2], [3]), mean: f32([0, 1, 0], [3]), var: f32([1, 1, 1], [3]),
      wb: f32([1, -1, 0.5, 2, 0, -2], [2, 3, 1, 1]), bb: f32([0.25, -0.5], [2]),
    }),
  });

  it('removes the channel everywhere and folds its constant into the next bias', async () => {
    const { graph: p, plan } = await pruneAndCheck(g, { channels: { A: [2] } }, { x: randT([1, 2, 3, 3], 1) });
    expect(plan.groups).toEqual([{ layers: ['A'], channels: 3, removed: [2], blocked: 0, keptDense: false }]);
    expect(plan.refused).toEqual([{ layers: ['B'], reason: "its channels reach the graph output 'y'" }]);
    expect(dims(p, 'wa')).toEqual([2, 2, 1, 1]);
    expect(vals(p, 'wa')).toEqual([1, 2, 3, 4]);
    expect(vals(p, 'ba')).toEqual([Math.fround(0.1), Math.fround(0.2)]);
    expect(['s', 'beta', 'mean', 'var'].map((n) => vals(p, n))).toEqual([[1, 2], [0.5, -1], [0, 1], [1, 1]]);
    expect(dims(p, 'wb')).toEqual([2, 2, 1, 1]);
    expect(vals(p, 'wb')).toEqual([1, -1, 2, 0]);
    expect(vals(p, 'bb')).toEqual([0.25 + 2 * 0.5, -0.5 + 2 * -2]);
    expect(p.nodes.map((n) => n.inputs)).toEqual(g.nodes.map((n) => n.inputs));
  });

  it('a channel whose constant is 0 changes no bias', async () => {
    // Channel 1: relu((0 - 1) * 2 - 1) = relu(-3) = 0.
    const { graph: p } = await pruneAndCheck(g, { channels: { A: [1] } }, { x: randT([1, 2, 3, 3], 2) });
    expect(vals(p, 'wb')).toEqual([1, 0.5, 2, -2]);
    expect(vals(p, 'bb')).toEqual([0.25, -0.5]);
  });

  it('amount 0 returns the input graph; the pass records what it kept', () => {
    expect(pruneStructured(g, { amount: 0 }).graph).toBe(g);
    const after = applyPass(g, pruneStructuredPass({ amount: 0.5 }));
    expect(after.provenance.at(-1)!.pass).toBe('pruneStructured');
    expect(after.provenance.at(-1)!.options).toMatchObject({ amount: 0.5, result: { groups: { A: { layers: ['A'], channels: 3, kept: 2 } }, refused: [{ layers: ['B'] }] } });
  });
});

describe('depthwise conv', () => {
  // A (4 channels) -> Relu -> depthwise 3x3 (pads 1, bias) -> Relu -> pointwise C.
  const g = graph('dw', {
    inputs: [input('x', [1, 1, 4, 4])],
    outputs: [out('y')],
    nodes: [
      node('Conv', ['x', 'wa'], ['a'], {}, 'A'),
      node('Relu', ['a'], ['ra']),
      node('Conv', ['ra', 'wd', 'bd'], ['d'], { group: 4, pads: [1, 1, 1, 1] }, 'D'),
      node('Relu', ['d'], ['rd']),
      node('Conv', ['rd', 'wc'], ['y'], {}, 'C'),
    ],
    initializers: inits({
      wa: f32([1, 2, 3, 4], [4, 1, 1, 1]),
      wd: randT([4, 1, 3, 3], 3), bd: f32([0.5, -0.5, 1, 2], [4]),
      wc: f32([1, 2, 3, 4, -1, 0, 1, 0], [2, 4, 1, 1]),
    }),
  });

  it('drops the same channels of the depthwise layer, changes its group, and folds relu(bias) into the next layer', async () => {
    const { graph: p, plan } = await pruneAndCheck(g, { channels: { A: [0, 2] } }, { x: randT([1, 1, 4, 4], 4) });
    expect(plan.groups.map((x) => x.layers)).toEqual([['A']]); // the depthwise layer is part of A's group
    expect(vals(p, 'wa')).toEqual([2, 4]);
    expect(dims(p, 'wd')).toEqual([2, 1, 3, 3]);
    const wd = vals(g, 'wd');
    expect(vals(p, 'wd')).toEqual([...wd.slice(9, 18), ...wd.slice(27, 36)]);
    expect(vals(p, 'bd')).toEqual([-0.5, 2]);
    expect(byName(p, 'D').attrs.group).toBe(2);
    expect(vals(p, 'wc')).toEqual([2, 4, 0, 0]);
    // C had no bias: one is added with relu(0.5) * W[:, 0] + relu(1) * W[:, 2].
    const bias = byName(p, 'C').inputs[2]!;
    expect(vals(p, bias)).toEqual([0.5 * 1 + 1 * 3, 0.5 * -1 + 1 * 1]);
  });

  it('L1 scores the source filters: amount 0.5 removes the two smallest', () => {
    expect(planStructuredPruning(g, { amount: 0.5 }).groups[0]!.removed).toEqual([0, 1]);
  });
});

describe('constants that cannot be folded', () => {
  // BN beta 1 makes channel 1 a constant 1 going into a padded 3x3 conv: at the borders the
  // zero padding makes it not a bias, so the channel is blocked.
  const g = graph('pad', {
    inputs: [input('x', [1, 1, 4, 4])],
    outputs: [out('y')],
    nodes: [
      node('Conv', ['x', 'wa'], ['a'], {}, 'A'),
      node('BatchNormalization', ['a', 's', 'beta', 'mean', 'var'], ['n'], { epsilon: 0 }),
      node('Conv', ['n', 'wc'], ['y'], { pads: [1, 1, 1, 1] }, 'C'),
    ],
    initializers: inits({
      wa: f32([1, 5], [2, 1, 1, 1]), s: f32([1, 1], [2]), beta: f32([0, 1], [2]), mean: f32([0, 0], [2]), var: f32([1, 1], [2]),
      wc: randT([1, 2, 3, 3], 5),
    }),
  });

  it('blocks the channel, skips it when choosing, and refuses it when named', async () => {
    const { plan } = await pruneAndCheck(g, { amount: 0.5 }, { x: randT([1, 1, 4, 4], 6) });
    expect(plan.groups[0]).toMatchObject({ layers: ['A'], removed: [0], blocked: 1 });
    expect(plan.groups[0]!.blockedReason).toBe('channel 1: removing it would leave the constant 1 in the input of C (Conv), which pads its input, so the constant does not fold into its bias');
    expect(() => pruneStructured(g, { channels: { A: [1] } })).toThrow(/channel 1 of 'A' cannot be removed exactly: removing it would leave the constant 1 in the input of C \(Conv\), which pads its input/);
  });

  it('MatMul has no bias to fold into', async () => {
    const m = graph('mm', {
      inputs: [input('x', [2, 4])],
      outputs: [out('y')],
      nodes: [
        node('MatMul', ['x', 'w1'], ['h'], {}, 'M1'),
        node('Add', ['h', 'b1'], ['hb']),
        node('Relu', ['hb'], ['r']),
        node('MatMul', ['r', 'w2'], ['y'], {}, 'M2'),
      ],
      initializers: inits({ w1: randT([4, 3], 7), b1: f32([0, 1, -1], [3]), w2: randT([3, 2], 8) }),
    });
    expect(() => pruneStructured(m, { channels: { M1: [1] } })).toThrow(/constant 1 in the input of M2 \(MatMul\), which has no bias/);
    const { graph: p } = await pruneAndCheck(m, { channels: { M1: [0, 2] } }, { x: randT([2, 4], 9) });
    expect(dims(p, 'w1')).toEqual([4, 1]);
    expect(vals(p, 'b1')).toEqual([1]);
    expect(vals(p, 'w2')).toEqual(vals(m, 'w2').slice(2, 4));
  });
});

describe('Gemm', () => {
  // G1 (transB 1) -> Add per-column constant -> Relu -> G2 (alpha 2, beta 0.5): the removed
  // column holds relu(0 + 2) = 2, which G2's C absorbs as alpha * 2 * B[1, :] / beta.
  const g = graph('gemm', {
    inputs: [input('x', [2, 4])],
    outputs: [out('y')],
    nodes: [
      node('Gemm', ['x', 'w1', 'c1'], ['h'], { transB: 1 }, 'G1'),
      node('Add', ['h', 'k'], ['hk']),
      node('Relu', ['hk'], ['r']),
      node('Gemm', ['r', 'w2', 'c2'], ['y'], { alpha: 2, beta: 0.5 }, 'G2'),
    ],
    initializers: inits({
      w1: randT([3, 4], 10), c1: f32([0.5], [1]), k: f32([1, 2, 3], [1, 3]),
      w2: f32([1, 2, 3, 4, 5, 6], [3, 2]), c2: f32([1, -1], [2]),
    }),
  });

  it('shrinks rows and columns and folds into C', async () => {
    const { graph: p } = await pruneAndCheck(g, { channels: { G1: [1] } }, { x: randT([2, 4], 11) });
    const w1 = vals(g, 'w1');
    expect(dims(p, 'w1')).toEqual([2, 4]);
    expect(vals(p, 'w1')).toEqual([...w1.slice(0, 4), ...w1.slice(8, 12)]);
    expect(vals(p, 'c1')).toEqual([0.5]); // one C for every column stays one
    expect(dims(p, 'k')).toEqual([1, 2]);
    expect(vals(p, 'k')).toEqual([1, 3]);
    expect(vals(p, 'w2')).toEqual([1, 2, 5, 6]);
    expect(vals(p, 'c2')).toEqual([1 + (2 * 2 * 3) / 0.5, -1 + (2 * 2 * 4) / 0.5]);
  });

  it('GlobalAveragePool -> Flatten keeps channels in place for the Gemm after it', async () => {
    const h = graph('gap', {
      inputs: [input('x', [1, 2, 3, 3])],
      outputs: [out('y')],
      nodes: [
        node('Conv', ['x', 'wa', 'ba'], ['a'], {}, 'A'),
        node('Relu', ['a'], ['r']),
        node('GlobalAveragePool', ['r'], ['p']),
        node('Flatten', ['p'], ['f']),
        node('Gemm', ['f', 'wg'], ['y'], { transB: 1 }, 'G'),
      ],
      initializers: inits({ wa: randT([4, 2, 1, 1], 12), ba: randT([4], 13), wg: randT([3, 4], 14) }),
    });
    const { graph: p } = await pruneAndCheck(h, { channels: { A: [0, 3] } }, { x: randT([1, 2, 3, 3], 15) });
    expect(dims(p, 'wg')).toEqual([3, 2]);
    const wg = vals(h, 'wg');
    expect(vals(p, 'wg')).toEqual([wg[1], wg[2], wg[5], wg[6], wg[9], wg[10]]);
  });
});

describe('per-channel elementwise ops', () => {
  // A -> PRelu (slope per channel) -> Clip(min 0.25) -> Mul by a per-channel constant -> C (1x1):
  // a removed channel holds clip(0, 0.25) * m[c] = 0.25 * m[c] in C's input, folded into C's bias.
  const g = graph('ew', {
    inputs: [input('x', [1, 2, 3, 3])],
    outputs: [out('y')],
    nodes: [
      node('Conv', ['x', 'wa', 'ba'], ['a'], {}, 'A'),
      node('PRelu', ['a', 'slope'], ['p']),
      node('Clip', ['p', 'lo', ''], ['c']),
      node('Mul', ['mul', 'c'], ['m']),
      node('Conv', ['m', 'wc', 'bc'], ['y'], {}, 'C'),
    ],
    initializers: inits({
      wa: randT([3, 2, 1, 1], 30), ba: randT([3], 31), slope: f32([0.1, 0.2, 0.3], [3, 1, 1]), lo: f32([0.25], []),
      mul: f32([2, 4, 8], [1, 3, 1, 1]), wc: f32([1, 2, 3, -1, -2, -3], [2, 3, 1, 1]), bc: f32([0, 1], [2]),
    }),
  });

  it('shrinks the slope and the constant and folds the clipped constant', async () => {
    const { graph: p } = await pruneAndCheck(g, { channels: { A: [1] } }, { x: randT([1, 2, 3, 3], 32) });
    expect(dims(p, 'slope')).toEqual([2, 1, 1]);
    expect(vals(p, 'slope')).toEqual([Math.fround(0.1), Math.fround(0.3)]);
    expect(vals(p, 'lo')).toEqual([0.25]);
    expect(dims(p, 'mul')).toEqual([1, 2, 1, 1]);
    expect(vals(p, 'mul')).toEqual([2, 8]);
    expect(vals(p, 'wc')).toEqual([1, 3, -1, -3]);
    expect(vals(p, 'bc')).toEqual([0.25 * 4 * 2, 1 + 0.25 * 4 * -2]);
  });

  it('refuses a constant that varies along another axis', () => {
    const h = { ...g, initializers: new Map([...g.initializers, ['mul', randT([1, 1, 3, 3], 33)]]) };
    expect(planStructuredPruning(h, { amount: 0.5 }).refused[0]).toEqual({ layers: ['A'], reason: "Mul_m (Mul) combines its channels with the constant 'mul', which is not one value per channel" });
  });
});

describe('Reshape -> MatMul -> Add (a flattening classifier)', () => {
  // Each channel of A becomes 4 consecutive rows of B after the Reshape; channel 2 holds the
  // constant 2, which the Add after the MatMul absorbs: 2 * (B[8] + B[9] + B[10] + B[11]).
  const g = graph('flat', {
    inputs: [input('x', [1, 1, 2, 2])],
    outputs: [out('y')],
    nodes: [
      node('Conv', ['x', 'wa'], ['a'], {}, 'A'),
      node('Add', ['a', 'k'], ['ak']),
      node('Reshape', ['ak', 'shape'], ['f']),
      node('MatMul', ['f', 'b'], ['m'], {}, 'M'),
      node('Add', ['m', 'c'], ['y']),
    ],
    initializers: inits({
      wa: f32([1, 2, 3], [3, 1, 1, 1]), k: f32([0, 1, 2], [3, 1, 1]), shape: i64([1, 12]),
      b: f32(Array.from({ length: 24 }, (_, i) => i), [12, 2]), c: f32([0.5, -0.5], [2]),
    }),
  });

  it('removes the channel\'s rows, rewrites the shape and folds into the Add', async () => {
    const { graph: p, plan } = await pruneAndCheck(g, { channels: { A: [2] } }, { x: randT([1, 1, 2, 2], 40) });
    expect(plan.refused).toEqual([{ layers: ['M'], reason: "its channels reach the graph output 'y'" }]);
    expect(vals(p, 'shape')).toEqual([1, 8]);
    expect(dims(p, 'b')).toEqual([8, 2]);
    expect(vals(p, 'b')).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(vals(p, 'k')).toEqual([0, 1]);
    expect(vals(p, 'c')).toEqual([0.5 + 2 * (16 + 18 + 20 + 22), -0.5 + 2 * (17 + 19 + 21 + 23)]);
  });
});

describe('squeeze-and-excitation gate, Resize and Pad', () => {
  // r = relu(A x); gate = sigmoid(S2 relu(S1 gap(r))); m = r * gate: the Mul joins A's channels
  // with S2's, so they go together. Resize (sizes) and Pad of the spatial axes pass channels on.
  const g = graph('se', {
    inputs: [input('x', [1, 2, 3, 3])],
    outputs: [out('y')],
    nodes: [
      node('Conv', ['x', 'wa', 'ba'], ['a'], {}, 'A'),
      node('Relu', ['a'], ['r']),
      node('GlobalAveragePool', ['r'], ['gp']),
      node('Conv', ['gp', 'w1', 'b1'], ['s1'], {}, 'S1'),
      node('Relu', ['s1'], ['s1r']),
      node('Conv', ['s1r', 'w2', 'b2'], ['s2'], {}, 'S2'),
      node('Sigmoid', ['s2'], ['gate']),
      node('Mul', ['r', 'gate'], ['m']),
      node('Resize', ['m', '', '', 'sizes'], ['up'], { mode: 'nearest' }),
      node('Pad', ['up', 'pads'], ['pd'], { mode: 'edge' }),
      node('Conv', ['pd', 'wc'], ['y'], {}, 'C'),
    ],
    initializers: inits({
      wa: randT([4, 2, 1, 1], 50), ba: randT([4], 51), w1: randT([2, 4, 1, 1], 52), b1: randT([2], 53),
      w2: randT([4, 2, 1, 1], 54), b2: randT([4], 55), sizes: i64([1, 4, 6, 6]), pads: i64([0, 0, 1, 1, 0, 0, 1, 1]),
      wc: randT([1, 4, 3, 3], 56),
    }),
  });

  it('prunes the joined group and rewrites Resize sizes', async () => {
    const { graph: p, plan } = await pruneAndCheck(g, { channels: { A: [1] } }, { x: randT([1, 2, 3, 3], 57) });
    expect(plan.groups.find((x) => x.layers.includes('A'))!.layers).toEqual(['A', 'S2']);
    expect(dims(p, 'wa')).toEqual([3, 2, 1, 1]);
    expect(dims(p, 'w1')).toEqual([2, 3, 1, 1]);
    expect(dims(p, 'w2')).toEqual([3, 2, 1, 1]);
    expect(vals(p, 'b2')).toEqual([0, 2, 3].map((i) => vals(g, 'b2')[i]));
    expect(vals(p, 'sizes')).toEqual([1, 3, 6, 6]);
    expect(vals(p, 'pads')).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(dims(p, 'wc')).toEqual([1, 3, 3, 3]);
  });

  it('refuses a Pad of the channel axis and blocks a nonzero constant before constant padding', () => {
    const padC = { ...g, initializers: new Map([...g.initializers, ['pads', i64([0, 1, 1, 1, 0, 0, 1, 1])], ['wc', randT([1, 5, 3, 3], 60)]]) };
    expect(planStructuredPruning(padC, { amount: 0.5 }).refused[0]!.reason).toBe('its channels are read by Pad_pd (Pad), which does not keep channels apart');
    // With a bias after the gate the removed channels hold b; zero padding makes that vary.
    const h = graph('padk', {
      inputs: [input('x', [1, 1, 3, 3])],
      outputs: [out('y')],
      nodes: [
        node('Conv', ['x', 'wa'], ['a'], {}, 'A'),
        node('Add', ['a', 'k'], ['ak']),
        node('Pad', ['ak', 'pads'], ['pd']),
        node('Conv', ['pd', 'wc'], ['y'], {}, 'C'),
      ],
      initializers: inits({ wa: randT([2, 1, 1, 1], 58), k: f32([0, 3], [2, 1, 1]), pads: i64([0, 0, 1, 1, 0, 0, 1, 1]), wc: randT([1, 2, 3, 3], 59) }),
    });
    expect(() => pruneStructured(h, { channels: { A: [1] } })).toThrow(/channel 1 of 'A' cannot be removed exactly: its value after a zeroed filter is not a constant where C \(Conv\) reads it/);
    expect(planStructuredPruning(h, { amount: 0.5 }).groups[0]).toMatchObject({ removed: [0], blocked: 1 });
  });
});

describe('Concat', () => {
  it('removes the partners\' channels at their offsets in the consumer', async () => {
    const g = graph('cat', {
      inputs: [input('x', [1, 2, 2, 2])],
      outputs: [out('y')],
      nodes: [
        node('Conv', ['x', 'wa', 'ba'], ['a'], {}, 'A'),
        node('Conv', ['x', 'wb', 'bb'], ['b'], {}, 'B'),
        node('Concat', ['a', 'b', 'x'], ['c'], { axis: 1 }),
        node('Conv', ['c', 'wc'], ['y'], {}, 'C'),
      ],
      initializers: inits({
        wa: randT([2, 2, 1, 1], 16), ba: randT([2], 17), wb: randT([3, 2, 1, 1], 18), bb: randT([3], 19),
        wc: f32([1, 2, 3, 4, 5, 6, 7], [1, 7, 1, 1]),
      }),
    });
    const { graph: p } = await pruneAndCheck(g, { channels: { A: [1], B: [0] } }, { x: randT([1, 2, 2, 2], 20) });
    // Positions: a0 a1 | b0 b1 b2 | x0 x1 -> a1 and b0 go; the graph input's channels stay.
    expect(dims(p, 'wc')).toEqual([1, 5, 1, 1]);
    expect(vals(p, 'wc')).toEqual([1, 4, 5, 6, 7]);
    expect(dims(p, 'wb')).toEqual([2, 2, 1, 1]);
  });
});

describe('residual Add', () => {
  const g = graph('res', {
    inputs: [input('x', [1, 2, 3, 3])],
    outputs: [out('y')],
    nodes: [
      node('Conv', ['x', 'wa', 'ba'], ['a'], {}, 'A'),
      node('Conv', ['x', 'wb', 'bb'], ['b'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] }, 'B'),
      node('Add', ['a', 'b'], ['s']),
      node('Relu', ['s'], ['r']),
      node('Conv', ['r', 'wc', 'bc'], ['y'], {}, 'C'),
    ],
    initializers: inits({
      wa: f32([1, 1, 0.1, 0.1, 2, 2, 0.2, 0.2], [4, 2, 1, 1]), ba: randT([4], 21),
      wb: randT([4, 2, 3, 3], 22), bb: randT([4], 23), wc: randT([2, 4, 1, 1], 24), bc: randT([2], 25),
    }),
  });

  it('scores both partners together and removes the same channels from both', async () => {
    const { graph: p, plan } = await pruneAndCheck(g, { amount: 0.5, norm: 'l2' }, { x: randT([1, 2, 3, 3], 26) });
    const group = plan.groups.find((x) => x.layers.includes('A'))!;
    expect(group.layers).toEqual(['A', 'B']);
    expect(group.removed).toHaveLength(2);
    expect(dims(p, 'wa')).toEqual([2, 2, 1, 1]);
    expect(dims(p, 'wb')).toEqual([2, 2, 3, 3]);
    expect(dims(p, 'wc')).toEqual([2, 2, 1, 1]);
  });

  it('refuses partners that name different channels', () => {
    expect(() => pruneStructured(g, { channels: { A: [0], B: [1] } })).toThrow(/'A' and 'B' feed the same Add, so they must lose the same channels/);
    expect(() => maskChannels(g, { A: [0], B: [1] })).toThrow(/must lose the same channels/);
  });

  it('refuses an Add with the block input (an identity shortcut whose channels are not pruned)', () => {
    const h = graph('id', {
      inputs: [input('x', [1, 2, 3, 3])],
      outputs: [out('y')],
      nodes: [node('Conv', ['x', 'wa'], ['a'], {}, 'A'), node('Add', ['a', 'x'], ['s']), node('Conv', ['s', 'wc'], ['y'], {}, 'C')],
      initializers: inits({ wa: randT([2, 2, 1, 1], 27), wc: randT([1, 2, 1, 1], 28) }),
    });
    const plan = planStructuredPruning(h, { amount: 0.5 });
    expect(plan.refused[0]).toEqual({ layers: ['A'], reason: "Add_s (Add) combines its channels with 'x', whose channels are not pruned with them" });
    expect(pruneStructured(h, { amount: 0.5 }).graph).toBe(h);
    expect(() => pruneStructured(h, { channels: { A: [0] } })).toThrow(/the output channels of 'A' cannot be removed: Add_s \(Add\) combines/);
  });
});

describe('refusals and errors', () => {
  const chain = (tail: Graph['nodes'], y = 'y'): Graph => graph('t', {
    inputs: [input('x', [1, 2, 2, 2])],
    outputs: [out(y)],
    nodes: [node('Conv', ['x', 'wa'], ['a'], {}, 'A'), ...tail],
    initializers: inits({ wa: f32([1, 2, 3, 4, 5, 6, 7, 8], [4, 2, 1, 1]), shape: i64([1, 2, 8]) }),
  });

  it('names the layers whose channels reach a graph output, a Reshape or a Flatten of spatial dims', () => {
    expect(planStructuredPruning(chain([], 'a'), { amount: 0.5 }).refused).toEqual([{ layers: ['A'], reason: "its channels reach the graph output 'a'" }]);
    expect(planStructuredPruning(chain([node('Flatten', ['a'], ['y'], { axis: 2 })]), { amount: 0.5 }).refused[0]!.reason).toBe('its channels are read by Flatten_y (Flatten), which does not keep channels apart');
    expect(planStructuredPruning(chain([node('Reshape', ['a', 'shape'], ['y'])]), { amount: 0.5 }).refused[0]!.reason).toBe('its channels are read by Reshape_y (Reshape), which does not keep channels apart');
    expect(planStructuredPruning(chain([node('Flatten', ['a'], ['y'])]), { amount: 0.5 }).refused[0]!.reason).toBe("its channels reach the graph output 'y'");
    expect(planStructuredPruning(chain([node('Relu', ['a'], ['r']), node('Transpose', ['r'], ['y'], { perm: [0, 2, 3, 1] })]), { amount: 0.5 }).refused[0]!.reason)
      .toMatch(/read by Transpose_y \(Transpose\)/);
  });

  it('refuses channels that another layer reads as its weight', () => {
    const g = graph('dynw', {
      inputs: [input('x', [1, 2, 2, 2]), input('z', [1, 4, 3, 3])],
      outputs: [out('y')],
      nodes: [node('Conv', ['x', 'wa'], ['a'], {}, 'A'), node('Conv', ['z', 'a'], ['y'], {}, 'D')],
      initializers: inits({ wa: randT([4, 2, 1, 1], 61) }),
    });
    expect(planStructuredPruning(g, { amount: 0.5 }).refused).toEqual([{ layers: ['A'], reason: 'its channels are read by D (Conv) as input 1' }]);
  });

  it('rejects removing every channel, amounts outside [0, 1), unknown layers and norms', () => {
    const g = chain([node('Relu', ['a'], ['r']), node('Conv', ['r', 'wa2'], ['y'], {}, 'B')]);
    g.initializers.set('wa2', f32([1, 2, 3, 4], [1, 4, 1, 1]));
    expect(() => pruneStructured(g, { channels: { A: [0, 1, 2, 3] } })).toThrow(/removing every channel of 'A' \(all 4\) would leave the layer empty/);
    for (const amount of [1, 1.5, -0.1, Number.NaN]) expect(() => pruneStructured(g, { amount })).toThrow(/amount must be a fraction in \[0, 1\)/);
    expect(() => pruneStructuredPass({ amount: 2 })).toThrow(/amount must be a fraction/);
    expect(() => pruneStructured(g, { channels: { Z: [0] } })).toThrow(/'Z', which is not a prunable/);
    expect(() => pruneStructured(g, { channels: { A: [4] } })).toThrow(/channel 4 of 'A' is out of range/);
    expect(() => pruneStructured(g, { amount: 0.5, keepDense: ['nope'] })).toThrow(/keepDense names 'nope'/);
    expect(() => pruneStructured(g, { amount: 0.5, norm: 'l3' as 'l1' })).toThrow(/norm must be 'l1' or 'l2'/);
    // B's single channel is a graph output; keepDense on A leaves nothing to remove.
    expect(pruneStructured(g, { amount: 0.5, keepDense: ['A'] }).graph).toBe(g);
    expect(pruneStructured(g, { amount: 0.5, keepDense: ['wa'] }).graph).toBe(g);
  });

  it('L1 and L2 choose differently when one filter has a single large weight', () => {
    const g = graph('norm', {
      inputs: [input('x', [1, 4, 1, 1])],
      outputs: [out('y')],
      nodes: [node('Conv', ['x', 'w'], ['a'], {}, 'A'), node('Conv', ['a', 'w2'], ['y'], {}, 'B')],
      // L1: 4 vs 2.5; L2 (squares): 4 vs 6.25.
      initializers: inits({ w: f32([1, 1, 1, 1, 2.5, 0, 0, 0], [2, 4, 1, 1]), w2: f32([1, 1], [1, 2, 1, 1]) }),
    });
    expect(planStructuredPruning(g, { amount: 0.5, norm: 'l1' }).groups[0]!.removed).toEqual([1]);
    expect(planStructuredPruning(g, { amount: 0.5, norm: 'l2' }).groups[0]!.removed).toEqual([0]);
  });
});
