// Integer and bool forms of the broadcasting binary ops, Not, and the int64 Casts on WASM, against
// the reference kernels bit for bit: random values over broadcast shapes, values at the edges of
// each type (wraparound of Add/Sub/Mul, MIN / -1, Mod signs) and division by zero, which must fail
// with the reference's error rather than write anything.
import { describe, expect, it } from 'vitest';
import type { Node } from '../../src/graph/ir.js';
import { evalNodeReference } from '../../src/ops/invoke.js';
import type { DType } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { checkNode, randomTensor, rng, runNode, VARIANTS, type NodeCase } from './harness.js';

type IntType = 'int32' | 'int64' | 'int8' | 'uint8';

function ints(dtype: IntType, values: readonly (number | bigint)[], dims = [values.length]): Tensor {
  switch (dtype) {
    case 'int64': return new Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
    case 'int32': return new Tensor('int32', Int32Array.from(values.map(Number)), dims);
    case 'int8': return new Tensor('int8', Int8Array.from(values.map(Number)), dims);
    default: return new Tensor('uint8', Uint8Array.from(values.map(Number)), dims);
  }
}

/** Random values of `dtype` (signed ones of both signs), never zero when `nonZero`. */
function randomInts(dtype: IntType, dims: number[], r: () => number, scale: number, nonZero = false): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const span = dtype === 'int8' ? 127 : dtype === 'uint8' ? 255 : scale;
  const values = Array.from({ length: n }, () => {
    let v = Math.round(dtype === 'uint8' ? (r() + 1) / 2 * span : r() * span);
    if (nonZero && v === 0) v = 3;
    return v;
  });
  return ints(dtype, values, dims);
}

const SHAPES: [number[], number[]][] = [[[7], [7]], [[2, 3, 5], [3, 1]], [[65], []], [[3, 1], [1, 17]], [[], [4, 2]], [[0, 3], [3]]];

const I32_MIN = -(2 ** 31), I32_MAX = 2 ** 31 - 1;
const I64_MIN = -(2n ** 63n), I64_MAX = 2n ** 63n - 1n;

/** Pairs at the edges of each type: every combination of these as (a, b). */
const EDGES: Record<IntType, (number | bigint)[]> = {
  int8: [-128, -127, -7, -1, 0, 1, 7, 126, 127],
  // 255 as a divisor: the signed MIN / -1 guard must not apply to it.
  uint8: [0, 1, 2, 7, 128, 254, 255],
  int32: [I32_MIN, I32_MIN + 1, -65537, -7, -1, 0, 1, 7, 65536, 46341, I32_MAX - 1, I32_MAX],
  int64: [I64_MIN, I64_MIN + 1n, -(2n ** 53n) - 1n, -(2n ** 32n), -7n, -1n, 0n, 1n, 7n, 2n ** 32n + 5n, 3037000500n, 2n ** 53n + 1n, I64_MAX - 1n, I64_MAX],
};

/** All (a, b) pairs of `values` as two flat tensors (b drawn without zeros when `nonZero`). */
function edgePairs(dtype: IntType, nonZero: boolean): [Tensor, Tensor] {
  const vs = EDGES[dtype];
  const a: (number | bigint)[] = [], b: (number | bigint)[] = [];
  for (const x of vs) for (const y of vs) if (!nonZero || (y !== 0 && y !== 0n)) { a.push(x); b.push(y); }
  return [ints(dtype, a), ints(dtype, b)];
}

const ALL_INTS: IntType[] = ['int32', 'int64', 'int8', 'uint8'];

