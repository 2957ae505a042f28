// The real-model catalog's test-time edits (test/models/model-edits.ts): chunk reassembly checks
// that the chunks cover the file exactly, and atResolution rewrites the declared input and both
// forms of constant Resize targets, refusing targets that do not scale to integers.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/graph/ir.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { saveOnnx } from '../../src/io/onnx/export.js';
import { toIntList } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { graph, node } from '../passes/helpers.js';
import { atResolution, reassembleChunks } from './model-edits.js';

const i64 = (v: number[]): Tensor => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);

describe('reassembleChunks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-chunks-'));
  writeFileSync(join(dir, 'aa'), Uint8Array.of(1, 2, 3));
  writeFileSync(join(dir, 'bb'), Uint8Array.of(4, 5));
  const index = (entries: object) => {
    const p = join(dir, `index-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(p, JSON.stringify(entries));
    return p;
  };

  it('concatenates the chunks at their offsets', () => {
    const p = index({ '/m': { size: 5, chunks: [{ hash: 'aa', offsets: [0, 3] }, { hash: 'bb', offsets: [3, 5] }] } });
    expect(Array.from(reassembleChunks(p, '/m'))).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses a missing key, a chunk of the wrong length and a gap', () => {
    const p = index({
      short: { size: 5, chunks: [{ hash: 'aa', offsets: [0, 2] }] },
      gap: { size: 6, chunks: [{ hash: 'aa', offsets: [0, 3] }, { hash: 'bb', offsets: [4, 6] }] },
    });
    expect(() => reassembleChunks(p, '/none')).toThrow(/no resource \/none/);
    expect(() => reassembleChunks(p, 'short')).toThrow(/chunk aa has 3 bytes, index says 2/);
    expect(() => reassembleChunks(p, 'gap')).toThrow(/cover 5 of 6 bytes/);
  });
});

describe('atResolution', () => {
  /** x [1,2,8,8] -> MaxPool 2x2 -> Resize to constant [1,2,8,8] (initializer) -> Resize to Concat(Shape[:2], Constant [16,16]). */
  function model(): Graph {
    return graph('m', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 8, 8] }],
      outputs: [{ name: 'z', dtype: 'float32', shape: [1, 2, 16, 16] }],
      initializers: new Map([['sizes', i64([1, 2, 8, 8])], ['start', i64([0])], ['end', i64([2])]]),
      nodes: [
        node('MaxPool', ['x'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] }),
        node('Resize', ['p', '', '', 'sizes'], ['y'], { mode: 'linear' }),
        node('Shape', ['y'], ['s']),
        node('Slice', ['s', 'start', 'end'], ['nc']),
        node('Constant', [], ['hw'], { value: i64([16, 16]) }),
        node('Concat', ['nc', 'hw'], ['sizes2'], { axis: 0 }),
        node('Resize', ['y', '', '', 'sizes2'], ['z'], { mode: 'linear' }),
      ],
    });
  }

  it('scales the input and both forms of Resize targets, dropping declared output shapes', () => {
    const g = importOnnx(atResolution(saveOnnx(model()), 8, 4));
    expect(g.inputs[0]!.shape).toEqual([1, 2, 4, 4]);
    expect(g.outputs[0]!.shape).toBeUndefined();
    expect(toIntList(g.initializers.get('sizes')!)).toEqual([1, 2, 4, 4]);
    const hw = g.nodes.find((n) => n.op === 'Constant')!.attrs.value as Tensor;
    expect(toIntList(hw)).toEqual([8, 8]);
  });

  it('refuses a target that does not scale to an integer', () => {
    expect(() => atResolution(saveOnnx(model()), 16, 5)).toThrow(/size 8 does not scale to an integer at 5/);
  });
});
