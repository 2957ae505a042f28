// Expected values were computed with numpy (transpose, slicing, np.pad, np.tile, take_along_axis).
import { describe, expect, it } from 'vitest';
import type { Node, ValueType } from '../../src/graph/ir.js';
import { inferNodeTypes } from '../../src/ops/invoke.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64, runOp } from '../helpers/op.js';

function infer(op: string, inputs: (ValueType | undefined)[], consts: (Tensor | undefined)[] = [], attrs: Node['attrs'] = {}, outputs = 1): ValueType[] {
  const node: Node = {
    name: 't', op, domain: '', attrs,
    inputs: inputs.map((t, i) => (t ? `in${i}` : '')),
    outputs: Array.from({ length: outputs }, (_, i) => `o${i}`),
  };
  return inferNodeTypes(node, inputs, (i) => consts[i]);
}

const iota = (n: number) => Array.from({ length: n }, (_, i) => i);
const vals = (t: Tensor | undefined) => Array.from(t!.data as ArrayLike<number>);
const ix = (n: number): ValueType => ({ dtype: 'int64', shape: [n] });

describe('Transpose', () => {
  it('permutes and defaults to reversing', () => {
    const x = f32(iota(24), [2, 3, 4]);
    const [y] = runOp('Transpose', [x], { perm: [1, 0, 2] });
    expect(y!.dims).toEqual([3, 2, 4]);
    expect(vals(y)).toEqual([0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23]);
    expect(runOp('Transpose', [x])[0]!.dims).toEqual([4, 3, 2]);
    expect(() => runOp('Transpose', [x], { perm: [0, 0, 1] })).toThrow(/permutation/);
  });
  it('moves int64 and float16 bits untouched', () => {
    const big = 2n ** 60n + 7n;
    const [y] = runOp('Transpose', [new Tensor('int64', BigInt64Array.of(1n, big, 3n, 4n), [2, 2])]);
    expect(Array.from(y!.data as BigInt64Array)).toEqual([1n, 3n, big, 4n]);
    const [h] = runOp('Transpose', [new Tensor('float16', Uint16Array.of(0x7e01, 0x8000), [1, 2])]);
    expect(Array.from(h!.data as Uint16Array)).toEqual([0x7e01, 0x8000]);
  });
  it('keeps symbolic dims', () => {
    expect(infer('Transpose', [{ dtype: 'float32', shape: ['N', 3, 4] }], [], { perm: [2, 0, 1] })[0]!.shape).toEqual([4, 'N', 3]);
  });
});

describe('Concat', () => {
  it('joins along negative axes and skips empty inputs', () => {
    const [y] = runOp('Concat', [f32([1, 2, 3, 4], [2, 2]), f32([5, 6], [2, 1]), f32([], [2, 0])], { axis: -1 });
    expect(y!.dims).toEqual([2, 3]);
    expect(vals(y)).toEqual([1, 2, 5, 3, 4, 6]);
  });
  it('concatenates int4 nibbles', () => {
    const a = new Tensor('int4', Uint8Array.of(0x21), [2]);
    const b = new Tensor('int4', Uint8Array.of(0x0f), [1]);
    const [y] = runOp('Concat', [a, b], { axis: 0 });
    expect(Array.from(y!.data as Uint8Array)).toEqual([0x21, 0x0f]);
  });
  it('rejects mismatched dims and infers symbolic ones', () => {
    expect(() => runOp('Concat', [f32([1, 2], [1, 2]), f32([1, 2, 3], [1, 3])], { axis: 0 })).toThrow(/concatenate/);
    const t = infer('Concat', [{ dtype: 'float32', shape: ['N', 2] }, { dtype: 'float32', shape: ['N', 3] }], [], { axis: 1 });
    expect(t[0]!.shape).toEqual(['N', 5]);
  });
});

