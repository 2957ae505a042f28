#!/usr/bin/env node
// The kiln command: a thin wrapper over the bundled CLI in dist/ (run `npm run build` first).
import { setFlagsFromString } from 'node:v8';

// Node 20 compiles relaxed-SIMD WebAssembly only behind this V8 flag (later versions ship it on);
// set before any module is compiled, it lets the WASM backend load its relaxed build.
setFlagsFromString('--experimental-wasm-relaxed-simd');
const { main } = await import('../dist/cli.js');

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(`kiln: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
