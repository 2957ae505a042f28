// The kiln command as a user runs it: the built CLI in dist/ (npm test builds first).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reluModel } from '../helpers/onnx-build.js';

const BIN = join(import.meta.dirname, '../../bin/kiln.mjs');
const built = existsSync(join(import.meta.dirname, '../../dist/cli.js'));
const kiln = (...args: string[]) => execFileSync('node', [BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe.skipIf(!built)('kiln CLI (built)', () => {
  it('runs the main job on the bundled model and data', () => {
    const out = kiln('demo', '--limit', '200', '--backend', 'reference');
    expect(out).toMatch(/mnist-8 on 200 MNIST test images/);
    const acc = Number(/top-1 accuracy: ([\d.]+)%/.exec(out)?.[1]);
    expect(acc).toBeGreaterThan(97);
    expect(out).toMatch(/latency per image .* median [\d.]+ ms/);
  });

  it('inspects, converts and runs a model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
    const onnx = join(dir, 'relu.onnx');
    writeFileSync(onnx, reluModel(['N', 4]));
    expect(kiln('inspect', onnx)).toMatch(/Relu\s+1[\s\S]*FLOPs per run \(symbolic dims = 1\): 4/);
    const out = join(dir, 'relu.kiln');
    expect(kiln('convert', onnx, out)).toMatch(/wrote .*relu\.kiln/);
    expect(kiln('run', out, '--dim', 'N=3')).toMatch(/output y: float32\[3, 4\]/);
  });

  it('optimizes with a report (the charting library loads from the built CLI)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
    const model = join(import.meta.dirname, '../../assets/mnist-8.onnx');
    const out = kiln('optimize', model, '-o', join(dir, 'm.kiln'), '--quantize', 'int8-dynamic', '--eval-data', 'mnist-test:100', '--eval-labels', 'mnist-test:100', '--report', join(dir, 'r.html'));
    expect(out).toMatch(/^int8-dynamic\s+\d+\s+\d+\s+6\.0k\s+float32 57% int8 43%/m);
    expect(out).toMatch(/report: .*r\.html/);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toMatch(/<svg[\s\S]*<svg/);
    expect(() => kiln('optimize', model, '-o', join(dir, 'x.kiln'), '--quantize', 'int8', '--calibrate', 'random:2', '--keep-float', 'nope')).toThrow(/kiln: --keep-float: no layer named 'nope'/);
    expect(existsSync(join(dir, 'x.kiln'))).toBe(false);
  });

  it('fails cleanly on bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'definitely not a model');
    expect(() => kiln('inspect', bad)).toThrow(/kiln: ONNX import/);
    expect(() => kiln('run', join(dir, 'missing.onnx'))).toThrow(/cannot read model file/);
    expect(() => kiln('demo', '--limit', 'lots')).toThrow(/--limit must be a positive integer/);
  });
});
