// Softmax/LogSoftmax, LayerNormalization, BatchNormalization (inference) and reductions on WASM
// against the reference kernels, for both module variants, over many shapes and every axis.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { layerNormF32, reduceF32, rmsNormF32, softmaxF32 } from '../../src/backends/wasm/kernels/norm.js';
import { checkNode, randomTensor, rng, runNode, testMemory, VARIANTS } from './harness.js';

const SHAPES = [[1], [7], [3, 5], [2, 3, 17], [1, 1000], [4, 65], [2, 3, 4, 5], [2, 1, 7, 1, 3], [5, 128]];

const axes = (dims: number[]) => [...dims.map((_, i) => i), -1];

describe.each(VARIANTS)('softmax [%s]', (variant) => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    it(`${op} along every axis`, () => {
      const r = rng(op.length);
      for (const dims of SHAPES) {
        for (const axis of axes(dims)) {
          // log(sum) carries the f32 rounding of the sum (~1e-7 absolute) into every LogSoftmax output.
          checkNode(variant, { op, attrs: { axis }, inputs: [randomTensor(dims, r, 10)] }, { rtol: 2e-6, atol: op === 'Softmax' ? 1e-7 : 1e-6 }, `${op} [${dims}] axis ${axis}`);
        }
      }
    });

    it(`${op} keeps large logits finite and propagates NaN/-inf lines`, () => {
      const x = new Tensor('float32', Float32Array.from([1000, 999, -1000, 3, NaN, 1, 2, 0, -Infinity, -Infinity, -Infinity, -Infinity, Infinity, 1, 2, 3, 88, 89, 90, 91]), [5, 4]);
      checkNode(variant, { op, attrs: { axis: 1 }, inputs: [x] }, { rtol: 2e-6, atol: 1e-6 });
      checkNode(variant, { op, attrs: { axis: 0 }, inputs: [x] }, { rtol: 2e-6, atol: 1e-6 });
    });
  }
});

describe.each(VARIANTS)('LayerNormalization [%s]', (variant) => {
  it('over trailing dims with and without bias, all outputs', () => {
    const r = rng(61);
    const cases: [number[], number][] = [[[4, 7], -1], [[2, 3, 65], -1], [[2, 3, 4, 5], 2], [[2, 3, 4, 5], 1], [[3, 768], 1], [[5, 1, 17], -2], [[6, 3], 0]];
    for (const [dims, axis] of cases) {
      const a = axis < 0 ? axis + dims.length : axis;
      const row = dims.slice(a);
      for (const withBias of [false, true]) {
        const inputs = [randomTensor(dims, r, 3), randomTensor(row, r, 2), withBias ? randomTensor(row, r, 1) : undefined];
        checkNode(variant, { op: 'LayerNormalization', attrs: { axis, epsilon: 1e-5 }, inputs, outputs: 3 }, { rtol: 1e-5, atol: 2e-6 }, `LN [${dims}] axis ${axis}`);
        checkNode(variant, { op: 'LayerNormalization', attrs: { axis }, inputs }, { rtol: 1e-5, atol: 2e-6 });
      }
    }
  });

  it('accepts scale with leading 1s and falls back for in-row broadcasts', () => {
    const r = rng(67);
    checkNode(variant, { op: 'LayerNormalization', inputs: [randomTensor([2, 5, 9], r), randomTensor([1, 1, 9], r)] }, { rtol: 1e-5, atol: 2e-6 });
    expect(runNode(variant, { op: 'LayerNormalization', attrs: { axis: 1 }, inputs: [randomTensor([2, 5, 9], r), randomTensor([1, 9], r)] }).kernel).toBeUndefined();
    expect(runNode(variant, { op: 'LayerNormalization', attrs: { axis: 2 }, inputs: [randomTensor([4, 2, 2], r), randomTensor([2, 1], r)] }).kernel).toBeUndefined();
  });
});

describe.each(VARIANTS)('RMSNormalization [%s]', (variant) => {
  it('over trailing dims', () => {
    const r = rng(63);
    for (const [dims, axis] of [[[4, 7], -1], [[2, 3, 65], -1], [[2, 3, 4, 5], 1], [[3, 768], 0]] as [number[], number][]) {
      const a = axis < 0 ? axis + dims.length : axis;
      checkNode(variant, { op: 'RMSNormalization', attrs: { axis }, inputs: [randomTensor(dims, r, 3), randomTensor(dims.slice(a), r, 2)] },
        { rtol: 1e-5, atol: 1e-6 }, `RMS [${dims}] axis ${axis}`);
    }
  });
});

describe.each(VARIANTS)('BatchNormalization [%s]', (variant) => {
  it('inference mode with constant and runtime statistics', () => {
    const r = rng(71);
    for (const dims of [[1, 3, 5, 5], [2, 16, 7, 9], [4, 5], [1, 8, 33], [2, 3, 2, 3, 2]]) {
      const c = dims[1]!;
      const inputs = [randomTensor(dims, r, 4), randomTensor([c], r, 2), randomTensor([c], r, 1), randomTensor([c], r, 1), randomTensor([c], r, 0.5)];
      (inputs[4]!.data as Float32Array).forEach((v, i, a) => { a[i] = Math.abs(v) + 0.1; });
      const tol = { rtol: 2e-6, atol: 2e-6 };
      const folded = checkNode(variant, { op: 'BatchNormalization', attrs: { epsilon: 1e-3 }, inputs, constants: [1, 2, 3, 4] }, tol, `BN const [${dims}]`);
      expect(folded.kernel?.packedInputs).toEqual([1, 2, 3, 4]);
      checkNode(variant, { op: 'BatchNormalization', inputs }, tol, `BN runtime [${dims}]`);
      checkNode(variant, { op: 'BatchNormalization', inputs, constants: [1, 2, 3, 4], outputs: 3 }, tol, `BN stats [${dims}]`);
    }
  });

  it('leaves training mode to the reference kernel', () => {
    const r = rng(73);
    const inputs = [randomTensor([2, 3, 4], r), randomTensor([3], r), randomTensor([3], r), randomTensor([3], r), randomTensor([3], r, 0.1)];
    (inputs[4]!.data as Float32Array).forEach((v, i, a) => { a[i] = Math.abs(v) + 0.1; });
    expect(runNode(variant, { op: 'BatchNormalization', attrs: { training_mode: 1 }, inputs, outputs: 3 }).kernel).toBeUndefined();
  });
});

