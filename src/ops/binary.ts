// Broadcasting elementwise ops with two or more inputs: arithmetic (Add, Sub, Mul, Div, Pow, Mod),
// variadic folds (Max, Min, Sum, Mean), comparisons, logic, Where, PRelu and the bitwise ops.
// Floats compute in float64 and round once to the output dtype; 8/16/32-bit integer results wrap
// like the typed arrays; int64 and uint64 compute in BigInt so values beyond 2^53 stay exact.
import type { DType } from '../tensor/dtype.js';
import { bitWidthOf, isFloatDType } from '../tensor/dtype.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { Tensor } from '../tensor/tensor.js';
import {
  allocBig, binaryBigInts, binaryNumbers, binaryPredicate, exactValues, fromValues, gatherElements, isBigDType, planBroadcast, requireDims,
  type BigValues,
} from './elementwise-util.js';
import { defineOp, type InferContext } from './registry.js';
import { ALL_TYPES, broadcastInferred, FLOAT_TYPES, INT_TYPES, inputType, NUMERIC_TYPES, sameDType, SIGNED_INT_TYPES } from './util.js';

type NumFn = (a: number, b: number) => number;
type BigFn = (a: bigint, b: bigint) => bigint;

const BOOL: readonly DType[] = ['bool'];
// PRelu's types (ONNX adds uint32/uint64; Kiln also keeps int8).
const PRELU_TYPES: readonly DType[] = [...FLOAT_TYPES, 'int32', 'int64', 'int8', 'uint32', 'uint64'];

function sameTypeBroadcast(ctx: InferContext, indices: readonly number[]) {
  return [{ dtype: sameDType(ctx, indices), shape: broadcastInferred(ctx, indices) }];
}

// ---- arithmetic -------------------------------------------------------------------------------

interface Arithmetic {
  name: string;
  types?: readonly DType[];
  /** The float64 kernel for a dtype; `where` lets integer kernels report division by zero. */
  num(dtype: DType, where: string): NumFn;
  big(where: string): BigFn;
}

function defineArithmetic(a: Arithmetic): void {
  const types = a.types ?? NUMERIC_TYPES;
  defineOp({
    name: a.name,
    inputs: [{ name: 'A', types }, { name: 'B', types }],
    outputs: [{ name: 'C' }],
    inferShape: (ctx) => sameTypeBroadcast(ctx, [0, 1]),
    reference: ([x, y], ctx) => {
      if (x!.type !== y!.type) throw new Error(`${ctx.where}: inputs have dtypes ${x!.type} and ${y!.type}`);
      if (isBigDType(x!.type)) return [binaryBigInts(x!, y!, a.big(ctx.where), ctx.where)];
      return [binaryNumbers(x!, y!, x!.type, a.num(x!.type, ctx.where), ctx.where)];
    },
  });
}

function zeroDivisor(where: string): never {
  throw new Error(`${where}: integer division by zero`);
}

defineArithmetic({ name: 'Add', num: () => (a, b) => a + b, big: () => (a, b) => a + b });
defineArithmetic({ name: 'Sub', num: () => (a, b) => a - b, big: () => (a, b) => a - b });
// 32-bit products exceed 2^53, so float64 would lose the low bits the wrap keeps: use imul
// (its int32 result wraps into uint32 storage just as well).
defineArithmetic({
  name: 'Mul', num: (t) => (t === 'int32' || t === 'uint32' ? Math.imul : (a, b) => a * b), big: () => (a, b) => a * b,
});
// Integer division truncates toward zero (C semantics, as ONNX runtimes do).
defineArithmetic({
  name: 'Div',
  num: (t, where) => (isFloatDType(t) ? (a, b) => a / b : (a, b) => (b === 0 ? zeroDivisor(where) : Math.trunc(a / b))),
  big: (where) => (a, b) => (b === 0n ? zeroDivisor(where) : a / b),
});

// Max/Min propagate NaN like numpy's maximum/minimum (the ONNX reference implementation).
const maxNum: NumFn = (a, b) => (a !== a || a > b ? a : b);
const minNum: NumFn = (a, b) => (a !== a || a < b ? a : b);

