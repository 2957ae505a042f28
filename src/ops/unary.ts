// Elementwise ops with one input: math functions, rounding, sign, Identity, Cast/CastLike and the
// IsNaN/IsInf tests. Computed in float64 and rounded once to the output dtype; int64 stays BigInt.
import { DTYPES, dtypeOfOnnxCode, isFloatDType, isPackedDType, type DType } from '../tensor/dtype.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { encodeE8M0, encodeMiniFloat, isMiniFloatDType, type E8M0Rounding } from '../tensor/float8.js';
import { Tensor } from '../tensor/tensor.js';
import { sameShape, unaryExact } from './elementwise-util.js';
import type { AttrSpec } from './attrs.js';
import { defineOp } from './registry.js';
import { ALL_TYPES, FLOAT_TYPES, inputType, NUMERIC_TYPES, rangeOf, roundHalfEven, SIGNED_INT_TYPES, unaryMap } from './util.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

const SIGNED_TYPES: readonly DType[] = [...FLOAT_TYPES, ...SIGNED_INT_TYPES];
/** IsNaN / IsInf also read the float8 formats (whose values toNumbers decodes). */
const FLOAT_AND_FLOAT8: readonly DType[] = [...FLOAT_TYPES, 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz'];

/** A same-shape, same-dtype op computed in float64 (int64 inputs, where allowed, via `big`). */
function defineUnary(name: string, types: readonly DType[], num: (v: number) => number, big?: (v: bigint) => bigint): void {
  defineOp({
    name,
    inputs: [{ name: 'X', types }],
    outputs: [{ name: 'Y' }],
    inferShape: (ctx) => sameShape(ctx),
    reference: ([x]) => [big ? unaryExact(x!, num, big) : unaryMap(x!, x!.type, num)],
  });
}

defineUnary('Abs', NUMERIC_TYPES, Math.abs, (v) => (v < 0n ? -v : v));
defineUnary('Neg', SIGNED_TYPES, (v) => -v, (v) => -v);
// numpy's sign: NaN stays NaN.
defineUnary('Sign', NUMERIC_TYPES, (v) => (v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : NaN), (v) => (v > 0n ? 1n : v < 0n ? -1n : 0n));
defineUnary('Exp', FLOAT_TYPES, Math.exp);
defineUnary('Log', FLOAT_TYPES, Math.log);
defineUnary('Sqrt', FLOAT_TYPES, Math.sqrt);
defineUnary('Reciprocal', FLOAT_TYPES, (v) => 1 / v);
defineUnary('Erf', FLOAT_TYPES, (v) => erf(v));
defineUnary('Tanh', FLOAT_TYPES, Math.tanh);
defineUnary('Sin', FLOAT_TYPES, Math.sin);
defineUnary('Cos', FLOAT_TYPES, Math.cos);
defineUnary('Tan', FLOAT_TYPES, Math.tan);
defineUnary('Asin', FLOAT_TYPES, Math.asin);
defineUnary('Acos', FLOAT_TYPES, Math.acos);
defineUnary('Atan', FLOAT_TYPES, Math.atan);
defineUnary('Sinh', FLOAT_TYPES, Math.sinh);
defineUnary('Cosh', FLOAT_TYPES, Math.cosh);
defineUnary('Asinh', FLOAT_TYPES, Math.asinh);
defineUnary('Acosh', FLOAT_TYPES, Math.acosh);
defineUnary('Atanh', FLOAT_TYPES, Math.atanh);
defineUnary('Floor', FLOAT_TYPES, Math.floor);
defineUnary('Ceil', FLOAT_TYPES, Math.ceil);
// ONNX Round is round-half-to-even (numpy.round), not JS Math.round.
defineUnary('Round', FLOAT_TYPES, roundHalfEven);

defineOp({
  name: 'Identity',
  // Opset 16 passes sequences and optionals through too.
  inputs: [{ name: 'input', types: ALL_TYPES, kinds: ['tensor', 'sequence', 'optional', 'optional-sequence'] }],
  outputs: [{ name: 'output' }],
  inferShape: (ctx) => [{ ...inputType(ctx, 0) }],
  // A copy, so a runtime that reuses output buffers can never write into the input (sequences
  // and optionals are immutable, so those pass as they are).
  evaluate: ([x]) => {
    if (!(x instanceof Tensor)) return [x!];
    const t = new Tensor(x.type, x.data.slice(), x.dims);
    if (x.quant) t.quant = x.quant;
    return [t];
  },
});

defineOp({
  name: 'IsNaN',
  inputs: [{ name: 'X', types: FLOAT_AND_FLOAT8 }],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => sameShape(ctx, 'bool'),
  reference: ([x]) => [unaryMap(x!, 'bool', (v) => (v !== v ? 1 : 0))],
});

defineOp({
  name: 'IsInf',
  inputs: [{ name: 'X', types: FLOAT_AND_FLOAT8 }],
  outputs: [{ name: 'Y' }],
  attrs: { detect_negative: { type: 'int', default: 1 }, detect_positive: { type: 'int', default: 1 } },
  inferShape: (ctx) => sameShape(ctx, 'bool'),
  reference: ([x], ctx) => {
    const neg = ctx.attrs.int('detect_negative') !== 0;
    const pos = ctx.attrs.int('detect_positive') !== 0;
    return [unaryMap(x!, 'bool', (v) => ((pos && v === Infinity) || (neg && v === -Infinity) ? 1 : 0))];
  },
});

// ---- Cast ----

export function dtypeFromOnnxCode(code: number, where: string): DType {
  const d = dtypeOfOnnxCode(code);
  if (!d) throw new Error(`${where}: ONNX data type ${code} is not one Kiln stores (string, complex and float6 are not supported)`);
  return d;
}

const castAttrs = {
  // saturate applies to float8 targets; round_mode to float8e8m0 targets (the Cast spec's tables).
  saturate: { type: 'int', default: 1 },
  round_mode: {
    type: 'string', default: 'up',
    validate: (v) => (v === 'up' || v === 'down' || v === 'nearest' ? undefined : "must be 'up', 'down' or 'nearest'"),
  },
} satisfies Record<string, AttrSpec>;

function castOptions(ctx: { attrs: { int(n: string): number; string(n: string): string } }): CastOptions {
  return { saturate: ctx.attrs.int('saturate') !== 0, roundMode: ctx.attrs.string('round_mode') as E8M0Rounding };
}

defineOp({
  name: 'Cast',
  inputs: [{ name: 'input', types: DTYPES }],
  outputs: [{ name: 'output' }],
  attrs: { to: { type: 'int', required: true }, ...castAttrs },
  inferShape: (ctx) => sameShape(ctx, dtypeFromOnnxCode(ctx.attrs.int('to'), ctx.where)),
  reference: ([x], ctx) => [castTo(x!, dtypeFromOnnxCode(ctx.attrs.int('to'), ctx.where), castOptions(ctx))],
});

defineOp({
  name: 'CastLike',
  inputs: [{ name: 'input', types: DTYPES }, { name: 'target_type', types: DTYPES }],
  outputs: [{ name: 'output' }],
  attrs: castAttrs,
  inferShape: (ctx) => sameShape(ctx, inputType(ctx, 1).dtype),
  reference: ([x, like], ctx) => [castTo(x!, like!.type, castOptions(ctx))],
});

export interface CastOptions {
  /** float8 targets: clamp out-of-range values and infinities to +-max (true) or give inf/NaN. */
  saturate?: boolean;
  /** float8e8m0 targets: how a value between two powers of two rounds. */
  roundMode?: E8M0Rounding;
}

/**
 * Converts a tensor to `to`. ONNX leaves out-of-range float-to-integer casts undefined; Kiln
 * truncates toward zero and saturates to the target's range with NaN -> 0 (WebAssembly's
 * trunc_sat, Rust's `as`), so every backend can agree. The sub-byte integers (int4, uint4, int2,
 * uint2) follow the onnx reference instead: truncate, then keep the low bits (so 9 -> int4 -7).
 * Integer to integer keeps the low bits (two's complement). To bool, anything non-zero (NaN too)
 * is true. float8/float4 round to nearest even (see tensor/float8.ts for saturate).
 */
export function castTo(x: Tensor, to: DType, opts: CastOptions = {}): Tensor {
  if (x.type === to) return new Tensor(to, x.data.slice(), x.dims);
  if (x.type === 'int64' || x.type === 'uint64') return castFromInt64(x as Tensor<'int64' | 'uint64'>, to, opts);
  const v = toNumbers(x);
  return castNumbers(v, isFloatDType(x.type), to, x.dims, opts);
}

/** The target side of a cast: `v` holds the source values; `fromFloat` says whether they came from a float dtype. */
function castNumbers(v: Float64Array, fromFloat: boolean, to: DType, dims: readonly number[], opts: CastOptions): Tensor {
  const saturate = opts.saturate ?? true;
  if (isMiniFloatDType(to) && to !== 'float4e2m1') {
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = encodeMiniFloat(to, v[i]!, saturate);
    return new Tensor(to, out, dims);
  }
  switch (to) {
    case 'float8e8m0': {
      const out = new Uint8Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = encodeE8M0(v[i]!, saturate, opts.roundMode ?? 'up');
      return new Tensor(to, out, dims);
    }
    case 'bool':
      for (let i = 0; i < v.length; i++) v[i] = v[i] !== 0 ? 1 : 0;
      break;
    case 'int8': case 'uint8': case 'int32': case 'int16': case 'uint16': case 'uint32': {
      if (!fromFloat) break; // integer to integer wraps (two's complement), via the typed array
      const [lo, hi] = rangeOf(to);
      for (let i = 0; i < v.length; i++) v[i] = v[i] !== v[i] ? 0 : Math.trunc(Math.min(hi, Math.max(lo, v[i]!)));
      break;
    }
    case 'int64': {
      const out = new BigInt64Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const f = v[i]!;
        out[i] = f !== f ? 0n : f >= 2 ** 63 ? INT64_MAX : f <= -(2 ** 63) ? INT64_MIN : BigInt(Math.trunc(f));
      }
      return new Tensor('int64', out, dims);
    }
    case 'uint64': {
      if (!fromFloat) break; // negative integers wrap modulo 2^64 in the BigUint64Array
      const out = new BigUint64Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const f = v[i]!;
        out[i] = f !== f || f <= 0 ? 0n : f >= 2 ** 64 ? UINT64_MAX : BigInt(Math.trunc(f));
      }
      return new Tensor('uint64', out, dims);
    }
    default:
      // Floats round to nearest even (float4e2m1 saturates: it has no inf); int4/uint4/int2/uint2
      // truncate and wrap (fromNumbers).
      break;
  }
  return fromNumbers(to, v, dims);
}

