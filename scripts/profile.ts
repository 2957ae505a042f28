// Dev tool: per-op time of a model on a backend.
//   node --experimental-wasm-relaxed-simd --import tsx scripts/profile.ts <model> [--backend wasm] [--runs 10]
import { readFileSync } from 'node:fs';
import { generatedInput } from '../src/cli/run.js';
import { InferenceSession } from '../src/runtime/session.js';

const args = process.argv.slice(2);
const flag = (k: string, d: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args.splice(i, 2)[1]! : d; };
const backend = flag('backend', 'wasm') as 'wasm';
const runs = Number(flag('runs', '10'));
const session = await InferenceSession.create(readFileSync(args[0]!), { backend, profile: true });
const feeds = Object.fromEntries(session.inputMetadata.map((v, i) => [v.name, generatedInput(v, {}, i + 1)]));
const t0 = performance.now();
for (let i = 0; i < runs; i++) await session.run(feeds);
console.log(`${args[0]} on ${session.backend}: ${((performance.now() - t0) / runs).toFixed(2)} ms/run (first run includes planning)`);
for (const r of session.profileReport()) console.log(`  ${r.op.padEnd(34)} ${(r.ms / runs).toFixed(3).padStart(9)} ms/run  ${(r.calls / runs).toFixed(0).padStart(4)} calls/run`);
