import { describe, expect, it } from 'vitest';
import type { Node, ValueType } from '../../src/graph/ir.js';
import { inferNodeTypes } from '../../src/ops/invoke.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64, runOp } from '../helpers/op.js';

/** Shape inference alone, with symbolic input types and chosen constant inputs. */
function infer(op: string, inputs: (ValueType | undefined)[], consts: (Tensor | undefined)[] = [], attrs: Node['attrs'] = {}, outputs = 1): ValueType[] {
  const node: Node = {
    name: 't', op, domain: '', attrs,
    inputs: inputs.map((t, i) => (t ? `in${i}` : '')),
    outputs: Array.from({ length: outputs }, (_, i) => `o${i}`),
  };
  return inferNodeTypes(node, inputs, (i) => consts[i]);
}

const iota = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('Reshape', () => {
  it('copies dims with 0 and infers -1', () => {
    const [y] = runOp('Reshape', [f32(iota(24), [2, 3, 4]), i64([0, -1])]);
    expect(y!.dims).toEqual([2, 12]);
    expect(Array.from(y!.data as Float32Array)).toEqual(iota(24));
  });
  it('keeps int64 values exact', () => {
    const big = 2n ** 62n + 1n;
    const x = new Tensor('int64', BigInt64Array.of(big, -big, 3n, 4n), [2, 2]);
    const [y] = runOp('Reshape', [x, i64([4])]);
    expect(Array.from(y!.data as BigInt64Array)).toEqual([big, -big, 3n, 4n]);
  });
  it('allowzero makes 0 a real zero dim', () => {
    const [y] = runOp('Reshape', [f32([], [0, 3]), i64([3, 0])], { allowzero: 1 });
    expect(y!.dims).toEqual([3, 0]);
  });
  it('rejects bad shapes', () => {
    expect(() => runOp('Reshape', [f32(iota(6), [2, 3]), i64([4, -1])])).toThrow(/reshape/);
    expect(() => runOp('Reshape', [f32(iota(6), [2, 3]), i64([-1, -1])])).toThrow(/more than one -1/);
    expect(() => runOp('Reshape', [f32(iota(6), [2, 3]), i64([5])])).toThrow(/reshape/);
  });
  it('infers symbolic batch dims', () => {
    const x = { dtype: 'float32' as const, shape: ['N', 3, 4] };
    expect(infer('Reshape', [x, { dtype: 'int64', shape: [2] }], [undefined, i64([0, -1])])[0]!.shape).toEqual(['N', 12]);
    expect(infer('Reshape', [x, { dtype: 'int64', shape: [3] }], [undefined, i64([-1, 2, 6])])[0]!.shape).toEqual(['N', 2, 6]);
    expect(infer('Reshape', [x, { dtype: 'int64', shape: [2] }], [undefined, i64([0, 12])])[0]!.shape).toEqual(['N', 12]);
    const unknown = infer('Reshape', [x, { dtype: 'int64', shape: [2] }], [undefined, i64([4, -1])])[0]!.shape!;
    expect(unknown[0]).toBe(4);
    expect(typeof unknown[1]).toBe('string');
    const dyn = infer('Reshape', [x, { dtype: 'int64', shape: [3] }])[0]!.shape!;
    expect(dyn.length).toBe(3);
  });
});

describe('Flatten', () => {
  it('handles every axis including 0, rank and negatives', () => {
    const x = f32(iota(24), [2, 3, 4]);
    expect(runOp('Flatten', [x], { axis: 0 })[0]!.dims).toEqual([1, 24]);
    expect(runOp('Flatten', [x])[0]!.dims).toEqual([2, 12]);
    expect(runOp('Flatten', [x], { axis: 3 })[0]!.dims).toEqual([24, 1]);
    expect(runOp('Flatten', [x], { axis: -1 })[0]!.dims).toEqual([6, 4]);
    expect(() => runOp('Flatten', [x], { axis: 4 })).toThrow(/out of range/);
  });
  it('keeps the batch symbol', () => {
    expect(infer('Flatten', [{ dtype: 'float32', shape: ['N', 3, 4] }])[0]!.shape).toEqual(['N', 12]);
  });
});

describe('Squeeze / Unsqueeze', () => {
  it('squeezes given axes or all ones', () => {
    const x = f32(iota(6), [1, 2, 1, 3]);
    expect(runOp('Squeeze', [x, i64([0, -2])])[0]!.dims).toEqual([2, 3]);
    expect(runOp('Squeeze', [x])[0]!.dims).toEqual([2, 3]);
    expect(runOp('Squeeze', [x, i64([0])])[0]!.dims).toEqual([2, 1, 3]);
    expect(() => runOp('Squeeze', [x, i64([1])])).toThrow(/cannot squeeze/);
  });
  it('unsqueezes at output positions', () => {
    const x = f32(iota(6), [2, 3]);
    expect(runOp('Unsqueeze', [x, i64([0, 3])])[0]!.dims).toEqual([1, 2, 3, 1]);
    expect(runOp('Unsqueeze', [x, i64([-1])])[0]!.dims).toEqual([2, 3, 1]);
    expect(runOp('Unsqueeze', [x, i64([1, 2])])[0]!.dims).toEqual([2, 1, 1, 3]);
    expect(() => runOp('Unsqueeze', [x, i64([0, 0])])).toThrow(/repeated/);
    expect(infer('Unsqueeze', [{ dtype: 'float32', shape: ['N', 3] }, { dtype: 'int64', shape: [1] }], [undefined, i64([1])])[0]!.shape)
      .toEqual(['N', 1, 3]);
  });
});

describe('Shape / Size', () => {
  it('returns dims with clipped start/end', () => {
    const x = f32(iota(24), [2, 3, 4]);
    expect(Array.from(runOp('Shape', [x])[0]!.data as BigInt64Array)).toEqual([2n, 3n, 4n]);
    expect(Array.from(runOp('Shape', [x], { start: -2 })[0]!.data as BigInt64Array)).toEqual([3n, 4n]);
    expect(Array.from(runOp('Shape', [x], { start: -10, end: 10 })[0]!.data as BigInt64Array)).toEqual([2n, 3n, 4n]);
    expect(runOp('Shape', [x], { start: 2, end: 1 })[0]!.dims).toEqual([0]);
    expect(Array.from(runOp('Size', [x])[0]!.data as BigInt64Array)).toEqual([24n]);
  });
});