/** int64/uint64 sources convert through BigInt so that wrapping into other integers is exact. */
function castFromInt64(x: Tensor<'int64' | 'uint64'>, to: DType, opts: CastOptions): Tensor {
  const src = x.data;
  const n = src.length;
  if (to === 'int64' || to === 'uint64') {
    const out = to === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
    for (let i = 0; i < n; i++) out[i] = src[i]!; // the typed array wraps modulo 2^64
    return new Tensor(to, out, x.dims);
  }
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const b = src[i]!;
    switch (to) {
      case 'int32': v[i] = Number(BigInt.asIntN(32, b)); break;
      case 'int8': v[i] = Number(BigInt.asIntN(8, b)); break;
      case 'uint8': v[i] = Number(BigInt.asUintN(8, b)); break;
      case 'int16': v[i] = Number(BigInt.asIntN(16, b)); break;
      case 'uint16': v[i] = Number(BigInt.asUintN(16, b)); break;
      case 'uint32': v[i] = Number(BigInt.asUintN(32, b)); break;
      case 'int4': case 'uint4': v[i] = Number(BigInt.asUintN(4, b)); break;
      case 'int2': case 'uint2': v[i] = Number(BigInt.asUintN(2, b)); break;
      case 'bool': v[i] = b !== 0n ? 1 : 0; break;
      default: v[i] = Number(b);
    }
  }
  return isPackedDType(to) || !isFloatDType(to) ? fromNumbers(to, v, x.dims) : castNumbers(v, false, to, x.dims, opts);
}

// ---- erf --------------------------------------------------------------------------------------

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf to about 1e-15 relative: the all-positive series erf(x) = 2/sqrt(pi) e^{-x^2}
 * sum (2x^2)^n x / (1*3*...*(2n+1)) below 2.5 (no cancellation), the erfc continued fraction above.
 */
export function erf(x: number): number {
  if (x !== x) return NaN;
  const ax = Math.abs(x);
  if (ax >= 2.5) return Math.sign(x) * (1 - erfcLarge(ax));
  const x2 = 2 * ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * TWO_OVER_SQRT_PI * Math.exp(-ax * ax) * sum;
}

/** 1 - erf(x), accurate for large x where the subtraction would cancel. */
export function erfc(x: number): number {
  if (x !== x) return NaN;
  return x >= 2.5 ? erfcLarge(x) : 1 - erf(x);
}

/** Continued fraction erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), x >= 2.5. */
function erfcLarge(x: number): number {
  if (x === Infinity) return 0;
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}
