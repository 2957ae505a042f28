import { describe, expect, it } from 'vitest';
import type { AttrValue, ValueType } from '../../src/graph/ir.js';
import { inferNodeTypes } from '../../src/ops/invoke.js';
import type { DType } from '../../src/tensor/dtype.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, i64, runOp } from '../helpers/op.js';

const t = (dtype: DType, data: readonly number[], dims: readonly number[]) => new Tensor(dtype, data, dims);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);
const vals = (x: Tensor) => Array.from(toNumbers(x));

function infer(op: string, inputs: ValueType[], attrs: Record<string, AttrValue> = {}): ValueType[] {
  const node = { name: 'n', op, domain: '', inputs: inputs.map((_, i) => `i${i}`), outputs: ['o'], attrs };
  return inferNodeTypes(node, inputs, () => undefined);
}

describe('Gemm', () => {
  const A = f32(range(6, 1), [2, 3]);
  const B = f32(range(6, 1), [3, 2]);

  it('multiplies, scales and adds a broadcast C', () => {
    expect(vals(runOp('Gemm', [A, B])[0]!)).toEqual([22, 28, 49, 64]);
    expect(vals(runOp('Gemm', [A, B, f32([10, 20], [2])], { alpha: 2, beta: 0.5 })[0]!)).toEqual([49, 66, 103, 138]);
    expect(vals(runOp('Gemm', [A, B, f32([1], [])])[0]!)).toEqual([23, 29, 50, 65]);
    expect(vals(runOp('Gemm', [A, B, f32([1, 2], [2, 1])])[0]!)).toEqual([23, 29, 51, 66]);
    expect(vals(runOp('Gemm', [A, B, f32([1, 2, 3, 4], [2, 2])], { beta: 0 })[0]!)).toEqual([22, 28, 49, 64]);
  });

  it('transposes A and B on request', () => {
    const At = f32([1, 4, 2, 5, 3, 6], [3, 2]);
    const Bt = f32([1, 3, 5, 2, 4, 6], [2, 3]);
    expect(vals(runOp('Gemm', [At, B], { transA: 1 })[0]!)).toEqual([22, 28, 49, 64]);
    expect(vals(runOp('Gemm', [A, Bt], { transB: 1 })[0]!)).toEqual([22, 28, 49, 64]);
    expect(vals(runOp('Gemm', [At, Bt], { transA: 1, transB: 1 })[0]!)).toEqual([22, 28, 49, 64]);
  });

  it('supports integer types', () => {
    const [y] = runOp('Gemm', [t('int32', [1, 2, 3, 4], [2, 2]), t('int32', [5, 6, 7, 8], [2, 2]), t('int32', [1], [1])]);
    expect(y!.type).toBe('int32');
    expect(vals(y!)).toEqual([20, 23, 44, 51]);
  });

  it('infers [M, N] and rejects bad shapes', () => {
    expect(infer('Gemm', [{ dtype: 'float32', shape: ['K', 'M'] }, { dtype: 'float32', shape: [10, 'K'] }], { transA: 1, transB: 1 })[0]!.shape).toEqual(['M', 10]);
    expect(() => runOp('Gemm', [f32(range(6), [1, 2, 3]), B])).toThrow(/2-D/);
    expect(() => runOp('Gemm', [A, A])).toThrow(/inner dimensions/);
    expect(() => runOp('Gemm', [A, B, f32([1, 2, 3], [3])])).toThrow(/does not broadcast/);
    expect(() => runOp('Gemm', [A, B], { transA: 2 })).toThrow(/transA/);
    expect(() => runOp('Gemm', [A, t('int32', range(6), [3, 2])])).toThrow(/dtype/);
  });
});