// Mod: fmod=0 takes the sign of the divisor (numpy.mod, floor division), fmod=1 the sign of the
// dividend (C fmod, truncation). Integers divide exactly; a zero integer divisor is an error.
defineOp({
  name: 'Mod',
  inputs: [{ name: 'A', types: NUMERIC_TYPES }, { name: 'B', types: NUMERIC_TYPES }],
  outputs: [{ name: 'C' }],
  attrs: { fmod: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') } },
  inferShape: (ctx) => [{ dtype: sameDType(ctx, [0, 1]), shape: broadcastInferred(ctx, [0, 1]) }],
  reference: ([x, y], ctx) => {
    const fmod = ctx.attrs.int('fmod') === 1;
    if (x!.type !== y!.type) throw new Error(`${ctx.where}: inputs have dtypes ${x!.type} and ${y!.type}`);
    if (isBigDType(x!.type)) {
      return [binaryBigInts(x!, y!, (a, b) => {
        if (b === 0n) zeroDivisor(ctx.where);
        const r = a % b;
        return !fmod && r !== 0n && (r < 0n) !== (b < 0n) ? r + b : r;
      }, ctx.where)];
    }
    if (isFloatDType(x!.type)) return [binaryNumbers(x!, y!, x!.type, fmod ? (a, b) => a % b : floorMod, ctx.where)];
    return [binaryNumbers(x!, y!, x!.type, (a, b) => {
      if (b === 0) zeroDivisor(ctx.where);
      const r = a % b; // JS % is C fmod: the sign follows the dividend
      return !fmod && r !== 0 && (r < 0) !== (b < 0) ? r + b : r; // Python-style: sign follows the divisor
    }, ctx.where)];
  },
});

/**
 * numpy.mod for floats: fmod, moved into the divisor's sign; a zero result takes the divisor's
 * sign. NaN when either is NaN, x is infinite or y is zero; y infinite returns x when the signs
 * agree and y otherwise (x + y), as the spec's table says.
 */
function floorMod(a: number, b: number): number {
  const r = a % b;
  if (r !== r) return NaN;
  if (r === 0) return b < 0 || Object.is(b, -0) ? -0 : 0;
  return (r < 0) !== (b < 0) ? r + b : r;
}

// Pow: the exponent may have another numeric dtype; the output has the base's dtype.
defineOp({
  name: 'Pow',
  inputs: [{ name: 'X', types: [...FLOAT_TYPES, 'int32', 'int64'] }, { name: 'Y', types: NUMERIC_TYPES }],
  outputs: [{ name: 'Z' }],
  inferShape: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: broadcastInferred(ctx, [0, 1]) }],
  reference: ([x, y], ctx) => {
    if (x!.type === 'int64' && !isFloatDType(y!.type)) {
      const yy = y!.type === 'int64' ? y!
        : y!.type === 'uint64' ? new Tensor('int64', BigInt64Array.from(y!.data as BigUint64Array), y!.dims)
          : fromNumbers('int64', toNumbers(y!), y!.dims);
      return [binaryBigInts(x!, yy, powInt64, ctx.where)];
    }
    return [binaryNumbers(x!, y!, x!.type, powC, ctx.where)];
  },
});

/** C pow: unlike Math.pow, 1^y is 1 for every y and (-1)^±inf is 1. */
function powC(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}

/** Integer power wrapping modulo 2^64 by square-and-multiply; negative exponents truncate like 1/x^n. */
function powInt64(base: bigint, exp: bigint): bigint {
  if (exp < 0n) {
    if (base === 1n) return 1n;
    if (base === -1n) return exp % 2n === 0n ? 1n : -1n;
    return 0n; // also 0^negative, which C leaves undefined
  }
  let result = 1n;
  let b = base;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = BigInt.asIntN(64, result * b);
    b = BigInt.asIntN(64, b * b);
    e >>= 1n;
  }
  return result;
}

// ---- variadic folds ---------------------------------------------------------------------------

interface Fold {
  name: string;
  types: readonly DType[];
  num: NumFn;
  big: BigFn;
  /** Post-processing of the folded value, given the input count (Mean divides). */
  finish?: (v: number, n: number) => number;
}

