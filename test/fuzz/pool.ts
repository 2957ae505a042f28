// Runs fuzz cases in child processes, each with a heap limit (--max-old-space-size) and a time
// limit per case. A case that outlives its limit is a hang (the child is killed and replaced);
// a child that exits while a case is in flight (out of memory, a native crash, an uncaught
// exception) is a crash of that case. Everything else is judged inside the child (execute.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Outcome } from './execute.js';
import type { Plan } from './plans.js';

export interface PoolOptions {
  workers?: number;
  /** Per case, after the child is ready (default 15 s). */
  timeoutMs?: number;
  /** Heap limit of each child (default 1024 MB). */
  memoryMb?: number;
  /** Called as each case finishes, in completion order. */
  onResult?: (r: CaseResult) => void;
}

export interface CaseResult {
  index: number;
  plan: Plan;
  outcome: Outcome;
  ms: number;
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

interface Slot {
  child: ChildProcess;
  ready: Promise<void>;
  stderr: string;
}

function spawn(memoryMb: number): Slot {
  const child = fork(CHILD, [], {
    execArgv: [`--max-old-space-size=${memoryMb}`, '--experimental-wasm-relaxed-simd', '--import', 'tsx'],
    serialization: 'advanced', // plans carry NaN and -0
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const slot: Slot = { child, stderr: '', ready: Promise.resolve() };
  child.stderr!.on('data', (d: Buffer) => { slot.stderr = (slot.stderr + d.toString()).slice(-2000); });
  slot.ready = new Promise((resolve, reject) => {
    const onMsg = (m: { ready?: number }) => { if (m.ready !== undefined) { child.off('message', onMsg); resolve(); } };
    child.on('message', onMsg);
    child.once('exit', (code) => reject(new Error(`fuzz child exited before it was ready (code ${code}): ${slot.stderr}`)));
  });
  slot.ready.catch(() => undefined); // awaited (and rethrown) by the lane; never unhandled
  return slot;
}

function kill(slot: Slot): void {
  slot.child.removeAllListeners();
  slot.child.kill('SIGKILL');
}

/** Runs one case on a slot; resolves with the outcome and whether the slot is still usable. */
function runOn(slot: Slot, plan: Plan, id: number, timeoutMs: number): Promise<{ outcome: Outcome; alive: boolean }> {
  return new Promise((resolve) => {
    const done = (outcome: Outcome, alive: boolean) => {
      clearTimeout(timer);
      slot.child.off('message', onMsg);
      slot.child.off('exit', onExit);
      resolve({ outcome, alive });
    };
    const onMsg = (m: { id?: number; outcome?: Outcome }) => {
      if (m.outcome && (m.id === id || m.id === -1)) done(m.outcome, m.id === id);
    };
    const onExit = (code: number | null, signal: string | null) => {
      const oom = /heap out of memory|Allocation failed/i.test(slot.stderr);
      done({ stage: 'compare', kind: 'finding', cls: oom ? 'crash-oom' : 'crash', message: `child exited (code ${code}, signal ${signal}) ${slot.stderr.slice(-300)}` }, false);
    };
    const timer = setTimeout(() => done({ stage: 'compare', kind: 'finding', cls: 'hang', message: `no answer within ${timeoutMs} ms` }, false), timeoutMs);
    slot.child.on('message', onMsg);
    slot.child.once('exit', onExit);
    slot.child.send({ id, plan });
  });
}

export async function runPlans(plans: readonly Plan[], opts: PoolOptions = {}): Promise<CaseResult[]> {
  const workers = Math.max(1, Math.min(opts.workers ?? 2, plans.length || 1));
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const memoryMb = opts.memoryMb ?? 1024;
  const results: CaseResult[] = [];
  let next = 0;
  const lane = async () => {
    let slot = spawn(memoryMb);
    try {
      for (;;) {
        const index = next++;
        if (index >= plans.length) return;
        // A child that fails to start (a source file caught mid-edit in a shared checkout) is
        // retried a few times before the run gives up.
        for (let tries = 1; ; tries++) {
          try {
            await slot.ready;
            break;
          } catch (e) {
            if (tries >= 5) throw e;
            kill(slot);
            await new Promise((r) => setTimeout(r, 2000 * tries));
            slot = spawn(memoryMb);
          }
        }
        const t0 = performance.now();
        let { outcome, alive } = await runOn(slot, plans[index]!, index, timeoutMs);
        if (outcome.cls === 'hang') {
          // Valid but huge work (a Range of 10^9 steps) also outlives the limit: a fresh child
          // gets three times longer, and a case that then ends is slow, not hung.
          kill(slot);
          slot = spawn(memoryMb);
          await slot.ready;
          const again = await runOn(slot, plans[index]!, index, 3 * timeoutMs);
          alive = again.alive;
          if (again.outcome.cls !== 'hang') {
            outcome = { ...again.outcome, kind: again.outcome.kind === 'finding' ? 'finding' : 'note', cls: again.outcome.kind === 'finding' ? again.outcome.cls : 'note:slow', message: `took over ${timeoutMs} ms, then ended: ${again.outcome.kind}${again.outcome.message ? ` (${again.outcome.message})` : ''}` };
          }
        }
        const r: CaseResult = { index, plan: plans[index]!, outcome, ms: performance.now() - t0 };
        results.push(r);
        opts.onResult?.(r);
        if (!alive) {
          kill(slot);
          slot = spawn(memoryMb);
        }
      }
    } finally {
      kill(slot);
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  return results.sort((a, b) => a.index - b.index);
}

/** Counts by outcome class, for reports. */
export function summarize(results: readonly CaseResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const key = r.outcome.kind === 'ok' || r.outcome.kind === 'refused' ? `${r.outcome.kind}@${r.outcome.stage}` : r.outcome.cls ?? r.outcome.kind;
    out[key] = (out[key] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}
