import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ASSETS = join(import.meta.dirname, '../assets');
const table = readFileSync(join(ASSETS, 'PROVENANCE.md'), 'utf8');

describe('bundled assets match their recorded provenance', () => {
  for (const [, file, sha] of table.matchAll(/^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/gm)) {
    it(file!, () => {
      expect(createHash('sha256').update(readFileSync(join(ASSETS, file!))).digest('hex')).toBe(sha);
    });
  }
  it('lists every bundled file', () => {
    expect([...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]).sort()).toEqual(
      ['mnist-8.onnx', 'mnist/t10k-images-idx3-ubyte.gz', 'mnist/t10k-labels-idx1-ubyte.gz', 'mnist/train-10k-images-idx3-ubyte.gz', 'mnist/train-10k-labels-idx1-ubyte.gz'],
    );
  });
});
