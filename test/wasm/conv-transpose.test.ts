// WASM ConvTranspose against the reference kernel over seeded random attribute combinations (1-3
// spatial axes, groups, strides, dilations, explicit pads, auto_pad, output_padding, output_shape
// with pads of either sign, bias, weights constant or fed), plus sub-range calls and 1 vs 2 threads
// giving the same bits.
import { describe, expect, it } from 'vitest';
import type { AttrValue } from '../../src/graph/ir.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { Attrs } from '../../src/ops/attrs.js';
import { convTransposeProblem } from '../../src/ops/conv.js';
import { getOp } from '../../src/ops/registry.js';
import { InferenceSession } from '../../src/runtime/session.js';
import {
  convTransposeF32Desc, convTransposeF32Exports, convTransposeF32Sizes, convTransposeSplitExtent,
} from '../../src/backends/wasm/kernels/conv-transpose-f32.js';
import { checkNode, randomTensor, rng, runNode, testMemory, VARIANTS, type NodeCase } from './harness.js';

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(((r() + 1) / 2) * (hi - lo + 1) - 1e-9);

/** max |x| over a tensor's values, for the cancellation allowance. */
function maxAbs(data: Float32Array): number {
  let m = 0;
  for (const v of data) m = Math.max(m, Math.abs(v));
  return m;
}

interface Case { x: number[]; w: number[]; attrs: Record<string, AttrValue>; bias: boolean }

/** A random ConvTranspose problem whose output is non-empty. */
function randomCase(r: Rand): Case {
  const s = int(r, 1, 3);
  const N = int(r, 1, 2);
  const group = int(r, 1, 3);
  const cg = int(r, 1, 4);
  const mg = int(r, 1, 4);
  const maxIn = s === 3 ? 4 : s === 2 ? 7 : 12;
  const inSize = Array.from({ length: s }, () => int(r, 1, maxIn));
  const kernel = Array.from({ length: s }, () => int(r, 1, s === 3 ? 3 : 4));
  const strides = Array.from({ length: s }, () => int(r, 1, 3));
  const dilations = Array.from({ length: s }, () => int(r, 1, 2));
  const attrs: Record<string, AttrValue> = { kernel_shape: kernel, group };
  if (r() > -0.3) attrs.strides = strides;
  else strides.fill(1);
  if (r() > 0.2) attrs.dilations = dilations;
  else dilations.fill(1);
  const eff = kernel.map((k, i) => (k - 1) * dilations[i]! + 1);
  const outPad = strides.map((st) => int(r, 0, st - 1));
  if (r() > 0.3) attrs.output_padding = outPad;
  else outPad.fill(0);
  const natural = inSize.map((d, i) => strides[i]! * (d - 1) + outPad[i]! + eff[i]!);
  const mode = int(r, 0, 4);
  if (mode === 0) {
    // Explicit pads that leave at least one output.
    const pads = new Array<number>(2 * s).fill(0);
    for (let i = 0; i < s; i++) {
      pads[i] = int(r, 0, Math.max(0, Math.min(eff[i]! - 1, natural[i]! - 1)));
      pads[i + s] = int(r, 0, Math.max(0, Math.min(eff[i]! - 1, natural[i]! - 1 - pads[i]!)));
    }
    attrs.pads = pads;
  } else if (mode === 1) {
    attrs.auto_pad = 'SAME_UPPER';
  } else if (mode === 2) {
    attrs.auto_pad = 'SAME_LOWER';
  } else if (mode === 3) {
    attrs.auto_pad = 'VALID';
  } else {
    // Smaller than natural crops (positive pads), larger pads with zeros (negative pads).
    attrs.output_shape = natural.map((n) => Math.max(1, n + int(r, -2, 2)));
  }
  return { x: [N, cg * group, ...inSize], w: [cg * group, mg, ...kernel], attrs, bias: r() > -0.2 };
}

