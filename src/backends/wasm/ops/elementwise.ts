// WASM kernels for elementwise ops: unary math/activations, broadcasting binary arithmetic,
// variadic Max/Min/Sum/Mean, comparisons, Where, Clip, Pow and Casts (int64 ones in cast-int64.ts).
// f32 only (Where and Cast move other dtypes); the integer and bool forms of the binary ops are in
// elementwise-int.ts, and anything else returns undefined and runs on the reference kernel.
import type { Attrs } from '../../../ops/attrs.js';
import { toNumbers } from '../../../tensor/convert.js';
import type { DType } from '../../../tensor/dtype.js';
import { registerWasmKernel, type PreparedKernel, type WasmKernelFactory, type WasmPlanContext } from '../kernel.js';
import {
  binaryF32, compareF32, unaryF32, whereSelect, type BinaryOpF32, type CompareOpF32, type UnaryOpF32,
} from '../kernels/elementwise.js';
import { broadcastWalk, elementCount, layoutDescriptors, walkDescriptor, walkRows } from '../kernels/strided.js';
import { castInt64Kernel } from './cast-int64.js';

const isF32 = (t: { dtype: DType } | undefined): boolean => t?.dtype === 'float32';

// ---- unary ------------------------------------------------------------------------------------

/** alpha/beta from the node's attributes, or undefined when the kernel cannot serve them. */
type UnaryParams = (attrs: Attrs) => [number, number] | undefined;

function unaryKernel(op: UnaryOpF32, n: number, alpha: number, beta: number): PreparedKernel {
  return {
    run(mem, [x], [y]) {
      if (n > 0) unaryF32(mem.exports, op, x!.ptr, y!.ptr, n, alpha, beta);
    },
  };
}

function registerUnary(onnxOp: string, op: UnaryOpF32, params?: UnaryParams): void {
  registerWasmKernel(onnxOp, (ctx) => {
    if (!isF32(ctx.inputs[0]) || !isF32(ctx.outputs[0])) return undefined;
    const p: [number, number] | undefined = params ? params(ctx.attrs) : [0, 0];
    if (!p) return undefined;
    return unaryKernel(op, elementCount(ctx.outputs[0]!.dims), p[0], p[1]);
  });
}

const attr = (name: string) => (a: Attrs): [number, number] => [a.float(name), 0];

registerUnary('Relu', 'relu');
registerUnary('LeakyRelu', 'leakyRelu', attr('alpha'));
registerUnary('Sigmoid', 'sigmoid');
registerUnary('Tanh', 'tanh');
registerUnary('Exp', 'exp');
registerUnary('Log', 'log');
registerUnary('Sqrt', 'sqrt');
registerUnary('Abs', 'abs');
registerUnary('Neg', 'neg');
registerUnary('Reciprocal', 'reciprocal');
registerUnary('HardSigmoid', 'hardSigmoid', (a) => [a.float('alpha'), a.float('beta')]);
registerUnary('HardSwish', 'hardSwish');
registerUnary('Elu', 'elu', attr('alpha'));
registerUnary('Gelu', 'gelu', (a) => (a.string('approximate') === 'tanh' ? undefined : [0, 0]));
registerUnary('Gelu', 'geluTanh', (a) => (a.string('approximate') === 'tanh' ? [0, 0] : undefined));
registerUnary('Erf', 'erf');
registerUnary('Softplus', 'softplus');
registerUnary('Swish', 'swish', attr('alpha'));
registerUnary('Floor', 'floor');
registerUnary('Ceil', 'ceil');
registerUnary('Round', 'round');
registerUnary('Softsign', 'softsign');
registerUnary('Selu', 'selu', (a) => [a.float('alpha'), a.float('gamma')]);
registerUnary('Celu', 'celu', (a) => (a.float('alpha') === 0 ? undefined : [a.float('alpha'), 0]));
registerUnary('ThresholdedRelu', 'thresholdedRelu', attr('alpha'));
registerUnary('Mish', 'mish');

