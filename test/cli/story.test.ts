// The default command's story on a slice of the test set: every variant is scored and measured,
// and the report is written with all of them.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/backends/wasm/index.js';
import { runStory } from '../../src/cli/story.js';

describe('kiln story (npm start)', () => {
  it('scores the float model and every quantization, then writes the report', { timeout: 240_000 }, async () => {
    const report = join(mkdtempSync(join(tmpdir(), 'kiln-story-')), 'r.html');
    const lines: string[] = [];
    const rows = await runStory({ report, limit: 300, calibration: 200, quiet: true }, (s) => lines.push(s));
    expect(rows.map((r) => r.name)).toEqual([
      'float32', 'int8 static minmax', 'int8 static percentile', 'int8 static entropy', 'int8 static mse', 'int8 static mse, 7-bit w',
      'int8 dynamic', 'int4 weight-only', 'int8 weight-only', 'fp16 weights', 'mixed, max-drop 0.1',
    ]);
    const float = rows[0]!;
    for (const r of rows) {
      expect(r.accuracy!.count).toBe(300);
      expect(r.accuracy!.accuracy).toBeGreaterThan(0.95);
      expect(r.latency1).toBeGreaterThan(0);
      expect(r.latencyN).toBeGreaterThan(0);
      if (r !== float) expect(r.bytes).toBeLessThan(float.bytes);
    }
    // int8 static: the weighted layers run on integer kernels.
    expect(rows[1]!.intOps).toBeGreaterThan(rows[1]!.floatOps * 10);
    expect(float.intOps).toBe(0);
    expect(lines.join('\n')).toMatch(/report written to .*r\.html/);
    const html = readFileSync(report, 'utf8');
    for (const r of rows) expect(html).toContain(`<td>${r.name}</td>`);
    expect(html.match(/<svg/g)?.length).toBe(3);
  });
});
