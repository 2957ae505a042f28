#!/usr/bin/env node
// Entry of `npm run bench`: Kiln's WASM kernels and models side by side with onnxruntime-web and
// TensorFlow.js (wasm) in one process. Usage:
//   node bench/run.mjs [--quick] [--list] [--json PATH] [suite-or-case-filter ...]
// The harness is TypeScript (bench/lib/*.ts) so that it can import Kiln's sources directly, without a
// dist build; tsx's loader is registered here. The relaxed-SIMD module needs a V8 flag on Node 20, so
// when it is missing the script re-runs itself with it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FLAG = '--experimental-wasm-relaxed-simd';
const major = Number(process.versions.node.split('.')[0]);
if (major < 22 && !process.execArgv.includes(FLAG) && !process.env.KILN_BENCH_NO_RESPAWN) {
  const r = spawnSync(process.execPath, [FLAG, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, KILN_BENCH_NO_RESPAWN: '1' },
  });
  process.exit(r.status ?? 1);
}

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('./lib/main.ts');
const code = await main(process.argv.slice(2));
// Thread pools (Kiln's, onnxruntime-web's in its child process) must not keep the bench alive.
process.exit(code);