/** Identity (any dtype) shares its input's bytes. */
const aliasKernel: PreparedKernel = {
  aliasOf: 0,
  run(mem, [x], [y]) {
    if (x!.ptr !== y!.ptr) mem.u8(y!.ptr, y!.byteLength).set(mem.u8(x!.ptr, y!.byteLength));
  },
};
registerWasmKernel('Identity', (ctx) => (ctx.inputs[0]?.dtype === 'int4' ? undefined : aliasKernel));

// ---- Clip -------------------------------------------------------------------------------------

/** A scalar bound: known now (constant), read at run time from memory, or absent. */
type Bound = { kind: 'none' } | { kind: 'const'; value: number } | { kind: 'runtime'; input: number };

function boundOf(ctx: WasmPlanContext, i: number): Bound | undefined {
  const t = ctx.inputs[i];
  if (!t) return { kind: 'none' };
  if (t.dtype !== 'float32' || elementCount(t.dims) !== 1) return undefined;
  const c = ctx.constant(i);
  return c ? { kind: 'const', value: (c.data as Float32Array)[0]! } : { kind: 'runtime', input: i };
}

registerWasmKernel('Clip', (ctx) => {
  if (!isF32(ctx.inputs[0])) return undefined;
  const lo = boundOf(ctx, 1);
  const hi = boundOf(ctx, 2);
  if (!lo || !hi) return undefined;
  const n = elementCount(ctx.outputs[0]!.dims);
  return {
    run(mem, inputs, [y]) {
      const read = (b: Bound, none: number): number =>
        b.kind === 'none' ? none : b.kind === 'const' ? b.value : mem.f32(inputs[b.input]!.ptr, 1)[0]!;
      const mn = read(lo, -Infinity);
      const mx = read(hi, Infinity);
      if (n === 0) return;
      // The reference's comparisons make a NaN bound win everywhere.
      if (mn !== mn || mx !== mx) mem.f32(y!.ptr, n).fill(NaN);
      else unaryF32(mem.exports, 'clip', inputs[0]!.ptr, y!.ptr, n, mn, mx);
    },
  };
});

// ---- binary (broadcasting) --------------------------------------------------------------------

/** One broadcast step over y's dims: its descriptor words (kept in persistent memory) and rows. */
export interface BroadcastStep {
  words: Int32Array;
  rows: number;
}

export function broadcastStep(outDims: readonly number[], a: readonly number[], b: readonly number[], c?: readonly number[]): BroadcastStep {
  const walk = broadcastWalk(outDims, c ? [a, b, c] : [a, b]);
  return { words: walkDescriptor(walk), rows: elementCount(outDims) === 0 ? 0 : walkRows(walk) };
}

/** Persistent layout of several descriptors, each 16-byte aligned. */
export function layoutSteps(steps: readonly BroadcastStep[]): { offsets: number[]; bytes: number } {
  return layoutDescriptors(steps.map((s) => s.words));
}

export function writeSteps(steps: readonly BroadcastStep[], offsets: readonly number[]) {
  return (mem: Parameters<NonNullable<PreparedKernel['init']>>[0], p: number) => {
    steps.forEach((s, i) => mem.i32(p + offsets[i]!, s.words.length).set(s.words));
  };
}

function binaryKernel(op: BinaryOpF32, ctx: WasmPlanContext, aIndex = 0, bIndex = 1): PreparedKernel {
  const out = ctx.outputs[0]!.dims;
  const step = broadcastStep(out, ctx.inputs[aIndex]!.dims, ctx.inputs[bIndex]!.dims);
  return {
    persistentBytes: step.words.length * 4,
    init: writeSteps([step], [0]),
    run(mem, inputs, [y], _scratch, p) {
      if (step.rows > 0) binaryF32(mem.exports, op, inputs[aIndex]!.ptr, inputs[bIndex]!.ptr, y!.ptr, p, 0, step.rows);
    },
  };
}

function registerBinary(onnxOp: string, op: BinaryOpF32): void {
  registerWasmKernel(onnxOp, (ctx) => {
    if (!isF32(ctx.inputs[0]) || !isF32(ctx.inputs[1]) || !isF32(ctx.outputs[0])) return undefined;
    return binaryKernel(op, ctx);
  });
}

registerBinary('Add', 'add');
registerBinary('Sub', 'sub');
registerBinary('Mul', 'mul');
registerBinary('Div', 'div');
registerBinary('PRelu', 'prelu');

