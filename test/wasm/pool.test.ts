// Pooling WASM kernels against the reference for both module variants: every window attribute
// (kernel, strides, dilations, pads, auto_pad, ceil_mode, count_include_pad), 1-3 spatial axes,
// odd sizes that exercise the vector interior, the scalar borders and windows lying in padding.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { globalPoolF32, poolF32, poolGeometryWords } from '../../src/backends/wasm/kernels/pool.js';
import { checkNode, randomTensor, rng, runNode, testMemory, VARIANTS, type NodeCase } from './harness.js';

interface PoolCase { dims: number[]; attrs: NonNullable<NodeCase['attrs']> }

const CASES: PoolCase[] = [
  { dims: [1, 1, 5, 5], attrs: { kernel_shape: [2, 2] } },
  { dims: [1, 3, 32, 32], attrs: { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] } },
  { dims: [2, 3, 33, 35], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { dims: [1, 2, 31, 67], attrs: { kernel_shape: [3, 3], strides: [2, 2] } },
  { dims: [1, 2, 30, 64], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
  { dims: [1, 2, 29, 61], attrs: { kernel_shape: [3, 2], strides: [3, 3], pads: [0, 1, 2, 1] } },
  { dims: [1, 2, 17, 40], attrs: { kernel_shape: [3, 3], strides: [1, 1], dilations: [2, 3] } },
  { dims: [1, 2, 17, 40], attrs: { kernel_shape: [2, 3], strides: [2, 2], dilations: [2, 2], pads: [1, 2, 1, 2] } },
  { dims: [1, 2, 32, 32], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' } },
  { dims: [1, 2, 31, 31], attrs: { kernel_shape: [4, 4], strides: [3, 3], auto_pad: 'SAME_LOWER' } },
  { dims: [1, 2, 31, 31], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'VALID' } },
  { dims: [1, 2, 32, 33], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } },
  { dims: [1, 2, 8, 9], attrs: { kernel_shape: [3, 3], strides: [3, 3], pads: [1, 1, 1, 1], ceil_mode: 1 } },
  { dims: [1, 1, 4, 4], attrs: { kernel_shape: [7, 7], pads: [3, 3, 3, 3] } },
  { dims: [1, 2, 7, 7], attrs: { kernel_shape: [7, 7] } },
  { dims: [1, 3, 37], attrs: { kernel_shape: [3], strides: [2], pads: [1, 1] } },
  { dims: [1, 3, 70], attrs: { kernel_shape: [5], strides: [1] } },
  { dims: [1, 2, 6, 9, 10], attrs: { kernel_shape: [2, 3, 3], strides: [2, 1, 2], pads: [1, 1, 1, 0, 1, 1] } },
  { dims: [1, 1, 3, 3], attrs: { kernel_shape: [2, 2], pads: [2, 2, 2, 2], strides: [2, 2] } },
];