function defineFold(f: Fold): void {
  defineOp({
    name: f.name,
    inputs: [{ name: 'data_0', types: f.types, variadic: true }],
    outputs: [{ name: f.name.toLowerCase() }],
    inferShape: (ctx) => {
      // Every operand of a fold is required: an empty input name is refused here, not at run time.
      ctx.inputs.forEach((t, i) => { if (!t) throw new Error(`${ctx.where}: input ${i} is missing`); });
      return sameTypeBroadcast(ctx, ctx.inputs.map((_, i) => i));
    },
    reference: (inputs, ctx) => {
      const ts = inputs.map((t, i) => {
        if (!t) throw new Error(`${ctx.where}: input ${i} is missing`);
        if (t.type !== inputs[0]!.type) throw new Error(`${ctx.where}: input ${i} has dtype ${t.type}, input 0 has ${inputs[0]!.type}`);
        return t;
      });
      const { dims, size, maps } = planBroadcast(ts, ctx.where);
      const vals = ts.map(exactValues);
      const type = ts[0]!.type;
      if (isBigDType(type) && !f.finish) {
        const out = allocBig(type, size);
        for (let i = 0; i < size; i++) {
          let acc = (vals[0] as BigValues)[maps[0] ? maps[0][i]! : i]!;
          for (let k = 1; k < ts.length; k++) acc = f.big(acc, (vals[k] as BigValues)[maps[k] ? maps[k]![i]! : i]!);
          out[i] = acc;
        }
        return [fromValues(type, out, dims)];
      }
      const nums = vals.map((v) => (v instanceof Float64Array ? v : Float64Array.from(v as ArrayLike<bigint>, Number)));
      const out = new Float64Array(size);
      for (let i = 0; i < size; i++) {
        let acc = nums[0]![maps[0] ? maps[0][i]! : i]!;
        for (let k = 1; k < ts.length; k++) acc = f.num(acc, nums[k]![maps[k] ? maps[k]![i]! : i]!);
        out[i] = f.finish ? f.finish(acc, ts.length) : acc;
      }
      return [fromNumbers(ts[0]!.type, out, dims)];
    },
  });
}

defineFold({ name: 'Max', types: NUMERIC_TYPES, num: maxNum, big: (a, b) => (a > b ? a : b) });
defineFold({ name: 'Min', types: NUMERIC_TYPES, num: minNum, big: (a, b) => (a < b ? a : b) });
defineFold({ name: 'Sum', types: NUMERIC_TYPES, num: (a, b) => a + b, big: (a, b) => a + b });
defineFold({ name: 'Mean', types: FLOAT_TYPES, num: (a, b) => a + b, big: (a, b) => a + b, finish: (v, n) => v / n });

// ---- comparisons and logic --------------------------------------------------------------------

type Pred = (a: number | bigint, b: number | bigint) => boolean;

function definePredicate(name: string, types: readonly DType[], fn: Pred): void {
  defineOp({
    name,
    inputs: [{ name: 'A', types }, { name: 'B', types }],
    outputs: [{ name: 'C' }],
    inferShape: (ctx) => {
      sameDType(ctx, [0, 1]);
      return [{ dtype: 'bool', shape: broadcastInferred(ctx, [0, 1]) }];
    },
    reference: ([a, b], ctx) => {
      if (a!.type !== b!.type) throw new Error(`${ctx.where}: inputs have dtypes ${a!.type} and ${b!.type}`);
      return [binaryPredicate(a!, b!, fn, ctx.where)];
    },
  });
}

definePredicate('Equal', [...NUMERIC_TYPES, 'bool'], (a, b) => a === b);
definePredicate('Greater', NUMERIC_TYPES, (a, b) => a > b);
definePredicate('Less', NUMERIC_TYPES, (a, b) => a < b);
definePredicate('GreaterOrEqual', NUMERIC_TYPES, (a, b) => a >= b);
definePredicate('LessOrEqual', NUMERIC_TYPES, (a, b) => a <= b);
definePredicate('And', BOOL, (a, b) => a !== 0 && b !== 0);
definePredicate('Or', BOOL, (a, b) => a !== 0 || b !== 0);
definePredicate('Xor', BOOL, (a, b) => (a !== 0) !== (b !== 0));

defineOp({
  name: 'Not',
  inputs: [{ name: 'X', types: BOOL }],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => [{ dtype: 'bool', shape: inputType(ctx, 0).shape }],
  reference: ([x]) => [fromNumbers('bool', Array.from(x!.data as Uint8Array, (v) => (v ? 0 : 1)), x!.dims)],
});

// ---- selection --------------------------------------------------------------------------------

defineOp({
  name: 'Where',
  inputs: [{ name: 'condition', types: BOOL }, { name: 'X', types: ALL_TYPES }, { name: 'Y', types: ALL_TYPES }],
  outputs: [{ name: 'output' }],
  inferShape: (ctx) => [{ dtype: sameDType(ctx, [1, 2]), shape: broadcastInferred(ctx, [0, 1, 2]) }],
  reference: ([c, x, y], ctx) => {
    if (x!.type !== y!.type) throw new Error(`${ctx.where}: X has dtype ${x!.type} but Y has ${y!.type}`);
    const { dims, size, maps: [mc, mx, my] } = planBroadcast([c!, x!, y!], ctx.where);
    const cond = c!.data as Uint8Array;
    const which = new Uint8Array(size);
    const picks = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const take = cond[mc ? mc[i]! : i]! !== 0;
      which[i] = take ? 0 : 1;
      picks[i] = take ? (mx ? mx[i]! : i) : my ? my[i]! : i;
    }
    return [gatherElements(x!.type, dims, [x!, y!], which, picks)];
  },
});