function nodeCase(c: Case, r: Rand, constants: number[]): NodeCase {
  const inputs = [randomTensor(c.x, r), randomTensor(c.w, r)];
  if (c.bias) inputs.push(randomTensor([c.w[1]! * ((c.attrs.group as number | undefined) ?? 1)], r));
  return { op: 'ConvTranspose', attrs: c.attrs, inputs, constants: constants.filter((i) => i < inputs.length) };
}

function check(variant: (typeof VARIANTS)[number], nc: NodeCase, what: string): void {
  const ref = runNode(variant, nc).expected[0]!;
  // f32 accumulation against the float64 reference: 1e-5 relative, plus 1e-6 of the largest output
  // for sums that cancel to near zero (the conformance suite's float32 rule).
  checkNode(variant, nc, { rtol: 1e-5, atol: 1e-6 * maxAbs(ref.data as Float32Array) }, what);
}

describe.each(VARIANTS)('ConvTranspose [%s]', (variant) => {
  it('matches the reference over 300 random attribute combinations', () => {
    const r = rng(1234);
    for (let i = 0; i < 300; i++) {
      const c = randomCase(r);
      const constants = [[1, 2], [1], []][i % 3]!;
      check(variant, nodeCase(c, r, constants), `case ${i} ${JSON.stringify(c)} constants ${constants}`);
    }
  });

  it('handles the PP-OCR upsamplers (2x2 stride 2) and wide rows that need several column blocks', () => {
    const r = rng(77);
    const cases: Case[] = [
      { x: [1, 24, 10, 12], w: [24, 24, 2, 2], attrs: { kernel_shape: [2, 2], strides: [2, 2] }, bias: true },
      { x: [1, 24, 9, 11], w: [24, 1, 2, 2], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 1] }, bias: true },
      { x: [1, 3, 5, 9], w: [3, 2, 3, 3], attrs: { kernel_shape: [3, 3], strides: [3, 3], pads: [1, 2, 2, 1] }, bias: false },
      // 64 output channels x 16 taps = 1024 GEMM rows: blocks of 64 pixels, rows of 150 cut in three.
      { x: [1, 4, 3, 150], w: [4, 64, 4, 4], attrs: { kernel_shape: [4, 4], strides: [1, 2], pads: [1, 1, 2, 2] }, bias: true },
      { x: [1, 2, 300], w: [2, 300, 5], attrs: { kernel_shape: [5], strides: [2] }, bias: true },
    ];
    for (const c of cases) check(variant, nodeCase(c, r, [1, 2]), JSON.stringify(c));
  });

  it('leaves other dtypes and empty inputs to the reference', () => {
    const r = rng(5);
    const x = randomTensor([1, 0, 3, 3], r);
    const w = randomTensor([0, 2, 2, 2], r);
    expect(runNode(variant, { op: 'ConvTranspose', attrs: {}, inputs: [x, w], constants: [1] }).kernel).toBeUndefined();
  });

  it('gives the same bits when a call is cut into channel or output-row ranges', () => {
    const mem = testMemory(variant);
    const ex = convTransposeF32Exports(mem.exports);
    const r = rng(99);
    const shapes: Case[] = [
      { x: [2, 6, 7, 9], w: [6, 3, 3, 3], attrs: { kernel_shape: [3, 3], strides: [2, 1], pads: [1, 0, 2, 1], group: 2 }, bias: true },
      { x: [1, 3, 40], w: [3, 2, 7], attrs: { kernel_shape: [7], strides: [3], dilations: [2] }, bias: true },
      { x: [1, 2, 3, 4, 5], w: [2, 3, 2, 3, 2], attrs: { kernel_shape: [2, 3, 2], strides: [2, 1, 2], output_padding: [1, 0, 1] }, bias: false },
      { x: [1, 4, 3, 150], w: [4, 64, 4, 4], attrs: { kernel_shape: [4, 4], strides: [1, 2], pads: [1, 1, 2, 2] }, bias: true },
    ];
    for (const c of shapes) {
      mem.reset();
      const op = getOp('', 'ConvTranspose');
      const p = convTransposeProblem(c.x, c.w, new Attrs(c.attrs, op.attrs, 'ConvTranspose'), 'test');
      const x = mem.place(randomTensor(c.x, r)).ptr;
      const w = mem.place(randomTensor(c.w, r)).ptr;
      const bias = c.bias ? mem.place(randomTensor([p.outChannels], r)).ptr : 0;
      const words = convTransposeF32Desc(p, bias);
      const desc = mem.alloc(words.byteLength);
      mem.i32(desc, words.length).set(words);
      const sizes = convTransposeF32Sizes(ex, desc);
      const packed = mem.alloc(sizes.weightBytes);
      ex.convTransposeF32PackWeights(desc, w, packed);
      const scratch = mem.alloc(sizes.scratchBytes);
      const n = p.batch * p.outChannels * p.geo.outSize.reduce((a, b) => a * b, 1);
      const full = mem.alloc(n * 4);
      const T = convTransposeSplitExtent(p);
      ex.convTransposeF32(desc, x, packed, full, scratch, 0, p.outChannels, 0, T);
      const cuts = (extent: number) => [0, ...new Set([1, int(r, 1, extent), int(r, 1, extent)])].filter((v) => v < extent).sort((a, b) => a - b).concat(extent);
      for (const [dim, extent] of [['m', p.outChannels], ['t', T]] as const) {
        const part = mem.alloc(n * 4);
        const cut = cuts(extent);
        for (let i = 0; i + 1 < cut.length; i++) {
          if (dim === 'm') ex.convTransposeF32(desc, x, packed, part, scratch, cut[i]!, cut[i + 1]!, 0, T);
          else ex.convTransposeF32(desc, x, packed, part, scratch, 0, p.outChannels, cut[i]!, cut[i + 1]!);
        }
        expect(new Uint32Array(mem.buffer(), part, n), `${JSON.stringify(c)} split ${dim} at ${cut}`).toEqual(new Uint32Array(mem.buffer(), full, n));
      }
    }
  });
});

