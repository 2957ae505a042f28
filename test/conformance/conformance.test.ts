// The ONNX backend tests in ../shared/conformance on every registered backend. Each test is its own
// case; skips come only from the commented list in skips.ts and are reported as skipped.
import { afterAll, describe, expect, it } from 'vitest';
import { registeredBackends, type BackendName } from '../../src/backends/backend.js';
import '../../src/runtime/session.js';
import { CONFORMANCE_ROOT, listCases, runCase } from './runner.js';
import { SKIPS } from './skips.js';

const cases = listCases();
/** The bar for the reference backend: at least 285 of the 294 tests pass. */
const MIN_PASSING: Partial<Record<BackendName, number>> = { reference: 285 };

for (const backend of registeredBackends()) {
  describe(`ONNX conformance on ${backend.name}`, () => {
    const tally = { passed: 0, failed: 0, skipped: 0, withFallback: 0 };
    for (const c of cases) {
      const reason = SKIPS[backend.name][c.name];
      if (reason) {
        tally.skipped++;
        it.skip(`${c.suite}/${c.name} (skipped: ${reason})`, () => {});
        continue;
      }
      it(`${c.suite}/${c.name}`, async () => {
        let ok = false;
        try {
          const r = await runCase(c, backend.name);
          ok = r.ok;
          if (r.fallbacks?.length) tally.withFallback++;
          expect(r.ok, r.message).toBe(true);
        } finally {
          if (ok) tally.passed++;
          else tally.failed++;
        }
      });
    }
    it(`passes at least ${MIN_PASSING[backend.name] ?? cases.length - Object.keys(SKIPS[backend.name]).length} tests`, () => {
      expect(cases.length, `no conformance tests found in ${CONFORMANCE_ROOT}`).toBeGreaterThan(0);
      expect(tally.passed).toBeGreaterThanOrEqual(MIN_PASSING[backend.name] ?? cases.length - tally.skipped);
    });
    afterAll(() => {
      console.log(`\nONNX conformance [${backend.name}]: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped of ${cases.length}`);
      if (backend.name !== 'reference') {
        console.log(`  ${tally.withFallback} of the tests run had at least one node on the reference fallback (no ${backend.name} kernel for it)`);
      }
      for (const [name, why] of Object.entries(SKIPS[backend.name])) console.log(`  skipped ${name}: ${why}`);
    });
  });
}
