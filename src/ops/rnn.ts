// Recurrent layers: RNN, GRU and LSTM with every attribute of the latest ONNX form: forward,
// reverse and bidirectional directions, custom activations (with activation_alpha/beta consumed
// in order by the activations that take parameters), clip on gate pre-activations, per-batch
// sequence_lens (steps past a sequence's end emit zeros and leave the state alone), initial
// states, LSTM peepholes and input_forget, GRU linear_before_reset, and layout 0 or 1.
// Everything computes in float64 and rounds once to the input dtype.
import { fromNumbers, toIntList, toNumbers } from '../tensor/convert.js';
import type { Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ValueType } from '../graph/ir.js';
import type { Attrs } from './attrs.js';
import { defineOp, type InferContext } from './registry.js';
import { FLOAT_TYPES, inputType } from './util.js';

type Act = (x: number) => number;
export type RecurrentKind = 'RNN' | 'GRU' | 'LSTM';
type Kind = RecurrentKind;
/** Gate blocks stacked in W, R and half of B: RNN one, GRU z/r/h, LSTM i/o/f/c. */
export const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTS: Record<Kind, string[]> = { RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] };

/** An activation of the `activations` attribute with its parameters resolved. */
export interface ActivationSpec {
  /** Lower-cased name: relu, tanh, sigmoid, affine, leakyrelu, thresholdedrelu, scaledtanh, hardsigmoid, elu, softsign, softplus. */
  name: string;
  alpha: number;
  beta: number;
}

/** Which parameters an activation reads from activation_alpha/beta, with onnxruntime's defaults. */
const PARAMS: Record<string, { alpha?: number; beta?: number }> = {
  relu: {}, tanh: {}, sigmoid: {}, softsign: {}, softplus: {},
  affine: { alpha: 1, beta: 0 }, leakyrelu: { alpha: 0.01 }, thresholdedrelu: { alpha: 1 },
  scaledtanh: { alpha: 1, beta: 1 }, hardsigmoid: { alpha: 0.2, beta: 0.5 }, elu: { alpha: 1 },
};

const sigmoid: Act = (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

function makeActivation({ name, alpha: a, beta: b }: ActivationSpec): Act {
  switch (name) {
    case 'relu': return (x) => Math.max(0, x);
    case 'tanh': return Math.tanh;
    case 'sigmoid': return sigmoid;
    case 'affine': return (x) => a * x + b;
    case 'leakyrelu': return (x) => (x >= 0 ? x : a * x);
    case 'thresholdedrelu': return (x) => (x > a ? x : 0);
    case 'scaledtanh': return (x) => a * Math.tanh(b * x);
    case 'hardsigmoid': return (x) => Math.max(0, Math.min(1, a * x + b));
    case 'elu': return (x) => (x >= 0 ? x : a * (Math.exp(x) - 1));
    case 'softsign': return (x) => x / (1 + Math.abs(x));
    default: return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))); // softplus
  }
}

export function directionCount(attrs: Attrs, where: string): number {
  const d = attrs.string('direction');
  if (d === 'forward' || d === 'reverse') return 1;
  if (d === 'bidirectional') return 2;
  throw new Error(`${where}: direction must be forward, reverse or bidirectional, got '${d}'`);
}

/**
 * Activations per direction: the attribute's list (one set per direction) or the defaults. Those
 * that take parameters consume activation_alpha/beta in list order, else use their defaults.
 */
export function activationSpecs(kind: Kind, attrs: Attrs, dirs: number, where: string): ActivationSpec[][] {
  const per = DEFAULT_ACTS[kind].length;
  const names = attrs.optStrings('activations');
  const list = names ?? Array.from({ length: dirs }, () => DEFAULT_ACTS[kind]).flat();
  if (list.length !== per * dirs) throw new Error(`${where}: activations lists ${list.length} functions, expected ${per * dirs}`);
  const alphas = attrs.has('activation_alpha') ? attrs.floats('activation_alpha') : [];
  const betas = attrs.has('activation_beta') ? attrs.floats('activation_beta') : [];
  let ai = 0, bi = 0;
  const specs = list.map((n): ActivationSpec => {
    const name = n.toLowerCase();
    const p = Object.hasOwn(PARAMS, name) ? PARAMS[name]! : undefined;
    if (!p) throw new Error(`${where}: unsupported activation '${n}'`);
    const alpha = p.alpha === undefined ? 0 : ai < alphas.length ? alphas[ai++]! : p.alpha;
    const beta = p.beta === undefined ? 0 : bi < betas.length ? betas[bi++]! : p.beta;
    return { name, alpha, beta };
  });
  return Array.from({ length: dirs }, (_, d) => specs.slice(d * per, (d + 1) * per));
}

