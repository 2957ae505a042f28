// `kiln optimize --max-drop P --target size|latency`: the budget search from the command line (in
// process, as bin/kiln.mjs calls it): the pick is written, every candidate and both fronts are
// printed, the report plots them; bad combinations fail with nothing written.
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/backends/wasm/index.js';
import { optimizeCommand } from '../../src/cli/optimize.js';
import { loadKiln } from '../../src/io/kiln-format/index.js';

const MODEL = join(import.meta.dirname, '../../assets/mnist-8.onnx');
const dir = mkdtempSync(join(tmpdir(), 'kiln-search-'));

describe('kiln optimize --target', () => {
  it('writes the smallest model within the budget and prints the candidates and fronts', { timeout: 180_000 }, async () => {
    const out = join(dir, 'pick.kiln');
    const report = join(dir, 'search.html');
    const lines: string[] = [];
    const code = await optimizeCommand([MODEL, '-o', out, '--max-drop', '0.5', '--target', 'size', '--eval-data', 'mnist-test:300',
      '--eval-labels', 'mnist-test:300', '--calibrate', 'mnist-train:128', '--report', report, '--quiet'], (s) => lines.push(s));
    expect(code).toBe(0);
    const log = lines.join('\n');
    const row = (name: string) => log.split('\n').find((l) => l.startsWith(name))!;
    const accuracy = (line: string) => Number(/(\d+\.\d+)%/.exec(line)![1]);
    expect(accuracy(row('float'))).toBeGreaterThan(97);
    expect(accuracy(row('float')) - accuracy(row('search pick (size)'))).toBeLessThanOrEqual(0.5);
    expect(log).toMatch(/search \(size, max drop 0\.5\): \d+ candidates; picked /);
    expect(log).toMatch(/Pareto front, accuracy vs file bytes:/);
    expect(log).toMatch(/Pareto front, accuracy vs latency/);
    // The file written is the pick, and far smaller than the float model's 25 KB.
    const bytes = statSync(out).size;
    expect(bytes).toBeLessThan(25_024 / 2);
    expect(loadKiln(readFileSync(out)).nodes.length).toBeGreaterThan(0);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('Budget search (size, max drop 0.5 points)');
    expect(html.match(/<svg/g)?.length).toBe(4);
  });

  it('bad combinations: a clear error, nothing written', async () => {
    const out = join(dir, 'never.kiln');
    const bad = async (args: string[], msg: RegExp) => {
      await expect(optimizeCommand([MODEL, '-o', out, ...args, '--quiet'], () => {})).rejects.toThrow(msg);
      expect(existsSync(out)).toBe(false);
    };
    const data = ['--eval-data', 'mnist-test:20', '--eval-labels', 'mnist-test:20'];
    await bad(['--max-drop', '0.5', '--target', 'speed', ...data], /--target: unknown target 'speed' \(size, latency\)/);
    await bad(['--target', 'size', ...data], /--target needs --max-drop P/);
    await bad(['--max-drop', '0.5', '--target', 'size'], /--target needs evaluation data: --eval-data X/);
    await bad(['--max-drop', '0.5', '--target', 'latency', '--quantize', 'int4', '--prune', '0.5', ...data], /--target searches quantization, pruning and clustering per layer itself: drop --quantize, --prune/);
  });
});
