// LinearAttention (opset 27): recurrent linear attention over packed (B, T, H*D) inputs with a
// (B, H_kv, d_k, d_v) state per key/value head, run token by token:
//   gated:  S <- exp(g_t) * S                 (decay per head or per key dim; 'gated', 'gated_delta')
//   delta:  v_t <- beta_t * (v_t - S^T k_t)   ('delta', 'gated_delta'; reads the decayed S)
//   write:  S <- S + k_t (outer) v_t
//   read:   o_t = scale * q_t^T S             (query head h reads KV head floor(h / group))
// chunk_size is a tuning hint for chunked implementations and does not change results.
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp, type KernelContext } from './registry.js';
import { inputType, sameDType } from './util.js';

const TYPES = ['float32', 'float16', 'bfloat16'] as const;
const RULES = ['linear', 'gated', 'delta', 'gated_delta'];
const positive = (v: unknown): string | undefined => ((v as number) >= 1 ? undefined : 'must be >= 1');

defineOp({
  name: 'LinearAttention',
  inputs: [
    { name: 'query', types: TYPES },
    { name: 'key', types: TYPES },
    { name: 'value', types: TYPES },
    { name: 'past_state', optional: true, types: TYPES },
    { name: 'decay', optional: true, types: TYPES },
    { name: 'beta', optional: true, types: TYPES },
  ],
  outputs: [{ name: 'output' }, { name: 'present_state' }],
  attrs: {
    chunk_size: { type: 'int', default: 64 },
    q_num_heads: { type: 'int', required: true, validate: positive },
    kv_num_heads: { type: 'int', required: true, validate: positive },
    scale: { type: 'float', default: 0 },
    update_rule: { type: 'string', default: 'gated_delta', validate: (v) => (RULES.includes(v as string) ? undefined : `must be one of ${RULES.join(', ')}`) },
  },
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1, 2, 4, 5]);
    checkOptionalInputs(ctx.attrs.string('update_rule'), ctx.inputs[4] !== undefined, ctx.inputs[5] !== undefined, ctx.where);
    const hq = ctx.attrs.int('q_num_heads'), hkv = ctx.attrs.int('kv_num_heads');
    if (hq % hkv !== 0) throw new Error(`${ctx.where}: q_num_heads ${hq} is not a multiple of kv_num_heads ${hkv}`);
    // The state keeps past_state's dtype; without one it takes the query's.
    const stateType = ctx.inputs[3]?.dtype ?? dtype;
    const q = inputType(ctx, 0).shape, k = inputType(ctx, 1).shape, v = inputType(ctx, 2).shape;
    for (const [s, name] of [[q, 'query'], [k, 'key'], [v, 'value']] as const) {
      if (s && s.length !== 3) throw new Error(`${ctx.where}: ${name} must be 3-D (B, T, H*D), got rank ${s.length}`);
    }
    const per = (d: Dim | undefined, h: number): Dim => (typeof d === 'number' ? d / h : ctx.unknownDim());
    const dv = per(v?.[2], hkv);
    const out = q ? [q[0]!, q[1]!, typeof dv === 'number' ? hq * dv : ctx.unknownDim()] : undefined;
    const state = q ? [q[0]!, hkv, per(q[2], hq), dv] : undefined;
    return [{ dtype, shape: out }, { dtype: stateType, shape: state }];
  },
  reference: linearAttention,
});

function checkOptionalInputs(rule: string, hasDecay: boolean, hasBeta: boolean, where: string): void {
  const gated = rule === 'gated' || rule === 'gated_delta';
  const delta = rule === 'delta' || rule === 'gated_delta';
  if (gated !== hasDecay) throw new Error(`${where}: update_rule '${rule}' ${gated ? 'needs' : 'does not take'} the decay input`);
  if (delta !== hasBeta) throw new Error(`${where}: update_rule '${rule}' ${delta ? 'needs' : 'does not take'} the beta input`);
}

