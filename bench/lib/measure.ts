// Timing: tinybench per engine, in several short rounds with the engine order rotated, so that a
// burst of load from another process on this shared 2-core machine hits every engine of a case
// alike instead of skewing one of them. The reported figure is the median over all samples.
import { Bench } from 'tinybench';
import type { Runner } from './types.js';

export interface Timing {
  medianMs: number;
  madMs: number;
  /** The fastest sample: the least disturbed by other processes, kept in the JSON. */
  minMs: number;
  samples: number;
}

export interface MeasureConfig {
  rounds: number;
  /** tinybench time budget per engine per round, ms. */
  timeMs: number;
  warmupMs: number;
  /** Minimum timed iterations per engine per round. */
  iterations: number;
}

export const FULL: MeasureConfig = { rounds: 6, timeMs: 350, warmupMs: 80, iterations: 2 };
export const QUICK: MeasureConfig = { rounds: 1, timeMs: 300, warmupMs: 60, iterations: 2 };

/** A run slower than this gets a single round: medians of a few multi-second runs are stable enough. */
const SLOW_RUN_MS = 400;

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/**
 * Times each runner; a runner that throws mid-way gets an Error in its slot. Runners are warmed up
 * by one untimed call first (also how the caller learns a run works at all).
 */
export async function measureAll(runners: Runner[], cfg: MeasureConfig): Promise<(Timing | Error)[]> {
  const samples: number[][] = runners.map(() => []);
  const failed: (Error | undefined)[] = runners.map(() => undefined);
  let slowest = 0;
  for (const [i, r] of runners.entries()) {
    try {
      const t0 = performance.now();
      await r.run();
      slowest = Math.max(slowest, performance.now() - t0);
    } catch (e) {
      failed[i] = e instanceof Error ? e : new Error(String(e));
    }
  }
  const rounds = slowest > SLOW_RUN_MS ? 1 : cfg.rounds;
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < runners.length; j++) {
      const i = (j + round) % runners.length;
      if (failed[i]) continue;
      const r = runners[i]!;
      const bench = new Bench({
        time: cfg.timeMs,
        warmupTime: cfg.warmupMs,
        warmupIterations: 1,
        iterations: cfg.iterations,
        retainSamples: true,
        throws: true,
      });
      bench.add('run', () => r.run());
      try {
        const [task] = await bench.run();
        const res = task!.result;
        if (res.state !== 'completed') throw new Error(`tinybench: ${res.state}`);
        samples[i]!.push(...(res.latency.samples ?? []));
      } catch (e) {
        failed[i] = e instanceof Error ? e : new Error(String(e));
      }
    }
  }
  return runners.map((_, i) => {
    const f = failed[i];
    if (f) return f;
    const s = samples[i]!.sort((a, b) => a - b);
    const m = median(s);
    const mad = median(s.map((x) => Math.abs(x - m)).sort((a, b) => a - b));
    return { medianMs: m, madMs: mad, minMs: s[0]!, samples: s.length };
  });
}
