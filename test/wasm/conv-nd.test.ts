// WASM Conv with one to three spatial axes against the reference kernel over seeded random
// attribute combinations (groups, strides, dilations, explicit pads, auto_pad, bias, weights
// constant or fed); 1-D and 3-D convs and pools split over two threads give the single-thread bits;
// and the shape rule refuses inconsistent conv nodes at plan time on the WASM backend.
import { describe, expect, it } from 'vitest';
import type { AttrValue, Graph, Node } from '../../src/graph/ir.js';
import { emptyGraph } from '../../src/graph/ir.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { InferenceSession } from '../../src/runtime/session.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, randomTensor, rng, runNode, VARIANTS, type NodeCase } from './harness.js';

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(((r() + 1) / 2) * (hi - lo + 1) - 1e-9);

function maxAbs(data: Float32Array): number {
  let m = 0;
  for (const v of data) m = Math.max(m, Math.abs(v));
  return m;
}

interface Case { x: number[]; w: number[]; attrs: Record<string, AttrValue>; bias: boolean }

/** A random forward Conv whose window fits (so the output is non-empty). */
function randomCase(r: Rand, spatial: number): Case {
  const N = int(r, 1, 2);
  const group = int(r, 1, 3);
  const cg = int(r, 1, 4);
  const mg = int(r, 1, 5);
  const maxIn = spatial === 3 ? 6 : spatial === 2 ? 10 : 40;
  const kernel = Array.from({ length: spatial }, () => int(r, 1, spatial === 3 ? 3 : 5));
  const strides = Array.from({ length: spatial }, () => int(r, 1, 3));
  const dilations = Array.from({ length: spatial }, () => int(r, 1, 2));
  const attrs: Record<string, AttrValue> = { kernel_shape: kernel, group };
  if (r() > -0.3) attrs.strides = strides;
  if (r() > 0.2) attrs.dilations = dilations;
  else dilations.fill(1);
  const eff = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
  const mode = int(r, 0, 3);
  const pads = new Array<number>(2 * spatial).fill(0);
  if (mode === 0) {
    for (let i = 0; i < spatial; i++) {
      pads[i] = int(r, 0, eff[i]! - 1);
      pads[i + spatial] = int(r, 0, eff[i]! - 1);
    }
    attrs.pads = pads;
  } else {
    attrs.auto_pad = ['SAME_UPPER', 'SAME_LOWER', 'VALID'][mode - 1]!;
  }
  // Explicit pads and VALID need the padded input to hold one window; SAME fits any size.
  const minIn = eff.map((e, i) => (mode === 0 ? Math.max(1, e - pads[i]! - pads[i + spatial]!) : mode === 3 ? e : 1));
  const inSize = minIn.map((m) => Math.max(m, int(r, 1, maxIn)));
  return { x: [N, cg * group, ...inSize], w: [mg * group, cg, ...kernel], attrs, bias: r() > -0.2 };
}

function nodeCase(c: Case, r: Rand, constants: number[], op = 'Conv'): NodeCase {
  const inputs: Tensor[] = [randomTensor(c.x, r), randomTensor(c.w, r)];
  if (c.bias) inputs.push(randomTensor([c.w[0]!], r));
  return { op, attrs: c.attrs, inputs, constants: constants.filter((i) => i < inputs.length) };
}

describe.each(VARIANTS)('Conv with 1 to 3 spatial axes [%s]', (variant) => {
  for (const spatial of [1, 2, 3]) {
    it(`matches the reference over 150 random ${spatial}-D attribute combinations`, () => {
      const r = rng(300 + spatial);
      for (let i = 0; i < 150; i++) {
        const c = randomCase(r, spatial);
        const constants = [[1, 2], [1], []][i % 3]!;
        check(variant, nodeCase(c, r, constants), `case ${i} ${JSON.stringify(c)} constants ${constants}`);
      }
    });
  }

  it('runs the openWakeWord melspectrogram shapes (1-D, wide rows, big kernels)', () => {
    const r = rng(7);
    const cases: Case[] = [
      { x: [1, 1, 1760], w: [257, 1, 512], attrs: { strides: [160] }, bias: false },
      { x: [1, 1, 1280], w: [257, 1, 400], attrs: { strides: [160], pads: [200, 200] }, bias: false },
      { x: [2, 16, 300], w: [32, 16, 3], attrs: { pads: [1, 1], dilations: [2] }, bias: true },
      { x: [1, 32, 200], w: [32, 1, 5], attrs: { pads: [2, 2], group: 32 }, bias: true },
    ];
    for (const c of cases) check(variant, nodeCase(c, r, [1, 2]), JSON.stringify(c));
  });

  it('runs 3-D convs with rows wide enough for the vector im2col runs (strides 1, 2, 3)', () => {
    const r = rng(8);
    const cases: Case[] = [
      { x: [1, 3, 4, 6, 37], w: [5, 3, 3, 3, 3], attrs: { pads: [1, 1, 1, 1, 1, 1] }, bias: true },
      { x: [1, 2, 5, 5, 70], w: [4, 2, 2, 3, 3], attrs: { strides: [1, 2, 2], pads: [0, 1, 2, 1, 1, 3] }, bias: false },
      { x: [2, 4, 3, 4, 50], w: [4, 2, 1, 2, 3], attrs: { strides: [2, 1, 3], dilations: [1, 2, 2], group: 2, pads: [1, 0, 4, 0, 1, 2] }, bias: true },
      { x: [1, 2, 3, 9, 33], w: [3, 2, 3, 1, 5], attrs: { dilations: [1, 1, 3], auto_pad: 'SAME_UPPER' }, bias: true },
      { x: [1, 1, 2, 3, 100], w: [9, 1, 2, 2, 7], attrs: { strides: [1, 1, 2] }, bias: true },
    ];
    for (const c of cases) check(variant, nodeCase(c, r, [1, 2]), JSON.stringify(c));
  });
});

