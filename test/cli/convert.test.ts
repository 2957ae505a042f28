// `kiln convert` in both directions, in process (the built-binary tests live in cli.test.ts):
// .onnx -> .kiln -> .onnx gives back the model, and a model ONNX cannot express leaves no file.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertCommand } from '../../src/cli/convert.js';
import { emptyGraph } from '../../src/graph/ir.js';
import { saveKiln } from '../../src/io/kiln-format/index.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { graphDiff } from '../helpers/graph-equal.js';

const MNIST = join(import.meta.dirname, '../../assets/mnist-8.onnx');

describe('kiln convert', () => {
  it('converts ONNX -> .kiln -> ONNX and the model reads back the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-convert-'));
    const lines: string[] = [];
    const log = (s: string) => { lines.push(s); };
    expect(convertCommand([MNIST, join(dir, 'm.kiln')], log)).toBe(0);
    expect(convertCommand([join(dir, 'm.kiln'), join(dir, 'm.onnx')], log)).toBe(0);
    expect(lines[1]).toMatch(/wrote .*m\.onnx \(\d+ bytes, ONNX\)/);
    const g = importOnnx(readFileSync(MNIST));
    const back = importOnnx(readFileSync(join(dir, 'm.onnx')));
    expect(graphDiff(g, back, { expectOpsets: { '': 21 } })).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(['m.kiln', 'm.onnx']);
  });

  it('refuses a graph with an unknown Kiln-only op and writes nothing to OUT', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-convert-'));
    const g = emptyGraph('bad');
    g.inputs = [{ name: 'x', dtype: 'float32', shape: [2] }];
    g.outputs = [{ name: 'y', dtype: 'float32', shape: [2] }];
    g.opsets['ai.kiln'] = 1;
    g.nodes = [{ name: 'mystery', op: 'Mystery', domain: 'ai.kiln', inputs: ['x'], outputs: ['y'], attrs: {} }];
    const src = join(dir, 'bad.kiln');
    writeFileSync(src, saveKiln(g));
    const out = join(dir, 'bad.onnx');
    expect(() => convertCommand([src, out], () => {})).toThrow(/'Mystery' \(domain 'ai\.kiln'/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(['bad.kiln']);
  });

  it('needs a known output format', () => {
    expect(() => convertCommand([MNIST, 'out.bin'], () => {})).toThrow(/cannot tell the output format from 'out\.bin'/);
    expect(() => convertCommand([MNIST, 'out.bin', '--to', 'tflite'], () => {})).toThrow(/--to must be onnx or kiln/);
    expect(() => convertCommand(['missing.onnx', 'out.onnx'], () => {})).toThrow(/cannot read model file 'missing\.onnx'/);
  });
});
