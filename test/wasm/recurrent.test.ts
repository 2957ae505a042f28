// RNN, GRU and LSTM on WASM against the reference kernel (float64 inside): seeded random nodes over
// every direction, layout, activation (with alpha/beta), clip, sequence_lens (zeros and full
// lengths included), initial states, biases, peepholes, input_forget, linear_before_reset, hidden
// sizes around the 4-lane width (given or taken from W), and weights constant or fed at run time.
// f32 results must agree within 1e-5 relative plus 1e-5 of the output's largest magnitude (see
// check). Also: omitted outputs in a session, thread counts, and the nodes that must stay on the
// reference.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { AttrValue } from '../../src/graph/ir.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, randomTensor, rng, runNode, VARIANTS, type NodeCase } from './harness.js';

type Kind = 'RNN' | 'GRU' | 'LSTM';
const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const ACTS_PER: Record<Kind, number> = { RNN: 1, GRU: 2, LSTM: 3 };
const ALL_ACTS = ['Relu', 'Tanh', 'Sigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu', 'Softsign', 'Softplus'];
/** Saturating activations keep a random recurrence bounded; the rest are mixed in for one gate. */
const BOUNDED = ['Tanh', 'Sigmoid', 'HardSigmoid', 'Softsign', 'ScaledTanh'];

const int = (r: () => number, lo: number, hi: number) => lo + Math.min(hi - lo, Math.floor(((r() + 1) / 2) * (hi - lo + 1)));
function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.min(items.length - 1, Math.floor(((r() + 1) / 2) * items.length))]!;
}

