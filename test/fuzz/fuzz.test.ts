// The CI slice of the input fuzzer: a few hundred cases from fixed fast-check seeds, each run in
// a child process with a time and heap limit (pool.ts), so a hang or an out-of-memory shows up as
// a failed case instead of a stuck or killed test run. Every case must end in a correct run or a
// clear Error; findings print with their plan, which replays with
// `npm run fuzz -- --replay <file>` once written to JSON (see cli.ts).
import { describe, expect, it } from 'vitest';
import { judge } from './execute.js';
import { samplePlans } from './plans.js';
import { runPlans, summarize } from './pool.js';

/** Several fast-check seeds, so CI sees different corners than a single stream would. */
const SEEDS = [1, 2, 3, 4, 5, 6];
const PER_SEED = 100;

describe('input fuzzer (CI slice)', () => {
  it('judges only engine-internal errors as findings', () => {
    expect(judge(new Error('ONNX import: bad'))).toBeNull();
    expect(judge(new TypeError("Cannot read properties of undefined (reading 'dims')"))?.cls).toBe('internal-TypeError');
    expect(judge(new RangeError('Invalid typed array length: -4'))?.cls).toBe('internal-RangeError');
    expect(judge('a string')?.cls).toBe('non-error-throw');
  });

  it(`${SEEDS.length * PER_SEED} mutated models, .kiln files and feeds end in a run or a clear Error`, async () => {
    const plans = SEEDS.flatMap((s) => samplePlans(PER_SEED, s));
    const started = Date.now();
    const results = await runPlans(plans, { workers: 2, timeoutMs: 20_000, memoryMb: 768 });
    const findings = results.filter((r) => r.outcome.kind === 'finding');
    const summary = summarize(results);
    console.log(`fuzz: ${results.length} cases in ${((Date.now() - started) / 1000).toFixed(1)} s`, summary);
    expect(results).toHaveLength(plans.length);
    expect(findings.map((f) => ({ outcome: f.outcome, plan: JSON.stringify(f.plan) }))).toEqual([]);
    // The mutations must reach past the parser: some cases must compile and run on both backends.
    expect(results.filter((r) => r.outcome.kind === 'ok' && r.outcome.stage === 'compare').length).toBeGreaterThan(plans.length / 20);
  }, 180_000);
});
