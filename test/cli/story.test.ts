// The default command's story on a slice of the test set: every variant is scored and measured,
// and the report is written with all of them.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/backends/wasm/index.js';
import { runStory } from '../../src/cli/story.js';

describe('kiln story (npm start)', () => {
  it('scores the float model, every quantization, pruning and clustering, then writes the report', { timeout: 240_000 }, async () => {
    const report = join(mkdtempSync(join(tmpdir(), 'kiln-story-')), 'r.html');
    const lines: string[] = [];
    const rows = await runStory({ report, limit: 300, calibration: 200, quiet: true }, (s) => lines.push(s));
    expect(rows.map((r) => r.name)).toEqual([
      'float32', 'int8 static minmax', 'int8 static percentile', 'int8 static entropy', 'int8 static mse', 'int8 static mse, 7-bit w',
      'int8 dynamic', 'int4 weight-only', 'int8 weight-only', 'fp16 weights', 'mixed, max-drop 0.1',
      'pruned 50% global', 'pruned 75% global', 'pruned 90% global', 'pruned 2:4', 'channels pruned 50%',
      'clustered k=16', 'pruned 50% + clustered 16', 'pruned 50% + int8 static', 'search pick, max-drop 0.5',
    ]);
    const float = rows[0]!;
    const row = (name: string) => rows.find((r) => r.name === name)!;
    for (const r of rows) {
      expect(r.accuracy!.count).toBe(300);
      expect(r.latency1).toBeGreaterThan(0);
      expect(r.latencyN).toBeGreaterThan(0);
    }
    // Quantization keeps accuracy and shrinks the file.
    for (const r of rows.slice(1, 11)) {
      expect(r.accuracy!.accuracy).toBeGreaterThan(0.95);
      expect(r.bytes).toBeLessThan(float.bytes);
    }
    // Pruning without fine-tuning: mild at 50% and 2:4; 90% is reported, whatever it costs.
    for (const name of ['pruned 50% global', 'pruned 2:4', 'pruned 50% + clustered 16', 'pruned 50% + int8 static']) expect(row(name).accuracy!.accuracy).toBeGreaterThan(0.95);
    expect(row('pruned 75% global').accuracy!.accuracy).toBeGreaterThan(0.85);
    // Whole channels removed: a smaller graph, not zeros.
    expect(row('channels pruned 50%').floatOps).toBeLessThan(0.5 * float.floatOps);
    expect(row('channels pruned 50%').parameters).toBeLessThan(0.5 * float.parameters);
    // Clustering to 16 values: 4-bit indices, the file at least 5x smaller.
    expect(row('clustered k=16').accuracy!.accuracy).toBeGreaterThan(0.95);
    expect(row('clustered k=16').bytes * 5).toBeLessThan(float.bytes);
    expect(row('pruned 50% + clustered 16').bytes).toBeLessThan(row('clustered k=16').bytes);
    // The budget search (chosen on training digits): within about its 0.5-point budget on the test
    // images too (300 of them here, so one image is a third of a point), and smaller than float.
    expect(row('search pick, max-drop 0.5').accuracy!.accuracy).toBeGreaterThan(float.accuracy!.accuracy - 0.015);
    expect(row('search pick, max-drop 0.5').bytes * 2).toBeLessThan(float.bytes);
    // int8 static: the weighted layers run on integer kernels.
    expect(rows[1]!.intOps).toBeGreaterThan(rows[1]!.floatOps * 10);
    expect(float.intOps).toBe(0);
    expect(lines.join('\n')).toMatch(/report written to .*r\.html/);
    const html = readFileSync(report, 'utf8');
    for (const r of rows) expect(html).toContain(`<td>${r.name}</td>`);
    expect(html.match(/<svg/g)?.length).toBe(5);
  });
});
