// Host-neutral check of the WASM thread pool, bundled by test/wasm/threads.test.ts for Deno and
// Chromium: split GEMMs against the single-thread kernel, a worker's trap, then dispose.
import { compileVariant, createMemory, threadsAvailable } from '../../src/backends/wasm/loader.js';
import { ThreadPool } from '../../src/backends/wasm/threads/index.js';

export interface PoolSmoke {
  available: boolean;
  threads: number;
  runs: number;
  /** Largest |split - single| over all outputs (the GEMV paths round differently on 1-row chunks). */
  maxDiff: number;
  workerError: string;
}

export async function poolSmoke(): Promise<PoolSmoke> {
  const variant = compileVariant('relaxed', true) ? 'relaxed' : 'simd';
  const available = threadsAvailable(variant);
  if (!available) return { available, threads: 1, runs: 0, maxDiff: 0, workerError: '' };
  const mod = compileVariant(variant, true)!;
  const memory = createMemory(true, 256);
  const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports as Record<string, (...a: number[]) => number>;
  const pool = await ThreadPool.create(mod, memory, 3);
  let maxDiff = 0;
  let runs = 0;
  for (const [M, N, K] of [[63, 65, 127], [200, 72, 300], [5, 127, 64]] as const) {
    let p = (ex.heapBase!() + 63) & ~63;
    const take = (bytes: number) => { const at = p; p = (p + bytes + 63) & ~63; return at; };
    const a = take(M * K * 4), b = take(K * N * 4), c = take(M * N * 4), c1 = take(M * N * 4);
    const stride = (ex.gemmF32ScratchBytes!(M, N, K, 0, 0) + 63) & ~63;
    const scratch = take(stride * 3);
    const f = new Float32Array(memory.buffer);
    for (let i = 0; i < M * K; i++) f[a / 4 + i] = Math.sin(i);
    for (let i = 0; i < K * N; i++) f[b / 4 + i] = Math.cos(i);
    ex.gemmF32!(M, N, K, a, K, 0, 0, b, N, 0, 0, c1, N, 0, scratch, 0, M, 0, N);
    for (const split of ['m', 'n']) {
      for (let r = 0; r < 30; r++) {
        f.fill(Number.NaN, c / 4, c / 4 + M * N);
        pool.run('gemmF32', [M, N, K, a, K, 0, 0, b, N, 0, 0, c, N, 0, scratch, 0, M, 0, N], split, split === 'm' ? M : N,
          { scratch: { base: scratch, stride }, chunksPerThread: 1 + (r % 3) });
        for (let i = 0; i < M * N; i++) {
          const d = Math.abs(f[c / 4 + i]! - f[c1 / 4 + i]!);
          maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
        }
        runs++;
      }
    }
  }
  let workerError = '';
  // Only the workers' scratch slices lie outside the memory.
  try {
    pool.broadcast('gemmF32', [8, 8, 8, 0, 8, 0, 0, 0, 8, 0, 0, 1 << 20, 8, 0, 0, 0, 8, 0, 8],
      { scratch: { base: 2 << 20, stride: memory.buffer.byteLength } });
  } catch (e) {
    workerError = (e as Error).message;
  }
  pool.dispose();
  return { available, threads: pool.threads, runs, maxDiff, workerError };
}
