// The WASM backend with a worker pool: split GEMM and conv kernels must give exactly the
// single-thread results, and releasing the session must stop the workers.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';

let seed = 5;
const rand = (dims: number[]) => {
  const n = dims.reduce((a, b) => a * b, 1);
  return new Tensor('float32', Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5), dims);
};

function model() {
  const b = new GraphBuilder('threads');
  const x = b.input('x', 'float32', [2, 16, 40, 40]);
  const c1 = b.op('Relu', [b.op('Conv', [x, b.constant('w1', rand([32, 16, 3, 3])), b.constant('b1', rand([32]))], { pads: [1, 1, 1, 1] })]);
  const dw = b.op('Conv', [c1, b.constant('w2', rand([32, 1, 3, 3]))], { pads: [1, 1, 1, 1], group: 32, strides: [2, 2] });
  const pw = b.op('Clip', [b.op('Conv', [dw, b.constant('w3', rand([64, 32, 1, 1]))]), b.constant('lo', new Tensor('float32', Float32Array.of(0), [])), b.constant('hi', new Tensor('float32', Float32Array.of(6), []))]);
  const flat = b.op('Flatten', [pw]);
  b.output(b.op('Gemm', [flat, b.constant('w4', rand([64 * 20 * 20, 96])), b.constant('b4', rand([96]))]));
  return b.build();
}

describe('WASM backend on a worker pool', () => {
  it('gives bit-identical results with 1, 2 and 3 threads', async () => {
    const g = model();
    const x = rand([2, 16, 40, 40]);
    const outputs: Float32Array[] = [];
    for (const threads of [1, 2, 3]) {
      const s = await InferenceSession.create(g, { backend: 'wasm', threads });
      const y = (await s.run({ x }))[s.outputNames[0]!]!.data as Float32Array;
      expect(y.buffer).toBeInstanceOf(ArrayBuffer);
      outputs.push(y);
      expect(s.fallbackNodes()).toEqual([]);
      await s.release();
    }
    expect(Array.from(outputs[1]!)).toEqual(Array.from(outputs[0]!));
    expect(Array.from(outputs[2]!)).toEqual(Array.from(outputs[0]!));
  });

  it('splits a GEMM whose last row chunk is one row wide (M = 4k + 1) without changing results', async () => {
    const b = new GraphBuilder('rows');
    b.output(b.op('MatMul', [b.input('a', 'float32', [9, 512]), b.constant('w', rand([512, 512]))]));
    const g = b.build();
    const a = rand([9, 512]);
    const outputs: Float32Array[] = [];
    for (const threads of [1, 3]) {
      const s = await InferenceSession.create(g, { backend: 'wasm', threads });
      outputs.push((await s.run({ a }))[s.outputNames[0]!]!.data as Float32Array);
      await s.release();
    }
    expect(Array.from(outputs[1]!)).toEqual(Array.from(outputs[0]!));
  });

  it('rejects a bad thread count', async () => {
    await expect(InferenceSession.create(model(), { backend: 'wasm', threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
  });
});
