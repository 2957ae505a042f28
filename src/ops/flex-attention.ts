// FlexAttention (ai.onnx.preview, opset 1): softmax(score_mod(Q K^T * scale)) V, with prob_mod
// applied to the probabilities, over rank-4 (B, H, S, D) inputs, with query head h reading
// key/value head floor(h / (Hq / Hkv)). The mods are one-input subgraphs on the whole
// [B, Hq, L, S] tensor in the softmax precision. Computes in float64, which covers every
// softmax_precision (float16 and up); only the tensors handed to the mods are rounded to it.
import type { DType } from '../tensor/dtype.js';
import { expectTensor } from '../tensor/value.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { Graph } from '../graph/ir.js';
import { defineOp, type KernelContext } from './registry.js';
import { inputType, sameDType } from './util.js';
import { WIDE_FLOAT_TYPES } from './wide-types.js';

const SOFTMAX_PRECISIONS = [1, 10, 11, 16]; // float, float16, double, bfloat16
const PRECISION_DTYPES: Record<number, DType> = { 1: 'float32', 10: 'float16', 11: 'float64', 16: 'bfloat16' };

/** The mods' element type: softmax_precision, else float64 for double inputs and float32 otherwise. */
function softmaxDType(input: DType, precision: number | undefined): DType {
  if (precision !== undefined) return PRECISION_DTYPES[precision]!;
  return input === 'float64' ? 'float64' : 'float32';
}

function checkMod(g: Graph, name: string, where: string): void {
  if (g.inputs.length !== 1 || g.outputs.length !== 1) {
    throw new Error(`${where}: ${name} must take one input and return one output, has ${g.inputs.length} and ${g.outputs.length}`);
  }
}

/** Runs a mod subgraph over the [B, Hq, L, S] values in place. */
function applyMod(g: Graph, values: Float64Array, dims: number[], dtype: DType, name: string, ctx: KernelContext): void {
  const out = expectTensor(ctx.runSubgraph(g, [fromNumbers(dtype, values, dims)])[0]!, `${ctx.where}: ${name} output`);
  if (out!.dims.join(',') !== dims.join(',')) {
    throw new Error(`${ctx.where}: ${name} returned shape [${out!.dims.join(', ')}], expected [${dims.join(', ')}]`);
  }
  values.set(toNumbers(out!));
}

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
    score_mod: { type: 'graph' },
    prob_mod: { type: 'graph' },
  },
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1, 2]);
    const q = inputType(ctx, 0).shape, v = inputType(ctx, 2).shape;
    for (const i of [0, 1, 2]) {
      const s = ctx.inputs[i]?.shape;
      if (s && s.length !== 4) throw new Error(`${ctx.where}: ${'QKV'[i]} must be 4-D (batch, heads, sequence, head_size), got rank ${s.length}`);
    }
    const k = inputType(ctx, 1).shape;
    const scores = { dtype: softmaxDType(dtype, ctx.attrs.has('softmax_precision') ? ctx.attrs.int('softmax_precision') : undefined), ...(q && k ? { shape: [q[0]!, q[1]!, q[2]!, k[2]!] } : {}) };
    for (const name of ['score_mod', 'prob_mod']) {
      const g = ctx.attrs.optGraph(name);
      if (!g) continue;
      checkMod(g, name, ctx.where);
      const [out] = ctx.inferSubgraph(g, [scores]);
      if (out!.dtype !== scores.dtype) throw new Error(`${ctx.where}: ${name} must return ${scores.dtype}, returns ${out!.dtype}`);
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
    const scoreMod = ctx.attrs.optGraph('score_mod'), probMod = ctx.attrs.optGraph('prob_mod');
    const modType = softmaxDType(qT!.type, ctx.attrs.has('softmax_precision') ? ctx.attrs.int('softmax_precision') : undefined);
    const rows = B * Hq * L;
    // Row r is (batch, query head, query position); its key/value head is shared within a group.
    const kvBase = (r: number) => (Math.floor(r / (Hq * L)) * Hkv + Math.floor(Math.floor(r / L) % Hq / group)) * S;
    const scoreRow = (r: number, p: Float64Array, at: number) => {
      const kBase = kvBase(r);
      for (let j = 0; j < S; j++) {
        let dot = 0;
        for (let d = 0; d < E; d++) dot += q[r * E + d]! * k[(kBase + j) * E + d]!;
        p[at + j] = dot * scale;
      }
    };
    const softmaxRow = (p: Float64Array, at: number) => {
      let max = -Infinity;
      for (let j = 0; j < S; j++) max = Math.max(max, p[at + j]!);
      let sum = 0;
      for (let j = 0; j < S; j++) sum += (p[at + j] = Math.exp(p[at + j]! - max));
      for (let j = 0; j < S; j++) p[at + j]! /= sum;
    };
    const y = new Float64Array(rows * Ev);
    const accumulate = (r: number, p: Float64Array, at: number) => {
      const vBase = kvBase(r);
      for (let j = 0; j < S; j++) {
        const w = p[at + j]!;
        for (let d = 0; d < Ev; d++) y[r * Ev + d]! += w * v[(vBase + j) * Ev + d]!;
      }
    };
    if (!scoreMod && !probMod) {
      // Row by row: memory stays O(S) however long the sequences.
      const p = new Float64Array(S);
      for (let r = 0; r < rows; r++) { scoreRow(r, p, 0); softmaxRow(p, 0); accumulate(r, p, 0); }
      return [fromNumbers(qT!.type, y, [B, Hq, L, Ev])];
    }
    // The mods see the whole [B, Hq, L, S] tensor at once.
    const dims = [B, Hq, L, S];
    const p = new Float64Array(rows * S);
    for (let r = 0; r < rows; r++) scoreRow(r, p, r * S);
    if (scoreMod) {
      checkMod(scoreMod, 'score_mod', where);
      applyMod(scoreMod, p, dims, modType, 'score_mod', ctx);
    }
    for (let r = 0; r < rows; r++) softmaxRow(p, r * S);
    if (probMod) {
      checkMod(probMod, 'prob_mod', where);
      applyMod(probMod, p, dims, modType, 'prob_mod', ctx);
    }
    for (let r = 0; r < rows; r++) accumulate(r, p, r * S);
    return [fromNumbers(qT!.type, y, [B, Hq, L, Ev])];
  },
});