const ARITH: { op: string; attrs?: NodeCase['attrs']; types: IntType[]; divides?: boolean }[] = [
  { op: 'Add', types: ALL_INTS },
  { op: 'Sub', types: ALL_INTS },
  { op: 'Mul', types: ALL_INTS },
  { op: 'Div', types: ALL_INTS, divides: true },
  { op: 'Mod', types: ALL_INTS, divides: true },
  { op: 'Mod', attrs: { fmod: 1 }, types: ALL_INTS, divides: true },
  { op: 'Max', types: ALL_INTS },
  { op: 'Min', types: ALL_INTS },
  { op: 'BitwiseAnd', types: ALL_INTS },
  { op: 'BitwiseOr', types: ALL_INTS },
  { op: 'BitwiseXor', types: ALL_INTS },
];

const COMPARE = ['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual'];

describe.each(VARIANTS)('integer elementwise [%s]', (variant) => {
  for (const a of ARITH) {
    const label = `${a.op}${a.attrs ? ' ' + JSON.stringify(a.attrs) : ''}`;
    it(`${label} matches the reference exactly, edges of the type included`, () => {
      const r = rng(a.op.length * 131 + (a.attrs ? 7 : 0));
      for (const dtype of a.types) {
        for (const [da, db] of SHAPES) {
          const x = randomInts(dtype, da, r, 1000);
          const y = randomInts(dtype, db, r, 50, a.divides);
          checkNode(variant, { op: a.op, attrs: a.attrs, inputs: [x, y] }, {}, `${label} ${dtype} [${da}] [${db}]`);
        }
        // Wraparound (MAX + 1, MIN * -1, MIN / -1) and the signs of Div/Mod of negative operands.
        const [x, y] = edgePairs(dtype, !!a.divides);
        checkNode(variant, { op: a.op, attrs: a.attrs, inputs: [x, y] }, {}, `${label} ${dtype} edges`);
      }
    });
  }

  it('Max and Min fold more than two integer inputs', () => {
    const r = rng(5);
    for (const op of ['Max', 'Min']) {
      for (const dtype of ['int32', 'int64', 'int8'] as const) {
        checkNode(variant, { op, inputs: [randomInts(dtype, [3, 4], r, 99), randomInts(dtype, [4], r, 99), randomInts(dtype, [3, 1], r, 99)] }, {}, `${op} ${dtype} x3`);
      }
    }
  });

  it('integer Div and Mod by zero fail with the reference error', () => {
    for (const dtype of ALL_INTS) {
      for (const [op, attrs] of [['Div', {}], ['Mod', {}], ['Mod', { fmod: 1 }]] as const) {
        const x = ints(dtype, [5, 6, 7, 8]);
        const y = ints(dtype, [1, 2, 0, 4]);
        const node: Node = { name: `zero_${op}`, op, domain: '', inputs: ['in0', 'in1'], outputs: ['out0'], attrs };
        let refError = '';
        try {
          evalNodeReference(node, [x, y]);
        } catch (e) {
          refError = (e as Error).message;
        }
        expect(refError, `${op} ${dtype} reference`).toMatch(/integer division by zero/);
        const c: NodeCase = { op, attrs, inputs: [x, y], outputTypes: [{ dtype, dims: [4] }] };
        expect(() => runNode(variant, c), `${op} ${dtype} wasm`).toThrow(/integer division by zero/);
      }
    }
  });

  it('comparisons of integers and bools write bool bytes like the reference', () => {
    const r = rng(17);
    for (const op of COMPARE) {
      for (const dtype of ['int32', 'int64', 'int8', 'uint8'] as const) {
        for (const [da, db] of SHAPES) {
          // Small values so that equal pairs occur.
          checkNode(variant, { op, inputs: [randomInts(dtype, da, r, 3), randomInts(dtype, db, r, 3)] }, {}, `${op} ${dtype} [${da}] [${db}]`);
        }
      }
      if (op === 'Equal') checkNode(variant, { op, inputs: [randomTensor([3, 5], r, 1, 'bool'), randomTensor([5], r, 1, 'bool')] }, {}, 'Equal bool');
    }
    const [x, y] = edgePairs('int64', false);
    for (const op of COMPARE) checkNode(variant, { op, inputs: [x, y] }, {}, `${op} int64 edges`);
  });

  it('And, Or, Xor and Not on bools', () => {
    const r = rng(19);
    for (const op of ['And', 'Or', 'Xor']) {
      for (const [da, db] of SHAPES) checkNode(variant, { op, inputs: [randomTensor(da, r, 1, 'bool'), randomTensor(db, r, 1, 'bool')] }, {}, `${op} [${da}] [${db}]`);
    }
    for (const n of [1, 15, 16, 17, 100]) checkNode(variant, { op: 'Not', inputs: [randomTensor([n], r, 1, 'bool')] }, {}, `Not [${n}]`);
  });

  it('leaves ops without an integer kernel (Pow, uint32) to the reference', () => {
    const r = rng(23);
    expect(runNode(variant, { op: 'Pow', inputs: [randomInts('int32', [4], r, 5), randomInts('int32', [4], r, 3)] }).kernel).toBeUndefined();
    const u = new Tensor('uint32', Uint32Array.from([1, 2, 3]), [3]);
    expect(runNode(variant, { op: 'Add', inputs: [u, u] }).kernel).toBeUndefined();
  });
});

