// The WASM thread pool: a GEMM split over 1..4 threads (rows or columns, one or several chunks per
// thread, packed or unpacked B, transposed operands) must match a plain TS product and the
// single-thread kernel; kernel traps surface as exceptions; workers see memory growth; a Node
// process with a live pool exits by itself; the library bundles for browsers without Node built-ins.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileVariant, createMemory, instantiate, threadsAvailable, type WasmVariant } from '../../src/backends/wasm/loader.js';
import { GEMM_MIN_FLOPS_PER_THREAD, ThreadPool, defaultThreadCount, gemmF32Split } from '../../src/backends/wasm/threads/index.js';
import { WORKER_SOURCE } from '../../src/backends/wasm/threads/worker-source.js';
import type { PoolSmoke } from './threads-smoke.js';

const variants = (['simd', 'relaxed'] as const).filter((v) => compileVariant(v, true) !== undefined);

type Fn = (...a: number[]) => number;

/** Deterministic values in [-1, 1). */
function fill(f: Float32Array, at: number, n: number, seed: number): void {
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[at + i] = s / 2 ** 31 - 1;
  }
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 17, 5], [3, 1, 7], [3, 3, 3], [4, 8, 16], [17, 17, 17], [63, 65, 127], [65, 63, 3],
  [127, 5, 65], [5, 127, 64], [128, 128, 128], [200, 72, 300], [33, 260, 40], [260, 33, 513],
];

