#!/usr/bin/env node
// Thread-pool scaling of the f32 GEMM: GFLOP/s medians (and bests) after warm-up for 1..T threads,
// each variant, split by rows ('m') or columns ('n') into 1 or 4 chunks per thread ("m/4"), with B
// packed on the fly or pre-packed (weights). Medians are over "quiet" rounds only (see quietProbe).
// The "plain module" row is the single-thread build on a non-shared memory, for comparison with
// the shared-memory build's single-thread row (speed-ups are relative to the latter).
//   node bench/threads-micro.mjs [--threads 1,2] [--sizes 256,512,1024] [--reps 15] [--max-seconds 120] [--other-cpu 0.1] [--variants simd,relaxed]
// Re-runs itself with --experimental-wasm-relaxed-simd on Node < 22 so the relaxed module loads.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bumpAllocator, median } from './lib/micro.mjs';

const FLAG = '--experimental-wasm-relaxed-simd';
if (Number(process.versions.node.split('.')[0]) < 22 && !process.execArgv.includes(FLAG)) {
  const r = spawnSync(process.execPath, [FLAG, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { register } = await import('tsx/esm/api');
register();
const { compileVariant, createMemory } = await import('../src/backends/wasm/loader.ts');
const { ThreadPool } = await import('../src/backends/wasm/threads/index.ts');

function opt(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}
const threadList = opt('threads', '1,2').split(',').map(Number);
const sizes = opt('sizes', '256,512,1024').split(',').map(Number);
const reps = Number(opt('reps', '15'));
const maxSeconds = Number(opt('max-seconds', '120'));
const otherCpuLimit = Number(opt('other-cpu', '0.1'));

// Other processes on this (shared, 2-core) machine distort thread scaling, so each timed round
// checks /proc/stat: CPU time spent by everyone minus this process's own must stay under
// --other-cpu cores on average, else the round is discarded (counted as noisy). Where /proc/stat
// is missing every round counts.
import { readFileSync } from 'node:fs';
function busyTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return f[0] + f[1] + f[2] + f[5] + f[6] + f[7]; // user nice system irq softirq steal
  } catch { return undefined; }
}
function quietProbe() {
  const b0 = busyTicks(), c0 = process.cpuUsage(), t0 = performance.now();
  return {
    quiet() {
      const b1 = busyTicks();
      if (b0 === undefined || b1 === undefined) return true;
      const c1 = process.cpuUsage(c0);
      const wall = (performance.now() - t0) / 1000;
      const others = (b1 - b0) / 100 - (c1.user + c1.system) / 1e6;
      return others / wall < otherCpuLimit;
    },
  };
}

const rows = [];
for (const variant of opt('variants', 'simd,relaxed').split(',')) {
  const mod = compileVariant(variant, true);
  if (!mod) { console.log(`${variant}: shared-memory module not available on this host`); continue; }
  const maxN = Math.max(...sizes);
  const memory = createMemory(true, Math.ceil((6 * maxN * maxN * 4 + (8 << 20)) / 65536) + 16);
  const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports;
  // The single-thread module on a plain memory, to show what the shared-memory build costs.
  const plainMemory = createMemory(false, memory.buffer.byteLength / 65536);
  const plain = new WebAssembly.Instance(compileVariant(variant, false), { env: { memory: plainMemory } }).exports;
  for (const n of sizes) {
    const heap = bumpAllocator(memory, ex.heapBase());
    const take = heap.alloc;
    const a = take(n * n * 4), b = take(n * n * 4), bp = take(Number(ex.gemmF32PackBBytes(n, n))), c = take(n * n * 4);
    const f = new Float32Array(memory.buffer);
    for (let i = 0; i < n * n; i++) { f[a / 4 + i] = Math.random() - 0.5; f[b / 4 + i] = Math.random() - 0.5; }
    ex.gemmF32PackB(n, n, b, n, 0, bp);
    for (const packed of [0, 1]) {
      const stride = (Number(ex.gemmF32ScratchBytes(n, n, n, 0, packed)) + 63) & ~63;
      const scratch = take(stride * Math.max(...threadList));
      const args = [n, n, n, a, n, 0, 0, packed ? bp : b, n, 0, packed, c, n, 0, scratch, 0, n, 0, n];
      // All pools exist up front and each round runs every configuration once, so noise from other
      // processes on this shared machine hits 1 and 2 threads alike; medians and minima are reported.
      new Uint8Array(plainMemory.buffer).set(new Uint8Array(memory.buffer, 0, heap.top()));
      const configs = [{ threads: 1, split: 'plain', chunksPerThread: 1, times: [], run: () => plain.gemmF32(...args) }];
      for (const threads of threadList) {
        const pool = await ThreadPool.create(mod, memory, threads);
        const variants = threads === 1 ? [['m', 1]] : [['m', 1], ['n', 1], ['m', 4]];
        for (const [split, chunksPerThread] of variants) {
          const o = { scratch: { base: scratch, stride }, chunksPerThread };
          configs.push({ threads, split, chunksPerThread, pool, times: [], run: () => pool.run('gemmF32', args, split, n, o) });
        }
      }
      // Rounds of ~0.2 s; a round counts only if the rest of the machine stayed (nearly) idle.
      const inner = Math.max(1, Math.round(4e8 / (n * n * n)));
      for (const cfg of configs) for (let w = 0; w < 3; w++) cfg.run();
      const deadline = performance.now() + maxSeconds * 1000;
      while (performance.now() < deadline) {
        if (configs.every((c) => c.times.length >= reps)) break;
        for (const cfg of configs) {
          const probe = quietProbe();
          const t0 = performance.now();
          for (let i = 0; i < inner; i++) cfg.run();
          const ms = (performance.now() - t0) / inner;
          if (probe.quiet()) cfg.times.push(ms);
          else cfg.noisy = (cfg.noisy ?? 0) + 1;
        }
      }
      for (const cfg of configs) {
        const times = cfg.times.length ? cfg.times : [NaN];
        const ms = median(times);
        const best = Math.min(...times);
        rows.push({
          variant, n, bPacked: packed, threads: cfg.threads,
          split: cfg.split === 'plain' ? 'plain module' : cfg.threads === 1 ? '-' : `${cfg.split}/${cfg.chunksPerThread}`,
          ms: +ms.toFixed(3), gflops: +((2 * n ** 3) / ms / 1e6).toFixed(1), bestGflops: +((2 * n ** 3) / best / 1e6).toFixed(1),
          quiet: cfg.times.length, noisy: cfg.noisy ?? 0,
        });
      }
      for (const pool of new Set(configs.map((c) => c.pool).filter(Boolean))) pool.dispose();
    }
  }
}
// Speed-up of each multi-thread row over the single-thread row of the same case.
for (const r of rows) {
  const one = rows.find((o) => o.threads === 1 && o.split === '-' && o.variant === r.variant && o.n === r.n && o.bPacked === r.bPacked);
  r.speedup = one ? +(one.ms / r.ms).toFixed(2) : undefined;
  r.bestSpeedup = one ? +(r.bestGflops / one.bestGflops).toFixed(2) : undefined;
}
const os = await import('node:os');
console.log(`load average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share these cores)`);
console.table(rows);
