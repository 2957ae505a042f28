// Attention (opsets 23-25): scaled dot-product attention over 3-D (B, S, H*D) or 4-D (B, H, S, D)
// query/key/value, with an optional KV cache (past_key/past_value -> present_*), an attention
// mask (bool: true attends; numeric: added to the scores), offset-aware causal masking, sliding
// windows, per-batch key padding (nonpad_kv_seqlen), softcap and grouped-query heads.
// One schema serves every version: later opsets only added an input and attributes whose
// defaults keep the earlier behaviour. Scores and probabilities compute in float64 (so
// softmax_precision, which may only raise precision, needs no work) and round once per output.
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { DType } from '../tensor/dtype.js';
import type { Dim, Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp, type InferContext, type KernelContext } from './registry.js';
import { inputType } from './util.js';
import { WIDE_FLOAT_TYPES, WIDE_NUMERIC_TYPES } from './wide-types.js';

const MASK_TYPES: readonly DType[] = [...WIDE_NUMERIC_TYPES, 'bool'];
const SOFTMAX_PRECISIONS = [1, 10, 11, 16]; // float, float16, double, bfloat16

const windowSize = { type: 'int', default: -1, validate: (v: unknown) => ((v as number) >= -1 ? undefined : 'must be -1 or >= 0') } as const;

defineOp({
  name: 'Attention',
  inputs: [
    { name: 'Q', types: WIDE_FLOAT_TYPES },
    { name: 'K', types: WIDE_FLOAT_TYPES },
    { name: 'V', types: WIDE_FLOAT_TYPES },
    { name: 'attn_mask', optional: true, types: MASK_TYPES },
    { name: 'past_key', optional: true, types: WIDE_FLOAT_TYPES },
    { name: 'past_value', optional: true, types: WIDE_FLOAT_TYPES },
    { name: 'nonpad_kv_seqlen', optional: true, types: ['int64'] },
  ],
  outputs: [
    { name: 'Y' },
    { name: 'present_key', optional: true },
    { name: 'present_value', optional: true },
    { name: 'qk_matmul_output', optional: true },
  ],
  attrs: {
    is_causal: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
    q_num_heads: { type: 'int', validate: (v) => ((v as number) >= 1 ? undefined : 'must be >= 1') },
    kv_num_heads: { type: 'int', validate: (v) => ((v as number) >= 1 ? undefined : 'must be >= 1') },
    qk_matmul_output_mode: { type: 'int', default: 0, validate: (v) => ((v as number) >= 0 && (v as number) <= 3 ? undefined : 'must be 0, 1, 2 or 3') },
    scale: { type: 'float' },
    softcap: { type: 'float', default: 0 },
    softmax_precision: {
      type: 'int',
      validate: (v) => (SOFTMAX_PRECISIONS.includes(v as number) ? undefined : 'must be 1 (float), 10 (float16), 11 (double) or 16 (bfloat16)'),
    },
    left_window_size: windowSize,
    right_window_size: windowSize,
  },
  inferShape: inferAttention,
  reference: attentionReference,
});

// ---- shape inference ----------------------------------------------------------------------------