const maxAbs = (t: Tensor) => (t.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

interface CaseOptions {
  kind: Kind;
  direction: string;
  layout: number;
  seq: number;
  batch: number;
  inSize: number;
  hidden: number;
}

/** One random recurrent node; `o` fixes some choices (the rest are drawn). */
function randomCase(r: () => number, o: Partial<CaseOptions> = {}): NodeCase {
  const kind = o.kind ?? pick(r, ['RNN', 'GRU', 'LSTM'] as const);
  const direction = o.direction ?? pick(r, ['forward', 'reverse', 'bidirectional']);
  const layout = o.layout ?? (r() > 0 ? 1 : 0);
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const seq = o.seq ?? int(r, 1, 6);
  const batch = o.batch ?? int(r, 1, 3);
  const inSize = o.inSize ?? int(r, 1, 9);
  const hidden = o.hidden ?? int(r, 1, 10);
  const G = GATES[kind];
  // hidden_size is optional: without it the size comes from W's shape.
  const attrs: Record<string, AttrValue> = r() > -0.5 ? { direction, hidden_size: hidden } : { direction };
  if (layout) attrs.layout = 1;
  if (r() > 0.3) {
    // Custom activations: bounded ones mostly, any for the last slot of each direction.
    const names: string[] = [];
    for (let d = 0; d < dirs; d++) {
      for (let k = 0; k < ACTS_PER[kind]; k++) names.push(k === ACTS_PER[kind] - 1 && r() > 0 ? pick(r, ALL_ACTS) : pick(r, BOUNDED));
    }
    attrs.activations = names;
    if (r() > 0) attrs.activation_alpha = [0.3 + (r() + 1) * 0.4, 0.9, 0.25];
    if (r() > 0) attrs.activation_beta = [0.1 + (r() + 1) * 0.3, 0.6];
  }
  if (r() > 0.4) attrs.clip = pick(r, [0.5, 1.5, 3]);
  if (kind === 'GRU' && r() > 0) attrs.linear_before_reset = 1;
  if (kind === 'LSTM' && r() > 0.5) attrs.input_forget = 1;
  const xDims = layout === 0 ? [seq, batch, inSize] : [batch, seq, inSize];
  const state = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
  const useLens = r() > 0.2;
  const lens = useLens ? new Tensor('int32', Int32Array.from({ length: batch }, () => int(r, 0, seq)), [batch]) : undefined;
  const inputs: (Tensor | undefined)[] = [
    randomTensor(xDims, r, 1.5),
    randomTensor([dirs, G * hidden, inSize], r, 0.7),
    randomTensor([dirs, G * hidden, hidden], r, 0.7),
    r() > -0.5 ? randomTensor([dirs, 2 * G * hidden], r, 0.5) : undefined,
    lens,
    r() > -0.3 ? randomTensor(state, r, 0.8) : undefined,
  ];
  if (kind === 'LSTM') {
    inputs.push(r() > -0.3 ? randomTensor(state, r, 0.8) : undefined);
    inputs.push(r() > 0 ? randomTensor([dirs, 3 * hidden], r, 0.5) : undefined);
  }
  // Weights and biases are initializers in models; sometimes fed, to cover the unpacked paths.
  const constants = r() > -0.4 ? [1, 2, 3] : r() > 0 ? [2] : [];
  return { op: kind, attrs, inputs, constants, outputs: kind === 'LSTM' ? 3 : 2 };
}

function describeCase(c: NodeCase): string {
  const dims = c.inputs.map((t) => (t ? `[${t.dims.join(',')}]` : '-')).join(' ');
  return `${c.op} ${JSON.stringify(c.attrs)} inputs ${dims}${c.inputs[4] ? ` lens ${Array.from(c.inputs[4].data as Int32Array).join(',')}` : ''} const ${c.constants?.join(',')}`;
}

/**
 * 1e-5 relative, plus 1e-5 of the output's scale absolute: each gate sums inSize + hidden f32
 * products (up to 256 here) of terms about as large as the outputs, so an element near zero still
 * carries the absolute rounding error of those sums (measured ~2e-6 at 128 + 128 terms).
 */
function check(variant: (typeof VARIANTS)[number], c: NodeCase, what: string): void {
  const run = runNode(variant, c);
  expect(run.kernel, `${what}: no WASM kernel accepted the node`).toBeDefined();
  run.expected.forEach((e, i) => expectClose(run.actual[i]!, e, { rtol: 1e-5, atol: 1e-5 * Math.max(1, maxAbs(e)) }, `${what} output ${i}`));
}

describe.each(VARIANTS)('RNN / GRU / LSTM on WASM [%s]', (variant) => {
  it('matches the reference on 600 random nodes', () => {
    const r = rng(20261207);
    for (let t = 0; t < 600; t++) {
      const c = randomCase(r);
      check(variant, c, `case ${t}: ${describeCase(c)}`);
    }
  });

  it('covers every kind x direction x layout with full-width and leftover hidden units', () => {
    const r = rng(99);
    for (const kind of ['RNN', 'GRU', 'LSTM'] as const) {
      for (const direction of ['forward', 'reverse', 'bidirectional']) {
        for (const layout of [0, 1]) {
          for (const hidden of [1, 4, 7, 16]) {
            const c = randomCase(r, { kind, direction, layout, hidden });
            check(variant, c, `${describeCase(c)}`);
          }
        }
      }
    }
  });

  it('runs a silero-sized LSTM (hidden 128, long sequence) and a wide GRU', () => {
    const r = rng(5);
    // silero's LSTM: default activations (a drawn Affine h with input_forget would make a 40-step
    // integrator that accumulates f32 rounding without bound, which tests nothing about the kernel).
    const lstm = randomCase(r, { kind: 'LSTM', direction: 'forward', layout: 0, seq: 40, batch: 1, inSize: 128, hidden: 128 });
    check(variant, { ...lstm, attrs: { hidden_size: 128 } }, 'LSTM 128');
    check(variant, randomCase(r, { kind: 'GRU', direction: 'bidirectional', layout: 1, seq: 12, batch: 4, inSize: 33, hidden: 45 }), 'GRU 45');
  });

  it('leaves what the reference rejects, other dtypes and degenerate sizes to the reference', () => {
    const r = rng(8);
    const c = randomCase(r, { kind: 'LSTM', hidden: 4, inSize: 3 });
    const bad = { ...c, attrs: { ...c.attrs, activations: ['Sigmoid', 'Tanh', 'Gelu', 'Sigmoid', 'Tanh', 'Tanh'].slice(0, c.attrs!.direction === 'bidirectional' ? 6 : 3) } };
    expect(runNode(variant, { ...bad, outputTypes: [{ dtype: 'float32', dims: [1] }, { dtype: 'float32', dims: [1] }, { dtype: 'float32', dims: [1] }] }).kernel, 'unknown activation').toBeUndefined();
    const wrongR = c.inputs.map((t, i) => (i === 2 ? randomTensor([t!.dims[0]!, 16, 5], r) : t));
    expect(runNode(variant, { ...c, inputs: wrongR, outputTypes: [{ dtype: 'float32', dims: [1] }, { dtype: 'float32', dims: [1] }, { dtype: 'float32', dims: [1] }] }).kernel, 'R of the wrong shape').toBeUndefined();
    const negClip = { ...c, attrs: { ...c.attrs, clip: -1 } };
    expect(runNode(variant, negClip).kernel, 'negative clip').toBeUndefined();
  });

  it('reports a sequence length outside [0, seq] at run time', () => {
    const c = randomCase(rng(3), { kind: 'RNN', seq: 3, batch: 2 });
    const inputs = [...c.inputs];
    inputs[4] = new Tensor('int32', Int32Array.of(1, 4), [2]);
    const hidden = c.inputs[2]!.dims[2]!;
    const dirs = c.attrs!.direction === 'bidirectional' ? 2 : 1;
    const yDims = c.attrs!.layout ? [2, 3, dirs, hidden] : [3, dirs, 2, hidden];
    expect(() => runNode(variant, { ...c, inputs, outputTypes: [{ dtype: 'float32', dims: yDims }, { dtype: 'float32', dims: [1] }] })).toThrow(/sequence length 4 is outside \[0, 3\]/);
  });
});

describe('recurrent nodes in a WASM session', () => {
  /** An LSTM whose Y is not named (only Y_h / Y_c used) and a GRU naming only Y: outputs omitted. */
  function model(): { g: ReturnType<GraphBuilder['build']>; feeds: Record<string, Tensor> } {
    const r = rng(11);
    const b = new GraphBuilder('recurrent');
    const x = b.input('x', 'float32', [7, 2, 12]);
    const [, yh, yc] = b.opMulti('LSTM', [x, b.constant('w', randomTensor([2, 64, 12], r, 0.5)), b.constant('r', randomTensor([2, 64, 16], r, 0.5)), b.constant('b', randomTensor([2, 128], r, 0.3))],
      { hidden_size: 16, direction: 'bidirectional' }, { outputs: ['', 'yh', 'yc'] });
    b.output(yh!);
    b.output(yc!);
    const [y] = b.opMulti('GRU', [x, b.constant('gw', randomTensor([1, 27, 12], r, 0.5)), b.constant('gr', randomTensor([1, 27, 9], r, 0.5))],
      { hidden_size: 9, linear_before_reset: 1 }, { outputs: ['gy'] });
    b.output(y!);
    return { g: b.build(), feeds: { x: randomTensor([7, 2, 12], r, 1) } };
  }

  it('agrees with the reference backend with omitted outputs, on 1 and 2 threads, with no fallback', async () => {
    const { g, feeds } = model();
    const ref = await InferenceSession.create(g, { backend: 'reference' });
    const want = await ref.run(feeds);
    for (const threads of [1, 2]) {
      const s = await InferenceSession.create(g, { backend: 'wasm', threads });
      const got = await s.run(feeds);
      expect(s.fallbackNodes()).toEqual([]);
      for (const name of s.outputNames) expectClose(got[name]!, want[name]!, { rtol: 1e-5, atol: 1e-6 }, `${name} on ${threads} thread(s)`);
      await s.release();
    }
    await ref.release();
  });

  it('splits a large input projection over threads without changing results', async () => {
    const r = rng(12);
    const b = new GraphBuilder('projection');
    const x = b.input('x', 'float32', [48, 4, 160]);
    b.output(b.op('LSTM', [x, b.constant('w', randomTensor([1, 512, 160], r, 0.1)), b.constant('r', randomTensor([1, 512, 128], r, 0.1)), b.constant('b', randomTensor([1, 1024], r, 0.1))],
      { hidden_size: 128 }));
    const g = b.build();
    const feeds = { x: randomTensor([48, 4, 160], r, 1) };
    const ref = await InferenceSession.create(g, { backend: 'reference' });
    const want = (await ref.run(feeds))[ref.outputNames[0]!]!;
    const got: Tensor[] = [];
    for (const threads of [1, 2]) {
      const s = await InferenceSession.create(g, { backend: 'wasm', threads });
      got.push((await s.run(feeds))[s.outputNames[0]!]!);
      expect(s.fallbackNodes()).toEqual([]);
      await s.release();
    }
    expectClose(got[0]!, want, { rtol: 1e-5, atol: 1e-6 }, 'LSTM vs reference');
    expect(Array.from(got[1]!.data as Float32Array)).toEqual(Array.from(got[0]!.data as Float32Array));
    await ref.release();
  });
});
