// The compressed .kiln header (format version 2) that makes small clustered models small: the
// DEFLATE codec agrees with zlib both ways, version 1 files are still written by default and
// read, and a corrupt compressed header or preamble is refused with a plain Error.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { deflateRaw, inflateRaw } from '../../src/io/kiln-format/deflate.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import '../../src/ops/index.js';

function bytesOf(n: number, seed: number, alphabet: number): Uint8Array {
  let s = seed >>> 0;
  return Uint8Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24) % alphabet);
}

const samples: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one byte', Uint8Array.of(200)],
  ['text', new TextEncoder().encode('{"name":"Convolution28","op":"Conv","inputs":["Input3"]}'.repeat(50))],
  ['random', bytesOf(70_000, 1, 256)],
  ['four symbols', bytesOf(70_000, 2, 4)],
  ['zeros past the 32 KiB window', new Uint8Array(100_000)],
];

function graph(n = 64): Graph {
  const b = new GraphBuilder('header-test', 17);
  let x = b.input('x', 'float32', [1, 4]);
  for (let i = 0; i < n; i++) x = b.op('Add', [x, b.constant(`bias_${i}`, new Tensor('float32', Float32Array.of(i, i, i, i), [1, 4]))]);
  b.output(x);
  return b.build();
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
function patch(b: Uint8Array, at: number, v: number): Uint8Array {
  const out = b.slice();
  new DataView(out.buffer).setUint32(at, v, true);
  return out;
}

function expectClearError(f: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an Error').toBeInstanceOf(Error);
  expect((caught as Error).constructor).toBe(Error);
  expect((caught as Error).message).toMatch(message);
}

describe('raw DEFLATE codec', () => {
  it.each(samples)('%s: zlib inflates ours, ours inflates zlib at levels 0, 1 and 9', (_, data) => {
    const ours = deflateRaw(data);
    expect(new Uint8Array(inflateRawSync(ours))).toEqual(data);
    expect(inflateRaw(ours, data.length)).toEqual(data);
    for (const level of [0, 1, 9]) {
      const z = new Uint8Array(deflateRawSync(data, { level }));
      expect(inflateRaw(z, data.length)).toEqual(data);
    }
  });

  it('compresses a JSON header several times over', () => {
    const json = new TextEncoder().encode(JSON.stringify({ nodes: Array.from({ length: 40 }, (_, i) => ({ name: `Conv_${i}`, op: 'Conv', inputs: [`x${i}`, `w${i}`] })) }));
    expect(deflateRaw(json).length * 4).toBeLessThan(json.length);
  });

  it('refuses truncated, over-long, short and invalid streams', () => {
    const data = samples[2]![1];
    const z = deflateRaw(data);
    expect(() => inflateRaw(z.subarray(0, z.length >> 1), data.length)).toThrow(/compressed header is truncated/);
    expect(() => inflateRaw(z, data.length - 1)).toThrow(/expands past its declared/);
    expect(() => inflateRaw(z, data.length + 1)).toThrow(/expands to \d+ bytes, but \d+ were declared/);
    expect(() => inflateRaw(Uint8Array.of(0x07), 10)).toThrow(/invalid block type/);
    expect(() => inflateRaw(Uint8Array.of(0x01, 0x05, 0x00, 0x00, 0x00), 5)).toThrow(/stored block with a corrupt length/);
    // Fixed block: a match (length code 257) with distance 1 before any output.
    const w = [1, 1, 0]; // BFINAL, BTYPE 01
    const bits = [...w, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0];
    const bytes = new Uint8Array(3);
    bits.forEach((b, i) => (bytes[i >> 3]! |= b << (i & 7)));
    expect(() => inflateRaw(bytes, 10)).toThrow(/refers 1 bytes back, before its start/);
  });
});

describe('.kiln compressed header (format v2)', () => {
  it('writes version 1 by default and version 2 with compressHeader; both load to the same graph', () => {
    const g = graph();
    const v1 = saveKiln(g);
    const v2 = saveKiln(g, { compressHeader: true });
    expect(u32(v1, 4)).toBe(1);
    expect(u32(v2, 4)).toBe(2);
    expect(u32(v2, 12)).toBe(1); // DEFLATE
    // The same JSON graph (tensor offsets differ: the data section starts earlier).
    const text = (b: Uint8Array, at: number, len: number) => JSON.parse(new TextDecoder().decode(b.subarray(at, at + len))) as { graph: unknown };
    const h2 = JSON.parse(new TextDecoder().decode(inflateRaw(v2.subarray(20, 20 + u32(v2, 8)), u32(v2, 16)))) as { graph: unknown };
    expect(h2.graph).toEqual(text(v1, 12, u32(v1, 8)).graph);
    expect(v2.length).toBeLessThan(v1.length);
    const [a, b] = [loadKiln(v1), loadKiln(v2)];
    expect(b.nodes).toEqual(a.nodes);
    expect([...b.initializers.keys()]).toEqual([...a.initializers.keys()]);
    for (const [name, t] of a.initializers) expect(b.initializers.get(name)!.data).toEqual(t.data);
  });

  it('reads a version 2 file whose header is plain JSON (encoding 0)', () => {
    const v1 = saveKiln(graph(2));
    const len = u32(v1, 8);
    const json = v1.subarray(12, 12 + len);
    // Same data offsets: v1's data starts at alignUp(12 + len); v2 needs 8 more preamble bytes, which fit when there is slack.
    const dataStart = Math.ceil((12 + len) / 64) * 64;
    expect(20 + len).toBeLessThanOrEqual(dataStart);
    const v2 = new Uint8Array(v1.length);
    v2.set(v1.subarray(0, 4));
    const view = new DataView(v2.buffer);
    view.setUint32(4, 2, true);
    view.setUint32(8, len, true);
    view.setUint32(12, 0, true);
    view.setUint32(16, len, true);
    v2.set(json, 20);
    v2.set(v1.subarray(dataStart), dataStart);
    expect(loadKiln(v2).nodes).toEqual(loadKiln(v1).nodes);
    expectClearError(() => loadKiln(patch(v2, 16, len + 1)), /uncompressed header is \d+ bytes but the preamble says \d+/);
  });

  it('refuses a corrupt preamble or compressed header', () => {
    const v2 = saveKiln(graph(), { compressHeader: true });
    const stored = u32(v2, 8);
    expectClearError(() => loadKiln(patch(v2, 12, 7)), /unknown header encoding 7/);
    expectClearError(() => loadKiln(patch(v2, 16, 0xffffffff)), /compressed header cannot expand to the 4294967295 bytes/);
    expectClearError(() => loadKiln(patch(v2, 16, u32(v2, 16) - 1)), /expands past its declared/);
    expectClearError(() => loadKiln(patch(v2, 16, u32(v2, 16) + 1)), /but \d+ were declared|truncated/);
    expectClearError(() => loadKiln(patch(v2, 8, stored >> 1)), /compressed header is truncated|invalid|expands/);
    expectClearError(() => loadKiln(patch(v2, 8, 0xffffff)), /runs past the end/);
    expectClearError(() => loadKiln(v2.subarray(0, 16)), /too short for a v2 .kiln header/);
    // Flipping bits inside the stream: always a plain Error (Huffman, distance, length or JSON), never a crash.
    for (let i = 0; i < 64; i++) {
      const bad = v2.slice();
      bad[20 + ((i * 37) % stored)]! ^= 1 << (i % 8);
      try {
        loadKiln(bad);
      } catch (e) {
        expect((e as Error).constructor).toBe(Error);
        expect((e as Error).message).toMatch(/^kiln/);
      }
    }
  });
});
