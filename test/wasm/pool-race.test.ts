// Regression test for a thread-pool race: a worker waking late could mix two jobs' arguments or
// miss a broadcast. Many tiny jobs with changing split dimensions, chunk counts and thread counts,
// interleaved with broadcasts, must all give the single-thread result and never hang.
import { describe, expect, it } from 'vitest';
import { compileVariant, createMemory, instantiate, threadsAvailable } from '../../src/backends/wasm/loader.js';
import { POOL_KERNELS } from '../../src/backends/wasm/pool-kernels.js';
import { ThreadPool } from '../../src/backends/wasm/threads/pool.js';

describe.skipIf(!threadsAvailable('simd'))('thread pool under many small jobs', () => {
  it('20,000 jobs with broadcasts in between: every result exact, no hang', { timeout: 30_000 }, async () => {
    const mod = compileVariant('simd', true)!;
    const memory = createMemory(true, 64);
    const ex = instantiate('simd', memory).exports as unknown as { heapBase(): number; gemmF32(...args: number[]): void };
    const pool = await ThreadPool.create(mod, memory, 3, { kernels: POOL_KERNELS });
    try {
      const M = 16, N = 64, K = 16;
      let p = Math.ceil(ex.heapBase() / 64) * 64;
      const take = (bytes: number) => { const at = p; p += bytes; return at; };
      const a = take(M * K * 4), b = take(K * N * 4), c = take(M * N * 4), want = take(M * N * 4), scratch = take(3 << 14);
      const f = new Float32Array(memory.buffer);
      for (let i = 0; i < M * K; i++) f[a / 4 + i] = (i % 7) - 3;
      for (let i = 0; i < K * N; i++) f[b / 4 + i] = (i % 5) - 2;
      ex.gemmF32(M, N, K, a, K, 0, 0, b, N, 0, 0, want, N, 0, scratch, 0, M, 0, N);
      let bad = 0;
      for (let i = 0; i < 20000; i++) {
        f.fill(0, c / 4, c / 4 + M * N);
        pool.run('gemmF32', [M, N, K, a, K, 0, 0, b, N, 0, 0, c, N, 0, scratch, 0, M, 0, N], i % 2 ? 'n' : 'm', i % 2 ? N : M,
          { scratch: { base: scratch, stride: 1 << 14 }, maxThreads: 2 + (i % 2), chunksPerThread: 1 + (i % 3) });
        for (let j = 0; j < M * N; j++) if (f[c / 4 + j] !== f[want / 4 + j]) { bad++; break; }
        if (i % 3 === 0) pool.broadcast('gemmI8SetWeightsOnLhs', [i & 1]);
      }
      expect(bad).toBe(0);
    } finally {
      pool.dispose();
    }
  });
});
