// Latency of a model on the WASM backend with 1 and 2 threads, and whether the outputs are
// bit-identical. Sessions for each thread count stay open and are timed in alternation; each
// figure is the median over quiet rounds (lib/quiet.ts) of a round's mean.
//   node --experimental-wasm-relaxed-simd --import tsx bench/model-threads.ts <model.onnx> [--runs 5] [--threads 1,2] [--profile]
import { readFileSync } from 'node:fs';
import { generatedInput } from '../src/cli/run.js';
import { InferenceSession } from '../src/runtime/session.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { quietProbe } from './lib/quiet.js';

const args = process.argv.slice(2);
const flag = (k: string, d: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args.splice(i, 2)[1]! : d; };
const runs = Number(flag('runs', '5'));
const rounds = Number(flag('rounds', '30'));
const threadList = flag('threads', '1,2').split(',').map(Number);
const profile = args.includes('--profile');
if (profile) args.splice(args.indexOf('--profile'), 1);
const bytes = readFileSync(args[0]!);

const sessions = await Promise.all(threadList.map((threads) => InferenceSession.create(bytes, { backend: 'wasm', threads, profile })));
const feeds = Object.fromEntries(sessions[0]!.inputMetadata.map((v, i) => [v.name, generatedInput(v, {}, i + 1)]));
const outs: Record<string, Tensor>[] = [];
for (const s of sessions) {
  for (let i = 0; i < 3; i++) outs[sessions.indexOf(s)] = await s.run(feeds);
}
const quiet: number[][] = threadList.map(() => []);
const all: number[][] = threadList.map(() => []);
/** Per-op time summed over the quiet rounds only (profile mode). */
const opQuiet: Map<string, number>[] = threadList.map(() => new Map());
const opTotals = (k: number) => new Map(sessions[k]!.profileReport().map((r) => [r.op, r.ms]));
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < sessions.length; k++) {
    const before = profile ? opTotals(k) : undefined;
    const p = quietProbe();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await sessions[k]!.run(feeds);
    const ms = (performance.now() - t0) / runs;
    all[k]!.push(ms);
    if (!p.quiet()) continue;
    quiet[k]!.push(ms);
    if (before) for (const [op, t] of opTotals(k)) opQuiet[k]!.set(op, (opQuiet[k]!.get(op) ?? 0) + t - (before.get(op) ?? 0));
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const same = (a: Record<string, Tensor>, b: Record<string, Tensor>) => Object.keys(a).every((k) => {
  const x = new Uint8Array(a[k]!.data.buffer, a[k]!.data.byteOffset, a[k]!.data.byteLength);
  const y = new Uint8Array(b[k]!.data.buffer, b[k]!.data.byteOffset, b[k]!.data.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
});
const ms = threadList.map((_, k) => med(quiet[k]!.length ? quiet[k]! : all[k]!));
threadList.forEach((threads, k) => {
  const s = sessions[k]!;
  console.log(`threads ${threads}: ${ms[k]!.toFixed(2)} ms (median of ${quiet[k]!.length} quiet of ${rounds} rounds; min ${Math.min(...all[k]!).toFixed(2)}), fallbacks ${s.fallbackNodes().length}, output ${k === 0 ? 'reference' : same(outs[0]!, outs[k]!) ? 'bit-identical to 1st' : 'DIFFERENT from 1st'}`);
  if (profile && quiet[k]!.length) {
    const n = quiet[k]!.length * runs;
    for (const [op, t] of [...opQuiet[k]!].sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(30)} ${(t / n).toFixed(3).padStart(8)} ms/run (mean over quiet rounds)`);
  }
});
if (ms.length > 1) console.log(`speedup ${threadList.at(-1)} vs ${threadList[0]} threads: ${(ms[0]! / ms.at(-1)!).toFixed(2)}x`);
for (const s of sessions) await s.release();
