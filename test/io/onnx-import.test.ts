import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/io/onnx/import.js';
import { verifyGraph } from '../../src/graph/verify.js';
import '../../src/ops/index.js';
import { encodeModel, reluModel } from '../helpers/onnx-build.js';

const MNIST = readFileSync(new URL('../../assets/mnist-8.onnx', import.meta.url));

describe('ONNX import', () => {
  it('reads mnist-8 (opset 8): initializers, shapes, upgraded Reshape', () => {
    const g = importOnnx(MNIST);
    expect(g.opsets['']).toBe(8);
    expect(g.inputs.map((v) => [v.name, v.dtype, v.shape])).toEqual([['Input3', 'float32', [1, 1, 28, 28]]]);
    expect(g.outputs[0]!.shape).toEqual([1, 10]);
    const { types } = verifyGraph(g);
    expect(types.get(g.outputs[0]!.name)?.shape).toEqual([1, 10]);
  });

  it('keeps symbolic dimensions', () => {
    const g = importOnnx(reluModel(['batch', 3]));
    expect(g.inputs[0]!.shape).toEqual(['batch', 3]);
    expect(verifyGraph(g).types.get('y')?.shape).toEqual(['batch', 3]);
  });

  it('rejects every truncation of a real model with a clear error', () => {
    const cuts = [0, 1, 2, 7, 100, 1000, 5000, MNIST.length >> 1, MNIST.length - 100, MNIST.length - 1];
    for (const n of cuts) {
      expect(() => verifyGraph(importOnnx(MNIST.subarray(0, n))), `cut at ${n}`).toThrow(/ONNX import|malformed|truncated|empty|has no graph|not produced|needs|raw_data/);
    }
  });

  it('survives random corruption: every mutation loads or throws an Error, never anything else', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 300; trial++) {
      const bytes = Uint8Array.from(MNIST);
      const flips = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < flips; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      try {
        verifyGraph(importOnnx(bytes));
      } catch (e) {
        expect(e, `trial ${trial}`).toBeInstanceOf(Error);
        expect((e as Error).message.length).toBeGreaterThan(0);
      }
    }
  });

  it('names node, op, domain and opset for an unknown op', () => {
    const bytes = encodeModel({
      opset: 13,
      inputs: [{ name: 'x', elemType: 1, dims: [2] }],
      outputs: [{ name: 'y', elemType: 1, dims: [2] }],
      nodes: [{ op: 'FancyOp', inputs: ['x'], outputs: ['y'], domain: 'com.example' }],
      extraOpsets: [{ domain: 'com.example', version: 3 }],
    });
    expect(() => verifyGraph(importOnnx(bytes))).toThrow(/node 'n0'.*FancyOp.*com\.example.*opset 3|unsupported op 'FancyOp' \(domain 'com\.example', opset 3\)/);
  });

  it('rejects external data, unsupported dtypes and absurd dimensions', () => {
    const withInit = (init: Record<string, unknown>) => encodeModel({
      inputs: [{ name: 'x', elemType: 1, dims: [2] }],
      outputs: [{ name: 'y', elemType: 1, dims: [2] }],
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [{ name: 'w', ...init }],
    });
    expect(() => importOnnx(withInit({ dims: [2], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }))).toThrow(/external data/);
    expect(() => importOnnx(withInit({ dims: [2], dataType: 14, floatData: [1, 2, 3, 4] }))).toThrow(/unsupported data type COMPLEX64/);
    expect(() => importOnnx(withInit({ dims: [1 << 20, 1 << 20], dataType: 1, rawData: new Uint8Array(8) }))).toThrow(/exceeds the limit/);
    expect(() => importOnnx(withInit({ dims: [3], dataType: 1, rawData: new Uint8Array(8) }))).toThrow(/raw_data has 8 bytes/);
    expect(() => importOnnx(withInit({ dims: [-2], dataType: 1, floatData: [] }))).toThrow(/invalid dimension/);
    expect(() => importOnnx(withInit({ dims: [3], dataType: 1, floatData: [1, 2] }))).toThrow(/has 2 values/);
  });

  it('rejects non-ONNX input', () => {
    expect(() => importOnnx(new Uint8Array(0))).toThrow(/empty/);
    expect(() => importOnnx(new TextEncoder().encode('hello, this is not a model'))).toThrow(/ONNX import/);
  });

  it('moves opset-12 Squeeze axes and opset-9 Slice attributes to inputs', () => {
    const squeeze = importOnnx(encodeModel({
      opset: 11,
      inputs: [{ name: 'x', elemType: 1, dims: [1, 3, 1] }],
      outputs: [{ name: 'y', elemType: 1, dims: [3] }],
      nodes: [{ op: 'Squeeze', inputs: ['x'], outputs: ['y'], attrs: [{ name: 'axes', type: 7, ints: [0, 2] }] }],
    }));
    expect(squeeze.nodes[0]!.inputs.length).toBe(2);
    expect(Array.from(squeeze.initializers.get(squeeze.nodes[0]!.inputs[1]!)!.data as BigInt64Array)).toEqual([0n, 2n]);
    expect(verifyGraph(squeeze).types.get('y')?.shape).toEqual([3]);
  });
});
