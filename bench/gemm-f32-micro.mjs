// f32 GEMM / GEMV micro-benchmark, single thread, both module variants:
//   node --experimental-wasm-relaxed-simd bench/gemm-f32-micro.mjs [filter]
// Reports GFLOP/s as the median and the best of timed rounds after warm-up. The machine is shared,
// so the best round is the closer estimate of what the kernel does on an idle core.
// Loads the built modules from build/wasm (run `node scripts/build-wasm.mjs` first).
import { readFileSync } from 'node:fs';

const filter = process.argv[2] ?? '';

function instantiate(variant) {
  // KILN_WASM_DIR points at another build (e.g. a private one with only this family).
  const dir = process.env.KILN_WASM_DIR;
  const bytes = readFileSync(dir ? `${dir}/kiln-${variant}.wasm` : new URL(`../build/wasm/kiln-${variant}.wasm`, import.meta.url));
  if (!WebAssembly.validate(bytes)) return undefined;
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, abort() { throw new Error('abort'); } } });
  let top = Math.ceil(inst.exports.heapBase() / 64) * 64;
  const alloc = (bytes) => {
    const p = top;
    top = Math.ceil((p + bytes) / 64) * 64;
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    return p;
  };
  const fill = (ptr, n) => {
    const f = new Float32Array(memory.buffer, ptr, n);
    for (let i = 0; i < n; i++) f[i] = Math.random() - 0.5;
  };
  return { ex: inst.exports, alloc, fill, reset: () => { top = Math.ceil(inst.exports.heapBase() / 64) * 64; } };
}

/**
 * Runs fn in rounds of ~targetMs; returns seconds per call as [median wall, best wall, median CPU].
 * CPU time (process.cpuUsage) leaves out time this process spent descheduled on a busy machine.
 */
function time(fn, targetMs = 60, rounds = 15) {
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
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const mid = Math.floor(rounds / 2);
  return [wall[mid], wall[0], cpu[mid]];
}

const rows = [];
function report(variant, name, flops, [med, best, cpu]) {
  const r = { variant, name, median: flops / med / 1e9, best: flops / best / 1e9, cpuMedian: flops / cpu / 1e9, ms: med * 1e3 };
  rows.push(r);
  const f = (x) => x.toFixed(1).padStart(6);
  console.log(`${variant.padEnd(8)} ${name.padEnd(30)} GFLOP/s: median ${f(r.median)}  best ${f(r.best)}  cpu-time median ${f(r.cpuMedian)}   ${r.ms.toFixed(3).padStart(9)} ms`);
}

for (const variant of ['simd', 'relaxed']) {
  const w = instantiate(variant);
  if (!w) { console.log(`${variant}: module does not validate here (relaxed needs --experimental-wasm-relaxed-simd)`); continue; }
  const { ex, alloc, fill, reset } = w;

  for (const n of [256, 512, 1024]) {
    for (const packB of [true, false]) {
      const name = `gemm ${n}^3${packB ? ' B prepacked' : ''}`;
      if (!name.includes(filter)) continue;
      reset();
      const a = alloc(n * n * 4); fill(a, n * n);
      const b = alloc(n * n * 4); fill(b, n * n);
      const c = alloc(n * n * 4);
      let bp = b;
      if (packB) { bp = alloc(ex.gemmF32PackBBytes(n, n)); ex.gemmF32PackB(n, n, b, n, 0, bp); }
      const scratch = alloc(ex.gemmF32ScratchBytes(n, n, n, 0, packB ? 1 : 0));
      report(variant, name, 2 * n * n * n, time(() => ex.gemmF32(n, n, n, a, n, 0, 0, bp, n, 0, packB ? 1 : 0, c, n, 0, scratch, 0, n, 0, n)));
    }
  }

  // Batch-1 GEMV y[1,N] = x[1,K] . W, W pre-packed (a MatMul / Gemm weight), and unpacked for reference.
  for (const n of [1024, 4096]) {
    for (const packB of [true, false]) {
      const name = `gemv ${n}x${n}${packB ? ' W prepacked' : ' W row-major'}`;
      if (!name.includes(filter)) continue;
      reset();
      const x = alloc(n * 4); fill(x, n);
      const wt = alloc(n * n * 4); fill(wt, n * n);
      const y = alloc(n * 4);
      let wp = wt;
      if (packB) { wp = alloc(ex.gemmF32PackBBytes(n, n)); ex.gemmF32PackB(n, n, wt, n, 1, wp); }
      const scratch = alloc(ex.gemmF32ScratchBytes(1, n, n, 0, packB ? 1 : 0));
      report(variant, name, 2 * n * n, time(() => ex.gemmF32(1, n, n, x, n, 0, 0, wp, n, 1, packB ? 1 : 0, y, n, 0, scratch, 0, 1, 0, n)));
    }
  }
}

if (process.env.GEMM_BENCH_JSON) console.log(JSON.stringify(rows));