function inferAttention(ctx: InferContext) {
  const q = inputType(ctx, 0), k = inputType(ctx, 1), v = inputType(ctx, 2);
  const where = ctx.where;
  if (k.dtype !== q.dtype) throw new Error(`${where}: K has dtype ${k.dtype} but Q has ${q.dtype}`);
  const pastK = ctx.inputs[4], pastV = ctx.inputs[5];
  if ((pastK === undefined) !== (pastV === undefined)) throw new Error(`${where}: past_key and past_value must be given together`);
  if (pastK && pastK.dtype !== q.dtype) throw new Error(`${where}: past_key has dtype ${pastK.dtype} but Q has ${q.dtype}`);
  if (pastV && pastV.dtype !== v.dtype) throw new Error(`${where}: past_value has dtype ${pastV.dtype} but V has ${v.dtype}`);
  if (pastK && ctx.inputs[6]) throw new Error(`${where}: nonpad_kv_seqlen cannot be combined with past_key/past_value`);
  const types = [
    { dtype: q.dtype, shape: undefined as Shape | undefined },
    { dtype: q.dtype, shape: undefined as Shape | undefined },
    { dtype: v.dtype, shape: undefined as Shape | undefined },
    { dtype: q.dtype, shape: undefined as Shape | undefined },
  ];
  if (!q.shape || !k.shape || !v.shape) return types;
  const rank = q.shape.length;
  if (rank !== 3 && rank !== 4) throw new Error(`${where}: Q must be 3-D or 4-D, got rank ${rank}`);
  if (k.shape.length !== rank || v.shape.length !== rank) throw new Error(`${where}: Q, K and V must have the same rank`);
  const known = (d: Dim | undefined): d is number => typeof d === 'number';
  const div = (a: Dim, b: number): Dim => (known(a) ? exactDiv(a, b, where) : ctx.unknownDim());
  let batch: Dim, hq: Dim, hkv: Dim, sq: Dim, skv: Dim, dk: Dim, dv: Dim;
  if (rank === 3) {
    const [nq, nkv] = headCounts(ctx.attrs.int('q_num_heads', 0), ctx.attrs.int('kv_num_heads', 0), where);
    [batch, sq] = [q.shape[0]!, q.shape[1]!];
    skv = k.shape[1]!;
    [hq, hkv] = [nq, nkv];
    dk = div(k.shape[2]!, nkv);
    dv = div(v.shape[2]!, nkv);
    div(q.shape[2]!, nq);
  } else {
    [batch, hq, sq] = [q.shape[0]!, q.shape[1]!, q.shape[2]!];
    [hkv, skv, dk] = [k.shape[1]!, k.shape[2]!, k.shape[3]!];
    dv = v.shape[3]!;
  }
  if (known(hq) && known(hkv) && hq % hkv !== 0) throw new Error(`${where}: q_num_heads ${hq} is not a multiple of kv_num_heads ${hkv}`);
  const pastLen = pastK?.shape?.[2];
  const total: Dim = pastK ? (known(pastLen) && known(skv) ? pastLen + skv : ctx.unknownDim()) : skv;
  const mul = (a: Dim, b: Dim): Dim => (known(a) && known(b) ? a * b : ctx.unknownDim());
  types[0]!.shape = rank === 3 ? [batch, sq, mul(hq, dv)] : [batch, hq, sq, dv];
  types[1]!.shape = [batch, hkv, total, dk];
  types[2]!.shape = [batch, hkv, total, dv];
  types[3]!.shape = [batch, hq, sq, total];
  return types;
}

function headCounts(q: number, kv: number, where: string): [number, number] {
  if (q < 1 || kv < 1) throw new Error(`${where}: 3-D inputs need the q_num_heads and kv_num_heads attributes`);
  return [q, kv];
}

function exactDiv(a: number, b: number, where: string): number {
  if (a % b !== 0) throw new Error(`${where}: hidden size ${a} is not divisible by ${b} heads`);
  return a / b;
}

// ---- reference kernel ---------------------------------------------------------------------------

/** A (B, H, S, D) float64 view of Q, K or V, whatever its input layout. */
interface Heads {
  data: Float64Array;
  batch: number;
  heads: number;
  seq: number;
  size: number;
}

/** Reads a 4-D tensor as is, or splits a 3-D (B, S, H*D) tensor into `heads` heads. */
function toHeads(t: Tensor, heads: number, what: string, where: string): Heads {
  const v = toNumbers(t);
  if (t.dims.length === 4) {
    const [batch, h, seq, size] = t.dims as [number, number, number, number];
    return { data: v, batch, heads: h, seq, size };
  }
  const [batch, seq, hidden] = t.dims as [number, number, number];
  if (hidden % heads !== 0) throw new Error(`${where}: ${what} hidden size ${hidden} is not divisible by ${heads} heads`);
  const size = hidden / heads;
  const data = new Float64Array(v.length);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      for (let h = 0; h < heads; h++) {
        const src = (b * seq + s) * hidden + h * size;
        const dst = ((b * heads + h) * seq + s) * size;
        for (let d = 0; d < size; d++) data[dst + d] = v[src + d]!;
      }
    }
  }
  return { data, batch, heads, seq, size };
}

/** Appends `cur` to the cache `past` along the sequence axis (both (B, H, S, D)). */
function concatSeq(past: Heads | undefined, cur: Heads, what: string, where: string): Heads {
  if (!past) return cur;
  if (past.batch !== cur.batch || past.heads !== cur.heads || past.size !== cur.size) {
    throw new Error(`${where}: past_${what} has shape [${past.batch}, ${past.heads}, ${past.seq}, ${past.size}], `
      + `which does not match ${what} heads [${cur.batch}, ${cur.heads}, *, ${cur.size}]`);
  }
  const seq = past.seq + cur.seq;
  const data = new Float64Array(cur.batch * cur.heads * seq * cur.size);
  for (let bh = 0; bh < cur.batch * cur.heads; bh++) {
    data.set(past.data.subarray(bh * past.seq * past.size, (bh + 1) * past.seq * past.size), bh * seq * cur.size);
    data.set(cur.data.subarray(bh * cur.seq * cur.size, (bh + 1) * cur.seq * cur.size), (bh * seq + past.seq) * cur.size);
  }
  return { ...cur, data, seq };
}