describe.each(VARIANTS)('reductions [%s]', (variant) => {
  const ops = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceSumSquare', 'ReduceL1', 'ReduceL2'];
  const axesCases: [number[], number[] | undefined][] = [
    [[7], undefined], [[7], [0]], [[3, 5], [1]], [[3, 5], [0]], [[3, 5], [0, 1]], [[2, 3, 17], [1]], [[2, 3, 17], [-1]],
    [[2, 3, 4, 5], [2, 3]], [[2, 3, 4, 5], [0, 2]], [[2, 3, 4, 5], [1, 3]], [[2, 3, 4, 5], [0, 1, 3]], [[1, 1000], [1]],
    [[4, 1, 65], [1]], [[4, 1, 65], [0, 2]], [[2, 7, 1, 3], [2]], [[3, 0, 2], [1]], [[6, 130], [0]],
  ];
  for (const op of ops) {
    it(`${op} over axis sets, keepdims on and off`, () => {
      const r = rng(op.length * 13);
      for (const [dims, ax] of axesCases) {
        for (const keepdims of [1, 0]) {
          const inputs = [randomTensor(dims, r, 3), ax ? new Tensor('int64', BigInt64Array.from(ax.map(BigInt)), [ax.length]) : undefined];
          checkNode(variant, { op, attrs: { keepdims }, inputs, constants: [1] }, { rtol: 2e-6, atol: 1e-6 }, `${op} [${dims}] axes ${ax} keep ${keepdims}`);
        }
      }
      const empty = new Tensor('int64', new BigInt64Array(0), [0]);
      checkNode(variant, { op, attrs: { noop_with_empty_axes: 1 }, inputs: [randomTensor([3, 4], r), empty], constants: [1] }, { rtol: 2e-6 });
      checkNode(variant, { op, inputs: [randomTensor([3, 4], r), empty], constants: [1] }, { rtol: 2e-6 });
    });
  }

  it('propagates NaN in max/min and falls back for runtime axes', () => {
    const x = new Tensor('float32', Float32Array.from([1, NaN, 3, 4, 5, 6, -Infinity, 2]), [2, 4]);
    const ax = new Tensor('int64', [1n], [1]);
    for (const op of ['ReduceMax', 'ReduceMin', 'ReduceSum']) checkNode(variant, { op, inputs: [x, ax], constants: [1] });
    expect(runNode(variant, { op: 'ReduceSum', inputs: [x, ax] }).kernel).toBeUndefined();
  });
});

describe.each(VARIANTS)('norm kernels split over ranges [%s]', (variant) => {
  it('softmax, layer/RMS norm and reductions give identical bytes when split', () => {
    const mem = testMemory(variant);
    const r = rng(79);
    const [outer, len, inner] = [5, 19, 6];
    const n = outer * len * inner;
    const x = mem.place(randomTensor([n], r, 4)).ptr;
    const scale = mem.place(randomTensor([len * inner], r)).ptr;
    const bias = mem.place(randomTensor([len * inner], r)).ptr;
    const ranges = [[0, 2], [2, 3], [3, 5]] as const;
    const same = (a: number, b: number, count: number) => expect(Array.from(mem.f32(b, count))).toEqual(Array.from(mem.f32(a, count)));
    for (const log of [false, true]) {
      for (const inn of [1, inner]) {
        const l = (len * inner) / inn;
        const [y1, y2] = [mem.alloc(n * 4), mem.alloc(n * 4)];
        softmaxF32(mem.exports, log, x, y1, l, inn, 0, outer);
        for (const [a, b] of ranges) softmaxF32(mem.exports, log, x, y2, l, inn, a, b);
        same(y1, y2, n);
      }
    }
    const [y1, y2, m1, m2, v1, v2] = [mem.alloc(n * 4), mem.alloc(n * 4), mem.alloc(20), mem.alloc(20), mem.alloc(20), mem.alloc(20)];
    layerNormF32(mem.exports, x, y1, scale, bias, m1, v1, len * inner, 1e-5, 0, outer);
    for (const [a, b] of ranges) layerNormF32(mem.exports, x, y2, scale, bias, m2, v2, len * inner, 1e-5, a, b);
    same(y1, y2, n);
    same(m1, m2, outer);
    same(v1, v2, outer);
    rmsNormF32(mem.exports, x, y1, scale, len * inner, 1e-5, 0, outer);
    for (const [a, b] of ranges) rmsNormF32(mem.exports, x, y2, scale, len * inner, 1e-5, a, b);
    same(y1, y2, n);
    for (const op of ['sum', 'max', 'min', 'sumSquare', 'sumAbs'] as const) {
      reduceF32(mem.exports, op, x, y1, len, inner, 1, false, 0, outer);
      for (const [a, b] of ranges) reduceF32(mem.exports, op, x, y2, len, inner, 1, false, a, b);
      same(y1, y2, outer * inner);
    }
  });
});
