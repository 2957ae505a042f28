// Cross-layer equalization: the exact rescaled weights on a hand-computed pair, float equivalence
// on random chains (reference backend), where it must not apply, subgraphs, and what it buys int8.
import { describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../../src/graph/ir.js';
import { quantizeStatic } from '../../../src/optimize/quantize-static.js';
import { equalizationPairs, equalizeConvChains } from '../../../src/passes/quantize/equalize.js';
import { InferenceSession } from '../../../src/runtime/session.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { expectSameOutputs, f32, graph, node, rand, randT, runRef } from '../helpers.js';

const weights = (g: Graph, name: string) => Array.from(g.initializers.get(name)!.data as Float32Array);

/** x [1, cin, 6, 6] -> conv (3x3, pad 1) -> act -> conv -> ... with channel-imbalanced weights. */
function chain(channels: number[], acts: (string | undefined)[], seed: number, skew = true): Graph {
  const nodes: Node[] = [];
  const initializers = new Map<string, Tensor>();
  let x = 'x';
  for (let k = 0; k + 1 < channels.length; k++) {
    const [cin, cout] = [channels[k]!, channels[k + 1]!];
    const w = rand(cout * cin * 9, seed + k);
    // Input channels whose weights differ by up to 100x: what equalization is for.
    if (skew) for (let i = 0; i < w.length; i++) w[i]! *= [1, 30, 0.05, 4][Math.floor(i / 9) % cin % 4]!;
    initializers.set(`w${k}`, new Tensor('float32', w, [cout, cin, 3, 3]));
    const inputs = [x, `w${k}`];
    if (k !== 1) {
      initializers.set(`b${k}`, randT([cout], seed + 50 + k));
      inputs.push(`b${k}`);
    }
    nodes.push(node('Conv', inputs, [`c${k}`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, `conv${k}`));
    x = `c${k}`;
    const act = acts[k];
    if (act && k + 2 < channels.length) {
      const ins = [x];
      if (act === 'PRelu') {
        initializers.set(`slope${k}`, randT([cout, 1, 1], seed + 90 + k));
        ins.push(`slope${k}`);
      }
      nodes.push(node(act, ins, [`a${k}`], act === 'LeakyRelu' ? { alpha: 0.1 } : {}));
      x = `a${k}`;
    }
  }
  return graph('chain', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, channels[0]!, 6, 6] }],
    outputs: [{ name: x, dtype: 'float32', shape: [1, channels.at(-1)!, 6, 6] }],
    nodes,
    initializers,
  });
}

