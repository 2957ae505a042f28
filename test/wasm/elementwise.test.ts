// Elementwise WASM kernels (unary, broadcasting binary, folds, comparisons, Where, Clip, Pow, Cast)
// against the reference kernels, for both module variants, over many shapes including odd sizes.
// The integer and bool binary ops and the int64 casts are in elementwise-int.test.ts.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../src/tensor/tensor.js';
import { binaryF32, compareF32, unaryF32 } from '../../src/backends/wasm/kernels/elementwise.js';
import { broadcastWalk, walkDescriptor, walkRows } from '../../src/backends/wasm/kernels/strided.js';
import { checkNode, randomTensor, rng, runNode, testMemory, VARIANTS, type NodeCase } from './harness.js';

const SIZES = [1, 3, 4, 7, 8, 17, 63, 65, 127, 1000];

const UNARY: { op: string; scale: number; attrs?: NodeCase['attrs']; positive?: boolean; tol?: { rtol?: number; atol?: number } }[] = [
  { op: 'Relu', scale: 3 },
  { op: 'LeakyRelu', scale: 3, attrs: { alpha: 0.1 } },
  { op: 'Sigmoid', scale: 20 },
  { op: 'Tanh', scale: 10 },
  { op: 'Exp', scale: 80 },
  { op: 'Log', scale: 1000, positive: true },
  { op: 'Sqrt', scale: 100, positive: true },
  { op: 'Abs', scale: 3 },
  { op: 'Neg', scale: 3 },
  { op: 'Reciprocal', scale: 3 },
  { op: 'HardSigmoid', scale: 6, attrs: { alpha: 0.3, beta: 0.4 } },
  { op: 'HardSwish', scale: 6 },
  { op: 'Elu', scale: 6, attrs: { alpha: 1.5 } },
  // Gelu of very negative inputs is ~1e-20: absolute tolerance covers its tail.
  { op: 'Gelu', scale: 8, tol: { rtol: 2e-6, atol: 1e-7 } },
  { op: 'Gelu', scale: 8, attrs: { approximate: 'tanh' }, tol: { rtol: 2e-6, atol: 1e-7 } },
  { op: 'Erf', scale: 4 },
  { op: 'Softplus', scale: 30 },
  { op: 'Swish', scale: 20, attrs: { alpha: 1.3 } },
  { op: 'Floor', scale: 10 },
  { op: 'Ceil', scale: 10 },
  { op: 'Round', scale: 10 },
  { op: 'Softsign', scale: 10 },
  { op: 'Selu', scale: 5 },
  { op: 'Celu', scale: 5, attrs: { alpha: 2 } },
  { op: 'ThresholdedRelu', scale: 3, attrs: { alpha: 0.5 } },
  { op: 'Mish', scale: 10 },
];

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 1e30, -1e30, 88, -88, 100, -100];

describe.each(VARIANTS)('elementwise unary [%s]', (variant) => {
  for (const u of UNARY) {
    it(`${u.op}${u.attrs ? ' ' + JSON.stringify(u.attrs) : ''}`, () => {
      const r = rng(u.op.length * 977 + 1);
      for (const n of SIZES) {
        const x = randomTensor([n], r, u.scale);
        if (u.positive) (x.data as Float32Array).forEach((v, i, a) => { a[i] = Math.abs(v) + 1e-6; });
        checkNode(variant, { op: u.op, attrs: u.attrs, inputs: [x] }, u.tol, `${u.op}[${n}]`);
      }
      const s = new Tensor('float32', Float32Array.from(SPECIALS), [SPECIALS.length]);
      checkNode(variant, { op: u.op, attrs: u.attrs, inputs: [s] }, { rtol: 2e-6, atol: 1e-7 }, `${u.op} specials`);
      checkNode(variant, { op: u.op, attrs: u.attrs, inputs: [randomTensor([2, 3, 5, 7], r, u.scale).reshape([2, 3, 5, 7])] }, u.tol);
      if (u.positive) return;
      checkNode(variant, { op: u.op, attrs: u.attrs, inputs: [new Tensor('float32', new Float32Array(0), [0, 3])] }, u.tol, `${u.op} empty`);
    });
  }

  it('splits over sub-ranges like a thread pool would', () => {
    const mem = testMemory(variant);
    const n = 1001;
    const x = mem.place(randomTensor([n], rng(5), 10));
    const y1 = mem.alloc(n * 4);
    const y2 = mem.alloc(n * 4);
    unaryF32(mem.exports, 'gelu', x.ptr, y1, n);
    for (const [a, b] of [[0, 333], [333, 334], [334, 1001]] as const) unaryF32(mem.exports, 'gelu', x.ptr + a * 4, y2 + a * 4, b - a);
    expect(Array.from(mem.f32(y2, n))).toEqual(Array.from(mem.f32(y1, n)));
  });

  it('Identity aliases its input; Cast converts among f32/int/bool', () => {
    const r = rng(3);
    const id = runNode(variant, { op: 'Identity', inputs: [randomTensor([5, 3], r)] });
    expect(id.kernel?.aliasOf).toBe(0);
    const x = new Tensor('float32', Float32Array.from([1.5, -1.5, 0, NaN, Infinity, -3e9, 300, -0.25]), [8]);
    for (const to of [1, 2, 3, 6, 9]) checkNode(variant, { op: 'Cast', attrs: { to }, inputs: [x] }, {}, `Cast to ${to}`);
    checkNode(variant, { op: 'Cast', attrs: { to: 1 }, inputs: [randomTensor([9], r, 1000, 'int32')] });
    checkNode(variant, { op: 'Cast', attrs: { to: 1 }, inputs: [randomTensor([9], r, 1, 'bool')] });
  });
});