describe.each(variants)('thread pool, %s module', (variant: WasmVariant) => {
  const mod = compileVariant(variant, true)!;
  const memory = createMemory(true, 256);
  const ex = instantiate(variant, memory).exports as unknown as Record<string, Fn>;
  const pools: ThreadPool[] = [];

  beforeAll(async () => {
    for (let t = 1; t <= 4; t++) pools.push(await ThreadPool.create(mod, memory, t));
  });
  afterAll(() => pools.forEach((p) => p.dispose()));

  it('picks the shared-memory build and reports thread support', () => {
    expect(threadsAvailable(variant)).toBe(true);
    expect(pools.map((p) => p.threads)).toEqual([1, 2, 3, 4]);
    expect(pools[0]!.has('gemmF32')).toBe(true);
  });

  it.each(SHAPES)('gemmF32 %i x %i x %i matches the reference on 1..4 threads', (M, N, K) => {
    for (const transA of [0, 1]) {
      for (const bMode of ['plain', 'transB', 'packed'] as const) {
        const transB = bMode === 'transB' ? 1 : 0;
        const bPacked = bMode === 'packed' ? 1 : 0;
        let p = (ex.heapBase!() + 63) & ~63;
        const take = (bytes: number) => { const at = p; p = (p + bytes + 63) & ~63; return at; };
        const a = take(M * K * 4), b = take(K * N * 4), bp = take(ex.gemmF32PackBBytes!(K, N));
        const c = take(M * N * 4), c1 = take(M * N * 4);
        // Exactly what the kernel reports, so slices abut: a kernel that writes past its scratch
        // races with its neighbour thread and shows up here as wrong results.
        const stride = (ex.gemmF32ScratchBytes!(M, N, K, 0, bPacked) + 63) & ~63;
        const scratch = take(stride * 4);
        memory.grow(Math.max(0, Math.ceil((p - memory.buffer.byteLength) / 65536)));
        const f = new Float32Array(memory.buffer);
        fill(f, a / 4, M * K, M * 131 + K);
        fill(f, b / 4, K * N, N * 71 + K + 1);
        const lda = transA ? M : K, ldb = transB ? K : N;
        if (bPacked) ex.gemmF32PackB!(K, N, b, ldb, transB, bp);
        const args = [M, N, K, a, lda, transA, 0, bPacked ? bp : b, ldb, transB, bPacked, c, N, 0, scratch, 0, M, 0, N];
        // Reference: plain TS in f64, with the sum of |a||b| per element for the error bound.
        const ref = new Float64Array(M * N), mag = new Float64Array(M * N);
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let s = 0, m = 0;
            for (let k = 0; k < K; k++) {
              const x = f[a / 4 + (transA ? k * lda + i : i * lda + k)]! * f[b / 4 + (transB ? j * ldb + k : k * ldb + j)]!;
              s += x;
              m += Math.abs(x);
            }
            ref[i * N + j] = s;
            mag[i * N + j] = m;
          }
        }
        ex.gemmF32!(M, N, K, a, lda, transA, 0, bPacked ? bp : b, ldb, transB, bPacked, c1, N, 0, scratch, 0, M, 0, N);
        const single = f.slice(c1 / 4, c1 / 4 + M * N);
        for (const pool of pools) {
          for (const split of ['m', 'n'] as const) {
            for (const chunksPerThread of [1, 3]) {
              f.fill(Number.NaN, c / 4, c / 4 + M * N);
              pool.run('gemmF32', args, split, split === 'm' ? M : N, { scratch: { base: scratch, stride }, chunksPerThread });
              const what = `${variant} threads=${pool.threads} split=${split} chunks/thread=${chunksPerThread} transA=${transA} B=${bMode}`;
              let bad = 0;
              for (let e = 0; e < M * N; e++) {
                const got = f[c / 4 + e]!;
                // Worst-case f32 dot-product error: K * eps * sum |a_k b_k|.
                const tol = 1.2e-7 * (K + 2) * mag[e]! + 1e-30;
                if (!(Math.abs(got - ref[e]!) <= tol) || !(Math.abs(got - single[e]!) <= tol)) bad++;
              }
              expect(bad, what).toBe(0);
            }
          }
        }
      }
    }
  });

  // Threads get adjacent scratch slices of gemmF32ScratchBytes bytes each, so a kernel must never
  // write past what it reports, or it races with its neighbour.
  it.each([[5, 127, 64], [33, 260, 40], [1, 300, 9], [70, 9, 300], [128, 128, 600]])(
    'gemmF32 %i x %i x %i writes only the scratch bytes it reports', (M, N, K) => {
      for (const bPacked of [0, 1]) {
        let p = (ex.heapBase!() + 63) & ~63;
        const take = (bytes: number) => { const at = p; p = (p + bytes + 63) & ~63; return at; };
        const a = take(M * K * 4), b = take(K * N * 4), bp = take(ex.gemmF32PackBBytes!(K, N)), c = take(M * N * 4);
        const bytes = ex.gemmF32ScratchBytes!(M, N, K, 0, bPacked);
        const scratch = take(bytes + (1 << 20));
        memory.grow(Math.max(0, Math.ceil((p - memory.buffer.byteLength) / 65536)));
        const u8 = new Uint8Array(memory.buffer);
        u8.fill(0xa5, scratch + bytes, scratch + bytes + (1 << 20));
        const f = new Float32Array(memory.buffer);
        fill(f, a / 4, M * K, 1);
        fill(f, b / 4, K * N, 2);
        if (bPacked) ex.gemmF32PackB!(K, N, b, N, 0, bp);
        ex.gemmF32!(M, N, K, a, K, 0, 0, bPacked ? bp : b, N, 0, bPacked, c, N, 0, scratch, 0, M, 0, N);
        let touched = 0;
        for (let i = scratch + bytes; i < scratch + bytes + (1 << 20); i++) if (u8[i] !== 0xa5) touched = i - scratch + 1;
        expect(touched, `bPacked=${bPacked}: reports ${bytes} bytes, writes up to ${touched}`).toBe(0);
      }
    });

  it('workers see memory grown after they started', () => {
    const M = 64, N = 48, K = 40;
    const before = memory.buffer.byteLength;
    memory.grow(64);
    const at = before + 4096;
    const a = at, b = a + M * K * 4, c = b + K * N * 4, c1 = c + M * N * 4, scratch = c1 + M * N * 4;
    const stride = (ex.gemmF32ScratchBytes!(M, N, K, 0, 0) + 63) & ~63;
    const f = new Float32Array(memory.buffer);
    fill(f, a / 4, M * K, 5);
    fill(f, b / 4, K * N, 6);
    ex.gemmF32!(M, N, K, a, K, 0, 0, b, N, 0, 0, c1, N, 0, scratch, 0, M, 0, N);
    const pool = pools[3]!;
    pool.run('gemmF32', [M, N, K, a, K, 0, 0, b, N, 0, 0, c, N, 0, scratch, 0, M, 0, N], 'm', M, { scratch: { base: scratch, stride }, chunksPerThread: 4 });
    expect(Array.from(f.subarray(c / 4, c / 4 + M * N))).toEqual(Array.from(f.subarray(c1 / 4, c1 / 4 + M * N)));
  });

  // Many tiny jobs back to back: workers wake late, find jobs already done by others, or race for
  // the last chunk; with no spinning every hand-over goes through Atomics.wait/notify.
  it.each([[100, 200], [0, 0]])('stays correct over thousands of back-to-back jobs (spin %i/%i us)', async (spinMicros, waitSpinMicros) => {
    const pool = await ThreadPool.create(mod, memory, 4, { spinMicros, waitSpinMicros });
    try {
      const M = 12, N = 40, K = 9;
      let p = (ex.heapBase!() + 63) & ~63;
      const take = (bytes: number) => { const at = p; p = (p + bytes + 63) & ~63; return at; };
      const a = take(M * K * 4), b = take(K * N * 4), c = take(M * N * 4), c1 = take(M * N * 4);
      const stride = (ex.gemmF32ScratchBytes!(M, N, K, 0, 0) + 63) & ~63;
      const scratch = take(stride * 4);
      const f = new Float32Array(memory.buffer);
      fill(f, a / 4, M * K, 11);
      fill(f, b / 4, K * N, 12);
      ex.gemmF32!(M, N, K, a, K, 0, 0, b, N, 0, 0, c1, N, 0, scratch, 0, M, 0, N);
      const want = Array.from(f.subarray(c1 / 4, c1 / 4 + M * N));
      const args = [M, N, K, a, K, 0, 0, b, N, 0, 0, c, N, 0, scratch, 0, M, 0, N];
      for (let i = 0; i < 3000; i++) {
        const split = i % 3 === 0 ? 'm' : 'n';
        pool.run('gemmF32', args, split, split === 'm' ? M : N, { scratch: { base: scratch, stride }, chunksPerThread: 1 + (i % 4) });
        if (i % 97 === 0) {
          expect(Array.from(f.subarray(c / 4, c / 4 + M * N))).toEqual(want);
          f.fill(0, c / 4, c / 4 + M * N);
        }
      }
    } finally {
      pool.dispose();
    }
  });

  it('broadcast runs a kernel once on every thread, each with its own scratch slice', () => {
    const M = 20, N = 24, K = 16;
    let p = (ex.heapBase!() + 63) & ~63;
    const take = (bytes: number) => { const at = p; p = (p + bytes + 63) & ~63; return at; };
    const a = take(M * K * 4), b = take(K * N * 4), c = take(M * N * 4);
    const stride = (ex.gemmF32ScratchBytes!(M, N, K, 0, 0) + 63) & ~63;
    const scratch = take(stride * 4);
    const f = new Float32Array(memory.buffer);
    fill(f, a / 4, M * K, 21);
    fill(f, b / 4, K * N, 22);
    for (const pool of pools) {
      const u8 = new Uint8Array(memory.buffer);
      u8.fill(0, scratch, scratch + stride * 4);
      pool.broadcast('gemmF32', [M, N, K, a, K, 0, 0, b, N, 0, 0, c, N, 0, 0, 0, M, 0, N], { scratch: { base: scratch, stride } });
      // Each thread packed A and B into its own slice; slices past the pool's threads stay zero.
      const used = [0, 1, 2, 3].map((t) => u8.subarray(scratch + t * stride, scratch + (t + 1) * stride).some((x) => x !== 0));
      expect(used).toEqual([0, 1, 2, 3].map((t) => t < pool.threads));
    }
  });

  it('a trapping kernel throws, with the worker\'s message, and the pool keeps working', () => {
    const M = 64, N = 64, K = 64;
    const base = (ex.heapBase!() + 63) & ~63;
    const scratch = { base: base + (1 << 16), stride: 1 << 16 };
    // C ends 16 rows past the memory: only chunks holding rows >= 48 trap, so across threads
    // and chunk orders sometimes only a worker fails, sometimes the calling thread too.
    const end = memory.buffer.byteLength;
    const cPtr = end - 48 * N * 4;
    const bad = [M, N, K, base, K, 0, 0, base, N, 0, 0, cPtr, N, 0, 0, 0, M, 0, N];
    for (const pool of pools) {
      for (let i = 0; i < 8; i++) {
        expect(() => pool.run('gemmF32', bad, 'm', M, { scratch, chunksPerThread: 4 })).toThrow(/out of bounds/);
      }
      const ok = [M, N, K, base, K, 0, 0, base, N, 0, 0, base + (1 << 19), N, 0, 0, 0, M, 0, N];
      expect(() => pool.run('gemmF32', ok, 'm', M, { scratch })).not.toThrow();
      // Only the workers' scratch slices lie outside the memory: the error must come from them.
      if (pool.threads > 1) {
        expect(() => pool.broadcast('gemmF32', ok, { scratch: { base: scratch.base, stride: end } }))
          .toThrow(/failed in worker [1-3]: .*out of bounds/);
        expect(() => pool.run('gemmF32', ok, 'm', M, { scratch })).not.toThrow();
      }
    }
  });

  it('rejects unknown kernels and split dimensions', () => {
    expect(() => pools[1]!.run('nope', [], 'm', 4)).toThrow(/no kernel/);
    expect(() => pools[1]!.run('gemmF32', [], 'k', 4)).toThrow(/cannot be split/);
  });
});

