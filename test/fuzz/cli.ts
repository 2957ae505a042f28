// `npm run fuzz -- --n 10000 [--seed 1] [--workers 2] [--timeout 15000] [--memory 1024] [--out file.json] [--minutes 15]`
// Generates plans with fast-check from the seed, runs them isolated (pool.ts) and prints the
// counts by outcome class; findings (and notes, with --notes) go to --out as JSON with their
// plans, so each one replays with `--replay file.json`.
import { readFileSync, writeFileSync } from 'node:fs';
import { runPlans, summarize, type CaseResult } from './pool.js';
import { samplePlans, type Plan } from './plans.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const n = Number(arg('n', '1000'));
const seed = Number(arg('seed', String(Date.now() % 1_000_000)));
const workers = Number(arg('workers', '2'));
const timeoutMs = Number(arg('timeout', '15000'));
const memoryMb = Number(arg('memory', '1024'));
const out = arg('out', 'scratch/fuzz-findings.json');
const minutes = Number(arg('minutes', '0'));
const replay = arg('replay', '');
const withNotes = process.argv.includes('--notes');

// JSON has no NaN, Infinity or -0, which plans use: they are written as {"$num": "NaN"} and back.
const SPECIAL = ['NaN', 'Infinity', '-Infinity', '-0'];
const toJson = (_k: string, v: unknown) => (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? { $num: Object.is(v, -0) ? '-0' : String(v) } : v);
const fromJson = (_k: string, v: unknown) => (v && typeof v === 'object' && SPECIAL.includes((v as { $num?: string }).$num ?? '') ? Number((v as { $num: string }).$num) : v);

const plans: Plan[] = replay ? (JSON.parse(readFileSync(replay, 'utf8'), fromJson) as { plan: Plan }[]).map((f) => f.plan) : samplePlans(n, seed);
const started = Date.now();
const deadline = minutes > 0 ? started + minutes * 60_000 : Infinity;
let done = 0;
const kept: CaseResult[] = [];
console.log(`fuzz: ${plans.length} cases, seed ${seed}, ${workers} workers, ${timeoutMs} ms per case, ${memoryMb} MB heap${minutes ? `, stop after ${minutes} min` : ''}`);

// With --minutes, cases past the deadline are dropped (the pool takes them in order).
const limited = minutes > 0 ? new Proxy(plans, {
  get(target, key, receiver) {
    if (key === 'length') return Date.now() > deadline ? Math.min(target.length, done + workers) : target.length;
    return Reflect.get(target, key, receiver) as unknown;
  },
}) : plans;

const results = await runPlans(limited, {
  workers, timeoutMs, memoryMb,
  onResult: (r) => {
    done++;
    if (r.outcome.kind === 'finding' || (withNotes && r.outcome.kind === 'note')) {
      kept.push(r);
      if (r.outcome.kind === 'finding') console.log(`FINDING #${r.index} ${r.outcome.cls} at ${r.outcome.stage}: ${r.outcome.message}`);
    }
    if (done % 500 === 0) console.log(`... ${done} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  },
});
const seconds = (Date.now() - started) / 1000;
console.log(`\n${results.length} cases in ${seconds.toFixed(0)} s (${(results.length / seconds).toFixed(1)}/s)`);
console.table(summarize(results));
const kinds: Record<string, number> = { ok: 0, refused: 0, note: 0, finding: 0 };
for (const r of results) kinds[r.outcome.kind] = (kinds[r.outcome.kind] ?? 0) + 1;
console.log(`outcomes: ${kinds.ok} ran (or skipped by the mutator), ${kinds.refused} clear errors, ${kinds.note} notes, ${kinds.finding} findings`);
const findings = results.filter((r) => r.outcome.kind === 'finding');
const byClass: Record<string, number> = {};
for (const f of findings) byClass[f.outcome.cls!] = (byClass[f.outcome.cls!] ?? 0) + 1;
console.log(`findings: ${findings.length}`, byClass);
writeFileSync(out, JSON.stringify(kept.map((r) => ({ index: r.index, outcome: r.outcome, plan: r.plan })), toJson, 1));
console.log(`wrote ${kept.length} cases to ${out}`);
process.exitCode = findings.length ? 1 : 0;