/**
 * Max/Min/Sum/Mean fold any number of inputs: y = op(x0, x1) with both broadcast to y, then
 * y = op(y, xk) in place; Mean scales by 1/count at the end.
 */
function registerFold(onnxOp: string, op: BinaryOpF32, mean = false): void {
  registerWasmKernel(onnxOp, (ctx) => {
    const n = ctx.inputs.length;
    if (n === 0 || !ctx.inputs.every(isF32) || !isF32(ctx.outputs[0])) return undefined;
    if (n === 1) return aliasKernel;
    const out = ctx.outputs[0]!.dims;
    const steps = [broadcastStep(out, ctx.inputs[0]!.dims, ctx.inputs[1]!.dims)];
    for (let k = 2; k < n; k++) steps.push(broadcastStep(out, out, ctx.inputs[k]!.dims));
    const { offsets, bytes } = layoutSteps(steps);
    const size = elementCount(out);
    return {
      persistentBytes: bytes,
      init: writeSteps(steps, offsets),
      run(mem, inputs, [y], _scratch, p) {
        if (size === 0) return;
        const rows = steps[0]!.rows;
        binaryF32(mem.exports, op, inputs[0]!.ptr, inputs[1]!.ptr, y!.ptr, p, 0, rows);
        for (let k = 2; k < n; k++) binaryF32(mem.exports, op, y!.ptr, inputs[k]!.ptr, y!.ptr, p + offsets[k - 1]!, 0, steps[k - 1]!.rows);
        if (mean) unaryF32(mem.exports, 'affine', y!.ptr, y!.ptr, size, 1 / n, 0);
      },
    };
  });
}

registerFold('Max', 'max');
registerFold('Min', 'min');
registerFold('Sum', 'add');
registerFold('Mean', 'add', true);

// ---- Pow --------------------------------------------------------------------------------------

/** Exponents with an exact vector form (C pow semantics kept, see assembly/elementwise.ts). */
const POW_FAST: ReadonlyMap<number, UnaryOpF32> = new Map<number, UnaryOpF32>([
  [0, 'one'], [1, 'copy'], [2, 'square'], [3, 'cube'], [0.5, 'powHalf'], [-1, 'reciprocal'],
]);

registerWasmKernel('Pow', (ctx) => {
  if (!isF32(ctx.inputs[0]) || !isF32(ctx.outputs[0])) return undefined;
  const y = ctx.inputs[1]!;
  const c = ctx.constant(1);
  const outDims = ctx.outputs[0]!.dims;
  // A single exponent leaves X's elements in place (at most leading 1s are added to the dims).
  if (c && c.size === 1) {
    const fast = POW_FAST.get(toNumbers(c)[0]!);
    if (fast) return unaryKernel(fast, elementCount(outDims), 0, 0);
  }
  if (y.dtype === 'float32') return binaryKernel('pow', ctx);
  if (!c) return undefined;
  // A constant exponent of another dtype: keep an f32 copy (exact for the small integers used).
  const values = toNumbers(c);
  const exps = Float32Array.from(values);
  if (!exps.every((v, i) => v === values[i])) return undefined;
  const step = broadcastStep(outDims, ctx.inputs[0]!.dims, c.dims);
  const descBytes = Math.ceil((step.words.length * 4) / 16) * 16;
  return {
    persistentBytes: descBytes + exps.length * 4,
    packedInputs: [1],
    init(mem, p) {
      mem.i32(p, step.words.length).set(step.words);
      mem.f32(p + descBytes, exps.length).set(exps);
    },
    run(mem, [x], [out], _s, p) {
      if (step.rows > 0) binaryF32(mem.exports, 'pow', x!.ptr, p + descBytes, out!.ptr, p, 0, step.rows);
    },
  };
});

// ---- comparisons and Where --------------------------------------------------------------------

function registerCompare(onnxOp: string, op: CompareOpF32): void {
  registerWasmKernel(onnxOp, (ctx) => {
    if (!isF32(ctx.inputs[0]) || !isF32(ctx.inputs[1])) return undefined;
    const step = broadcastStep(ctx.outputs[0]!.dims, ctx.inputs[0]!.dims, ctx.inputs[1]!.dims);
    return {
      persistentBytes: step.words.length * 4,
      init: writeSteps([step], [0]),
      run(mem, [a, b], [y], _s, p) {
        if (step.rows > 0) compareF32(mem.exports, op, a!.ptr, b!.ptr, y!.ptr, p, 0, step.rows);
      },
    };
  });
}

