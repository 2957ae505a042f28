// Dev tool: `npx tsx scripts/conformance.ts [substring] [--backend reference]` prints each test's result.
import type { BackendName } from '../src/backends/backend.js';
import { listCases, runCase } from '../test/conformance/runner.js';
import { SKIPS } from '../test/conformance/skips.js';

const args = process.argv.slice(2);
const bi = args.indexOf('--backend');
const backend = (bi >= 0 ? args.splice(bi, 2)[1] : 'reference') as BackendName;
const filter = args[0] ?? '';
let pass = 0, fail = 0, skip = 0;
for (const c of listCases().filter((c) => c.name.includes(filter))) {
  const reason = SKIPS[backend][c.name];
  if (reason) { skip++; console.log(`SKIP ${c.name}: ${reason}`); continue; }
  try {
    const r = await runCase(c, backend);
    const fb = r.fallbacks?.length ? ` [fallback: ${r.fallbacks.join(', ')}]` : '';
    if (r.ok) { pass++; console.log(`pass ${c.name} (max err ${r.maxErr.toExponential(1)})${fb}`); }
    else { fail++; console.log(`FAIL ${c.name}: ${r.message}`); }
  } catch (e) {
    fail++;
    console.log(`FAIL ${c.name}: ${(e as Error).message.split('\n')[0]}`);
  }
}
console.log(`\n${backend}: ${pass} passed, ${fail} failed, ${skip} skipped`);
