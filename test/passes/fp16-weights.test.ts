// quantizeFp16: float32 weights stored as float16 behind a Cast. Exact graph-after expectations on
// a small MLP, the documented error bound checked on the reference backend, keepFloat, refusals,
// and mnist-8: the exported file is about half the size and runs in onnxruntime-web with Kiln's
// outputs and top-1 accuracy.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/cli/mnist-data.js';
import type { Graph } from '../../src/graph/ir.js';
import { verifyGraph } from '../../src/graph/verify.js';
import { saveOnnx } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { imageDataset } from '../../src/optimize/dataset.js';
import { evaluate } from '../../src/optimize/evaluate.js';
import { optimize } from '../../src/passes/pipeline.js';
import { quantizeFp16, quantizeFp16Pass } from '../../src/passes/quantize/fp16-weights.js';
import { float32ToFloat16 } from '../../src/tensor/float16.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, graph, node, ops, randT, runRef } from './helpers.js';

ort.env.wasm.numThreads = 1;

/** y = Mul(MatMul(Relu(Gemm(x, W, b)), W2), s): W [8, 6] and W2 [6, 4] are big enough, b [6] and s [1] are not. */
function mlp(): Graph {
  return graph('mlp', {
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 8] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 4] }],
    initializers: new Map([['W', randT([8, 6], 1)], ['b', randT([6], 2)], ['W2', randT([6, 4], 3)], ['s', f32([0.5], [1])]]),
    nodes: [
      node('Gemm', ['x', 'W', 'b'], ['h'], {}, 'fc1'),
      node('Relu', ['h'], ['r'], {}, 'relu'),
      node('MatMul', ['r', 'W2'], ['m'], {}, 'fc2'),
      node('Mul', ['m', 's'], ['y'], {}, 'scale'),
    ],
  });
}

const halves = (t: Tensor) => Array.from(t.data as Float32Array, float32ToFloat16);

describe('quantizeFp16', () => {
  it('stores the big float32 weights as float16 behind Casts named after them (exact graph after)', () => {
    const g = mlp();
    const out = quantizeFp16(g);
    verifyGraph(out);
    expect(ops(out)).toEqual(['Cast', 'Cast', 'Gemm', 'Relu', 'MatMul', 'Mul']);
    expect(out.nodes.slice(0, 2)).toEqual([
      { name: 'W_cast', op: 'Cast', domain: '', inputs: ['W_fp16'], outputs: ['W'], attrs: { to: 1 } },
      { name: 'W2_cast', op: 'Cast', domain: '', inputs: ['W2_fp16'], outputs: ['W2'], attrs: { to: 1 } },
    ]);
    expect(out.nodes.slice(2)).toEqual(g.nodes); // consumers unchanged
    expect([...out.initializers.keys()].sort()).toEqual(['W2_fp16', 'W_fp16', 'b', 's']);
    const w = out.initializers.get('W_fp16')!;
    expect(w.type).toBe('float16');
    expect(w.dims).toEqual([8, 6]);
    expect(Array.from(w.data as Uint16Array)).toEqual(halves(g.initializers.get('W')!));
    expect(Array.from(out.initializers.get('W2_fp16')!.data as Uint16Array)).toEqual(halves(g.initializers.get('W2')!));
    expect(out.initializers.get('b')).toBe(g.initializers.get('b')); // small: left as it was
    expect([...g.initializers.keys()]).toEqual(['W', 'b', 'W2', 's']); // input untouched
  });

  it('keeps the weights of keepFloat layers in float32', () => {
    const out = quantizeFp16(mlp(), { keepFloat: ['fc2'] });
    expect(ops(out)).toEqual(['Cast', 'Gemm', 'Relu', 'MatMul', 'Mul']);
    expect(out.initializers.get('W2')!.type).toBe('float32');
    expect(out.initializers.has('W2_fp16')).toBe(false);
  });

  it('leaves weights beyond float16 range in float32, and minElements decides what is small', () => {
    const g = mlp();
    const big = randT([8, 6], 1);
    (big.data as Float32Array)[5] = 1e5;
    g.initializers.set('W', big);
    const out = quantizeFp16(g, { minElements: 6 });
    expect(out.initializers.get('W')!.type).toBe('float32');
    expect([...out.initializers.keys()].sort()).toEqual(['W', 'W2_fp16', 'b_fp16', 's']);
  });

  it('refuses an unknown keepFloat layer and a graph with nothing to convert', () => {
    expect(() => quantizeFp16(mlp(), { keepFloat: ['fc9'] })).toThrow(/keepFloat: no node named 'fc9'/);
    expect(() => quantizeFp16(mlp(), { keepFloat: ['fc1', 'fc2'] })).toThrow(/quantizeFp16: graph 'mlp' has no float32 initializer of at least 16 values outside keepFloat/);
  });

  it('moves a dot product by at most 2^-11 sum|x w| (+ float32 rounding) on the reference backend', async () => {
    const K = 64;
    const g = graph('dot', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3, K] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3, 5] }],
      initializers: new Map([['W', randT([K, 5], 7)]]),
      nodes: [node('MatMul', ['x', 'W'], ['y'])],
    });
    const x = randT([3, K], 8);
    const out = quantizeFp16(g);
    const before = toNumbers((await runRef(g, { x })).get('y')!);
    const after = toNumbers((await runRef(out, { x })).get('y')!);
    const xs = toNumbers(x);
    const ws = toNumbers(g.initializers.get('W')!);
    let moved = 0;
    for (let r = 0; r < 3; r++) for (let j = 0; j < 5; j++) {
      let absSum = 0;
      let xSum = 0;
      for (let k = 0; k < K; k++) { absSum += Math.abs(xs[r * K + k]! * ws[k * 5 + j]!); xSum += Math.abs(xs[r * K + k]!); }
      // fp16 rounding of each weight, the subnormal floor, and two float32 sums of K terms.
      const bound = 2 ** -11 * absSum + 2 ** -25 * xSum + 2 * K * 2 ** -24 * absSum;
      const err = Math.abs(after[r * 5 + j]! - before[r * 5 + j]!);
      expect(err, `y[${r}, ${j}]`).toBeLessThanOrEqual(bound);
      if (err > 0) moved++;
    }
    expect(moved).toBeGreaterThan(0); // the weights did change
  });

  it('runs as a pipeline pass, recorded in provenance', async () => {
    const { graph: out } = await optimize(mlp(), [quantizeFp16Pass({ keepFloat: ['fc1'] })]);
    expect(ops(out)).toEqual(['Cast', 'Gemm', 'Relu', 'MatMul', 'Mul']);
    expect(out.provenance.at(-1)).toMatchObject({ pass: 'quantizeFp16', options: { keepFloat: ['fc1'] } });
  });
});