/** Shape pairs covering same-shape, scalar, per-channel, row-vector and general broadcasts. */
const BROADCASTS: [number[], number[]][] = [
  [[17], [17]], [[1000], [1000]], [[3, 5], [3, 5]],
  [[65], []], [[], [65]], [[1], [7]], [[127], [1]],
  [[2, 16, 7, 7], [16, 1, 1]], [[1, 3, 5, 5], [1, 3, 1, 1]], [[2, 3, 4, 5], [1, 3, 1, 1]],
  [[4, 63], [63]], [[4, 63], [4, 1]], [[4, 1], [1, 63]], [[5, 1, 3], [1, 7, 1]],
  [[2, 3, 4, 5, 6], [3, 1, 5, 1]], [[2, 1, 3, 1, 2, 3], [2, 2, 1, 4, 1, 3]], [[0, 3], [3]], [[2, 3], [0, 1, 3]],
];

describe.each(VARIANTS)('elementwise binary [%s]', (variant) => {
  for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Mean', 'Pow']) {
    it(`${op} over broadcasts`, () => {
      const r = rng(op.length * 31 + 7);
      for (const [da, db] of BROADCASTS) {
        const a = randomTensor(da, r, 4);
        const b = randomTensor(db, r, 4);
        if (op === 'Pow') (a.data as Float32Array).forEach((v, i, arr) => { arr[i] = Math.abs(v) + 0.1; });
        checkNode(variant, { op, inputs: [a, b] }, { rtol: 2e-6 }, `${op} [${da}] [${db}]`);
      }
    });
  }

  it('folds three or more inputs (Max, Min, Sum, Mean)', () => {
    const r = rng(11);
    for (const op of ['Max', 'Min', 'Sum', 'Mean']) {
      checkNode(variant, { op, inputs: [randomTensor([3], r), randomTensor([3], r), randomTensor([3], r)] }, { rtol: 2e-6 });
      checkNode(variant, { op, inputs: [randomTensor([2, 1, 5], r), randomTensor([4, 1], r), randomTensor([5], r), randomTensor([1], r)] }, { rtol: 2e-6 });
      const single = runNode(variant, { op, inputs: [randomTensor([4], r)] });
      expect(single.kernel?.aliasOf).toBe(0);
    }
  });

  it('propagates NaN through Max/Min and keeps PRelu/Div specials', () => {
    const a = new Tensor('float32', Float32Array.from([NaN, 1, -2, 0, -0, Infinity, -Infinity, 3]), [8]);
    const b = new Tensor('float32', Float32Array.from([1, NaN, -3, -0, 0, Infinity, 2, 0]), [8]);
    for (const op of ['Max', 'Min', 'Add', 'Sub', 'Mul', 'Div', 'PRelu']) checkNode(variant, { op, inputs: [a, b] });
  });

  it('PRelu with per-channel and scalar slopes', () => {
    const r = rng(13);
    checkNode(variant, { op: 'PRelu', inputs: [randomTensor([2, 8, 5, 5], r), randomTensor([8, 1, 1], r)] });
    checkNode(variant, { op: 'PRelu', inputs: [randomTensor([67], r), randomTensor([1], r)] });
    checkNode(variant, { op: 'PRelu', inputs: [randomTensor([3, 67], r), randomTensor([67], r)] });
  });

  it('Pow: constant exponents take exact fast paths, others the C pow path', () => {
    const r = rng(17);
    const x = new Tensor('float32', Float32Array.from([2, -2, 0, -0, 1, -1, NaN, Infinity, -Infinity, 0.5, 3.25, -7]), [12]);
    for (const e of [0, 1, 2, 3, 0.5, -1, -2, 1.7]) {
      const run = checkNode(variant, { op: 'Pow', inputs: [x, new Tensor('float32', [e], [])], constants: [1] }, { rtol: 2e-6 }, `Pow ${e}`);
      expect(run.kernel).toBeDefined();
    }
    checkNode(variant, { op: 'Pow', inputs: [x, new Tensor('int64', [2n], [1])], constants: [1] }, {}, 'Pow int64 exponent');
    checkNode(variant, { op: 'Pow', inputs: [x, new Tensor('int32', Int32Array.from([3]), [1])], constants: [1] }, {}, 'Pow int32 exponent');
    checkNode(variant, { op: 'Pow', inputs: [randomTensor([4, 5], r), new Tensor('int32', Int32Array.from([1, 2, 3, 4, 5]), [5])], constants: [1] });
    expect(runNode(variant, { op: 'Pow', inputs: [x, new Tensor('int32', Int32Array.from([3]), [1])] }).kernel).toBeUndefined();
  });

  it('comparisons write bools over broadcasts', () => {
    const r = rng(19);
    for (const op of ['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual']) {
      for (const [da, db] of BROADCASTS) {
        const a = randomTensor(da, r, 2);
        const b = randomTensor(db, r, 2);
        // Quantize so Equal sees ties.
        for (const t of [a, b]) (t.data as Float32Array).forEach((v, i, arr) => { arr[i] = Math.round(v * 2) / 2; });
        checkNode(variant, { op, inputs: [a, b] }, {}, `${op} [${da}] [${db}]`);
      }
      const s = new Tensor('float32', Float32Array.from([NaN, 0, -0, Infinity]), [4]);
      checkNode(variant, { op, inputs: [s, new Tensor('float32', Float32Array.from([NaN, -0, 0, Infinity]), [4])] });
    }
  });

  it('Where selects bit for bit for every element size', () => {
    const r = rng(23);
    const shapes: [number[], number[], number[]][] = [[[7], [7], [7]], [[2, 1, 4], [3, 1], [1, 4]], [[65], [], [65]], [[3, 1], [1, 5], [3, 5]]];
    for (const dtype of ['float32', 'int64', 'int32', 'uint8', 'bool'] as const) {
      for (const [dc, dx, dy] of shapes) {
        checkNode(variant, { op: 'Where', inputs: [randomTensor(dc, r, 1, 'bool'), randomTensor(dx, r, 50, dtype), randomTensor(dy, r, 50, dtype)] }, {}, `Where ${dtype}`);
      }
    }
  });

  it('Clip with constant, runtime, absent and NaN bounds', () => {
    const r = rng(29);
    const x = randomTensor([131], r, 3);
    const lo = new Tensor('float32', [-1], []);
    const hi = new Tensor('float32', [0.5], []);
    checkNode(variant, { op: 'Clip', inputs: [x, lo, hi], constants: [1, 2] });
    checkNode(variant, { op: 'Clip', inputs: [x, lo, hi] });
    checkNode(variant, { op: 'Clip', inputs: [x, undefined, hi] });
    checkNode(variant, { op: 'Clip', inputs: [x, lo] });
    checkNode(variant, { op: 'Clip', inputs: [x] });
    checkNode(variant, { op: 'Clip', inputs: [x, hi, lo] });
    checkNode(variant, { op: 'Clip', inputs: [x, new Tensor('float32', [NaN], [])] });
  });

  it('binary and compare kernels split over row ranges give identical bytes', () => {
    const mem = testMemory(variant);
    const r = rng(37);
    const outDims = [2, 3, 5, 7];
    const walk = broadcastWalk(outDims, [[2, 3, 5, 7], [3, 1, 7]]);
    const rows = walkRows(walk);
    expect(rows).toBeGreaterThan(3);
    const words = walkDescriptor(walk);
    const desc = mem.alloc(words.byteLength);
    mem.i32(desc, words.length).set(words);
    const a = mem.place(randomTensor([2, 3, 5, 7], r)).ptr;
    const b = mem.place(randomTensor([3, 1, 7], r)).ptr;
    const n = 210;
    const [y1, y2, c1, c2] = [mem.alloc(n * 4), mem.alloc(n * 4), mem.alloc(n), mem.alloc(n)];
    binaryF32(mem.exports, 'sub', a, b, y1, desc, 0, rows);
    compareF32(mem.exports, 'less', a, b, c1, desc, 0, rows);
    for (const [o0, o1] of [[0, 1], [1, 7], [7, rows]]) {
      binaryF32(mem.exports, 'sub', a, b, y2, desc, o0!, o1!);
      compareF32(mem.exports, 'less', a, b, c2, desc, o0!, o1!);
    }
    expect(Array.from(mem.f32(y2, n))).toEqual(Array.from(mem.f32(y1, n)));
    expect(Array.from(mem.u8(c2, n))).toEqual(Array.from(mem.u8(c1, n)));
  });
});
