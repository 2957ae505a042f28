// Median latency of a model through the public session API, as users call it: one session on the
// WASM backend, a few untimed warm-up runs, then timed runs until a time budget is spent.
import type { Graph } from '../graph/ir.js';
import { InferenceSession } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';

export interface LatencyOptions {
  /** Worker threads (default: the backend's choice). */
  threads?: number;
  /** Time spent on timed runs, ms (at least 5 runs are always made). */
  budgetMs?: number;
  /** Untimed runs first (default 5). */
  warmup?: number;
  /** Timed runs at most (default 300). */
  maxRuns?: number;
}

/** Median ms per run of `feeds` on WASM. */
export async function medianLatency(graph: Graph, feeds: Record<string, Tensor>, options: LatencyOptions = {}): Promise<number> {
  const session = await InferenceSession.create(graph, { backend: 'wasm', ...(options.threads ? { threads: options.threads } : {}) });
  try {
    for (let i = 0; i < (options.warmup ?? 5); i++) await session.run(feeds);
    const times: number[] = [];
    const budget = options.budgetMs ?? 600;
    const maxRuns = options.maxRuns ?? 300;
    const start = performance.now();
    while (times.length < 5 || (times.length < maxRuns && performance.now() - start < budget)) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    await session.release();
  }
}