describe('Split', () => {
  it('splits by sizes, by num_outputs with a smaller last chunk', () => {
    const x = f32(iota(14), [2, 7]);
    const parts = runOp('Split', [x, i64([3, 4])], { axis: 1 }, { outputs: 2 });
    expect(vals(parts[0])).toEqual([0, 1, 2, 7, 8, 9]);
    expect(vals(parts[1])).toEqual([3, 4, 5, 6, 10, 11, 12, 13]);
    const chunks = runOp('Split', [x], { axis: -1, num_outputs: 3 }, { outputs: 3 });
    expect(chunks.map((c) => c.dims)).toEqual([[2, 3], [2, 3], [2, 1]]);
    expect(vals(chunks[2])).toEqual([6, 13]);
    expect(() => runOp('Split', [x, i64([3, 3])], { axis: 1 }, { outputs: 2 })).toThrow(/sum/);
    expect(runOp('Split', [x, i64([], [0])], { axis: 1, num_outputs: 2 }, { outputs: 2 }).map((c) => c.dims)).toEqual([[2, 4], [2, 3]]);
  });
});

describe('Slice', () => {
  const x = f32(iota(24), [2, 3, 4]);
  it('handles negative steps', () => {
    const [y] = runOp('Slice', [x, i64([-1, 3]), i64([-1000, 0]), i64([1, 2]), i64([-1, -2])]);
    expect(y!.dims).toEqual([2, 3, 2]);
    expect(vals(y)).toEqual([11, 9, 7, 5, 3, 1, 23, 21, 19, 17, 15, 13]);
  });
  it('clamps out-of-bounds starts and ends', () => {
    const [y] = runOp('Slice', [x, i64([-1, 1, -100]), i64([2 ** 40, 100, 2])]);
    expect(vals(y)).toEqual([16, 17, 20, 21]);
    const [e] = runOp('Slice', [x, i64([10]), i64([20]), i64([2])]);
    expect(e!.dims).toEqual([2, 3, 0]);
  });
  it('rejects zero steps and keeps open-ended symbolic dims', () => {
    expect(() => runOp('Slice', [x, i64([0]), i64([1]), i64([0]), i64([0])])).toThrow(/step/);
    const s = { dtype: 'float32' as const, shape: ['N', 3, 4] };
    const t = infer('Slice', [s, ix(2), ix(2), ix(2)], [undefined, i64([0, 1]), i64([2 ** 62, -1]), i64([0, 2])]);
    expect(t[0]!.shape).toEqual(['N', 3, 2]);
  });
});

describe('Gather / GatherElements', () => {
  const d = f32(iota(6), [2, 3]);
  it('gathers slices with negative indices', () => {
    const [y] = runOp('Gather', [d, i64([0, -1], [1, 2])], { axis: 1 });
    expect(y!.dims).toEqual([2, 1, 2]);
    expect(vals(y)).toEqual([0, 2, 3, 5]);
    const [s] = runOp('Gather', [d, i64([1], [])]);
    expect(s!.dims).toEqual([3]);
    expect(() => runOp('Gather', [d, i64([3])], { axis: 1 })).toThrow(/out of bounds/);
  });
  it('gathers elements', () => {
    const [y] = runOp('GatherElements', [d, i64([2, 0, -1, 1], [2, 2])], { axis: 1 });
    expect(vals(y)).toEqual([2, 0, 5, 4]);
  });
});

