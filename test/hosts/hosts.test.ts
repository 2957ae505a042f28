// The built library in other hosts: Deno (npm package `deno`) and Chromium (Debian's, driven by
// playwright-core) running an esbuild browser bundle. Both must agree with Node's reference run.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuantizeSmoke, runSmoke, type QuantizeSmokeResult, type SmokeResult } from './smoke.js';

const ROOT = join(import.meta.dirname, '../..');
const MODEL = join(ROOT, 'assets/mnist-8.onnx');
const CHROMIUM = '/usr/bin/chromium';
const requireBrowser = Boolean(process.env.KILN_REQUIRE_BROWSER);

function expectAgree(results: SmokeResult[], oracle: number[]): void {
  expect(results.map((r) => r.backend)).toEqual(['reference', 'wasm']);
  for (const r of results) {
    expect(r.scores.length).toBe(10);
    r.scores.forEach((v, i) => expect(Math.abs(v - oracle[i]!), `${r.backend} score ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(oracle[i]!))));
  }
}

let oracle: number[] = [];
beforeAll(async () => {
  oracle = (await runSmoke(readFileSync(MODEL), ['reference']))[0]!.scores;
});

describe('Deno', () => {
  it('runs the built library from a file path on reference and wasm', () => {
    const deno = join(ROOT, 'node_modules/.bin/deno');
    const out = execFileSync(deno, ['run', '--quiet', '--no-lock', '--allow-read', join(import.meta.dirname, 'deno-main.ts'), MODEL], { encoding: 'utf8' });
    expectAgree(JSON.parse(out) as SmokeResult[], oracle);
  });
});

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !requireBrowser) console.log(`browser test skipped: ${CHROMIUM} not installed (apt-get install chromium); CI sets KILN_REQUIRE_BROWSER`);

describe.skipIf(!haveChromium && !requireBrowser)('Chromium (esbuild browser bundle)', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    const bundle = await build({ entryPoints: [join(import.meta.dirname, 'browser-main.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error' });
    const js = bundle.outputFiles[0]!.text;
    const files: Record<string, [string, string | Buffer]> = {
      '/': ['text/html', '<!doctype html><script type="module" src="/app.js"></script>'],
      '/app.js': ['text/javascript', js],
      '/mnist-8.onnx': ['application/octet-stream', readFileSync(MODEL)],
    };
    server = createServer((req, res) => {
      const f = files[req.url ?? ''];
      if (!f) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => { server?.close(); });

  it('bundles without configuration and runs on reference and wasm', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => typeof window.kilnSmoke === 'function');
      const out = await page.evaluate(() => window.kilnSmoke());
      expect(errors).toEqual([]);
      expectAgree(JSON.parse(out) as SmokeResult[], oracle);
      // The optimization API in the page: static int8 quantization of mnist-8 (calibration,
      // QDQ rewrite) and the quantized model on wasm, as in Node.
      const quantized = JSON.parse(await page.evaluate(() => window.kilnQuantizeSmoke())) as QuantizeSmokeResult;
      expect(errors).toEqual([]);
      const inNode = await runQuantizeSmoke(readFileSync(MODEL));
      expect(quantized.ops).toEqual(inNode.ops);
      expect(quantized.ops).toContain('QuantizeLinear');
      expect(quantized.fallbacks).toEqual([]);
      quantized.scores.forEach((v, i) => expect(Math.abs(v - inNode.scores[i]!), `quantized score ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(inNode.scores[i]!))));
    } finally {
      await browser.close();
    }
  });
});
