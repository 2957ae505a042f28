// Shared harness of the kernel micro-benchmarks (bench/*-micro.mjs): loading a built Kiln module
// with a bump allocator over its memory, timing a call, and printing rate rows. Plain .mjs so the
// scripts run with plain node.

import { readFileSync } from 'node:fs';

const ALIGN = 64;
const PAGE = 65536;
const alignUp = (n) => Math.ceil(n / ALIGN) * ALIGN;

export const VARIANTS = ['simd', 'relaxed'];

/**
 * A 64-byte-aligned bump allocator over `memory` from `heapBase` up, growing the memory on demand.
 * `slack` extra bytes follow every block (for kernels that may read a little past their data).
 */
export function bumpAllocator(memory, heapBase, slack = 0) {
  const base = alignUp(heapBase);
  let top = base;
  return {
    alloc(bytes) {
      const p = top;
      top = alignUp(p + bytes + slack);
      if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / PAGE));
      return p;
    },
    /** First byte past the last block. */
    top: () => top,
    /** Forgets every block. */
    reset() { top = base; },
  };
}

/**
 * Instantiates build/wasm/kiln-<variant>.wasm (or the one in $KILN_WASM_DIR, e.g. a private build
 * with only some kernel families) on a fresh non-shared memory; undefined where the host rejects it.
 * Returns the exports, the memory, a bump allocator (see bumpAllocator) and helpers over it.
 */
export function instantiate(variant, { slack = 0 } = {}) {
  const dir = process.env.KILN_WASM_DIR;
  const bytes = readFileSync(dir ? `${dir}/kiln-${variant}.wasm` : new URL(`../../build/wasm/kiln-${variant}.wasm`, import.meta.url));
  if (!WebAssembly.validate(bytes)) return undefined;
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, abort() { throw new Error('abort'); } } });
  const heap = bumpAllocator(memory, inst.exports.heapBase(), slack);
  const { alloc } = heap;
  const f32 = (ptr, n) => new Float32Array(memory.buffer, ptr, n);
  const i32 = (ptr, n) => new Int32Array(memory.buffer, ptr, n);
  const f64 = (ptr, n) => new Float64Array(memory.buffer, ptr, n);
  return {
    variant,
    ex: inst.exports,
    memory,
    alloc,
    reset: heap.reset,
    f32,
    i32,
    f64,
    /** Fills n f32 at ptr with uniform values in [-0.5, 0.5). */
    fill(ptr, n) {
      const f = f32(ptr, n);
      for (let i = 0; i < n; i++) f[i] = Math.random() - 0.5;
    },
    /** Fills n bytes at ptr with uniform integers in [lo, hi] (two's complement for negatives). */
    fillBytes(ptr, n, lo, hi) {
      const b = new Uint8Array(memory.buffer, ptr, n);
      for (let i = 0; i < n; i++) b[i] = (lo + Math.floor(Math.random() * (hi - lo + 1))) & 0xff;
    },
    /** n fresh f32 uniform in [-scale, scale). */
    random(n, scale = 1) {
      const p = alloc(n * 4);
      const f = f32(p, n);
      for (let i = 0; i < n; i++) f[i] = (Math.random() * 2 - 1) * scale;
      return p;
    },
    /** A fresh copy of int32 words. */
    words(w) {
      const p = alloc(w.length * 4);
      i32(p, w.length).set(w);
      return p;
    },
    /** A fresh copy of a typed array's bytes. */
    put(arr) {
      const p = alloc(arr.byteLength);
      new Uint8Array(memory.buffer, p, arr.byteLength).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
      return p;
    },
  };
}

/**
 * The modules of `variants` that this host runs, one after the other. A module the host rejects is
 * skipped with a line saying so, unless `quiet`.
 */
export function* modules({ variants = VARIANTS, slack = 0, quiet = false } = {}) {
  for (const variant of variants) {
    const m = instantiate(variant, { slack });
    if (m) yield m;
    else if (!quiet) console.log(`${variant}: module does not validate here (relaxed needs --experimental-wasm-relaxed-simd)`);
  }
}

/** The middle element (upper middle for an even count) of the values, sorted ascending. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * A timer: time(fn) calls fn once to warm up, sizes a round to ~targetMs, runs `rounds` rounds and
 * returns seconds per call as [median wall, best wall, median CPU]. CPU time (process.cpuUsage)
 * leaves out time this process spent descheduled on a busy machine.
 */
export function timer(targetMs, rounds) {
  return function time(fn) {
    fn();
    let reps = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      const dt = performance.now() - t0;
      if (dt > targetMs / 4) { reps = Math.max(1, Math.round(reps * targetMs / dt)); break; }
      reps *= 2;
    }
    const wall = [];
    const cpu = [];
    for (let r = 0; r < rounds; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) fn();
      wall.push((performance.now() - t0) / reps / 1e3);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / reps / 1e6);
    }
    return [median(wall), Math.min(...wall), median(cpu)];
  };
}

/** How a rate row shows the median time per call. */
const PER_CALL = {
  ms: { scale: 1e3, digits: 3, width: 9, gap: '   ' },
  us: { scale: 1e6, digits: 1, width: 8, gap: '  ' },
};

/**
 * Rate rows (operations / s, in units of 1e9) printed as they come and kept in `rows`:
 *   report(variant, name, ops, time(fn), { bytes, base })
 * `bytes` adds the bandwidth of the best round; `base` (another time() result, of what `versus`
 * names) adds the speed-up over it by median CPU time. `perCall` picks the time column ('ms' or
 * 'us'), `cpuLabel` the CPU column's label. json(envName) prints the rows as JSON where that
 * environment variable is set.
 */
export function rateTable({ unit, nameWidth, cpuLabel = 'cpu-time median', perCall = 'ms', versus = 'base' }) {
  const rows = [];
  const p = PER_CALL[perCall];
  const f = (x) => x.toFixed(1).padStart(6);
  function report(variant, name, ops, [med, best, cpu], { bytes = 0, base } = {}) {
    const r = { variant, name, median: ops / med / 1e9, best: ops / best / 1e9, cpuMedian: ops / cpu / 1e9, [perCall]: med * p.scale };
    if (base) r.speedup = base[2] / cpu;
    rows.push(r);
    // Memory-bound rows also show the weight bandwidth of the best round.
    const bw = bytes ? `  (${(bytes / best / 1e9).toFixed(1)} GB/s best)` : '';
    const s = r.speedup ? `  x${r.speedup.toFixed(2)} vs ${versus}` : '';
    console.log(`${variant.padEnd(8)} ${name.padEnd(nameWidth)} ${unit}: median ${f(r.median)}  best ${f(r.best)}  ${cpuLabel} ${f(r.cpuMedian)}${p.gap}${r[perCall].toFixed(p.digits).padStart(p.width)} ${perCall}${bw}${s}`);
  }
  return {
    rows,
    report,
    json(envName) {
      if (process.env[envName]) console.log(JSON.stringify(rows));
    },
  };
}