function linearAttention(inputs: readonly (Tensor | undefined)[], ctx: KernelContext): Tensor[] {
  const [qT, kT, vT, pastT, decayT, betaT] = inputs;
  const where = ctx.where;
  const rule = ctx.attrs.string('update_rule');
  checkOptionalInputs(rule, decayT !== undefined, betaT !== undefined, where);
  const Hq = ctx.attrs.int('q_num_heads'), Hkv = ctx.attrs.int('kv_num_heads');
  if (Hq % Hkv !== 0) throw new Error(`${where}: q_num_heads ${Hq} is not a multiple of kv_num_heads ${Hkv}`);
  for (const [t, name] of [[qT!, 'query'], [kT!, 'key'], [vT!, 'value']] as const) {
    if (t.dims.length !== 3) throw new Error(`${where}: ${name} must be 3-D (B, T, H*D), got rank ${t.dims.length}`);
    if (t.type !== qT!.type) throw new Error(`${where}: ${name} has dtype ${t.type} but query has ${qT!.type}`);
  }
  const [B, T, qHidden] = qT!.dims as [number, number, number];
  const split = (hidden: number, heads: number, what: string): number => {
    if (hidden % heads !== 0) throw new Error(`${where}: ${what} hidden size ${hidden} is not divisible by ${heads} heads`);
    return hidden / heads;
  };
  const dk = split(qHidden, Hq, 'query');
  const dv = split(vT!.dims[2]!, Hkv, 'value');
  for (const [t, name, hidden] of [[kT!, 'key', Hkv * dk], [vT!, 'value', Hkv * dv]] as const) {
    if (t.dims[0] !== B || t.dims[1] !== T || t.dims[2] !== hidden) throw new Error(`${where}: ${name} has shape [${t.dims.join(', ')}], expected [${B}, ${T}, ${hidden}]`);
  }
  if (pastT && pastT.dims.join() !== [B, Hkv, dk, dv].join()) {
    throw new Error(`${where}: past_state has shape [${pastT.dims.join(', ')}], expected [${B}, ${Hkv}, ${dk}, ${dv}]`);
  }
  // decay: one log-gate per KV head (B, T, H_kv) or per key dim (B, T, H_kv*d_k).
  let decayPerDim = false;
  if (decayT) {
    const last = decayT.dims[2];
    if (decayT.dims.length !== 3 || decayT.dims[0] !== B || decayT.dims[1] !== T || (last !== Hkv && last !== Hkv * dk)) {
      throw new Error(`${where}: decay has shape [${decayT.dims.join(', ')}], expected [${B}, ${T}, ${Hkv}] or [${B}, ${T}, ${Hkv * dk}]`);
    }
    decayPerDim = last === Hkv * dk && last !== Hkv;
  }
  // beta: one rate per KV head (B, T, H_kv) or shared (B, T, 1).
  let betaShared = false;
  if (betaT) {
    const last = betaT.dims[2];
    if (betaT.dims.length !== 3 || betaT.dims[0] !== B || betaT.dims[1] !== T || (last !== Hkv && last !== 1)) {
      throw new Error(`${where}: beta has shape [${betaT.dims.join(', ')}], expected [${B}, ${T}, ${Hkv}] or [${B}, ${T}, 1]`);
    }
    betaShared = last === 1 && Hkv !== 1;
  }
  const q = toNumbers(qT!), k = toNumbers(kT!), v = toNumbers(vT!);
  const decay = decayT ? toNumbers(decayT) : undefined;
  const beta = betaT ? toNumbers(betaT) : undefined;
  const state = pastT ? toNumbers(pastT) : new Float64Array(B * Hkv * dk * dv);
  const scaleAttr = ctx.attrs.float('scale');
  const scale = scaleAttr === 0 ? 1 / Math.sqrt(dk) : scaleAttr;
  const group = Hq / Hkv;
  const out = new Float64Array(B * T * Hq * dv);
  const vt = new Float64Array(dv);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const bt = b * T + t;
      for (let h = 0; h < Hkv; h++) {
        const S = (b * Hkv + h) * dk * dv; // state offset
        const kOff = bt * Hkv * dk + h * dk;
        if (decay) {
          for (let i = 0; i < dk; i++) {
            const g = Math.exp(decayPerDim ? decay[bt * Hkv * dk + h * dk + i]! : decay[bt * Hkv + h]!);
            for (let j = 0; j < dv; j++) state[S + i * dv + j]! *= g;
          }
        }
        for (let j = 0; j < dv; j++) vt[j] = v[bt * Hkv * dv + h * dv + j]!;
        if (beta) {
          const rate = beta[betaShared ? bt : bt * Hkv + h]!;
          for (let j = 0; j < dv; j++) {
            let retrieved = 0;
            for (let i = 0; i < dk; i++) retrieved += state[S + i * dv + j]! * k[kOff + i]!;
            vt[j] = rate * (vt[j]! - retrieved);
          }
        }
        for (let i = 0; i < dk; i++) {
          const ki = k[kOff + i]!;
          for (let j = 0; j < dv; j++) state[S + i * dv + j]! += ki * vt[j]!;
        }
        for (let hq = h * group; hq < (h + 1) * group; hq++) {
          const qOff = bt * Hq * dk + hq * dk;
          const oOff = bt * Hq * dv + hq * dv;
          for (let j = 0; j < dv; j++) {
            let acc = 0;
            for (let i = 0; i < dk; i++) acc += q[qOff + i]! * state[S + i * dv + j]!;
            out[oOff + j] = scale * acc;
          }
        }
      }
    }
  }
  return [
    fromNumbers(qT!.type, out, [B, T, Hq * dv]),
    fromNumbers(pastT?.type ?? qT!.type, state, [B, Hkv, dk, dv]),
  ];
}
