// Builds dist/: the library as one ESM bundle for browsers, Deno and Node (no Node built-ins at top
// level), the CLI for Node, and type declarations.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
execFileSync('node', ['scripts/build-wasm.mjs'], { stdio: 'inherit' });
const common = { bundle: true, format: 'esm', sourcemap: true, target: 'es2022', logLevel: 'warning' };
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', platform: 'neutral', mainFields: ['module', 'main'] });
// vega / vega-lite (the report's charts) stay external: loaded from node_modules only for --report.
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', external: ['vega', 'vega-lite'] });
execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