describe('ConvTranspose on a worker pool', () => {
  it('gives bit-identical results with 1 and 2 threads (channel and row splits, 1-D to 3-D)', async () => {
    const r = rng(2024);
    const b = new GraphBuilder('convT');
    const x = b.input('x', 'float32', [1, 24, 40, 40]);
    const up = b.op('ConvTranspose', [x, b.constant('w1', randomTensor([24, 24, 2, 2], r)), b.constant('b1', randomTensor([24], r))], { kernel_shape: [2, 2], strides: [2, 2] });
    b.output(b.op('ConvTranspose', [up, b.constant('w2', randomTensor([24, 1, 3, 3], r))], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0] }));
    const s1 = b.input('s', 'float32', [1, 8, 2000]);
    b.output(b.op('ConvTranspose', [s1, b.constant('w3', randomTensor([8, 2, 9], r))], { kernel_shape: [9], strides: [4], dilations: [2] }));
    const v = b.input('v', 'float32', [1, 8, 8, 16, 16]);
    b.output(b.op('ConvTranspose', [v, b.constant('w4', randomTensor([8, 2, 3, 3, 3], r))], { kernel_shape: [3, 3, 3], strides: [2, 2, 2], pads: [1, 1, 1, 1, 1, 1] }));
    const g = b.build();
    const feeds = { x: randomTensor([1, 24, 40, 40], r), s: randomTensor([1, 8, 2000], r), v: randomTensor([1, 8, 8, 16, 16], r) };
    const results: Float32Array[][] = [];
    for (const threads of [1, 2]) {
      const s = await InferenceSession.create(g, { backend: 'wasm', threads });
      expect(s.fallbackNodes()).toEqual([]);
      const out = await s.run(feeds);
      results.push(s.outputNames.map((n) => out[n]!.data as Float32Array));
      await s.release();
    }
    results[0]!.forEach((y, i) => expect(new Uint32Array(results[1]![i]!.buffer), `output ${i}`).toEqual(new Uint32Array(y.buffer)));
  });
});