describe('Expand / Tile', () => {
  it('broadcasts both ways', () => {
    const [y] = runOp('Expand', [f32([1, 2, 3], [3, 1]), i64([2, 1, 2])]);
    expect(y!.dims).toEqual([2, 3, 2]);
    expect(vals(y)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    expect(runOp('Expand', [f32([1, 2, 3], [3]), i64([1])])[0]!.dims).toEqual([3]);
    expect(() => runOp('Expand', [f32([1, 2, 3], [3]), i64([2])])).toThrow(/broadcast/);
  });
  it('tiles', () => {
    const [y] = runOp('Tile', [f32(iota(6), [2, 3]), i64([2, 2])]);
    expect(y!.dims).toEqual([4, 6]);
    expect(vals(y)).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
  });
});

describe('Pad', () => {
  const a = f32(iota(6), [2, 3]);
  const pads = i64([1, 2, 0, 1]);
  it('supports every mode', () => {
    expect(vals(runOp('Pad', [a, pads, f32([9], [])])[0])).toEqual([9, 9, 9, 9, 9, 9, 9, 9, 0, 1, 2, 9, 9, 9, 3, 4, 5, 9]);
    expect(vals(runOp('Pad', [a, pads], { mode: 'reflect' })[0])).toEqual([5, 4, 3, 4, 5, 4, 2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4]);
    expect(vals(runOp('Pad', [a, pads], { mode: 'edge' })[0])).toEqual([0, 0, 0, 1, 2, 2, 0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 5]);
    expect(vals(runOp('Pad', [a, pads], { mode: 'wrap' })[0])).toEqual([4, 5, 3, 4, 5, 3, 1, 2, 0, 1, 2, 0, 4, 5, 3, 4, 5, 3]);
  });
  it('pads chosen axes and crops with negative pads', () => {
    const [y] = runOp('Pad', [a, i64([-1, 1]), undefined, i64([-1])]);
    expect(y!.dims).toEqual([2, 3]);
    expect(vals(y)).toEqual([1, 2, 0, 4, 5, 0]);
  });
  it('crops before wrapping, like onnxruntime', () => {
    expect(vals(runOp('Pad', [f32(iota(5), [5]), i64([2, -2])], { mode: 'wrap' })[0])).toEqual([1, 2, 0, 1, 2]);
  });
  it('pads int64 with an exact constant', () => {
    const big = 2n ** 55n + 1n;
    const [y] = runOp('Pad', [new Tensor('int64', BigInt64Array.of(1n), [1]), i64([1, 0]), new Tensor('int64', BigInt64Array.of(big), [])]);
    expect(Array.from(y!.data as BigInt64Array)).toEqual([big, 1n]);
  });
});

describe('DepthToSpace / SpaceToDepth', () => {
  it('rearranges blocks in DCR and CRD order', () => {
    const x = f32(iota(16), [1, 8, 1, 2]);
    const [dcr] = runOp('DepthToSpace', [x], { blocksize: 2 });
    expect(dcr!.dims).toEqual([1, 2, 2, 4]);
    expect(vals(dcr)).toEqual([0, 4, 1, 5, 8, 12, 9, 13, 2, 6, 3, 7, 10, 14, 11, 15]);
    expect(vals(runOp('DepthToSpace', [x], { blocksize: 2, mode: 'CRD' })[0])).toEqual([0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15]);
  });
  it('inverts DCR with SpaceToDepth', () => {
    const [y] = runOp('SpaceToDepth', [f32(iota(16), [1, 1, 4, 4])], { blocksize: 2 });
    expect(y!.dims).toEqual([1, 4, 2, 2]);
    expect(vals(y)).toEqual([0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15]);
  });
});

describe('Resize', () => {
  // Expected values from the ONNX operator documentation examples.
  const x4 = f32(iota(16).map((v) => v + 1), [1, 1, 4, 4]);
  it('upsamples nearest', () => {
    const [y] = runOp('Resize', [f32([1, 2, 3, 4], [1, 1, 2, 2]), undefined, f32([1, 1, 2, 3], [4])]);
    expect(y!.dims).toEqual([1, 1, 4, 6]);
    expect(vals(y).slice(0, 12)).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
  });
  it('downsamples linear with align_corners using the fractional output width', () => {
    const [y] = runOp('Resize', [f32([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 4]), undefined, f32([1, 1, 0.6, 0.6], [4])],
      { mode: 'linear', coordinate_transformation_mode: 'align_corners' });
    expectCloseTo(vals(y), [1, 3.142857]);
  });
  it('crops and resizes', () => {
    const [y] = runOp('Resize', [x4, f32([0, 0, 0.4, 0.6, 1, 1, 0.6, 0.8], [8]), undefined, i64([1, 1, 3, 3])],
      { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize' });
    expectCloseTo(vals(y), [7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10, 10.3, 10.6]);
    const [e] = runOp('Resize', [x4, f32([0, 0, 0.4, 0.6, 1, 1, 1.2, 1.7], [8]), undefined, i64([1, 1, 3, 3])],
      { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 10 });
    expectCloseTo(vals(e), [7.6, 10, 10, 12.4, 10, 10, 10, 10, 10]);
  });
  it('keeps symbolic batch dims in shape inference', () => {
    const t = infer('Resize', [{ dtype: 'float32', shape: ['N', 3, 8, 8] }, undefined, { dtype: 'float32', shape: [4] }],
      [undefined, undefined, f32([1, 1, 2, 2], [4])]);
    expect(t[0]!.shape![0]).toBe('N');
    expect(t[0]!.shape![1]).toBe(3);
  });
});

function expectCloseTo(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));
}