describe('equalizeConvChains', () => {
  it('rescales a Conv -> Relu -> Conv pair by s = sqrt(r1 / r2) (hand-computed weights)', async () => {
    // Producer rows: ranges r1 = [4, 1]; consumer columns: r2 = [1, 4]; s = [2, 0.5].
    const g = graph('pair', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 2, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 2, 2] }],
      initializers: new Map([
        ['wa', f32([4, -2, 1, 0.5], [2, 1, 1, 2])],
        ['ba', f32([2, 3], [2])],
        ['wb', f32([1, -4, 0.5, 2], [2, 2, 1, 1])],
        ['bb', f32([0.25, -1], [2])],
      ]),
      nodes: [node('Conv', ['x', 'wa', 'ba'], ['h']), node('Relu', ['h'], ['r']), node('Conv', ['r', 'wb', 'bb'], ['y'])],
    });
    const out = equalizeConvChains(g);
    expect(out.nodes).toBe(g.nodes);
    expect(weights(out, 'wa')).toEqual([2, -1, 2, 1]);
    expect(weights(out, 'ba')).toEqual([1, 6]);
    expect(weights(out, 'wb')).toEqual([2, -2, 1, 1]);
    expect(weights(out, 'bb')).toEqual([0.25, -1]);
    // Pure: the input graph keeps its weights.
    expect(weights(g, 'wa')).toEqual([4, -2, 1, 0.5]);
    // Powers of two: these scales are already exact, so the float outputs are bit-identical.
    await expectSameOutputs(g, out, { x: randT([1, 1, 2, 3], 7) });
    // Balanced now (all ranges 2): a second application changes nothing.
    expect(equalizeConvChains(out)).toBe(out);
    // A channel whose balanced range sqrt(r1 * r2) would be subnormal keeps its scale 1 (its
    // small weights would underflow); the other channel is already balanced.
    const tiny = { ...g, initializers: new Map([...g.initializers, ['wa', f32([1e-39, 0, 1, 0.5], [2, 1, 1, 2])], ['wb', f32([1e-38, 1, 0, 1], [2, 2, 1, 1])]]) };
    expect(equalizeConvChains(tiny)).toBe(tiny);
  });

  it('keeps the float outputs of Relu / LeakyRelu / PRelu / direct chains within f32 rounding (1e-5)', async () => {
    const g = chain([3, 8, 6, 5, 4], ['Relu', 'LeakyRelu', 'PRelu'], 11);
    expect(equalizationPairs(g).map((p) => [p.a.name, p.between.map((n) => n.op), p.b.name])).toEqual([
      ['conv0', ['Relu'], 'conv1'], ['conv1', ['LeakyRelu'], 'conv2'], ['conv2', ['PRelu'], 'conv3'],
    ]);
    const feeds = { x: randT([1, 3, 6, 6], 12) };
    for (const sweeps of [1, 3, 50]) {
      const out = equalizeConvChains(g, { sweeps });
      expect(weights(out, 'w1')).not.toEqual(weights(g, 'w1'));
      await expectSameOutputs(g, out, feeds, 1e-5, 1e-5);
    }
    // Relu then a padded MaxPool (the pool keeps the shape): two ops between the convs.
    const pooled = chain([2, 4, 3], ['Relu'], 23);
    const pool = node('MaxPool', ['a0'], ['p0'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const withPool: Graph = { ...pooled, nodes: [pooled.nodes[0]!, pooled.nodes[1]!, pool, { ...pooled.nodes[2]!, inputs: ['p0', 'w1'] }] };
    expect(equalizationPairs(withPool).map((p) => p.between.map((n) => n.op))).toEqual([['Relu', 'MaxPool']]);
    await expectSameOutputs(withPool, equalizeConvChains(withPool), { x: randT([1, 2, 6, 6], 24) }, 1e-5, 1e-5);
    const direct = chain([2, 4, 3], [undefined], 21);
    expect(equalizationPairs(direct)).toHaveLength(1);
    await expectSameOutputs(direct, equalizeConvChains(direct), { x: randT([1, 2, 6, 6], 22) }, 1e-5, 1e-5);
  });

  it('with powerOfTwo the float outputs are bit-identical', async () => {
    const g = chain([3, 8, 6, 5, 4], ['Relu', 'LeakyRelu', 'PRelu'], 31);
    const out = equalizeConvChains(g, { powerOfTwo: true });
    for (const w of ['w0', 'w1', 'w2', 'w3']) expect(weights(out, w)).not.toEqual(weights(g, w));
    await expectSameOutputs(g, out, { x: randT([1, 3, 6, 6], 32) });
  });

  it('balances the ranges: after one pair, r1 = r2 = sqrt(r1 * r2) per channel', () => {
    const g = chain([2, 5, 3], ['Relu'], 41);
    const out = equalizeConvChains(g);
    const wa = weights(out, 'w0');
    const wb = weights(out, 'w1');
    const a0 = weights(g, 'w0');
    const b0 = weights(g, 'w1');
    for (let c = 0; c < 5; c++) {
      const r = (w: number[], pick: (i: number) => boolean) => Math.max(...w.filter((_, i) => pick(i)).map(Math.abs));
      const row = (i: number) => Math.floor(i / 18) === c;
      const col = (i: number) => Math.floor(i / 9) % 5 === c;
      const want = Math.sqrt(r(a0, row) * r(b0, col));
      expect(Math.abs(r(wa, row) - want)).toBeLessThanOrEqual(1e-6 * want);
      expect(Math.abs(r(wb, col) - want)).toBeLessThanOrEqual(1e-6 * want);
    }
  });

  it('leaves chains alone where the rescaling would be visible or is not a channel scale', () => {
    const base = chain([2, 4, 3], ['Relu'], 51);
    const variants: [string, Graph][] = [
      ['intermediate is a graph output', { ...base, outputs: [...base.outputs, { name: 'a0', dtype: 'float32' }] }],
      ['conv output read twice', { ...base, nodes: [...base.nodes, node('Neg', ['c0'], ['n'])], outputs: [...base.outputs, { name: 'n', dtype: 'float32' }] }],
      ['Sigmoid between', { ...base, nodes: base.nodes.map((n) => (n.op === 'Relu' ? { ...n, op: 'Sigmoid' } : n)) }],
      ['producer weight shared', { ...base, nodes: [...base.nodes, node('Conv', ['x', 'w0'], ['d'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })], outputs: [...base.outputs, { name: 'd', dtype: 'float32' }] }],
      ['consumer grouped', { ...base, initializers: new Map([...base.initializers, ['w1', randT([4, 1, 3, 3], 52)]]), nodes: base.nodes.map((n) => (n.name === 'conv1' ? { ...n, attrs: { ...n.attrs, group: 4 } } : n)), outputs: [{ name: 'c1', dtype: 'float32' }] }],
      ['MaxPool Indices read', { ...base, nodes: base.nodes.flatMap((n) => (n.op === 'Relu' ? [n, node('MaxPool', ['a0'], ['p0', 'idx'], { kernel_shape: [1, 1] })] : n.name === 'conv1' ? [{ ...n, inputs: ['p0', ...n.inputs.slice(1)] }] : [n])), outputs: [...base.outputs, { name: 'idx', dtype: 'int64' }] }],
      ['PRelu slope computed', { ...base, nodes: [node('Abs', ['x'], ['sl']), ...base.nodes.map((n) => (n.op === 'Relu' ? { ...n, op: 'PRelu', inputs: ['c0', 'sl'] } : n))] }],
    ];
    for (const [why, g] of variants) {
      expect(equalizationPairs(g), why).toEqual([]);
      expect(equalizeConvChains(g), why).toBe(g);
    }
  });

  it('equalizes chains inside If branches (with their own initializers)', async () => {
    const body = chain([1, 4, 2], ['Relu'], 61);
    const then = { ...body, name: 'then', inputs: [], outputs: [{ name: 'c1', dtype: 'float32' as const, shape: [1, 2, 6, 6] }] };
    const other = graph('else', { outputs: [{ name: 'e', dtype: 'float32', shape: [1, 2, 6, 6] }], initializers: new Map([['z', new Tensor('float32', new Float32Array(72), [1, 2, 6, 6])]]), nodes: [node('Identity', ['z'], ['e'])] });
    const g = graph('if', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1, 6, 6] }, { name: 'cond', dtype: 'bool', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 6, 6] }],
      nodes: [node('If', ['cond'], ['y'], { then_branch: then, else_branch: other })],
    });
    const out = equalizeConvChains(g);
    const thenOut = out.nodes[0]!.attrs.then_branch as Graph;
    expect(weights(thenOut, 'w0')).not.toEqual(weights(then, 'w0'));
    const feeds = { x: randT([1, 1, 6, 6], 62), cond: new Tensor('bool', Uint8Array.of(1), []) };
    const want = (await runRef(g, feeds)).get('y')!.data as Float32Array;
    const got = (await runRef(out, feeds)).get('y')!.data as Float32Array;
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * scale);
  });

  it('rejects a sweep count below 1', () => {
    expect(() => equalizeConvChains(chain([2, 4, 3], ['Relu'], 71), { sweeps: 0 })).toThrow(/sweeps must be at least 1/);
  });
});