describe('quantizeFp16 on mnist-8, exported to ONNX', () => {
  const assets = join(import.meta.dirname, '../../assets');
  it('halves the file; onnxruntime-web runs it with Kiln\'s outputs and accuracy', async () => {
    const g = importOnnx(readFileSync(join(assets, 'mnist-8.onnx')));
    const h = quantizeFp16(g);
    const floatBytes = saveOnnx(g);
    const bytes = saveOnnx(h);
    console.log(`mnist-8 exported: float32 weights ${floatBytes.length} bytes, fp16 weights ${bytes.length} bytes`);
    expect(bytes.length).toBeLessThan(floatBytes.length * 0.55);
    expect(importOnnx(bytes).nodes.filter((n) => n.op === 'Cast').length).toBeGreaterThan(0);

    const test = loadMnist(join(assets, 'mnist/t10k-images-idx3-ubyte.gz'), join(assets, 'mnist/t10k-labels-idx1-ubyte.gz'));
    const input = g.inputs[0]!.name;
    const output = g.outputs[0]!.name;
    const data = imageDataset(input, test.images, 28, 28);
    const kilnFloat = await evaluate(g, data, test.labels, { backend: 'wasm' });
    const kilnHalf = await evaluate(h, data, test.labels, { backend: 'wasm' });
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    let correct = 0;
    for (let i = 0; i < data.length; i++) {
      const x = data.sample(i)[input]!;
      const r = await session.run({ [input]: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) });
      const scores = r[output]!.data as Float32Array;
      if (i < 20) {
        // Same graph, same float32 arithmetic up to summation order: float32 tolerance.
        const want = toNumbers((await runRef(h, { [input]: x })).get(output)!);
        const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        for (let k = 0; k < want.length; k++) expect(Math.abs(scores[k]! - want[k]!)).toBeLessThanOrEqual(1e-5 * scale);
      }
      let best = 0;
      for (let k = 1; k < scores.length; k++) if (scores[k]! > scores[best]!) best = k;
      if (best === test.labels[i]) correct++;
    }
    await session.release();
    console.log(`mnist-8 top-1 on ${data.length} test images: float32 ${kilnFloat.correct}, fp16 weights Kiln wasm ${kilnHalf.correct}, onnxruntime-web ${correct}`);
    expect(correct).toBe(kilnHalf.correct);
    expect(Math.abs(kilnHalf.correct - kilnFloat.correct)).toBeLessThanOrEqual(5);
  }, 300_000);
});

const MODELS = join(import.meta.dirname, '../../../shared/models');

describe.skipIf(!existsSync(MODELS))('quantizeFp16 on the real float models', () => {
  for (const [file, dims] of [['ultraface-RFB-320.onnx', [1, 3, 240, 320]], ['superres-core_derived.onnx', [1, 1, 224, 224]]] as const) {
    it(`${file}: about half the bytes, onnxruntime-web agrees with Kiln on the fp16 graph`, async () => {
      const g = importOnnx(readFileSync(join(MODELS, file)));
      const h = quantizeFp16(g);
      const floatBytes = saveOnnx(g).length;
      const bytes = saveOnnx(h);
      console.log(`${file}: ${floatBytes} -> ${bytes.length} bytes with fp16 weights`);
      expect(bytes.length).toBeLessThan(floatBytes * 0.53);
      const input = g.inputs[0]!.name;
      const x = randT([...dims], 11);
      const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
      const got = await session.run({ [input]: new ort.Tensor('float32', x.data as Float32Array, [...dims]) });
      await session.release();
      const want = await runRef(h, { [input]: x });
      for (const [name, w] of want) {
        const a = got[name]!.data as Float32Array;
        const b = toNumbers(w);
        const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        let worst = 0;
        for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        expect(worst, name).toBeLessThanOrEqual(1e-5 * scale);
      }
    }, 120_000);
  }
});
