// Data-movement WASM kernels (views, Transpose, Slice, Concat, Split, Expand, Tile, Pad, Gather,
// DepthToSpace/SpaceToDepth) against the reference kernels for both variants and several dtypes.
// Every result must be bit-identical.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import type { DType } from '../../src/tensor/dtype.js';
import { copyStrided, gatherRows } from '../../src/backends/wasm/kernels/movement.js';
import { collapseWalk, walkDescriptor, walkRows } from '../../src/backends/wasm/kernels/strided.js';
import { stridesOf } from '../../src/tensor/shape.js';
import { checkNode, randomTensor, rng, runNode, testMemory, VARIANTS, type NodeCase } from './harness.js';

const DTYPES: DType[] = ['float32', 'int64', 'int32', 'uint8', 'bool'];
const ints = (v: number[]) => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);

function exact(variant: Parameters<typeof checkNode>[0], c: NodeCase, what?: string) {
  checkNode(variant, c, { rtol: 0, atol: 0 }, what);
}

describe.each(VARIANTS)('movement [%s]', (variant) => {
  it('Reshape, Flatten, Squeeze, Unsqueeze alias their input', () => {
    const r = rng(1);
    const x = randomTensor([2, 1, 6], r);
    for (const c of [
      { op: 'Reshape', inputs: [x, ints([3, 4])], constants: [1] },
      { op: 'Flatten', attrs: { axis: 2 }, inputs: [x] },
      { op: 'Squeeze', inputs: [x, ints([1])], constants: [1] },
      { op: 'Unsqueeze', inputs: [x, ints([0])], constants: [1] },
    ] as NodeCase[]) {
      const run = checkNode(variant, c);
      expect(run.kernel?.aliasOf).toBe(0);
    }
  });

  it('Transpose over ranks 1-6 and every permutation of rank 3 and 4', () => {
    const r = rng(2);
    const perms3 = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (const dtype of DTYPES) {
      for (const perm of perms3) exact(variant, { op: 'Transpose', attrs: { perm }, inputs: [randomTensor([3, 5, 7], r, 100, dtype)] }, `Transpose ${dtype} ${perm}`);
    }
    for (const perm of [[0, 2, 3, 1], [0, 3, 1, 2], [3, 2, 1, 0], [1, 0, 3, 2], [0, 1, 3, 2]]) {
      exact(variant, { op: 'Transpose', attrs: { perm }, inputs: [randomTensor([2, 3, 17, 9], r)] }, `Transpose ${perm}`);
    }
    exact(variant, { op: 'Transpose', inputs: [randomTensor([65, 33], r)] });
    exact(variant, { op: 'Transpose', inputs: [randomTensor([7], r)] });
    exact(variant, { op: 'Transpose', attrs: { perm: [5, 0, 4, 1, 3, 2] }, inputs: [randomTensor([2, 3, 1, 2, 3, 2], r)] });
    exact(variant, { op: 'Transpose', attrs: { perm: [1, 0] }, inputs: [randomTensor([0, 3], r)] });
  });

  it('Concat and Split along every axis, uneven parts, every dtype', () => {
    const r = rng(3);
    for (const dtype of DTYPES) {
      for (const axis of [0, 1, 2, -1]) {
        const a = (n: number) => [2, 3, 5].map((d, k) => (k === (axis + 3) % 3 ? n : d));
        const parts = [1, 4, 0, 2].map((n) => randomTensor(a(n), r, 50, dtype));
        exact(variant, { op: 'Concat', attrs: { axis }, inputs: parts }, `Concat ${dtype} ${axis}`);
        exact(variant, { op: 'Split', attrs: { axis }, inputs: [randomTensor(a(7), r, 50, dtype), ints([2, 0, 4, 1])], constants: [1], outputs: 4 }, `Split ${dtype} ${axis}`);
        exact(variant, { op: 'Split', attrs: { axis, num_outputs: 3 }, inputs: [randomTensor(a(7), r, 50, dtype)], outputs: 3 }, `Split even ${dtype} ${axis}`);
      }
    }
    exact(variant, { op: 'Concat', attrs: { axis: 0 }, inputs: [randomTensor([3], r), randomTensor([65], r)] });
  });

  it('Slice with negative indices, steps and clamped bounds', () => {
    const r = rng(4);
    const x = randomTensor([5, 7, 9], r);
    const cases: [number[], number[], number[] | undefined, number[] | undefined][] = [
      [[0], [3], undefined, undefined], [[1, 2], [4, -1], [0, 2], undefined], [[-1], [-100], [1], [-1]],
      [[8, 1], [0, 7], [2, 1], [-3, 2]], [[0, 0, 0], [100, 100, 100], undefined, [2, 3, 4]], [[3], [3], [0], undefined],
      [[-2, 10], [10, -10], [0, 2], [1, -1]], [[2], [1], [1], undefined],
    ];
    for (const dtype of DTYPES) {
      const t = randomTensor([5, 7, 9], r, 99, dtype);
      for (const [s, e, a, st] of cases) {
        const inputs = [t, ints(s), ints(e), a ? ints(a) : undefined, st ? ints(st) : undefined];
        exact(variant, { op: 'Slice', inputs, constants: [1, 2, 3, 4] }, `Slice ${dtype} ${s} ${e} ${a} ${st}`);
      }
    }
    expect(runNode(variant, { op: 'Slice', inputs: [x, ints([0]), ints([2])] }).kernel).toBeUndefined();
  });

  it('Expand and Tile', () => {
    const r = rng(5);
    for (const dtype of DTYPES) {
      exact(variant, { op: 'Expand', inputs: [randomTensor([3, 1], r, 9, dtype), ints([2, 3, 4])], constants: [1] }, `Expand ${dtype}`);
      exact(variant, { op: 'Expand', inputs: [randomTensor([1], r, 9, dtype), ints([65])], constants: [1] });
      exact(variant, { op: 'Expand', inputs: [randomTensor([2, 1, 5], r, 9, dtype), ints([3, 1, 1, 1])], constants: [1] });
      exact(variant, { op: 'Tile', inputs: [randomTensor([2, 3], r, 9, dtype), ints([3, 2])], constants: [1] }, `Tile ${dtype}`);
      exact(variant, { op: 'Tile', inputs: [randomTensor([2, 1, 3], r, 9, dtype), ints([1, 4, 0])], constants: [1] });
      exact(variant, { op: 'Tile', inputs: [randomTensor([17], r, 9, dtype), ints([5])], constants: [1] });
    }
  });

  it('Pad in constant mode: constant values, axes, negative pads', () => {
    const r = rng(6);
    for (const dtype of DTYPES) {
      const x = randomTensor([2, 3, 4], r, 9, dtype);
      const value = randomTensor([], r, 9, dtype);
      exact(variant, { op: 'Pad', inputs: [x, ints([0, 1, 2, 1, 0, 3])], constants: [1] }, `Pad ${dtype}`);
      exact(variant, { op: 'Pad', inputs: [x, ints([1, 1, 1, 1, 1, 1]), value], constants: [1] }, `Pad value ${dtype}`);
      exact(variant, { op: 'Pad', inputs: [x, ints([-1, 2, 0, 1, -2, -3]), value], constants: [1, 2] }, `Pad crop ${dtype}`);
      exact(variant, { op: 'Pad', inputs: [x, ints([2, 3]), value, ints([-1])], constants: [1, 3] }, `Pad axes ${dtype}`);
    }
    // Pads only known at run time stay on the reference (the other modes: test/wasm/pad.test.ts).
    expect(runNode(variant, { op: 'Pad', attrs: { mode: 'reflect' }, inputs: [randomTensor([3, 4], r), ints([1, 1, 1, 1])] }).kernel).toBeUndefined();
  });

  it('Gather with constant and runtime indices of both index types', () => {
    const r = rng(7);
    for (const dtype of DTYPES) {
      const x = randomTensor([4, 5, 6], r, 99, dtype);
      for (const axis of [0, 1, 2, -1]) {
        const len = x.dims[(axis + 3) % 3]!;
        const idx = [0, len - 1, -1, 1, -len, 2 % len];
        exact(variant, { op: 'Gather', attrs: { axis }, inputs: [x, ints(idx)], constants: [1] }, `Gather ${dtype} ${axis}`);
        exact(variant, { op: 'Gather', attrs: { axis }, inputs: [x, new Tensor('int32', Int32Array.from(idx), [2, 3])] });
        exact(variant, { op: 'Gather', attrs: { axis }, inputs: [x, new Tensor('int64', [1n], [])] });
      }
    }
    const x = randomTensor([4, 5], r);
    expect(runNode(variant, { op: 'Gather', inputs: [x, ints([4])], constants: [1], outputTypes: [{ dtype: 'float32', dims: [1, 5] }] }).kernel).toBeUndefined();
    // Runtime indices are checked by the kernel, which reports the first bad position and writes nothing.
    const mem = testMemory(variant);
    const xv = mem.place(x);
    const iv = mem.place(ints([1, -4, 4, 0]));
    const out = mem.alloc(4 * 5 * 4, 0);
    expect(gatherRows(mem.exports, xv.ptr, iv.ptr, true, out, 4, 4, 20, 0, 1)).toBe(2);
    expect(Array.from(mem.u8(out, 80)).every((b) => b === 0)).toBe(true);
    expect(gatherRows(mem.exports, xv.ptr, iv.ptr, true, out, 4, 2, 20, 0, 1)).toBe(-1);
  });

  it('strided copies and gathers split over row ranges give identical bytes', () => {
    const mem = testMemory(variant);
    const dims = [3, 4, 5, 6];
    const perm = [2, 0, 3, 1];
    const src = stridesOf(dims);
    const out = perm.map((p) => dims[p]!);
    const walk = collapseWalk({ dims: out, strides: [perm.map((p) => src[p]!), stridesOf(out)] });
    const rows = walkRows(walk);
    const words = walkDescriptor(walk);
    const desc = mem.alloc(words.byteLength);
    mem.i32(desc, words.length).set(words);
    const x = mem.place(randomTensor(dims, rng(83))).ptr;
    const [y1, y2] = [mem.alloc(360 * 4), mem.alloc(360 * 4)];
    copyStrided(mem.exports, 4, x, y1, desc, 0, rows);
    for (const [a, b] of [[0, 5], [5, 6], [6, rows]]) copyStrided(mem.exports, 4, x, y2, desc, a!, b!);
    expect(Array.from(mem.f32(y2, 360))).toEqual(Array.from(mem.f32(y1, 360)));
    const idx = mem.place(new Tensor('int32', Int32Array.from([3, -1, 0]), [3])).ptr;
    gatherRows(mem.exports, x, idx, false, y1, 4, 3, 30 * 4, 0, 3);
    for (const [a, b] of [[0, 1], [1, 3]]) gatherRows(mem.exports, x, idx, false, y2, 4, 3, 30 * 4, a!, b!);
    expect(Array.from(mem.f32(y2, 270))).toEqual(Array.from(mem.f32(y1, 270)));
  });

  it('DepthToSpace (DCR, CRD) and SpaceToDepth', () => {
    const r = rng(8);
    exact(variant, { op: 'DepthToSpace', attrs: { blocksize: 2 }, inputs: [randomTensor([2, 8, 3, 5], r)] });
    exact(variant, { op: 'DepthToSpace', attrs: { blocksize: 3, mode: 'CRD' }, inputs: [randomTensor([1, 18, 4, 3], r)] });
    exact(variant, { op: 'SpaceToDepth', attrs: { blocksize: 2 }, inputs: [randomTensor([2, 3, 6, 4], r)] });
  });
});
