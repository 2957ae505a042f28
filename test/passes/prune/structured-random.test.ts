// Structured pruning against the masked model on random small CNNs: chains and branches of 1x1
// and padded 3x3 Convs, depthwise Convs, BatchNormalization, activations, per-channel constants,
// residual Adds, Concats and squeeze-and-excitation gates, pruned at a random amount and norm.
// Whatever the pruner chooses (or refuses), the pruned graph must verify and compute what the
// masked graph computes within float32 tolerance.
import { describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../../src/graph/ir.js';
import { verifyGraph } from '../../../src/graph/verify.js';
import { maskChannels, pruneStructured } from '../../../src/passes/prune/index.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import { expectSameOutputs, f32, graph, node, randT } from '../helpers.js';

/** A small deterministic generator (LCG) for the graph's shape. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function randomCnn(seed: number): Graph {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const nodes: Node[] = [];
  const inits = new Map<string, Tensor>();
  const values: { name: string; c: number }[] = [{ name: 'x', c: 3 }];
  let id = 0;
  const fresh = (p: string) => `${p}${id++}`;
  const param = (dims: number[]) => {
    const n = fresh('p');
    inits.set(n, randT(dims, seed * 100 + id));
    return n;
  };
  const positive = (c: number) => {
    const n = fresh('v');
    inits.set(n, f32(Array.from({ length: c }, () => 0.5 + r()), [c]));
    return n;
  };
  const conv = (v: { name: string; c: number }, cout: number, k: 1 | 3): { name: string; c: number } => {
    const out = fresh('c');
    nodes.push(node('Conv', [v.name, param([cout, v.c, k, k]), param([cout])], [out], k === 3 ? { pads: [1, 1, 1, 1] } : {}, out));
    return { name: out, c: cout };
  };
  let cur = conv(values[0]!, 3 + Math.floor(r() * 6), 3);
  values.push(cur);
  const steps = 6 + Math.floor(r() * 8);
  for (let s = 0; s < steps; s++) {
    const kind = pick(['conv1', 'conv3', 'dw', 'bn', 'act', 'const', 'add', 'concat', 'se'] as const);
    const out = fresh('t');
    switch (kind) {
      case 'conv1': case 'conv3': cur = conv(cur, 3 + Math.floor(r() * 6), kind === 'conv1' ? 1 : 3); break;
      case 'dw':
        nodes.push(node('Conv', [cur.name, param([cur.c, 1, 3, 3]), param([cur.c])], [out], { group: cur.c, pads: [1, 1, 1, 1] }, out));
        cur = { name: out, c: cur.c };
        break;
      case 'bn':
        nodes.push(node('BatchNormalization', [cur.name, positive(cur.c), param([cur.c]), param([cur.c]), positive(cur.c)], [out]));
        cur = { name: out, c: cur.c };
        break;
      case 'act': {
        const op = pick(['Relu', 'Sigmoid', 'LeakyRelu', 'Tanh'] as const);
        nodes.push(node(op, [cur.name], [out]));
        cur = { name: out, c: cur.c };
        break;
      }
      case 'const':
        nodes.push(node(pick(['Add', 'Mul'] as const), [cur.name, param([cur.c, 1, 1])], [out]));
        cur = { name: out, c: cur.c };
        break;
      case 'add': {
        // A residual partner: a new conv from an earlier value with the same channel count.
        const branch = conv(pick(values), cur.c, pick([1, 3] as const));
        nodes.push(node('Add', [cur.name, branch.name], [out]));
        cur = { name: out, c: cur.c };
        break;
      }
      case 'concat': {
        const other = pick(values);
        nodes.push(node('Concat', [cur.name, other.name], [out], { axis: 1 }));
        cur = { name: out, c: cur.c + other.c };
        break;
      }
      case 'se': {
        const gap = fresh('g');
        nodes.push(node('GlobalAveragePool', [cur.name], [gap]));
        const squeeze = conv({ name: gap, c: cur.c }, 2, 1);
        const relu = fresh('r');
        nodes.push(node('Relu', [squeeze.name], [relu]));
        const excite = conv({ name: relu, c: 2 }, cur.c, 1);
        const gate = fresh('s');
        nodes.push(node('Sigmoid', [excite.name], [gate]));
        nodes.push(node('Mul', [cur.name, gate], [out]));
        cur = { name: out, c: cur.c };
        break;
      }
    }
    values.push(cur);
  }
  const head = conv(cur, 2, 1);
  return graph(`cnn${seed}`, {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 5, 5] }],
    outputs: [{ name: head.name, dtype: 'float32' }],
    nodes,
    initializers: inits,
  });
}

describe('random CNNs', () => {
  it('pruned equals masked on 40 graphs', async () => {
    let removed = 0;
    let refused = 0;
    let blocked = 0;
    let pruned = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const g = randomCnn(seed);
      verifyGraph(g);
      const amount = [0.34, 0.5, 0.75][seed % 3]!;
      const { graph: p, plan } = pruneStructured(g, { amount, norm: seed % 2 ? 'l1' : 'l2' });
      removed += plan.groups.reduce((s, x) => s + x.removed.length, 0);
      refused += plan.refused.length;
      blocked += plan.groups.reduce((s, x) => s + x.blocked, 0);
      if (p !== g) pruned++;
      await expectSameOutputs(maskChannels(g, plan), p, { x: randT([1, 3, 5, 5], seed) }, 0, 1e-5);
    }
    // The generator must exercise the pruner, not only its refusals.
    console.log(`random CNNs: ${removed} channels removed, ${blocked} blocked, ${pruned} of 40 graphs changed, ${refused} groups refused`);
    expect(removed).toBeGreaterThan(150);
    expect(pruned).toBeGreaterThan(30);
    expect(refused).toBeGreaterThanOrEqual(40); // at least each graph's head, a graph output
  }, 60_000);
});