/**
 * f32 accumulation against the float64 reference: 1e-5 relative, plus 1e-6 of the largest output
 * for sums that cancel to near zero (the conformance suite's float32 rule).
 */
function check(variant: (typeof VARIANTS)[number], nc: NodeCase, what: string): void {
  const run = runNode(variant, nc);
  expect(run.kernel, `${what}: no WASM kernel accepted the node`).toBeDefined();
  const ref = run.expected[0]!;
  expectClose(run.actual[0]!, ref, { rtol: 1e-5, atol: 1e-6 * maxAbs(ref.data as Float32Array) }, what);
}

describe('1-D / 3-D Conv and pools on a worker pool', () => {
  it('give bit-identical results with 1 and 2 threads', async () => {
    const r = rng(2025);
    const b = new GraphBuilder('convNd');
    const s = b.input('s', 'float32', [1, 16, 3000]);
    const c1 = b.op('Conv', [s, b.constant('w1', randomTensor([32, 16, 5], r)), b.constant('b1', randomTensor([32], r))], { pads: [2, 2] });
    const c2 = b.op('Conv', [c1, b.constant('w2', randomTensor([32, 1, 3], r))], { pads: [1, 1], group: 32, strides: [2] });
    // Sizes above the pools' threading bound (2^17 taps), so every pool below is split.
    b.output(b.op('MaxPool', [c1], { kernel_shape: [3], pads: [1, 1] }));
    b.output(b.op('AveragePool', [c1], { kernel_shape: [5], strides: [2], pads: [1, 1] }));
    b.output(c2);
    const v = b.input('v', 'float32', [1, 8, 10, 20, 20]);
    const c3 = b.op('Conv', [v, b.constant('w3', randomTensor([16, 8, 3, 3, 3], r)), b.constant('b3', randomTensor([16], r))], { pads: [1, 1, 1, 1, 1, 1] });
    b.output(c3);
    b.output(b.op('MaxPool', [c3], { kernel_shape: [2, 2, 2], strides: [2, 2, 2] }));
    b.output(b.op('LpPool', [c3], { kernel_shape: [3, 3, 3], pads: [1, 1, 1, 1, 1, 1], p: 2 }));
    const q = b.input('q', 'float32', [2, 8, 100, 100]);
    b.output(b.op('GlobalAveragePool', [q]));
    b.output(b.op('GlobalMaxPool', [q]));
    b.output(b.op('GlobalLpPool', [q], { p: 3 }));
    const u = b.input('u', 'uint8', [1, 16, 120, 120]);
    b.output(b.op('MaxPool', [u], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }));
    b.output(b.op('GlobalMaxPool', [u]));
    for (const o of b.opMulti('MaxPool', [q], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { outputs: 2 })) b.output(o);
    const g = b.build();
    const feeds = { s: randomTensor([1, 16, 3000], r), v: randomTensor([1, 8, 10, 20, 20], r), q: randomTensor([2, 8, 100, 100], r), u: randomTensor([1, 16, 120, 120], r, 1, 'uint8') };
    const results: Uint8Array[][] = [];
    for (const threads of [1, 2]) {
      const sess = await InferenceSession.create(g, { backend: 'wasm', threads });
      expect(sess.fallbackNodes()).toEqual([]);
      const out = await sess.run(feeds);
      results.push(sess.outputNames.map((n) => {
        const d = out[n]!.data as Float32Array | Uint8Array | BigInt64Array;
        return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
      }));
      await sess.release();
    }
    results[0]!.forEach((y, i) => expect(results[1]![i]!, `output ${i}`).toEqual(y));
  });
});

/** A one-node graph built by hand (GraphBuilder would refuse it already in build()). */
function oneNode(op: string, attrs: Record<string, AttrValue>, inputs: [string, number[]][], initializers: [string, Tensor][] = []): Graph {
  const g = emptyGraph('bad');
  g.inputs = inputs.map(([name, shape]) => ({ name, dtype: 'float32', shape }));
  for (const [name, t] of initializers) g.initializers.set(name, t);
  const node: Node = { name: 'n0', op, domain: '', inputs: [...inputs.map(([n]) => n), ...initializers.map(([n]) => n)], outputs: ['y'], attrs };
  g.nodes = [node];
  g.outputs = [{ name: 'y', dtype: 'float32' }];
  return g;
}

