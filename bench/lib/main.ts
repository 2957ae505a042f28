// The harness: select suites, set every engine up per case, time them side by side, check their
// outputs against a reference, print the table and issue 3's targets, write JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL, measureAll, QUICK } from './measure.js';
import { SUITES } from './suites.js';
import { rowsTable } from './table.js';
import { evaluateTargets, targetsTable } from './targets.js';
import { NotAvailable, type BenchOptions, type Case, type Output, type Row, type Runner } from './types.js';

interface Args {
  quick: boolean;
  list: boolean;
  json?: string;
  markdown?: string;
  filters: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, list: false, filters: [] };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${s} needs a value`);
      return v;
    };
    if (s === '--quick') a.quick = true;
    else if (s === '--list') a.list = true;
    else if (s === '--json') a.json = value();
    else if (s === '--markdown') a.markdown = value();
    else if (s === '--help' || s === '-h') {
      console.log('usage: node bench/run.mjs [--quick] [--list] [--json PATH] [--markdown PATH] [filter ...]\n' +
        'filters match suite names or case ids by substring: gemm, gemm-f32/1024, gemv, sparse, models/mnist-8');
      process.exit(0);
    } else if (s.startsWith('--')) throw new Error(`unknown option ${s}`);
    else a.filters.push(s);
  }
  return a;
}

function selected(c: Case, filters: string[]): boolean {
  return filters.length === 0 || filters.some((f) => c.suite.includes(f) || c.id.includes(f));
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 140);
}

function relError(x: Output, ref: Output): number {
  if (x.length !== ref.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(x[i]! - ref[i]!);
    if (!(d <= maxDiff)) maxDiff = d; // NaN-safe: a NaN difference becomes the maximum
    maxRef = Math.max(maxRef, Math.abs(ref[i]!));
  }
  return maxDiff / (maxRef || 1);
}

function argmax(x: Output): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Sets up, times and checks every adapter of one case. */
async function runCase(c: Case, opts: BenchOptions): Promise<Row[]> {
  const cfg = opts.quick ? QUICK : FULL;
  const load = Math.round(loadavg()[0]! * 100) / 100;
  const rows: Row[] = [];
  const live: { row: Row; order: number; runner: Runner }[] = [];
  for (const [order, a] of c.adapters.entries()) {
    const row: Row = { suite: c.suite, case: c.id, label: c.label, engine: a.engine, kind: a.kind, threads: a.threads, status: 'ok', load };
    rows.push(row);
    try {
      const runner = await a.setup();
      live.push({ row, order, runner });
      if (runner.note) row.note = runner.note;
    } catch (e) {
      row.status = e instanceof NotAvailable ? 'n/a' : 'error';
      row.reason = firstLine(e);
    }
  }
  const timings = await measureAll(live.map((l) => l.runner), cfg);
  live.forEach(({ row, runner }, i) => {
    const t = timings[i]!;
    if (t instanceof Error) {
      row.status = 'error';
      row.reason = firstLine(t);
      return;
    }
    row.medianMs = t.medianMs;
    row.madMs = t.madMs;
    row.minMs = t.minMs;
    row.samples = t.samples;
    if (c.ops && c.unit) {
      row.rate = c.ops / (t.medianMs * 1e-3) / 1e9;
      row.unit = c.unit;
    }
  });
  // Output checks: against the adapter's own reference, else the case's (an engine or a function).
  const refRunner = typeof c.reference === 'string' ? live.find((l) => l.row.engine === c.reference && l.row.status === 'ok') : undefined;
  let refOut: Output | undefined;
  try {
    await refRunner?.runner.prepareOutput?.();
    refOut = typeof c.reference === 'function' ? c.reference() : refRunner?.runner.output?.();
  } catch {
    refOut = undefined;
  }
  for (const { row, order, runner } of live) {
    if (row.status !== 'ok' || !runner.output) continue;
    try {
      await runner.prepareOutput?.();
    } catch {
      continue;
    }
    const check = c.adapters[order]!.check;
    const ref = check ? check.reference() : refOut;
    if (!ref || (!check && refRunner?.runner === runner)) continue;
    try {
      const out = runner.output();
      row.error = relError(out, ref);
      const tol = check ? check.tolerance : (c.tolerance ?? 1e-4);
      row.wrong = !(row.error <= tol) || (!!c.sameTop1 && argmax(out) !== argmax(ref));
    } catch (e) {
      row.note = [row.note, `output check failed: ${firstLine(e)}`].filter(Boolean).join('; ');
    }
  }
  for (const { runner } of live) await runner.dispose?.();
  return rows;
}

/** Fills vsBestPeer: the fastest correct peer with the same thread count over this row's median. */
function compareToPeers(rows: Row[]): void {
  for (const r of rows) {
    if (r.status !== 'ok') continue;
    const peers = rows.filter((p) => p.case === r.case && p.kind === 'peer' && p.threads === r.threads && p.status === 'ok' && !p.wrong);
    if (peers.length === 0) continue;
    const best = Math.min(...peers.map((p) => p.medianMs!));
    r.vsBestPeer = best / r.medianMs!;
  }
}

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    mhz: cpu[0]?.speed ?? 0,
    cores: cpu.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.versions.node,
    v8: process.versions.v8,
  };
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const opts: BenchOptions = { quick: args.quick };
  const suites = SUITES;

  if (args.list) {
    for (const s of suites) for (const c of s.cases(opts)) console.log(`${c.id.padEnd(24)} ${c.label} [${c.adapters.map((a) => `${a.engine}${a.threads > 1 ? ` ${a.threads}t` : ''}`).join(', ')}]`);
    return 0;
  }

  const rows: Row[] = [];
  const started = new Date();
  const m = machine();
  console.log(`Kiln bench ${started.toISOString()} — ${m.cpu}, ${m.cores} cores, Node ${m.node} (V8 ${m.v8})${args.quick ? ', --quick' : ''}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const s of suites) {
    const cases = s.cases(opts).filter((c) => selected(c, args.filters));
    if (cases.length === 0) continue;
    console.error(`[${s.name}] ${s.description}`);
    for (const c of cases) {
      const t0 = performance.now();
      rows.push(...(await runCase(c, opts)));
      console.error(`  ${c.id} (${((performance.now() - t0) / 1000).toFixed(1)} s, load ${loadavg()[0]!.toFixed(2)})`);
    }
  }
  compareToPeers(rows);
  const targets = evaluateTargets(rows);
  const table = rowsTable(rows);
  const tTable = targetsTable(targets);
  console.log(`\n${table}\n\nTargets of issues 3 to 8 (ratios are between engines of this same run):\n\n${tTable}`);

  const stamp = started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const jsonPath = args.json ?? fileURLToPath(new URL(`../results/${stamp}.json`, import.meta.url));
  mkdirSync(join(jsonPath, '..'), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ date: started.toISOString(), machine: m, quick: args.quick, filters: args.filters, rows, targets }, null, 2) + '\n');
  console.log(`\nJSON: ${jsonPath}`);
  if (args.markdown) writeFileSync(args.markdown, `${table}\n\n${tTable}\n`);
  return 0;
}