function activations(kind: Kind, attrs: Attrs, dirs: number, where: string): Act[][] {
  return activationSpecs(kind, attrs, dirs, where).map((set) => set.map(makeActivation));
}

const commonAttrs = {
  activation_alpha: { type: 'floats' },
  activation_beta: { type: 'floats' },
  activations: { type: 'strings' },
  clip: { type: 'float' },
  direction: { type: 'string', default: 'forward' },
  hidden_size: { type: 'int' },
  layout: { type: 'int', default: 0, validate: (v: unknown) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
} as const;

function rnnTypes(kind: Kind, ctx: InferContext): ValueType[] {
  const x = inputType(ctx, 0);
  const w = inputType(ctx, 1);
  for (const i of [1, 2, 3, 5, 6, 7]) {
    const t = ctx.inputs[i];
    if (t && t.dtype !== x.dtype) throw new Error(`${ctx.where}: input ${i} has dtype ${t.dtype} but X has ${x.dtype}`);
  }
  const dirs = directionCount(ctx.attrs, ctx.where);
  activations(kind, ctx.attrs, dirs, ctx.where);
  const layout = ctx.attrs.int('layout');
  const hidden: Dim = ctx.attrs.has('hidden_size') ? ctx.attrs.int('hidden_size')
    : typeof w.shape?.[1] === 'number' ? (w.shape[1] as number) / GATES[kind] : ctx.unknownDim();
  if (x.shape && x.shape.length !== 3) throw new Error(`${ctx.where}: X must be 3-D, got rank ${x.shape.length}`);
  const seq = x.shape?.[layout === 0 ? 0 : 1] ?? ctx.unknownDim();
  const batch = x.shape?.[layout === 0 ? 1 : 0] ?? ctx.unknownDim();
  const y = layout === 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden];
  const h = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
  const out: ValueType[] = [{ dtype: x.dtype, shape: y }, { dtype: x.dtype, shape: h }];
  if (kind === 'LSTM') out.push({ dtype: x.dtype, shape: h });
  return out;
}

/** Reads [dirs, batch, hidden] state (or layout 1's [batch, dirs, hidden]; shape checked by recurrentGeometry) into per-direction arrays. */
function readState(t: Tensor | undefined, dirs: number, batch: number, hidden: number, layout: number): Float64Array[] {
  const out = Array.from({ length: dirs }, () => new Float64Array(batch * hidden));
  if (!t) return out;
  const v = toNumbers(t);
  for (let d = 0; d < dirs; d++) {
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < hidden; j++) out[d]![b * hidden + j] = v[layout === 0 ? (d * batch + b) * hidden + j : (b * dirs + d) * hidden + j]!;
    }
  }
  return out;
}

/** Sizes of a recurrent node, from X's dims and the attributes. */
export interface RecurrentGeometry {
  layout: number;
  dirs: number;
  seq: number;
  batch: number;
  inSize: number;
  hidden: number;
}

/**
 * The node's sizes, after checking that W, R, B, P and the initial states (dims per input index,
 * undefined when omitted) have the shapes those sizes require.
 */
export function recurrentGeometry(kind: Kind, dims: readonly (readonly number[] | undefined)[], attrs: Attrs, where: string): RecurrentGeometry {
  const [x, w] = dims;
  const layout = attrs.int('layout');
  const dirs = directionCount(attrs, where);
  const G = GATES[kind];
  if (x!.length !== 3) throw new Error(`${where}: X must be 3-D, got rank ${x!.length}`);
  const [seq, batch, inSize] = (layout === 0 ? x! : [x![1], x![0], x![2]]) as [number, number, number];
  const hidden = attrs.has('hidden_size') ? attrs.int('hidden_size') : w!.length === 3 ? w![1]! / G : NaN;
  if (!Number.isInteger(hidden) || hidden < 0) throw new Error(`${where}: hidden size ${hidden} is not a whole number (W has shape [${w!.join(', ')}])`);
  const state = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
  const expect = (i: number, want: number[], what: string) => {
    const t = dims[i];
    if (t && t.join() !== want.join()) throw new Error(`${where}: ${what} has shape [${t.join(', ')}], expected [${want.join(', ')}]`);
  };
  expect(1, [dirs, G * hidden, inSize], 'W');
  expect(2, [dirs, G * hidden, hidden], 'R');
  expect(3, [dirs, 2 * G * hidden], 'B');
  expect(5, state, 'initial_h');
  if (kind === 'LSTM') {
    expect(6, state, 'initial_c');
    expect(7, [dirs, 3 * hidden], 'P');
  }
  return { layout, dirs, seq, batch, inSize, hidden };
}