describe('conv shape rules refuse bad nodes at plan time on wasm', () => {
  const r = rng(11);
  const refuse = (g: Graph, message: RegExp) => expect(InferenceSession.create(g, { backend: 'wasm' })).rejects.toThrow(message);

  it('refuses a bias whose length is not the output channel count', async () => {
    for (const len of [3, 5]) {
      await refuse(oneNode('Conv', {}, [['x', [1, 2, 8, 8]], ['w', [4, 2, 3, 3]]], [['b', randomTensor([len], r)]]), /B has \d+ values but there are 4 output channels/);
      await refuse(oneNode('ConvTranspose', {}, [['x', [1, 2, 8, 8]], ['w', [2, 4, 3, 3]]], [['b', randomTensor([len], r)]]), /B has \d+ values but there are 4 output channels/);
      await refuse(oneNode('Conv', {}, [['x', [1, 2, 8]], ['w', [4, 2, 3]], ['b', [len]]]), /B has \d+ values/);
    }
    await refuse(oneNode('Conv', {}, [['x', [1, 2, 8]], ['w', [4, 2, 3]], ['b', [2, 2]]]), /B must be 1-D/);
    await refuse(oneNode('ConvTranspose', { group: 2 }, [['x', [1, 4, 8]], ['w', [4, 3, 3]]], [['b', randomTensor([3], r)]]), /B has 3 values but there are 6 output channels/);
  });

  it('refuses channel, group, kernel and pads mismatches', async () => {
    await refuse(oneNode('Conv', { group: 2 }, [['x', [1, 3, 8, 8]], ['w', [4, 1, 3, 3]]]), /X has 3 channels but W with group 2 expects 2/);
    await refuse(oneNode('Conv', { group: 2 }, [['x', [1, 4, 8, 8]], ['w', [3, 2, 3, 3]]]), /3 output channels are not divisible by group 2/);
    await refuse(oneNode('Conv', { kernel_shape: [3, 2] }, [['x', [1, 2, 8, 8]], ['w', [4, 2, 3, 3]]]), /kernel_shape \[3, 2\] does not match/);
    await refuse(oneNode('Conv', { pads: [1, 1] }, [['x', [1, 2, 8, 8]], ['w', [4, 2, 3, 3]]]), /'pads' has 2 values, expected 4/);
    await refuse(oneNode('Conv', {}, [['x', [1, 2, 2, 8, 8]], ['w', [4, 2, 3, 3, 3]]]), /window of 3 .* does not fit spatial axis 0 of size 2/);
    await refuse(oneNode('Conv', {}, [['x', [1, 2, 8]], ['w', [4, 2, 3, 3]]]), /W has rank 4 but X has rank 3/);
    await refuse(oneNode('ConvTranspose', { group: 3 }, [['x', [1, 4, 8]], ['w', [4, 1, 3]]]), /4 input channels are not divisible by group 3/);
    await refuse(oneNode('ConvTranspose', {}, [['x', [1, 4, 8]], ['w', [3, 1, 3]]]), /X has 4 channels but W expects 3/);
    await refuse(oneNode('ConvTranspose', { pads: [3, 3] }, [['x', [1, 4, 1]], ['w', [4, 1, 3]]]), /negative size -3/);
    await refuse(oneNode('ConvTranspose', { output_padding: [1, 1] }, [['x', [1, 4, 8]], ['w', [4, 1, 3]]]), /'output_padding' has 2 values, expected 1/);
    await refuse(oneNode('MaxPool', { kernel_shape: [3, 3], pads: [1, 1, 1] }, [['x', [1, 2, 8, 8]]]), /'pads' has 3 values, expected 4/);
    await refuse(oneNode('AveragePool', { kernel_shape: [5] }, [['x', [1, 2, 3]]]), /does not fit/);
    await refuse(oneNode('LpPool', { kernel_shape: [2, 2, 2] }, [['x', [1, 2, 8, 8]]]), /'kernel_shape' has 3 values, expected 2/);
    // DeformConv: offsets [N, offset_group * taps * axes, out...], bias [M].
    const deform = (off: number[], b: number[], attrs: Record<string, AttrValue> = {}) =>
      oneNode('DeformConv', attrs, [['x', [1, 4, 6, 6]], ['w', [2, 4, 3, 3]], ['off', off], ['b', b]]);
    await refuse(deform([1, 18, 4, 4], [3]), /B must have shape \[2\], got \[3\]/);
    await refuse(deform([1, 18, 4, 5], [2]), /offset has shape \[1, 18, 4, 5\], expected \[1, 18, 4, 4\]/);
    await refuse(deform([1, 18, 4, 4], [2], { offset_group: 3 }), /not divisible by offset_group 3/);
  });
});
