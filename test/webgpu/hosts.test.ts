// The webgpu backend in Deno (its own WebGPU, wgpu) and in Debian's Chromium (Dawn on SwiftShader,
// --enable-unsafe-webgpu): host-main.ts, bundled like the library (platform neutral), must match the
// reference backend with no fallback nodes. A missing host or adapter skips with the reason, unless
// KILN_REQUIRE_WEBGPU is set (CI), where it fails.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostResult } from './host-main.js';

const requireWebGpu = Boolean(process.env.KILN_REQUIRE_WEBGPU);
const DENO = 'node_modules/.bin/deno';
const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'kiln-webgpu-hosts-'));
const bundle = join(dir, 'host-main.js');

function parse(output: string): HostResult {
  const line = output.split('\n').find((l) => l.startsWith('KILN_WEBGPU '));
  if (!line) throw new Error(`no result line in the host's output:\n${output.slice(-2000)}`);
  return JSON.parse(line.slice('KILN_WEBGPU '.length)) as HostResult;
}

/** Checks a host's result; a host without an adapter is only reported, unless WebGPU is required. */
function check(host: string, r: HostResult): void {
  if (r.error && !r.adapter) {
    if (requireWebGpu || r.error.startsWith('run failed')) throw new Error(`${host}: ${r.error}`);
    console.log(`${host} WebGPU check skipped: ${r.error}`);
    return;
  }
  console.log(`${host}: adapter ${r.adapter}, relative difference ${r.relDiff}`);
  expect(r.error).toBeUndefined();
  expect(r.fallbacks).toEqual([]);
  expect(r.relDiff).toBeLessThanOrEqual(1e-5);
}

beforeAll(async () => {
  await build({
    entryPoints: ['test/webgpu/host-main.ts'], outfile: bundle, bundle: true, format: 'esm',
    platform: 'neutral', mainFields: ['module', 'main'], target: 'es2022', logLevel: 'warning',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const haveDeno = existsSync(DENO);
if (!haveDeno && !requireWebGpu) console.log(`Deno WebGPU check skipped: ${DENO} missing (npm test's pretest installs it)`);

describe.skipIf(!haveDeno && !requireWebGpu)('webgpu backend in Deno', () => {
  it('matches the reference backend', async () => {
    const { stdout, stderr } = await promisify(execFile)(DENO, ['run', '--allow-read', '--allow-env', bundle], { timeout: 90_000 });
    check('Deno', parse(stdout + stderr));
  });
});

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !requireWebGpu) console.log(`Chromium WebGPU check skipped: ${CHROMIUM} not installed`);

describe.skipIf(!haveChromium && !requireWebGpu)('webgpu backend in Chromium', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/host-main.js') {
        res.setHeader('content-type', 'text/javascript');
        res.end(readFileSync(bundle));
        return;
      }
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><script type="module" src="/host-main.js"></script>');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => { server?.close(); });

  it('matches the reference backend (SwiftShader)', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const lines: string[] = [];
      const done = new Promise<void>((resolve) => {
        page.on('console', (m) => { lines.push(m.text()); if (m.text().startsWith('KILN_WEBGPU ')) resolve(); });
      });
      page.on('pageerror', (e) => lines.push(`KILN_WEBGPU ${JSON.stringify({ error: `run failed: ${e.message}` })}`));
      await page.goto(`http://127.0.0.1:${port}/`);
      await Promise.race([done, new Promise((r) => setTimeout(r, 90_000))]);
      check('Chromium', parse(lines.join('\n')));
    } finally {
      await browser.close();
    }
  });
});
