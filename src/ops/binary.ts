// Broadcasting elementwise ops with two or more inputs: arithmetic (Add, Sub, Mul, Div, Pow, Mod),
// variadic folds (Max, Min, Sum, Mean), comparisons, logic, Where, PRelu and the bitwise ops.
// Floats compute in float64 and round once to the output dtype; int8/uint8/int32 results wrap
// like the typed arrays; int64 computes in BigInt so values beyond 2^53 stay exact.
import type { DType } from '../tensor/dtype.js';
import { isFloatDType } from '../tensor/dtype.js';
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { Tensor } from '../tensor/tensor.js';
import {
  binaryBigInts, binaryNumbers, binaryPredicate, exactValues, fromValues, gatherElements, planBroadcast, requireDims,
} from './elementwise-util.js';
import { defineOp, type InferContext } from './registry.js';
import { ALL_TYPES, broadcastInferred, FLOAT_TYPES, INT_TYPES, inputType, NUMERIC_TYPES, sameDType } from './util.js';

type NumFn = (a: number, b: number) => number;
type BigFn = (a: bigint, b: bigint) => bigint;

const BOOL: readonly DType[] = ['bool'];
const SIGNED_OR_FLOAT: readonly DType[] = ['float32', 'float16', 'int32', 'int64', 'int8'];

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
      if (x!.type === 'int64') return [binaryBigInts(x!, y!, a.big(ctx.where), ctx.where)];
      return [binaryNumbers(x!, y!, x!.type, a.num(x!.type, ctx.where), ctx.where)];
    },
  });
}

function zeroDivisor(where: string): never {
  throw new Error(`${where}: integer division by zero`);
}

defineArithmetic({ name: 'Add', num: () => (a, b) => a + b, big: () => (a, b) => a + b });
defineArithmetic({ name: 'Sub', num: () => (a, b) => a - b, big: () => (a, b) => a - b });
// int32 products exceed 2^53, so float64 would lose the low bits the wrap keeps: use imul.
defineArithmetic({ name: 'Mul', num: (t) => (t === 'int32' ? Math.imul : (a, b) => a * b), big: () => (a, b) => a * b });
// Integer division truncates toward zero (C semantics, as ONNX runtimes do).
defineArithmetic({
  name: 'Div',
  num: (t, where) => (isFloatDType(t) ? (a, b) => a / b : (a, b) => (b === 0 ? zeroDivisor(where) : Math.trunc(a / b))),
  big: (where) => (a, b) => (b === 0n ? zeroDivisor(where) : a / b),
});

// Max/Min propagate NaN like numpy's maximum/minimum (the ONNX reference implementation).
const maxNum: NumFn = (a, b) => (a !== a || a > b ? a : b);
const minNum: NumFn = (a, b) => (a !== a || a < b ? a : b);

defineOp({
  name: 'Mod',
  inputs: [{ name: 'A', types: NUMERIC_TYPES }, { name: 'B', types: NUMERIC_TYPES }],
  outputs: [{ name: 'C' }],
  attrs: { fmod: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') } },
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1]);
    checkFmod(dtype, ctx.attrs.int('fmod'), ctx.where);
    return [{ dtype, shape: broadcastInferred(ctx, [0, 1]) }];
  },
  reference: ([x, y], ctx) => {
    const fmod = ctx.attrs.int('fmod') === 1;
    checkFmod(x!.type, fmod ? 1 : 0, ctx.where);
    if (x!.type !== y!.type) throw new Error(`${ctx.where}: inputs have dtypes ${x!.type} and ${y!.type}`);
    if (x!.type === 'int64') {
      return [binaryBigInts(x!, y!, (a, b) => {
        if (b === 0n) zeroDivisor(ctx.where);
        const r = a % b;
        return !fmod && r !== 0n && (r < 0n) !== (b < 0n) ? r + b : r;
      }, ctx.where)];
    }
    const isFloat = isFloatDType(x!.type);
    return [binaryNumbers(x!, y!, x!.type, (a, b) => {
      if (!isFloat && b === 0) zeroDivisor(ctx.where);
      const r = a % b; // JS % is C fmod: the sign follows the dividend
      return !fmod && r !== 0 && (r < 0) !== (b < 0) ? r + b : r; // Python-style: sign follows the divisor
    }, ctx.where)];
  },
});

