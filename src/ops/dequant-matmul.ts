// Kiln's weight-dequantizing matrix ops (domain ai.kiln), produced by the fuseDequantMatMul pass:
// MatMul or Gemm (plain or activation-fused) whose B is a DequantizeLinear of constant quantized
// weights. Backends run them on kernels that read the quantized weights directly (int4 block-wise,
// sparse int8) instead of a materialized float32 copy. The reference kernel is the original
// subgraph, DequantizeLinear then the base op then the fused bias and activation, so fused graphs
// give the reference backend's exact bits.
//
//   DequantMatMul(A, B_q, B_scale, B_zero_point?, bias?)  = act(MatMul(A, DQ(B_q)) + bias)
//   DequantGemm(A, B_q, B_scale, B_zero_point?, C?)       = act(Gemm(A, DQ(B_q), C))
// Attributes: the base op's (Gemm: alpha, beta, transA, transB), DequantizeLinear's axis and
// block_size (relative to B_q), activation / activation_params as in FusedGemm, and
// accuracy_level: 0 computes in float32 (default); 4 lets a backend quantize the activations to
// int8 per block of 32 for integer dot products (onnxruntime MatMulNBits' accuracy_level 4).
import './fused.js';
import './quantize.js';
import type { Node, ValueType } from '../graph/ir.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AttrSpec } from './attrs.js';
import { activationNode, FUSABLE_ACTIVATIONS, KILN_DOMAIN, type FusableActivation } from './fused.js';
import { evalNodeReference } from './invoke.js';
import { defineOp, getOp, type RegisteredOp } from './registry.js';
import { broadcastMap, inputType, QUANT_TYPES } from './util.js';

export const DEQUANT_MATMUL_OPS = { MatMul: 'DequantMatMul', Gemm: 'DequantGemm' } as const;

const EXTRA_ATTRS: Record<string, AttrSpec> = {
  /** DequantizeLinear's axis and block_size, relative to B_q. */
  axis: { type: 'int', default: 1 },
  block_size: { type: 'int', default: 0, validate: (v) => ((v as number) >= 0 ? undefined : 'must be >= 0') },
  activation: { type: 'string', validate: (v) => (FUSABLE_ACTIVATIONS.includes(v as FusableActivation) ? undefined : `unsupported activation ${String(v)}`) },
  activation_params: { type: 'floats', default: [] },
  accuracy_level: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 4 ? undefined : 'must be 0 (float32) or 4 (int8 activations)') },
};

function defineDequant(name: string, base: RegisteredOp, last: { name: string }): void {
  defineOp({
    name,
    domain: KILN_DOMAIN,
    inputs: [
      { name: 'A', types: ['float32'] },
      { name: 'B_q', types: QUANT_TYPES },
      { name: 'B_scale', types: ['float32'] },
      { name: 'B_zero_point', optional: true, types: QUANT_TYPES },
      { name: last.name, optional: true, types: ['float32'] },
    ],
    outputs: base.outputs,
    attrs: { ...base.attrs, ...EXTRA_ATTRS },
    inferShape: (ctx) => {
      const bq = inputType(ctx, 1);
      inputType(ctx, 2);
      const b: ValueType = { dtype: 'float32', ...(bq.shape ? { shape: bq.shape } : {}) };
      const inputs = base.name === 'Gemm' ? [ctx.inputs[0], b, ctx.inputs[4]] : [ctx.inputs[0], b];
      return base.inferShape({ ...ctx, inputs });
    },
    reference: ([a, bq, scale, zp, extra], ctx) => {
      const dq: Node = {
        name: `${ctx.where}/dequantize`, op: 'DequantizeLinear', domain: '', inputs: ['x', 's', zp ? 'z' : ''], outputs: ['y'],
        attrs: { axis: ctx.attrs.int('axis'), block_size: ctx.attrs.int('block_size') },
      };
      const b = evalNodeReference(dq, [bq!, scale!, zp])[0]!;
      const node: Node = {
        name: ctx.where, op: base.name, domain: '', inputs: ['a', 'b', ...(base.name === 'Gemm' && extra ? ['c'] : [])], outputs: ['y'],
        attrs: Object.fromEntries(Object.keys(base.attrs).filter((k) => ctx.attrs.has(k)).map((k) => [k, ctx.attrs.explicit(k)!])),
      };
      let y: Tensor = evalNodeReference(node, base.name === 'Gemm' && extra ? [a!, b, extra] : [a!, b])[0]!;
      if (base.name === 'MatMul' && extra) y = broadcastMap([y, extra], y.type, (p, q) => p + q);
      if (!ctx.attrs.has('activation')) return [y];
      const act = activationNode(ctx.attrs.string('activation'), ctx.attrs.floats('activation_params'), y);
      return evalNodeReference(act.node, act.inputs);
    },
  });
}

defineDequant(DEQUANT_MATMUL_OPS.MatMul, getOp('', 'MatMul'), { name: 'bias' });
defineDequant(DEQUANT_MATMUL_OPS.Gemm, getOp('', 'Gemm'), { name: 'C' });