registerCompare('Equal', 'equal');
registerCompare('Greater', 'greater');
registerCompare('Less', 'less');
registerCompare('GreaterOrEqual', 'greaterOrEqual');
registerCompare('LessOrEqual', 'lessOrEqual');

const ELEM_SIZE: Partial<Record<DType, 1 | 2 | 4 | 8>> = {
  float32: 4, int32: 4, int64: 8, float16: 2, int8: 1, uint8: 1, bool: 1,
};

registerWasmKernel('Where', (ctx) => {
  const [c, x, y] = ctx.inputs;
  const size = x && ELEM_SIZE[x.dtype];
  if (!c || !x || !y || c.dtype !== 'bool' || !size || y.dtype !== x.dtype) return undefined;
  const step = broadcastStep(ctx.outputs[0]!.dims, c.dims, x.dims, y.dims);
  return {
    persistentBytes: step.words.length * 4,
    init: writeSteps([step], [0]),
    run(mem, [cv, xv, yv], [out], _s, p) {
      if (step.rows > 0) whereSelect(mem.exports, size, cv!.ptr, xv!.ptr, yv!.ptr, out!.ptr, p, 0, step.rows);
    },
  };
});

// ---- Cast -------------------------------------------------------------------------------------

const ONNX_CODES: Readonly<Record<number, DType>> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool' };

type NumberArray = Float32Array | Int32Array | Int8Array | Uint8Array;

function viewOf(mem: Parameters<PreparedKernel['run']>[0], dtype: DType, ptr: number, n: number): NumberArray {
  switch (dtype) {
    case 'float32': return mem.f32(ptr, n);
    case 'int32': return mem.i32(ptr, n);
    case 'int8': return mem.i8(ptr, n);
    default: return mem.u8(ptr, n);
  }
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1], int8: [-128, 127], uint8: [0, 255],
};

/**
 * Casts among float32, int32, int8, uint8 and bool as the reference does: float to integer
 * truncates and saturates (NaN to 0), integer to integer wraps (typed-array `set`), anything
 * non-zero (NaN included) becomes true.
 */
function castKernel(from: DType, to: DType, n: number): PreparedKernel {
  if (from === to) return aliasKernel;
  const range = from === 'float32' ? INT_RANGE[to] : undefined;
  return {
    run(mem, [x], [y]) {
      const src = viewOf(mem, from, x!.ptr, n);
      if (to === 'bool') {
        const dst = mem.u8(y!.ptr, n);
        for (let i = 0; i < n; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      } else if (range) {
        const dst = viewOf(mem, to, y!.ptr, n);
        const [lo, hi] = range;
        for (let i = 0; i < n; i++) {
          const v = src[i]!;
          dst[i] = v !== v ? 0 : Math.trunc(v < lo ? lo : v > hi ? hi : v);
        }
      } else {
        viewOf(mem, to, y!.ptr, n).set(src);
      }
    },
  };
}

const CASTABLE: readonly DType[] = ['float32', 'int32', 'int8', 'uint8', 'bool'];

/** Any cast among CASTABLE, int64 (cast-int64.ts) included. */
function anyCast(from: DType, to: DType, n: number): PreparedKernel | undefined {
  if (from === 'int64' || to === 'int64') return from === to ? aliasKernel : castInt64Kernel(from, to, n);
  return CASTABLE.includes(from) && CASTABLE.includes(to) ? castKernel(from, to, n) : undefined;
}

registerWasmKernel('Cast', (ctx) => {
  const to = ONNX_CODES[ctx.attrs.int('to')];
  return to ? anyCast(ctx.inputs[0]!.dtype, to, elementCount(ctx.outputs[0]!.dims)) : undefined;
});

registerWasmKernel('CastLike', (ctx) => anyCast(ctx.inputs[0]!.dtype, ctx.inputs[1]!.dtype, elementCount(ctx.outputs[0]!.dims)));