/**
 * The additive attention mask as strides over (batch, head, query, key): right-aligned numpy
 * broadcasting, except that a key axis shorter than the total key length is padded with
 * -inf/false (the spec lets the mask omit trailing cache positions), never broadcast.
 */
interface MaskView {
  values: Float64Array;
  strides: [number, number, number, number];
  keys: number;
}

function maskView(m: Tensor, target: readonly [number, number, number, number], where: string): MaskView {
  const dims = m.dims;
  if (dims.length < 1 || dims.length > 4) throw new Error(`${where}: attn_mask must have rank 1 to 4, got ${dims.length}`);
  const keys = dims[dims.length - 1]!;
  if (keys > target[3]) throw new Error(`${where}: attn_mask has ${keys} key positions, more than the ${target[3]} keys`);
  const lifted = [...new Array<number>(4 - dims.length).fill(1), ...dims];
  const strides: [number, number, number, number] = [0, 0, 0, 1];
  let stride = keys;
  for (let d = 2; d >= 0; d--) {
    const n = lifted[d]!;
    if (n !== 1 && n !== target[d]) {
      throw new Error(`${where}: attn_mask shape [${dims.join(', ')}] does not broadcast to [${target.join(', ')}]`);
    }
    strides[d] = n === 1 ? 0 : stride;
    stride *= n;
  }
  const raw = toNumbers(m);
  // A boolean mask becomes the bias it stands for: 0 where attending, -inf elsewhere.
  const values = m.type === 'bool' ? raw.map((x) => (x ? 0 : -Infinity)) : raw;
  return { values, strides, keys };
}