function runRecurrent(kind: Kind, inputs: readonly (Tensor | undefined)[], attrs: Attrs, where: string): Tensor[] {
  const [x, w, r, bias, seqLens, h0, c0, peep] = inputs;
  const { layout, dirs, seq, batch, inSize, hidden } = recurrentGeometry(kind, inputs.map((t) => t?.dims), attrs, where);
  const acts = activations(kind, attrs, dirs, where);
  const G = GATES[kind];
  const lens = seqLens ? toIntList(seqLens) : new Array<number>(batch).fill(seq);
  if (lens.length !== batch) throw new Error(`${where}: sequence_lens has ${lens.length} entries, batch is ${batch}`);
  lens.forEach((l) => { if (l < 0 || l > seq) throw new Error(`${where}: sequence length ${l} is outside [0, ${seq}]`); });
  const clip = attrs.has('clip') ? attrs.float('clip') : Infinity;
  const cl = (v: number) => (v > clip ? clip : v < -clip ? -clip : v);
  const linearBeforeReset = kind === 'GRU' && attrs.int('linear_before_reset') !== 0;
  const inputForget = kind === 'LSTM' && attrs.int('input_forget') !== 0;
  const xv = toNumbers(x!), wv = toNumbers(w!), rv = toNumbers(r!);
  const bv = bias ? toNumbers(bias) : new Float64Array(dirs * 2 * G * hidden);
  const pv = peep ? toNumbers(peep) : new Float64Array(dirs * 3 * hidden);
  const H = readState(h0, dirs, batch, hidden, layout);
  const C = readState(c0, dirs, batch, hidden, layout);
  const Y = new Float64Array(seq * dirs * batch * hidden);
  const xw = new Float64Array(G * hidden), hr = new Float64Array(G * hidden);
  const xAt = (t: number, b: number, k: number) => xv[layout === 0 ? (t * batch + b) * inSize + k : (b * seq + t) * inSize + k]!;
  const yAt = (t: number, d: number, b: number, j: number) => (layout === 0 ? ((t * dirs + d) * batch + b) * hidden + j : ((b * seq + t) * dirs + d) * hidden + j);

  for (let d = 0; d < dirs; d++) {
    const reverse = attrs.string('direction') === 'reverse' || d === 1;
    const [f, g, h] = acts[d]! as [Act, Act, Act];
    const wOff = d * G * hidden * inSize, rOff = d * G * hidden * hidden, bOff = d * 2 * G * hidden, pOff = d * 3 * hidden;
    for (let b = 0; b < batch; b++) {
      const hs = H[d]!.subarray(b * hidden, (b + 1) * hidden);
      const cs = C[d]!.subarray(b * hidden, (b + 1) * hidden);
      for (let step = 0; step < lens[b]!; step++) {
        const t = reverse ? lens[b]! - 1 - step : step;
        // xw = W x_t + Wb ; hr = R h_{t-1} + Rb, for every gate row.
        for (let row = 0; row < G * hidden; row++) {
          let s = bv[bOff + row]!;
          for (let k = 0; k < inSize; k++) s += wv[wOff + row * inSize + k]! * xAt(t, b, k);
          xw[row] = s;
          let q = bv[bOff + G * hidden + row]!;
          for (let k = 0; k < hidden; k++) q += rv[rOff + row * hidden + k]! * hs[k]!;
          hr[row] = q;
        }
        if (kind === 'RNN') {
          for (let j = 0; j < hidden; j++) hs[j] = f(cl(xw[j]! + hr[j]!));
        } else if (kind === 'GRU') {
          // Gate order z, r, h. The candidate needs r * h_{t-1} before R_h is applied, unless
          // linear_before_reset, where r scales (R_h h_{t-1} + Rb_h) as already computed.
          const z = new Float64Array(hidden), rg = new Float64Array(hidden), cand = new Float64Array(hidden);
          for (let j = 0; j < hidden; j++) {
            z[j] = f(cl(xw[j]! + hr[j]!));
            rg[j] = f(cl(xw[hidden + j]! + hr[hidden + j]!));
          }
          for (let j = 0; j < hidden; j++) {
            let pre: number;
            if (linearBeforeReset) pre = xw[2 * hidden + j]! + rg[j]! * hr[2 * hidden + j]!;
            else {
              let q = bv[bOff + G * hidden + 2 * hidden + j]!;
              for (let k = 0; k < hidden; k++) q += rv[rOff + (2 * hidden + j) * hidden + k]! * rg[k]! * hs[k]!;
              pre = xw[2 * hidden + j]! + q;
            }
            cand[j] = g(cl(pre));
          }
          for (let j = 0; j < hidden; j++) hs[j] = (1 - z[j]!) * cand[j]! + z[j]! * hs[j]!;
        } else {
          // Gate order i, o, f, c; peepholes P in order i, o, f.
          for (let j = 0; j < hidden; j++) {
            const cPrev = cs[j]!;
            const i = f(cl(xw[j]! + hr[j]! + pv[pOff + j]! * cPrev));
            const fg = inputForget ? 1 - i : f(cl(xw[2 * hidden + j]! + hr[2 * hidden + j]! + pv[pOff + 2 * hidden + j]! * cPrev));
            const c = g(cl(xw[3 * hidden + j]! + hr[3 * hidden + j]!));
            const cNew = fg * cPrev + i * c;
            const o = f(cl(xw[hidden + j]! + hr[hidden + j]! + pv[pOff + hidden + j]! * cNew));
            cs[j] = cNew;
            xw[j] = o * h(cNew); // new h, stored until every unit has read the old state
          }
          for (let j = 0; j < hidden; j++) hs[j] = xw[j]!;
        }
        for (let j = 0; j < hidden; j++) Y[yAt(t, d, b, j)] = hs[j]!;
      }
    }
  }
  const stateDims = layout === 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
  const packState = (S: Float64Array[]) => {
    const out = new Float64Array(dirs * batch * hidden);
    for (let d = 0; d < dirs; d++) {
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < hidden; j++) out[layout === 0 ? (d * batch + b) * hidden + j : (b * dirs + d) * hidden + j] = S[d]![b * hidden + j]!;
      }
    }
    return fromNumbers(x!.type, out, stateDims);
  };
  const outs = [fromNumbers(x!.type, Y, layout === 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden]), packState(H)];
  if (kind === 'LSTM') outs.push(packState(C));
  return outs;
}

