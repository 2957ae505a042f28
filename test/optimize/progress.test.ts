// Progress callbacks of the optimization API: calibration reports each pass over the data
// (ranges, then histograms for histogram observers), evaluation its samples, both ending at total.
import { describe, expect, it } from 'vitest';
import { take } from '../../src/optimize/dataset.js';
import { evaluate } from '../../src/optimize/evaluate.js';
import { quantizeStatic } from '../../src/optimize/quantize-static.js';
import { mnist8, mnistSet } from './mnist-data.js';

describe('progress callbacks', () => {
  it('quantizeStatic (via calibration) and evaluate report done/total per phase', { timeout: 60_000 }, async () => {
    const g = mnist8();
    const cal = take(mnistSet('train').data, 40);
    const events: [number, number, string][] = [];
    const q = await quantizeStatic(g, cal, { method: 'percentile', onProgress: (d, t, p) => events.push([d, t, p]) });
    expect(events).toEqual([[16, 40, 'ranges'], [32, 40, 'ranges'], [40, 40, 'ranges'], [16, 40, 'histograms'], [32, 40, 'histograms'], [40, 40, 'histograms']]);
    const test = mnistSet('test', 0, 250);
    const ev: [number, number, string][] = [];
    const acc = await evaluate(q, test.data, test.labels, { onProgress: (d, t, p) => ev.push([d, t, p]) });
    expect(ev).toEqual([[100, 250, 'evaluate'], [200, 250, 'evaluate'], [250, 250, 'evaluate']]);
    expect(acc.count).toBe(250);
  });
});
