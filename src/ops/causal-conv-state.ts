// CausalConvWithState (opset 27): a depthwise 1-D convolution that only looks back, carrying the
// last k-1 inputs between calls (Mamba / Gated DeltaNet decode). The input (B, C, L) is prefixed
// with past_state (B, C, k-1), or zeros, and convolved without padding, so output position t sees
// inputs t-k+1..t; present_state is the last k-1 positions of that prefixed sequence.
import type { Dim } from '../tensor/shape.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { defineOp } from './registry.js';
import { inputType, sameDType } from './util.js';

const TYPES = ['float32', 'float16', 'bfloat16'] as const;
const ACTIVATIONS = ['none', 'silu', 'swish']; // swish is silu's other name

defineOp({
  name: 'CausalConvWithState',
  inputs: [
    { name: 'input', types: TYPES },
    { name: 'weight', types: TYPES },
    { name: 'bias', optional: true, types: TYPES },
    { name: 'past_state', optional: true, types: TYPES },
  ],
  outputs: [{ name: 'output' }, { name: 'present_state' }],
  attrs: {
    activation: { type: 'string', default: 'none', validate: (v) => (ACTIVATIONS.includes(v as string) ? undefined : `must be one of ${ACTIVATIONS.join(', ')}`) },
  },
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1, 2, 3]);
    const x = inputType(ctx, 0).shape, w = inputType(ctx, 1).shape;
    if (x && x.length !== 3) throw new Error(`${ctx.where}: input must be 3-D (batch, channels, length), got rank ${x.length}`);
    if (w && w.length !== 3) throw new Error(`${ctx.where}: weight must be 3-D (channels, 1, k), got rank ${w.length}`);
    const k = w?.[2];
    const state: Dim = typeof k === 'number' ? k - 1 : ctx.unknownDim();
    return [{ dtype, shape: x }, { dtype, shape: x ? [x[0]!, x[1]!, state] : undefined }];
  },
  reference: ([xT, wT, bT, pastT], ctx) => {
    const where = ctx.where;
    for (const t of [wT, bT, pastT]) if (t && t.type !== xT!.type) throw new Error(`${where}: inputs must share the input's dtype ${xT!.type}`);
    if (xT!.dims.length !== 3) throw new Error(`${where}: input must be 3-D (batch, channels, length), got rank ${xT!.dims.length}`);
    const [B, C, L] = xT!.dims as [number, number, number];
    const wd = wT!.dims;
    if (wd.length !== 3 || wd[0] !== C || wd[1] !== 1 || wd[2]! < 1) throw new Error(`${where}: weight must have shape [${C}, 1, k], got [${wd.join(', ')}]`);
    const k = wd[2]!;
    const S = k - 1; // carried positions
    if (bT && (bT.dims.length !== 1 || bT.dims[0] !== C)) throw new Error(`${where}: bias must have shape [${C}], got [${bT.dims.join(', ')}]`);
    if (pastT && pastT.dims.join() !== [B, C, S].join()) throw new Error(`${where}: past_state must have shape [${B}, ${C}, ${S}], got [${pastT.dims.join(', ')}]`);
    const x = toNumbers(xT!), w = toNumbers(wT!);
    const bias = bT ? toNumbers(bT) : undefined;
    const past = pastT ? toNumbers(pastT) : undefined;
    const silu = ctx.attrs.string('activation') !== 'none';
    const out = new Float64Array(B * C * L);
    const present = new Float64Array(B * C * S);
    const padded = new Float64Array(S + L);
    for (let bc = 0; bc < B * C; bc++) {
      const c = bc % C;
      padded.fill(0, 0, S);
      if (past) padded.set(past.subarray(bc * S, (bc + 1) * S));
      padded.set(x.subarray(bc * L, (bc + 1) * L), S);
      for (let t = 0; t < L; t++) {
        let acc = bias ? bias[c]! : 0;
        for (let j = 0; j < k; j++) acc += w[c * k + j]! * padded[t + j]!;
        out[bc * L + t] = acc;
      }
      present.set(padded.subarray(L, L + S), bc * S);
    }
    let y = fromNumbers(xT!.type, out, [B, C, L]);
    if (silu) {
      // The activation reads the convolution already rounded to T, as the spec's Conv -> SiLU does.
      const v = toNumbers(y);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! / (1 + Math.exp(-v[i]!));
      y = fromNumbers(xT!.type, v, [B, C, L]);
    }
    return [y, fromNumbers(xT!.type, present, [B, C, S])];
  },
});