function checkFmod(dtype: DType, fmod: number, where: string): void {
  if (isFloatDType(dtype) && fmod !== 1) throw new Error(`${where}: Mod of floating-point inputs needs fmod=1`);
}

// Pow: the exponent may have another numeric dtype; the output has the base's dtype.
defineOp({
  name: 'Pow',
  inputs: [{ name: 'X', types: ['float32', 'float16', 'int32', 'int64'] }, { name: 'Y', types: NUMERIC_TYPES }],
  outputs: [{ name: 'Z' }],
  inferShape: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: broadcastInferred(ctx, [0, 1]) }],
  reference: ([x, y], ctx) => {
    if (x!.type === 'int64' && y!.type !== 'float32' && y!.type !== 'float16') {
      const yy = y!.type === 'int64' ? y! : fromNumbers('int64', toNumbers(y!), y!.dims);
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
    inferShape: (ctx) => sameTypeBroadcast(ctx, ctx.inputs.map((_, i) => i)),
    reference: (inputs, ctx) => {
      const ts = inputs.map((t, i) => {
        if (!t) throw new Error(`${ctx.where}: input ${i} is missing`);
        if (t.type !== inputs[0]!.type) throw new Error(`${ctx.where}: input ${i} has dtype ${t.type}, input 0 has ${inputs[0]!.type}`);
        return t;
      });
      const { dims, size, maps } = planBroadcast(ts, ctx.where);
      const vals = ts.map(exactValues);
      if (vals[0] instanceof BigInt64Array && !f.finish) {
        const out = new BigInt64Array(size);
        for (let i = 0; i < size; i++) {
          let acc = (vals[0] as BigInt64Array)[maps[0] ? maps[0][i]! : i]!;
          for (let k = 1; k < ts.length; k++) acc = f.big(acc, (vals[k] as BigInt64Array)[maps[k] ? maps[k]![i]! : i]!);
          out[i] = acc;
        }
        return [fromValues(ts[0]!.type, out, dims)];
      }
      const nums = vals.map((v) => (v instanceof BigInt64Array ? Float64Array.from(v, Number) : v));
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
  inputs: [{ name: 'X', types: SIGNED_OR_FLOAT }, { name: 'slope', types: SIGNED_OR_FLOAT }],
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
    const out = x!.type === 'int64'
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
    if (x!.type === 'int64') return [new Tensor('int64', (x!.data as BigInt64Array).map((v) => ~v), x!.dims)];
    return [fromNumbers(x!.type, toNumbers(x!).map((v) => ~v), x!.dims)];
  },
});

// BitShift is defined for unsigned types only; Kiln's only one is uint8. Shifts past the width give 0.
defineOp({
  name: 'BitShift',
  inputs: [{ name: 'X', types: ['uint8'] }, { name: 'Y', types: ['uint8'] }],
  outputs: [{ name: 'Z' }],
  attrs: {
    direction: { type: 'string', required: true, validate: (v) => (v === 'LEFT' || v === 'RIGHT' ? undefined : "must be 'LEFT' or 'RIGHT'") },
  },
  inferShape: (ctx) => sameTypeBroadcast(ctx, [0, 1]),
  reference: ([x, y], ctx) => {
    const left = ctx.attrs.string('direction') === 'LEFT';
    return [binaryNumbers(x!, y!, 'uint8', (a, b) => (b >= 8 ? 0 : left ? (a << b) & 0xff : a >> b), ctx.where)];
  },
});
