import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { reluModel } from '../helpers/onnx-build.js';

describe('InferenceSession', () => {
  it('loads bytes, a path and a file URL, and runs with named feeds', async () => {
    const bytes = reluModel(['N', 4]);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-'));
    const path = join(dir, 'relu.onnx');
    writeFileSync(path, bytes);
    for (const src of [bytes, path, pathToFileURL(path).href, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)]) {
      const s = await InferenceSession.create(src as Uint8Array, { backend: 'reference' });
      expect(s.inputNames).toEqual(['x']);
      expect(s.outputNames).toEqual(['y']);
      const out = await s.run({ x: new Tensor('float32', Float32Array.of(-1, 2, -3, 4, 5, -6, 7, -8), [2, 4]) });
      expect(out.y!.type).toBe('float32');
      expect(out.y!.dims).toEqual([2, 4]);
      expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 2, 0, 4, 5, 0, 7, 0]);
    }
  });

  it('loads from an http URL with fetch, and reports HTTP errors', async () => {
    const { createServer } = await import('node:http');
    const bytes = reluModel([2]);
    const server = createServer((req, res) => {
      if (req.url === '/relu.onnx') res.writeHead(200).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const s = await InferenceSession.create(`${base}/relu.onnx`);
      const out = await s.run({ x: new Tensor('float32', Float32Array.of(-1, 1), [2]) });
      expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 1]);
      await expect(InferenceSession.create(new URL(`${base}/missing.onnx`))).rejects.toThrow(/HTTP 404/);
    } finally {
      server.close();
    }
  });

  it('accepts onnxruntime-style tensor objects', async () => {
    const s = await InferenceSession.create(reluModel([4]), { backend: 'auto' });
    const out = await s.run({ x: { type: 'float32', data: Float32Array.of(-1, 1, -2, 2), dims: [4] } });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([0, 1, 0, 2]);
  });

  it('gives clear errors for wrong feeds', async () => {
    const s = await InferenceSession.create(reluModel(['N', 4]), { backend: 'reference' });
    const good = new Tensor('float32', new Float32Array(8), [2, 4]);
    await expect(s.run({})).rejects.toThrow(/missing input 'x' \(float32 \[N, 4\]\)/);
    await expect(s.run({ x: good, z: good })).rejects.toThrow(/unknown input 'z'.*'x'/);
    await expect(s.run({ x: new Tensor('int32', new Int32Array(8), [2, 4]) })).rejects.toThrow(/must be float32, got int32/);
    await expect(s.run({ x: new Tensor('float32', new Float32Array(8), [8]) })).rejects.toThrow(/shape \[N, 4\].*rank 1/);
    await expect(s.run({ x: new Tensor('float32', new Float32Array(6), [2, 3]) })).rejects.toThrow(/shape \[N, 4\], got \[2, 3\]/);
    await expect(s.run({ x: good }, ['nope'])).rejects.toThrow(/unknown output 'nope'/);
    await expect(s.run({ x: { type: 'complex64', data: new Float32Array(16), dims: [2, 4] } })).rejects.toThrow(/supported type/);
  });

  it('rejects bad tensors at construction', () => {
    expect(() => new Tensor('float32', new Float32Array(5), [2, 3])).toThrow(/5 elements but dims need 6/);
    expect(() => new Tensor('float32', new Int32Array(6) as unknown as Float32Array, [2, 3])).toThrow(/must be a Float32Array/);
    expect(() => new Tensor('float32', new Float32Array(1), [2 ** 20, 2 ** 20])).toThrow(/exceeds the limit/);
    expect(() => new Tensor('float32', new Float32Array(1), [-1])).toThrow(/invalid dimension/);
  });

  it('reports missing files and unknown backends', async () => {
    await expect(InferenceSession.create('/no/such/model.onnx')).rejects.toThrow(/cannot read model file/);
    await expect(InferenceSession.create(reluModel(), { backend: 'nope' as 'wasm' })).rejects.toThrow(/backend 'nope'/);
  });

  it('checks symbolic dimensions agree across inputs', async () => {
    const { encodeModel } = await import('../helpers/onnx-build.js');
    const bytes = encodeModel({
      inputs: [{ name: 'a', elemType: 1, dims: ['N', 2] }, { name: 'b', elemType: 1, dims: ['N', 2] }],
      outputs: [{ name: 'c', elemType: 1, dims: ['N', 2] }],
      nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['c'] }],
    });
    const s = await InferenceSession.create(bytes);
    await expect(s.run({ a: new Tensor('float32', new Float32Array(4), [2, 2]), b: new Tensor('float32', new Float32Array(6), [3, 2]) }))
      .rejects.toThrow(/dimension 'N' is 2 in input 'a' but 3 in input 'b'/);
  });
});
