// Activation functions: elementwise, same shape and dtype, computed in float64 and rounded once.
// Formulas are arranged to stay stable at the extremes (sigmoid, softplus and gelu never form
// exp of a large positive number or subtract nearly equal values).
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { exactValues, sameShape, unaryExact } from './elementwise-util.js';
import type { AttrSpec } from './attrs.js';
import { defineOp, type KernelContext } from './registry.js';
import { erfc } from './unary.js';
import { FLOAT_TYPES, NUMERIC_TYPES, sameDType, SIGNED_INT_TYPES, unaryMap } from './util.js';

type Attrs = Readonly<Record<string, AttrSpec>>;

function defineActivation(
  name: string, attrs: Attrs, kernel: (ctx: KernelContext) => (v: number) => number, types: readonly DType[] = FLOAT_TYPES,
): void {
  defineOp({
    name,
    inputs: [{ name: 'X', types }],
    outputs: [{ name: 'Y' }],
    attrs,
    inferShape: (ctx) => sameShape(ctx),
    reference: ([x], ctx) => [unaryMap(x!, x!.type, kernel(ctx))],
  });
}

const float = (d: number): AttrSpec => ({ type: 'float', default: d });

export function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/** log(1 + e^v) without overflow for large v or loss of precision for very negative v. */
export function softplus(v: number): number {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

// Relu also takes signed integers (opset 14); int64 stays exact.
defineOp({
  name: 'Relu',
  inputs: [{ name: 'X', types: [...FLOAT_TYPES, ...SIGNED_INT_TYPES] }],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => sameShape(ctx),
  reference: ([x]) => [unaryExact(x!, (v) => (v < 0 ? 0 : v), (v) => (v < 0n ? 0n : v))],
});

defineActivation('LeakyRelu', { alpha: float(0.01) }, (ctx) => {
  const a = ctx.attrs.float('alpha');
  return (v) => (v < 0 ? a * v : v);
});
defineActivation('Elu', { alpha: float(1) }, (ctx) => {
  const a = ctx.attrs.float('alpha');
  return (v) => (v < 0 ? a * Math.expm1(v) : v);
});
defineActivation('Celu', { alpha: float(1) }, (ctx) => {
  const a = ctx.attrs.float('alpha');
  if (a === 0) throw new Error(`${ctx.where}: Celu alpha must not be 0`);
  return (v) => Math.max(0, v) + Math.min(0, a * Math.expm1(v / a));
});
// Selu's defaults are the float32 constants from the ONNX spec.
defineActivation('Selu', { alpha: float(1.67326319217681884765625), gamma: float(1.05070102214813232421875) }, (ctx) => {
  const a = ctx.attrs.float('alpha');
  const g = ctx.attrs.float('gamma');
  return (v) => (v > 0 ? g * v : g * a * Math.expm1(v));
});
defineActivation('ThresholdedRelu', { alpha: float(1) }, (ctx) => {
  const a = ctx.attrs.float('alpha');
  return (v) => (v > a ? v : 0);
});
defineActivation('Sigmoid', {}, () => sigmoid);
defineActivation('HardSigmoid', { alpha: float(0.2), beta: float(0.5) }, (ctx) => {
  const a = ctx.attrs.float('alpha');
  const b = ctx.attrs.float('beta');
  return (v) => Math.max(0, Math.min(1, a * v + b));
});
defineActivation('HardSwish', {}, () => (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)));
defineActivation('Softplus', {}, () => softplus);
defineActivation('Softsign', {}, () => (v) => v / (1 + Math.abs(v)));
defineActivation('Mish', {}, () => (v) => v * Math.tanh(softplus(v)));
// Swish gained its alpha attribute in opset 24: x * sigmoid(alpha * x).
defineActivation('Swish', { alpha: float(1) }, (ctx) => {
  const a = ctx.attrs.float('alpha');
  return (v) => v * sigmoid(a * v);
});

const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
defineActivation(
  'Gelu',
  { approximate: { type: 'string', default: 'none', validate: (v) => (v === 'none' || v === 'tanh' ? undefined : "must be 'none' or 'tanh'") } },
  (ctx) => ctx.attrs.string('approximate') === 'tanh'
    ? (v) => 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))
    // 1 + erf(x/sqrt2) = erfc(-x/sqrt2): exact also where erf is close to -1.
    : (v) => 0.5 * v * erfc(-v * SQRT1_2),
);

defineActivation('Shrink', { bias: float(0), lambd: float(0.5) }, (ctx) => {
  const bias = ctx.attrs.float('bias');
  const lambd = ctx.attrs.float('lambd');
  return (v) => (v < -lambd ? v + bias : v > lambd ? v - bias : 0);
}, NUMERIC_TYPES);

// Clip: min and max are optional scalar inputs of the input's dtype; a missing bound is no bound.
// When min > max every value becomes max (the ONNX definition min(max(x, lo), hi)).
defineOp({
  name: 'Clip',
  inputs: [
    { name: 'input', types: NUMERIC_TYPES },
    { name: 'min', types: NUMERIC_TYPES, optional: true },
    { name: 'max', types: NUMERIC_TYPES, optional: true },
  ],
  outputs: [{ name: 'output' }],
  inferShape: (ctx) => {
    sameDType(ctx, [0, 1, 2]);
    for (const i of [1, 2]) {
      const s = ctx.inputs[i]?.shape;
      if (s && s.length > 0 && !(s.length === 1 && (s[0] === 1 || typeof s[0] === 'string'))) {
        throw new Error(`${ctx.where}: ${i === 1 ? 'min' : 'max'} must be a scalar, got shape [${s.join(', ')}]`);
      }
    }
    return sameShape(ctx);
  },
  reference: ([x, lo, hi], ctx) => {
    const bound = (t: Tensor | undefined, what: string): number | bigint | undefined => {
      if (!t) return undefined;
      if (t.type !== x!.type) throw new Error(`${ctx.where}: ${what} has dtype ${t.type} but input has ${x!.type}`);
      if (t.size !== 1) throw new Error(`${ctx.where}: ${what} must be a scalar, got shape [${t.dims.join(', ')}]`);
      return exactValues(t)[0]!;
    };
    const mn = bound(lo, 'min');
    const mx = bound(hi, 'max');
    return [unaryExact(
      x!,
      (v) => {
        let r = v;
        if (mn !== undefined && (r < (mn as number) || mn !== mn)) r = mn as number;
        if (mx !== undefined && (r > (mx as number) || mx !== mx)) r = mx as number;
        return r;
      },
      (v) => {
        let r = v;
        if (mn !== undefined && r < (mn as bigint)) r = mn as bigint;
        if (mx !== undefined && r > (mx as bigint)) r = mx as bigint;
        return r;
      },
    )];
  },
});
