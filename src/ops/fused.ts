// Kiln's fused ops (domain ai.kiln), produced by the activation-fusion pass: Conv, Gemm or MatMul
// followed by an activation (and for MatMul, a bias add). The reference kernel is the base op's
// kernel followed by the activation's, so fused graphs stay checkable against the oracle.
// The base ops must be registered before they are extended here.
import './conv.js';
import './gemm.js';
import './unary.js';
import './activation.js';
import type { Node, ValueType } from '../graph/ir.js';
import { Tensor } from '../tensor/tensor.js';
import type { AttrSpec } from './attrs.js';
import { evalNodeReference } from './invoke.js';
import { defineOp, getOp, type RegisteredOp } from './registry.js';
import { broadcastMap, inputType } from './util.js';

export const KILN_DOMAIN = 'ai.kiln';

/** Activations a fused op can apply, with how activation_params map to the activation node. */
export const FUSABLE_ACTIVATIONS = ['Relu', 'Clip', 'LeakyRelu', 'Sigmoid', 'Gelu'] as const;
export type FusableActivation = (typeof FUSABLE_ACTIVATIONS)[number];

const ACTIVATION_ATTRS: Record<string, AttrSpec> = {
  /** Absent: no activation (a MatMul with only a fused bias). */
  activation: { type: 'string', validate: (v) => (FUSABLE_ACTIVATIONS.includes(v as FusableActivation) ? undefined : `unsupported activation ${String(v)}`) },
  /** Clip: [min, max]; LeakyRelu: [alpha]; Gelu: [1] for the tanh approximation. */
  activation_params: { type: 'floats', default: [] },
};

/** The activation as a stand-alone node (its reference kernel is the definition). */
export function activationNode(activation: string, params: readonly number[], x: Tensor): { node: Node; inputs: Tensor[] } {
  const node: Node = { name: `fused_${activation}`, op: activation, domain: '', inputs: ['x'], outputs: ['y'], attrs: {} };
  const inputs = [x];
  if (activation === 'LeakyRelu') node.attrs.alpha = params[0] ?? 0.01;
  if (activation === 'Gelu' && params[0] === 1) node.attrs.approximate = 'tanh';
  if (activation === 'Clip') {
    node.inputs = ['x', 'min', 'max'];
    inputs.push(new Tensor('float32', Float32Array.of(params[0] ?? -Infinity), []), new Tensor('float32', Float32Array.of(params[1] ?? Infinity), []));
  }
  return { node, inputs };
}

function defineFused(name: string, base: RegisteredOp, extraInputs: RegisteredOp['inputs'] = []): void {
  const baseInputs = base.inputs.length;
  defineOp({
    name,
    domain: KILN_DOMAIN,
    inputs: [...base.inputs, ...extraInputs],
    outputs: base.outputs,
    attrs: { ...base.attrs, ...ACTIVATION_ATTRS },
    inferShape: (ctx) => {
      const types = base.inferShape({ ...ctx, inputs: ctx.inputs.slice(0, baseInputs) });
      for (let i = baseInputs; i < ctx.inputs.length; i++) if (ctx.inputs[i]) inputType(ctx, i);
      return types as ValueType[];
    },
    reference: (inputs, ctx) => {
      // Re-run as the base op on a node without the fusion attributes.
      const node: Node = {
        name: ctx.where, op: base.name, domain: base.domain,
        inputs: inputs.slice(0, baseInputs).map((t, i) => (t ? `in${i}` : '')), outputs: ['y'],
        attrs: Object.fromEntries(Object.keys(base.attrs).filter((k) => ctx.attrs.has(k)).map((k) => [k, ctx.attrs.explicit(k)!])),
      };
      let y = evalNodeReference(node, inputs.slice(0, baseInputs))[0]!;
      const bias = inputs[baseInputs];
      if (bias) y = broadcastMap([y, bias], y.type, (a, b) => a + b);
      if (!ctx.attrs.has('activation')) return [y];
      const act = activationNode(ctx.attrs.string('activation'), ctx.attrs.floats('activation_params'), y);
      return evalNodeReference(act.node, act.inputs);
    },
  });
}

defineFused('FusedConv', getOp('', 'Conv'));
defineFused('FusedGemm', getOp('', 'Gemm'));
// FusedMatMul takes an optional bias (a following Add of a per-column constant).
defineFused('FusedMatMul', getOp('', 'MatMul'), [{ name: 'bias', optional: true, types: ['float32'] }]);