describe('quantizeStatic equalize option', () => {
  it('on by default: undoes a channel rescaling that ruins int8 (against equalize: false)', async () => {
    // A balanced chain, then the same function with conv0's output channel c scaled by f[c] and
    // conv1's input channel c by 1 / f[c]: float outputs equal, int8 ones should be too.
    const balanced = chain([2, 8, 4], ['Relu'], 81, false);
    const f = [1, 40, 0.02, 5, 0.1, 1, 20, 0.5];
    const scaled = (name: string, at: (i: number) => number) => {
      const t = balanced.initializers.get(name)!;
      return new Tensor('float32', Float32Array.from(t.data as Float32Array, (v, i) => v * at(i)), t.dims);
    };
    const g: Graph = { ...balanced, initializers: new Map([
      ['w0', scaled('w0', (i) => f[Math.floor(i / 18)]!)],
      ['b0', scaled('b0', (i) => f[i]!)],
      ['w1', scaled('w1', (i) => 1 / f[Math.floor(i / 9) % 8]!)],
    ]) };
    await expectSameOutputs(balanced, g, { x: randT([1, 2, 6, 6], 82) }, 1e-5, 1e-5);
    const data = Array.from({ length: 8 }, (_, i) => ({ x: new Tensor('float32', rand(72, 100 + i).map((v) => v + 1), [1, 2, 6, 6]) }));
    const test = Array.from({ length: 4 }, (_, i) => ({ x: new Tensor('float32', rand(72, 200 + i).map((v) => v + 1), [1, 2, 6, 6]) }));
    const err = async (q: Graph) => {
      const s = await InferenceSession.create(q, { backend: 'reference' });
      let se = 0;
      for (const feeds of test) {
        const y = (await s.run(feeds))['c1']!.data as Float32Array;
        const w = (await runRef(balanced, feeds)).get('c1')!.data as Float32Array;
        for (let i = 0; i < y.length; i++) se += (y[i]! - w[i]!) ** 2;
      }
      return se;
    };
    const on = await quantizeStatic(g, data);
    const off = await quantizeStatic(g, data, { equalize: false });
    expect(on.nodes.filter((n) => n.op === 'QuantizeLinear').length).toBe(off.nodes.filter((n) => n.op === 'QuantizeLinear').length);
    const [eOn, eOff, eBalanced] = [await err(on), await err(off), await err(await quantizeStatic(balanced, data, { equalize: false }))];
    console.log(`int8 squared error: skewed ${eOff.toExponential(2)}, skewed + equalize ${eOn.toExponential(2)}, balanced ${eBalanced.toExponential(2)}`);
    expect(eOn).toBeLessThan(eOff / 10);
    expect(eOn).toBeLessThan(eBalanced * 2);
  });
});