describe.each(VARIANTS)('pooling [%s]', (variant) => {
  it('MaxPool over every attribute combination', () => {
    const r = rng(41);
    for (const c of CASES) checkNode(variant, { op: 'MaxPool', attrs: c.attrs, inputs: [randomTensor(c.dims, r, 5)] }, {}, `MaxPool ${JSON.stringify(c)}`);
  });

  it('AveragePool with and without count_include_pad', () => {
    const r = rng(43);
    for (const c of CASES) {
      for (const countIncludePad of [0, 1]) {
        if (countIncludePad && c.attrs.auto_pad && c.attrs.auto_pad !== 'NOTSET') continue;
        checkNode(variant, { op: 'AveragePool', attrs: { ...c.attrs, count_include_pad: countIncludePad }, inputs: [randomTensor(c.dims, r, 5)] },
          { rtol: 1e-6, atol: 1e-6 }, `AveragePool cip=${countIncludePad} ${JSON.stringify(c)}`);
      }
    }
  });

  it('LpPool for p = 1, 2, 3 over every attribute combination', () => {
    const r = rng(45);
    for (const c of CASES) {
      for (const p of [1, 2, 3]) {
        const attrs = { ...c.attrs, p };
        checkNode(variant, { op: 'LpPool', attrs, inputs: [randomTensor(c.dims, r, 5)] }, { rtol: 1e-6, atol: 1e-6 }, `LpPool ${JSON.stringify(attrs)} ${c.dims}`);
      }
    }
  });

  it('MaxPool skips NaN after the first tap like the reference', () => {
    const x = randomTensor([1, 1, 9, 12], rng(47), 2);
    const d = x.data as Float32Array;
    d[3] = NaN;
    d[30] = NaN;
    d[50] = Infinity;
    d[51] = -Infinity;
    const windows: NonNullable<NodeCase['attrs']>[] = [{ kernel_shape: [3, 3] }, { kernel_shape: [2, 2], strides: [2, 2] }, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }];
    for (const attrs of windows) {
      checkNode(variant, { op: 'MaxPool', attrs, inputs: [x] });
    }
  });

  it('global pools over planes of any size', () => {
    const r = rng(53);
    for (const dims of [[1, 3, 1, 1], [2, 5, 7, 7], [1, 4, 13], [1, 7, 17, 19], [3, 2], [1, 2, 0]]) {
      checkNode(variant, { op: 'GlobalMaxPool', inputs: [randomTensor(dims, r, 3)] }, {}, `GlobalMaxPool ${dims}`);
      checkNode(variant, { op: 'GlobalAveragePool', inputs: [randomTensor(dims, r, 3)] }, { rtol: 1e-6, atol: 1e-6 }, `GlobalAveragePool ${dims}`);
    }
    for (const dims of [[1, 3, 1, 1], [2, 5, 7, 7], [1, 4, 13], [1, 2, 150, 170], [3, 2], [1, 2, 0]]) {
      for (const p of [1, 2, 3]) {
        checkNode(variant, { op: 'GlobalLpPool', attrs: { p }, inputs: [randomTensor(dims, r, 3)] }, { rtol: 1e-6, atol: 1e-6 }, `GlobalLpPool p=${p} ${dims}`);
      }
    }
    const x = new Tensor('float32', Float32Array.from([NaN, 1, 2, NaN, NaN, NaN]), [1, 2, 3]);
    checkNode(variant, { op: 'GlobalMaxPool', inputs: [x] });
  });

  it('plane ranges split a call without changing a byte', () => {
    const mem = testMemory(variant);
    const planes = 6;
    const words = poolGeometryWords({
      inSize: [1, 13, 17], outSize: [1, 7, 9], kernel: [1, 3, 3], strides: [1, 2, 2], dilations: [1, 1, 1],
      padBegin: [0, 1, 1], padEnd: [0, 1, 1], countIncludePad: false,
    });
    const geom = mem.alloc(words.byteLength);
    mem.i32(geom, words.length).set(words);
    const x = mem.place(randomTensor([planes, 13, 17], rng(61))).ptr;
    const n = planes * 63;
    for (const kind of ['max', 'avg'] as const) {
      const [y1, y2, g1, g2] = [mem.alloc(n * 4), mem.alloc(n * 4), mem.alloc(planes * 4), mem.alloc(planes * 4)];
      poolF32(mem.exports, kind, x, y1, geom, 0, planes);
      globalPoolF32(mem.exports, kind, x, g1, 13 * 17, 0, planes);
      for (const [p0, p1] of [[0, 2], [2, 5], [5, 6]]) {
        poolF32(mem.exports, kind, x, y2, geom, p0!, p1!);
        globalPoolF32(mem.exports, kind, x, g2, 13 * 17, p0!, p1!);
      }
      expect(Array.from(mem.f32(y2, n))).toEqual(Array.from(mem.f32(y1, n)));
      expect(Array.from(mem.f32(g2, planes))).toEqual(Array.from(mem.f32(g1, planes)));
    }
  });

  it('MaxPool and GlobalMaxPool on int8 and uint8 match the reference exactly', () => {
    const r = rng(57);
    const wide: PoolCase[] = [
      { dims: [1, 3, 9, 70], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
      { dims: [2, 2, 7, 50], attrs: { kernel_shape: [2, 3], strides: [1, 1], dilations: [2, 2], pads: [0, 2, 1, 2] } },
      { dims: [1, 2, 1, 3], attrs: { kernel_shape: [1, 2], pads: [0, 3, 0, 3], strides: [1, 3] } },
      // 8 to 15 interior columns (8 per vector): mnist-8's 2x2 / 2 pool on 28 columns, stride 1 and
      // padded stride 2 rows, and a 3 x 3 / 3 pool (interior columns one at a time).
      { dims: [1, 3, 6, 28], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { dims: [1, 2, 4, 12], attrs: { kernel_shape: [3, 3], strides: [1, 1] } },
      { dims: [1, 2, 5, 19], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
      { dims: [2, 2, 9, 14], attrs: { kernel_shape: [3, 3], strides: [3, 3] } },
    ];
    for (const dtype of ['int8', 'uint8'] as const) {
      for (const c of [...CASES, ...wide]) {
        checkNode(variant, { op: 'MaxPool', attrs: c.attrs, inputs: [randomTensor(c.dims, r, 1, dtype)] }, {}, `MaxPool ${dtype} ${JSON.stringify(c)}`);
      }
      for (const dims of [[1, 3, 1, 1], [2, 5, 7, 7], [1, 4, 13], [1, 3, 40, 41], [3, 2]]) {
        checkNode(variant, { op: 'GlobalMaxPool', inputs: [randomTensor(dims, r, 1, dtype)] }, {}, `GlobalMaxPool ${dtype} ${dims}`);
      }
    }
  });

  it('MaxPool with Indices (storage_order 0 and 1, ties, NaN, empty windows) matches the reference', () => {
    const r = rng(59);
    for (const c of CASES) {
      for (const storageOrder of [0, 1]) {
        const x = randomTensor(c.dims, r, 5);
        const d = x.data as Float32Array;
        // Repeated values make ties (the first tap must win); a NaN exercises the seed rule.
        for (let i = 0; i < d.length; i += 3) d[i] = Math.round(d[i]!);
        if (d.length > 7) d[7] = NaN;
        checkNode(variant, { op: 'MaxPool', attrs: { ...c.attrs, storage_order: storageOrder }, inputs: [x], outputs: 2 }, {}, `MaxPool+Indices so=${storageOrder} ${JSON.stringify(c)}`);
      }
    }
  });

  it('leaves Indices on integer inputs to the reference kernel', () => {
    const r = rng(60);
    expect(runNode(variant, { op: 'MaxPool', attrs: { kernel_shape: [2, 2] }, inputs: [randomTensor([1, 1, 4, 4], r, 1, 'int8')], outputs: 2 }).kernel).toBeUndefined();
  });
});