function attentionReference(inputs: readonly (Tensor | undefined)[], ctx: KernelContext): Tensor[] {
  const [qT, kT, vT, maskT, pastKT, pastVT, nonpadT] = inputs;
  const where = ctx.where;
  const attrs = ctx.attrs;
  const rank = qT!.dims.length;
  if (rank !== 3 && rank !== 4) throw new Error(`${where}: Q must be 3-D or 4-D, got rank ${rank}`);
  if (kT!.dims.length !== rank || vT!.dims.length !== rank) throw new Error(`${where}: Q, K and V must have the same rank`);
  if (kT!.type !== qT!.type) throw new Error(`${where}: K has dtype ${kT!.type} but Q has ${qT!.type}`);
  if ((pastKT === undefined) !== (pastVT === undefined)) throw new Error(`${where}: past_key and past_value must be given together`);
  if (pastKT && nonpadT) throw new Error(`${where}: nonpad_kv_seqlen cannot be combined with past_key/past_value`);
  let nq = 0, nkv = 0;
  if (rank === 3) [nq, nkv] = headCounts(attrs.int('q_num_heads', 0), attrs.int('kv_num_heads', 0), where);
  const q = toHeads(qT!, nq, 'Q', where);
  const kNew = toHeads(kT!, nkv, 'K', where);
  const vNew = toHeads(vT!, nkv, 'V', where);
  if (rank === 4) {
    // Opsets 23-24 allowed the head attributes with 4-D inputs; they must then agree with the dims.
    for (const [name, n] of [['q_num_heads', q.heads], ['kv_num_heads', kNew.heads]] as const) {
      if (attrs.has(name) && attrs.int(name) !== n) throw new Error(`${where}: ${name}=${attrs.int(name)} but the 4-D input has ${n} heads`);
    }
  }
  const pastK = pastKT ? toHeads(checkRank4(pastKT, 'past_key', where), 0, 'past_key', where) : undefined;
  const pastV = pastVT ? toHeads(checkRank4(pastVT, 'past_value', where), 0, 'past_value', where) : undefined;
  const k = concatSeq(pastK, kNew, 'key', where);
  const v = concatSeq(pastV, vNew, 'value', where);

  const B = q.batch, Hq = q.heads, Sq = q.seq, D = q.size;
  const Hkv = k.heads, S = k.seq, Dv = v.size;
  if (k.batch !== B || v.batch !== B) throw new Error(`${where}: Q, K and V have different batch sizes (${B}, ${k.batch}, ${v.batch})`);
  if (k.size !== D) throw new Error(`${where}: Q head size ${D} differs from K head size ${k.size}`);
  if (v.heads !== Hkv || v.seq !== S) throw new Error(`${where}: K and V disagree on heads or sequence length`);
  if (Hq % Hkv !== 0) throw new Error(`${where}: ${Hq} query heads are not a multiple of ${Hkv} key/value heads`);
  const group = Hq / Hkv; // GQA: query head h reads key/value head floor(h / group)

  const scale = attrs.has('scale') ? attrs.float('scale') : 1 / Math.sqrt(D);
  const softcap = attrs.float('softcap');
  const causal = attrs.int('is_causal') === 1;
  const left = attrs.int('left_window_size');
  const right = attrs.int('right_window_size');
  const mode = attrs.int('qk_matmul_output_mode');

  // offset(b): keys that precede the query block, which aligns the causal and window frontiers.
  let nonpad: Float64Array | undefined;
  if (nonpadT) {
    nonpad = toNumbers(nonpadT);
    if (nonpad.length !== B) throw new Error(`${where}: nonpad_kv_seqlen has ${nonpad.length} values, expected batch size ${B}`);
  }
  const offsetOf = (b: number): number => (pastK ? pastK.seq : nonpad ? nonpad[b]! - Sq : 0);
  const mask = maskT ? maskView(maskT, [B, Hq, Sq, S], where) : undefined;

  const y = new Float64Array(B * Hq * Sq * Dv);
  const qkOut = new Float64Array(B * Hq * Sq * S);
  const bias = new Float64Array(S);
  const logits = new Float64Array(S);
  for (let b = 0; b < B; b++) {
    const offset = offsetOf(b);
    const valid = nonpad ? nonpad[b]! : S;
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / group);
      const kBase = (b * Hkv + kvh) * S * D;
      const vBase = (b * Hkv + kvh) * S * Dv;
      for (let i = 0; i < Sq; i++) {
        // Additive bias of this query row: mask + causal + window + padding, each 0 or -inf
        // except a numeric mask, which adds its values.
        let rowMasked = true;
        for (let j = 0; j < S; j++) {
          let bj = 0;
          if (mask) {
            bj = j < mask.keys
              ? mask.values[b * mask.strides[0] + h * mask.strides[1] + i * mask.strides[2] + j]!
              : -Infinity;
          }
          const diff = i + offset - j; // how far key j lies before the query's absolute position
          if ((causal && diff < 0) || (left >= 0 && diff > left) || (right >= 0 && -diff > right) || j >= valid) bj += -Infinity;
          bias[j] = bj;
          if (bj !== -Infinity) rowMasked = false;
        }
        const qBase = ((b * Hq + h) * Sq + i) * D;
        const outRow = ((b * Hq + h) * Sq + i) * S;
        let max = -Infinity;
        for (let j = 0; j < S; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q.data[qBase + d]! * k.data[kBase + j * D + d]!;
          let s = dot * scale;
          if (mode === 0) qkOut[outRow + j] = s;
          if (softcap > 0) s = softcap * Math.tanh(s / softcap);
          if (mode === 1) qkOut[outRow + j] = s;
          const x = s + bias[j]!;
          if (mode === 2) qkOut[outRow + j] = x;
          logits[j] = x;
          if (x !== x) max = NaN;
          else if (x > max) max = x;
        }
        // Softmax; a row that no key may attend gives zero probabilities (and a zero output row).
        let sum = 0;
        const shift = max === -Infinity ? 0 : max;
        for (let j = 0; j < S; j++) {
          const e = rowMasked ? 0 : Math.exp(logits[j]! - shift);
          logits[j] = e;
          sum += e;
        }
        const inv = sum === 0 ? 1 : 1 / sum;
        const yRow = ((b * Hq + h) * Sq + i) * Dv;
        for (let j = 0; j < S; j++) {
          const p = logits[j]! * inv;
          if (mode === 3) qkOut[outRow + j] = p;
          for (let d = 0; d < Dv; d++) y[yRow + d]! += p * v.data[vBase + j * Dv + d]!;
        }
      }
    }
  }

  const yDims = rank === 3 ? [B, Sq, Hq * Dv] : [B, Hq, Sq, Dv];
  const yOut = rank === 3 ? mergeHeads(y, B, Hq, Sq, Dv) : y;
  return [
    fromNumbers(qT!.type, yOut, yDims),
    fromNumbers(kT!.type, k.data, [B, Hkv, S, D]),
    fromNumbers(vT!.type, v.data, [B, Hkv, S, Dv]),
    fromNumbers(qT!.type, qkOut, [B, Hq, Sq, S]),
  ];
}

function checkRank4(t: Tensor, what: string, where: string): Tensor {
  if (t.dims.length !== 4) throw new Error(`${where}: ${what} must be 4-D (batch, heads, past_sequence, head_size), got rank ${t.dims.length}`);
  return t;
}

/** (B, H, S, D) -> (B, S, H*D). */
function mergeHeads(x: Float64Array, B: number, H: number, S: number, D: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let s = 0; s < S; s++) {
        const src = ((b * H + h) * S + s) * D;
        const dst = (b * S + s) * H * D + h * D;
        for (let d = 0; d < D; d++) out[dst + d] = x[src + d]!;
      }
    }
  }
  return out;
}