describe('gemmF32Split', () => {
  it('splits where the duplicated packing is cheaper and skips threads for small work', () => {
    expect(gemmF32Split(1024, 1024, 1024, false, false, 2)).toEqual({ split: 'm', extent: 1024, threads: 2 });
    expect(gemmF32Split(512, 1024, 1024, false, true, 4)).toEqual({ split: 'm', extent: 512, threads: 4 });
    expect(gemmF32Split(1024, 512, 1024, true, false, 4)).toEqual({ split: 'n', extent: 512, threads: 4 });
    expect(gemmF32Split(1, 4096, 4096, false, true, 4)).toEqual({ split: 'n', extent: 4096, threads: 4 });
    expect(gemmF32Split(4096, 1, 4096, false, false, 4).split).toBe('m');
    expect(gemmF32Split(16, 16, 16, false, false, 4).threads).toBe(1);
    expect(gemmF32Split(8, 4096, 4096, false, true, 4).threads).toBe(2); // two 4-row tiles
    const n = Math.cbrt(GEMM_MIN_FLOPS_PER_THREAD); // 2 n^3 flops: two threads' worth of work
    expect(gemmF32Split(n, n, n, false, false, 4).threads).toBe(2);
  });
});

describe('thread pool hosting', () => {
  it('needs a shared memory for more than one thread', async () => {
    const mod = compileVariant('simd', false)!;
    await expect(ThreadPool.create(mod, createMemory(false), 2)).rejects.toThrow(/shared/);
    const single = await ThreadPool.create(mod, createMemory(false), 1);
    expect(single.threads).toBe(1);
    single.dispose();
  });

  it('defaults to min(hardware concurrency, 4) threads', async () => {
    const { availableParallelism } = await import('node:os');
    const want = Math.min(availableParallelism(), 4);
    expect(await defaultThreadCount()).toBe(want);
    const pool = await ThreadPool.create(compileVariant('simd', true)!, createMemory(true, 2));
    expect(pool.threads).toBe(want);
    pool.dispose();
  });

  it('the worker source is one self-contained script', () => {
    expect(() => new Function(WORKER_SOURCE)).not.toThrow();
    expect(WORKER_SOURCE).not.toMatch(/\bimport\b/);
  });

  const dir = mkdtempSync(join(tmpdir(), 'kiln-threads-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['browser', 'neutral'] as const)('bundles for platform %s with no configuration and no Node built-ins', async (platform) => {
    const out = await build({
      entryPoints: [resolve('src/backends/wasm/threads/index.ts')],
      bundle: true, write: false, format: 'esm', platform, logLevel: 'silent',
    });
    const js = out.outputFiles[0]!.text;
    expect(js).not.toMatch(/from\s*["']node:/);
    // The only Node names are inside the worker source string and behind computed specifiers.
    expect(js).not.toMatch(/import\(["']node:/);
  });

  // A pool left running, and one disposed, must both let Node exit on its own.
  it.each([['disposed', true], ['never disposed', false]])('a Node process with a %s pool exits cleanly', async (_label, dispose) => {
    const entry = join(dir, `entry-${dispose}.ts`);
    writeFileSync(entry, `
      import { compileVariant, createMemory } from ${JSON.stringify(resolve('src/backends/wasm/loader.ts'))};
      import { ThreadPool } from ${JSON.stringify(resolve('src/backends/wasm/threads/index.ts'))};
      const memory = createMemory(true, 64);
      const pool = await ThreadPool.create(compileVariant('simd', true)!, memory, 3);
      const base = 1 << 16, M = 96, N = 96, K = 96;
      pool.run('gemmF32', [M, N, K, base, K, 0, 0, base, N, 0, 0, base + (1 << 17), N, 0, base + (1 << 18), 0, M, 0, N], 'm', M,
        { scratch: { base: base + (1 << 18), stride: 1 << 17 } });
      ${dispose ? 'pool.dispose();' : ''}
      console.log('ran');
    `);
    const outfile = join(dir, `entry-${dispose}.mjs`);
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'silent' });
    const r = spawnSync(process.execPath, [outfile], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ran');
    expect(r.status).toBe(0);
  });
});

// The same pool in the other hosts: Deno (node:worker_threads there too) and Chromium, where the
// worker is a Blob URL, the main thread may not Atomics.wait, and threads need cross-origin isolation.
describe('thread pool in other hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-threads-hosts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const smoke = resolve('test/wasm/threads-smoke.ts');
  const expectGood = (r: PoolSmoke) => {
    expect(r).toMatchObject({ available: true, threads: 3, runs: 180 });
    expect(r.maxDiff).toBeLessThan(1e-4);
    expect(r.workerError).toMatch(/failed in worker [12]: .*out of bounds/);
  };

  const deno = resolve('node_modules/.bin/deno');
  it.skipIf(!existsSync(deno))('Deno: correct results, and the process exits without dispose', async () => {
    const entry = join(dir, 'deno.ts');
    writeFileSync(entry, `import { poolSmoke } from ${JSON.stringify(smoke)};\nconsole.log(JSON.stringify(await poolSmoke()));\n`);
    const outfile = join(dir, 'deno.js');
    await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', outfile, logLevel: 'silent' });
    const r = spawnSync(deno, ['run', '--quiet', '--no-lock', outfile], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expectGood(JSON.parse(r.stdout) as PoolSmoke);
  });

  const chromiumPath = '/usr/bin/chromium';
  it.skipIf(!existsSync(chromiumPath))('Chromium: threads when cross-origin isolated, single thread otherwise', async () => {
    const entry = join(dir, 'browser.ts');
    writeFileSync(entry, `import { poolSmoke } from ${JSON.stringify(smoke)};\n(window as unknown as { poolSmoke: unknown }).poolSmoke = poolSmoke;\n`);
    const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
    const js = out.outputFiles[0]!.text;
    let isolate = true;
    const server = createServer((req, res) => {
      const h: Record<string, string> = isolate ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html', ...h }).end('<!doctype html><script type="module" src="/app.js"></script>');
      else if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript', ...h }).end(js);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless=new', '--no-sandbox'] });
    try {
      for (const iso of [true, false]) {
        isolate = iso;
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(url);
        await page.waitForFunction(() => typeof (window as unknown as { poolSmoke?: unknown }).poolSmoke === 'function');
        const r = await page.evaluate(() => (window as unknown as { poolSmoke: () => Promise<PoolSmoke> }).poolSmoke());
        expect(errors).toEqual([]);
        if (iso) expectGood(r);
        else expect(r.available).toBe(false);
        await page.close();
      }
    } finally {
      await browser.close();
      server.close();
    }
  });
});