const seqPorts = [
  { name: 'X', types: FLOAT_TYPES }, { name: 'W', types: FLOAT_TYPES }, { name: 'R', types: FLOAT_TYPES },
  { name: 'B', types: FLOAT_TYPES, optional: true }, { name: 'sequence_lens', types: ['int32'] as const, optional: true },
  { name: 'initial_h', types: FLOAT_TYPES, optional: true },
];
const outPorts = [{ name: 'Y', optional: true }, { name: 'Y_h', optional: true }];

defineOp({
  name: 'RNN',
  inputs: seqPorts,
  outputs: outPorts,
  attrs: commonAttrs,
  inferShape: (ctx) => rnnTypes('RNN', ctx),
  reference: (inputs, ctx) => runRecurrent('RNN', inputs, ctx.attrs, ctx.where),
});

defineOp({
  name: 'GRU',
  inputs: seqPorts,
  outputs: outPorts,
  attrs: { ...commonAttrs, linear_before_reset: { type: 'int', default: 0 } },
  inferShape: (ctx) => rnnTypes('GRU', ctx),
  reference: (inputs, ctx) => runRecurrent('GRU', inputs, ctx.attrs, ctx.where),
});

defineOp({
  name: 'LSTM',
  inputs: [...seqPorts, { name: 'initial_c', types: FLOAT_TYPES, optional: true }, { name: 'P', types: FLOAT_TYPES, optional: true }],
  outputs: [...outPorts, { name: 'Y_c', optional: true }],
  attrs: { ...commonAttrs, input_forget: { type: 'int', default: 0 } },
  inferShape: (ctx) => rnnTypes('LSTM', ctx),
  reference: (inputs, ctx) => runRecurrent('LSTM', inputs, ctx.attrs, ctx.where),
});
