// Installs Deno from the npm registry (the `deno` package) for the host tests when it is missing.
// It is not a devDependency because npm 11 writes a lock file without the other platforms' optional
// @deno/* binaries, which then makes `npm ci` refuse the lock; installing it here, unsaved, avoids that.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const DENO_VERSION = '2.9.6';
if (!existsSync('node_modules/.bin/deno')) {
  console.log(`installing deno@${DENO_VERSION} for the host tests`);
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', `deno@${DENO_VERSION}`], { stdio: 'inherit' });
}
