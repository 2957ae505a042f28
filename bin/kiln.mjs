#!/usr/bin/env node
// The kiln command: a thin wrapper over the bundled CLI in dist/ (run `npm run build` first).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(`kiln: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