describe.each(VARIANTS)('int64 Cast [%s]', (variant) => {
  const PEERS: [number, DType][] = [[1, 'float32'], [6, 'int32'], [3, 'int8'], [2, 'uint8'], [9, 'bool']];

  it('casts int64 to float32/int32/int8/uint8/bool like the reference (low bits, rounding)', () => {
    const big = [I64_MIN, I64_MIN + 1n, -(2n ** 53n) - 1n, -(2n ** 32n) - 1n, -129n, -1n, 0n, 1n, 127n, 128n, 255n, 256n, 2n ** 31n, 2n ** 32n + 7n, 2n ** 53n + 1n, 16777217n, I64_MAX];
    const x = ints('int64', big);
    const r = rng(29);
    for (const [to, name] of PEERS) {
      checkNode(variant, { op: 'Cast', attrs: { to }, inputs: [x] }, {}, `int64 -> ${name}`);
      checkNode(variant, { op: 'Cast', attrs: { to }, inputs: [randomTensor([3, 7], r, 1e6, 'int64')] }, {}, `int64 -> ${name} random`);
    }
  });

  it('casts float32/int32/int8/uint8/bool to int64 like the reference (truncation, saturation, NaN)', () => {
    const floats = new Tensor('float32', Float32Array.from([NaN, Infinity, -Infinity, 1e19, -1e19, 2 ** 63, -(2 ** 63), 9.2e18, -9.2e18, 2 ** 40 + 2 ** 20, -(2 ** 33) - 0.5, -0.75, -0, 0.9, 16777216, -3.5]), [16]);
    checkNode(variant, { op: 'Cast', attrs: { to: 7 }, inputs: [floats] }, {}, 'float32 -> int64');
    checkNode(variant, { op: 'Cast', attrs: { to: 7 }, inputs: [ints('int32', [I32_MIN, -1, 0, 1, I32_MAX])] }, {}, 'int32 -> int64');
    checkNode(variant, { op: 'Cast', attrs: { to: 7 }, inputs: [ints('int8', [-128, -1, 0, 127])] }, {}, 'int8 -> int64');
    checkNode(variant, { op: 'Cast', attrs: { to: 7 }, inputs: [ints('uint8', [0, 1, 128, 255])] }, {}, 'uint8 -> int64');
    const r = rng(31);
    checkNode(variant, { op: 'Cast', attrs: { to: 7 }, inputs: [randomTensor([9], r, 1, 'bool')] }, {}, 'bool -> int64');
    checkNode(variant, { op: 'CastLike', inputs: [randomTensor([2, 5], r, 1e5), ints('int64', [0])] }, {}, 'CastLike float32 -> int64');
    expect(runNode(variant, { op: 'Cast', attrs: { to: 7 }, inputs: [ints('int64', [1, 2])] }).kernel?.aliasOf).toBe(0);
  });
});
