// Rounds of timing that count only when other processes stayed off the CPU: on a shared machine
// with two cores, another process taking a core turns a 2-thread measurement into noise. Each
// round checks /proc/stat; CPU time used by everyone minus this process must stay under `limit`
// cores on average. Where /proc/stat is missing every round counts.
import { readFileSync } from 'node:fs';

function busyTicks(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  } catch {
    return undefined;
  }
}

/** Starts a round; quiet() says whether others used less than `limit` cores since. */
export function quietProbe(limit = 0.1): { quiet(): boolean } {
  const b0 = busyTicks();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    quiet() {
      const b1 = busyTicks();
      if (b0 === undefined || b1 === undefined) return true;
      const c1 = process.cpuUsage(c0);
      const wall = (performance.now() - t0) / 1000;
      const others = (b1 - b0) / 100 - (c1.user + c1.system) / 1e6;
      return others / wall < limit;
    },
  };
}

/**
 * Runs `round()` (which returns a time in ms) until `want` quiet rounds were seen or `maxRounds`
 * ran; returns the median of the quiet ones (of all, when none was quiet) and the counts.
 */
export async function quietMedian(round: () => Promise<number> | number, want = 7, maxRounds = 40): Promise<{ ms: number; quiet: number; rounds: number }> {
  const quiet: number[] = [];
  const all: number[] = [];
  let rounds = 0;
  while (quiet.length < want && rounds < maxRounds) {
    const p = quietProbe();
    const ms = await round();
    rounds++;
    all.push(ms);
    if (p.quiet()) quiet.push(ms);
  }
  const pick = (quiet.length ? quiet : all).sort((a, b) => a - b);
  return { ms: pick[Math.floor(pick.length / 2)]!, quiet: quiet.length, rounds };
}