// PRelu: slope broadcasts one way, to X's shape.
defineOp({
  name: 'PRelu',
  inputs: [{ name: 'X', types: PRELU_TYPES }, { name: 'slope', types: PRELU_TYPES }],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1]);
    const x = inputType(ctx, 0).shape;
    const both = broadcastInferred(ctx, [0, 1]);
    if (x && both) requireDims(both, x, 'slope broadcast against X', ctx.where);
    return [{ dtype, shape: x }];
  },
  reference: ([x, slope], ctx) => {
    if (x!.type !== slope!.type) throw new Error(`${ctx.where}: X has dtype ${x!.type} but slope has ${slope!.type}`);
    const out = isBigDType(x!.type)
      ? binaryBigInts(x!, slope!, (v, s) => (v < 0n ? v * s : v), ctx.where)
      : binaryNumbers(x!, slope!, x!.type, (v, s) => (v < 0 ? v * s : v), ctx.where);
    requireDims(out.dims, x!.dims, 'slope broadcast against X', ctx.where);
    return [out];
  },
});

// ---- bitwise ----------------------------------------------------------------------------------

function defineBitwise(name: string, num: NumFn, big: BigFn): void {
  defineArithmetic({ name, types: INT_TYPES, num: () => num, big: () => big });
}
defineBitwise('BitwiseAnd', (a, b) => a & b, (a, b) => a & b);
defineBitwise('BitwiseOr', (a, b) => a | b, (a, b) => a | b);
defineBitwise('BitwiseXor', (a, b) => a ^ b, (a, b) => a ^ b);

defineOp({
  name: 'BitwiseNot',
  inputs: [{ name: 'X', types: INT_TYPES }],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => [inputType(ctx, 0)],
  reference: ([x]) => {
    if (isBigDType(x!.type)) {
      const src = x!.data as BigValues;
      const out = allocBig(x!.type, src.length);
      for (let i = 0; i < src.length; i++) out[i] = ~src[i]!; // the unsigned array wraps ~v modulo 2^64
      return [new Tensor(x!.type, out, x!.dims)];
    }
    return [fromNumbers(x!.type, toNumbers(x!).map((v) => ~v), x!.dims)];
  },
});

// BitShift: unsigned types shift logically; signed types shift right arithmetically and left with
// the bits past the sign bit dropped. A shift that is negative or not below the width gives what
// the sign fill alone gives: -1 for a right shift of a negative X, 0 otherwise.
defineOp({
  name: 'BitShift',
  inputs: [{ name: 'X', types: INT_TYPES }, { name: 'Y', types: INT_TYPES }],
  outputs: [{ name: 'Z' }],
  attrs: {
    direction: { type: 'string', required: true, validate: (v) => (v === 'LEFT' || v === 'RIGHT' ? undefined : "must be 'LEFT' or 'RIGHT'") },
  },
  inferShape: (ctx) => sameTypeBroadcast(ctx, [0, 1]),
  reference: ([x, y], ctx) => {
    if (x!.type !== y!.type) throw new Error(`${ctx.where}: inputs have dtypes ${x!.type} and ${y!.type}`);
    const left = ctx.attrs.string('direction') === 'LEFT';
    const type = x!.type;
    const signed = SIGNED_INT_TYPES.includes(type);
    const width = bitWidthOf(type);
    if (isBigDType(type)) {
      const w = BigInt(width);
      return [binaryBigInts(x!, y!, (a, b) => {
        if (b < 0n || b >= w) return !left && a < 0n ? -1n : 0n;
        return left ? a << b : a >> b; // BigInt >> is arithmetic; uint64 values are never negative
      }, ctx.where)];
    }
    // 8/16/32-bit values fit int32 shifts (<< keeps the low 32 bits, the typed array the rest of the wrap).
    return [binaryNumbers(x!, y!, type, (a, b) => {
      if (b < 0 || b >= width) return !left && a < 0 ? -1 : 0;
      return left ? a << b : signed ? a >> b : a >>> b;
    }, ctx.where)];
  },
});