describe('MatMul', () => {
  it('follows numpy for 1-D operands', () => {
    const [dot] = runOp('MatMul', [f32([1, 2, 3], [3]), f32([4, 5, 6], [3])]);
    expect(dot!.dims).toEqual([]);
    expect(vals(dot!)).toEqual([32]);
    const [vm] = runOp('MatMul', [f32([1, 2], [2]), f32(range(6, 1), [2, 3])]);
    expect(vm!.dims).toEqual([3]);
    expect(vals(vm!)).toEqual([9, 12, 15]);
    const [mv] = runOp('MatMul', [f32(range(6, 1), [2, 3]), f32([1, 1, 1], [3])]);
    expect(mv!.dims).toEqual([2]);
    expect(vals(mv!)).toEqual([6, 15]);
    const [bv] = runOp('MatMul', [f32(range(12, 1), [2, 2, 3]), f32([1, 0, 1], [3])]);
    expect(bv!.dims).toEqual([2, 2]);
    expect(vals(bv!)).toEqual([4, 10, 16, 22]);
  });

  it('broadcasts batch dimensions', () => {
    const a = f32(range(8), [2, 1, 2, 2]);
    const b = f32(range(12), [3, 2, 2]);
    const [y] = runOp('MatMul', [a, b]);
    expect(y!.dims).toEqual([2, 3, 2, 2]);
    // y[1, 2] = a[1] x b[2] = [[4,5],[6,7]] x [[8,9],[10,11]]
    expect(vals(y!).slice(20, 24)).toEqual([82, 91, 118, 131]);
  });

  it('keeps int64 and float16 types', () => {
    expect(vals(runOp('MatMul', [i64([1, 2, 3, 4], [2, 2]), i64([1, 1], [2])])[0]!)).toEqual([3, 7]);
    const h = new Tensor('float16', Uint16Array.of(0x3c00, 0x4000), [1, 2]); // [1, 2]
    const [y] = runOp('MatMul', [h, new Tensor('float16', Uint16Array.of(0x4000, 0x3c00), [2, 1])]);
    expect(y!.type).toBe('float16');
    expect(vals(y!)).toEqual([4]);
  });

  it('infers symbolic shapes and rejects mismatches', () => {
    expect(infer('MatMul', [{ dtype: 'float32', shape: ['B', 'S', 64] }, { dtype: 'float32', shape: [64, 10] }])[0]!.shape).toEqual(['B', 'S', 10]);
    expect(infer('MatMul', [{ dtype: 'float32', shape: [64] }, { dtype: 'float32', shape: ['B', 64, 10] }])[0]!.shape).toEqual(['B', 10]);
    expect(infer('MatMul', [{ dtype: 'float32' }, { dtype: 'float32', shape: [64, 10] }])[0]!.shape).toBeUndefined();
    expect(() => runOp('MatMul', [f32(range(6), [2, 3]), f32(range(6), [2, 3])])).toThrow(/inner dimensions/);
    expect(() => runOp('MatMul', [f32(range(12), [2, 2, 3]), f32(range(27), [3, 3, 3])])).toThrow(/broadcast/);
    expect(() => runOp('MatMul', [f32([1], []), f32([1], [1])])).toThrow(/rank >= 1/);
    expect(() => infer('MatMul', [{ dtype: 'float32', shape: [2, 3] }, { dtype: 'float32', shape: [4, 5] }])).toThrow(/inner dimensions/);
  });
});

describe('MatMulInteger', () => {
  it('subtracts per-row A and per-column B zero points', () => {
    const a = t('uint8', [5, 2, 3, 7], [2, 2]);
    const b = t('uint8', [1, 2, 3, 4], [2, 2]);
    const [y] = runOp('MatMulInteger', [a, b, t('uint8', [1, 3], [2]), t('uint8', [0, 1], [2])]);
    expect(y!.type).toBe('int32');
    expect(vals(y!)).toEqual([7, 7, 12, 12]);
    expect(vals(runOp('MatMulInteger', [a, b])[0]!)).toEqual([11, 18, 24, 34]);
  });

  it('accepts N-D zero points that broadcast onto the operand', () => {
    const a = t('int8', [1, 2, 3, 4], [2, 1, 2]);
    const b = t('int8', [1, 1], [2, 1]);
    const [y] = runOp('MatMulInteger', [a, b, t('int8', [1, 3], [2, 1, 1])]);
    expect(y!.dims).toEqual([2, 1, 1]);
    expect(vals(y!)).toEqual([1, 1]);
  });

  it('accumulates beyond 16 bits and mixes signedness', () => {
    const K = 300;
    const [y] = runOp('MatMulInteger', [t('uint8', new Array<number>(K).fill(255), [1, K]), t('int8', new Array<number>(K).fill(-128), [K, 1]), t('uint8', [0], []), t('int8', [0], [])]);
    expect(vals(y!)).toEqual([255 * -128 * K]);
  });

  it('rejects zero points of the wrong size or type', () => {
    const a = t('uint8', [1, 2, 3, 4], [2, 2]);
    expect(() => runOp('MatMulInteger', [a, a, t('uint8', [1, 2, 3], [3])])).toThrow(/one per row/);
    expect(() => runOp('MatMulInteger', [a, a, undefined, t('uint8', [1, 2, 3], [3])])).toThrow(/one per col/);
    expect(() => runOp('MatMulInteger', [a, a, t('int8', [1], [])])).toThrow(/dtype/);
    expect(() => runOp('MatMulInteger', [a, a, t('uint8', [1, 2, 3, 4, 5, 6], [3, 2])])).toThrow(/does not broadcast/);
  });
});

describe('MatMul agrees with a naive product on random batched input', () => {
  it('matches', () => {
    let s = 3;
    const rnd = (n: number) => Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
    const a = rnd(3 * 4 * 5);
    const b = rnd(5 * 6);
    const want: number[] = [];
    for (let bi = 0; bi < 3; bi++) for (let i = 0; i < 4; i++) for (let j = 0; j < 6; j++) {
      let acc = 0;
      for (let k = 0; k < 5; k++) acc += a[(bi * 4 + i) * 5 + k]! * b[k * 6 + j]!;
      want.push(acc);
    }
    expectClose(runOp('MatMul', [f32(a, [3, 4, 5]), f32(b, [5, 6])])[0]!.data as Float32Array, want);
  });
});
