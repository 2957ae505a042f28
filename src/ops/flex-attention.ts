// FlexAttention (ai.onnx.preview, opset 1): softmax(Q K^T * scale) V over rank-4 (B, H, S, D)
// inputs, with query head h reading key/value head floor(h / (Hq / Hkv)). Its score_mod and
// prob_mod attributes are subgraphs, which Kiln's importer does not take, so only the plain form
// is defined here. Computes in float64, which covers every softmax_precision (float16 and up).
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { defineOp } from './registry.js';
import { inputType, sameDType } from './util.js';
import { WIDE_FLOAT_TYPES } from './wide-types.js';

const SOFTMAX_PRECISIONS = [1, 10, 11, 16]; // float, float16, double, bfloat16

defineOp({
  name: 'FlexAttention',
  domain: 'ai.onnx.preview',
  inputs: [{ name: 'Q', types: WIDE_FLOAT_TYPES }, { name: 'K', types: WIDE_FLOAT_TYPES }, { name: 'V', types: WIDE_FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  attrs: {
    scale: { type: 'float' },
    softmax_precision: {
      type: 'int',
      validate: (v) => (SOFTMAX_PRECISIONS.includes(v as number) ? undefined : 'must be 1 (float), 10 (float16), 11 (double) or 16 (bfloat16)'),
    },
  },
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1, 2]);
    const q = inputType(ctx, 0).shape, v = inputType(ctx, 2).shape;
    for (const i of [0, 1, 2]) {
      const s = ctx.inputs[i]?.shape;
      if (s && s.length !== 4) throw new Error(`${ctx.where}: ${'QKV'[i]} must be 4-D (batch, heads, sequence, head_size), got rank ${s.length}`);
    }
    return [{ dtype, shape: q && v ? [q[0]!, q[1]!, q[2]!, v[3]!] : undefined }];
  },
  reference: ([qT, kT, vT], ctx) => {
    const where = ctx.where;
    for (const [t, n] of [[qT!, 'Q'], [kT!, 'K'], [vT!, 'V']] as const) {
      if (t.dims.length !== 4) throw new Error(`${where}: ${n} must be 4-D (batch, heads, sequence, head_size), got rank ${t.dims.length}`);
      if (t.type !== qT!.type) throw new Error(`${where}: ${n} has dtype ${t.type} but Q has ${qT!.type}`);
    }
    const [B, Hq, L, E] = qT!.dims as [number, number, number, number];
    const [Bk, Hkv, S, Ek] = kT!.dims as [number, number, number, number];
    const [Bv, Hv, Sv, Ev] = vT!.dims as [number, number, number, number];
    if (Bk !== B || Bv !== B) throw new Error(`${where}: Q, K and V have different batch sizes (${B}, ${Bk}, ${Bv})`);
    if (Hv !== Hkv || Sv !== S) throw new Error(`${where}: K and V must share heads and sequence length`);
    if (Ek !== E) throw new Error(`${where}: Q head size ${E} differs from K head size ${Ek}`);
    if (Hq % Hkv !== 0) throw new Error(`${where}: ${Hq} query heads are not a multiple of ${Hkv} key/value heads`);
    const group = Hq / Hkv;
    const scale = ctx.attrs.has('scale') ? ctx.attrs.float('scale') : 1 / Math.sqrt(E);
    const q = toNumbers(qT!), k = toNumbers(kT!), v = toNumbers(vT!);
    const y = new Float64Array(B * Hq * L * Ev);
    const p = new Float64Array(S);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < Hq; h++) {
        const kBase = (b * Hkv + Math.floor(h / group)) * S;
        for (let i = 0; i < L; i++) {
          const qRow = ((b * Hq + h) * L + i) * E;
          let max = -Infinity;
          for (let j = 0; j < S; j++) {
            let dot = 0;
            for (let d = 0; d < E; d++) dot += q[qRow + d]! * k[(kBase + j) * E + d]!;
            p[j] = dot * scale;
            max = Math.max(max, p[j]!);
          }
          let sum = 0;
          for (let j = 0; j < S; j++) sum += (p[j] = Math.exp(p[j]! - max));
          const yRow = ((b * Hq + h) * L + i) * Ev;
          for (let j = 0; j < S; j++) {
            const w = p[j]! / sum;
            for (let d = 0; d < Ev; d++) y[yRow + d]! += w * v[(kBase + j) * Ev + d]!;
          }
        }
      }
    }
    return [fromNumbers(qT!.type, y, [B, Hq, L, Ev])];
  },
});
