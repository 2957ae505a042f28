// The compressed .kiln header (format version 2) that makes small clustered models small: the
// header is raw DEFLATE through fflate, zlib reads what Kiln writes and Kiln reads zlib's streams,
// files written before fflate (fixtures) still load, version 1 files are still written by default
// and read, and a corrupt, short or over-long compressed header is refused with a plain Error.
import { readFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { inflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import '../../src/ops/index.js';
import { expectClearError } from '../helpers/clear-error.js';

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
    const h2 = JSON.parse(new TextDecoder().decode(inflateRawSync(v2.subarray(20, 20 + u32(v2, 8))))) as { graph: unknown };
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

/** A version 2 file with no tensors: preamble, then `stored` as the header, inflating to `jsonLength` bytes. */
function v2File(stored: Uint8Array, jsonLength: number): Uint8Array {
  const out = new Uint8Array(20 + stored.length);
  const view = new DataView(out.buffer);
  out.set(saveKiln(graph(0)).subarray(0, 4)); // magic
  view.setUint32(4, 2, true);
  view.setUint32(8, stored.length, true);
  view.setUint32(12, 1, true); // DEFLATE
  view.setUint32(16, jsonLength, true);
  out.set(stored, 20);
  return out;
}

/** The JSON header of a graph without tensors (a chain of Relu nodes), so any stream can stand in for it. */
function tensorFreeJson(n: number): Uint8Array {
  const b = new GraphBuilder('no-tensors', 17);
  let x = b.input('x', 'float32', [1, 4]);
  for (let i = 0; i < n; i++) x = b.op('Relu', [x]);
  b.output(x);
  const v1 = saveKiln(b.build());
  expect(v1.length).toBe(12 + u32(v1, 8)); // no data section
  return v1.slice(12);
}

describe('compressed header DEFLATE (fflate)', () => {
  const json = tensorFreeJson(200);
  const nodes = loadKiln(v2File(deflateRawSync(json), json.length)).nodes;

  it('zlib inflates the header Kiln writes, and Kiln reads headers zlib deflated at levels 0, 1 and 9', () => {
    const v2 = saveKiln(graph(), { compressHeader: true });
    const stored = v2.subarray(20, 20 + u32(v2, 8));
    expect(new Uint8Array(inflateRawSync(stored)).length).toBe(u32(v2, 16));
    expect(stored.length * 4).toBeLessThan(u32(v2, 16)); // the JSON compresses several times over
    expect(nodes).toHaveLength(200);
    for (const level of [0, 1, 9]) {
      const z = new Uint8Array(deflateRawSync(json, { level }));
      expect(loadKiln(v2File(z, json.length)).nodes).toEqual(nodes);
    }
  });

  it('loads .kiln files written before fflate (hand-written encoder, fixed-Huffman stream), v1 and v2', () => {
    // test/io/fixtures/header-v{1,2}.kiln: saveKiln of the same 12-node Add/Mul graph, written by
    // the hand-written DEFLATE encoder this project used before fflate (one fixed-Huffman block).
    const v1 = new Uint8Array(readFileSync(new URL('fixtures/header-v1.kiln', import.meta.url)));
    const v2 = new Uint8Array(readFileSync(new URL('fixtures/header-v2.kiln', import.meta.url)));
    expect([u32(v1, 4), u32(v2, 4), u32(v2, 12)]).toEqual([1, 2, 1]);
    expect(v2[20]! & 7).toBe(0b011); // BFINAL = 1, BTYPE = 01 (fixed Huffman): the old encoder's stream
    const [a, b] = [loadKiln(v1), loadKiln(v2)];
    expect(b.nodes.map((n) => n.op)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 ? 'Mul' : 'Add')));
    expect(b.nodes).toEqual(a.nodes);
    expect(b.initializers.size).toBe(12);
    for (let i = 0; i < 12; i++) {
      expect(Array.from(b.initializers.get(`bias_${i}`)!.data as Float32Array)).toEqual([i, -i, i / 2, 0.25 * i]);
      expect(b.initializers.get(`bias_${i}`)!.data).toEqual(a.initializers.get(`bias_${i}`)!.data);
    }
    // Written again (fflate now), the file loads to the same graph.
    const again = loadKiln(saveKiln(b, { compressHeader: true }));
    expect(again.nodes).toEqual(b.nodes);
    for (const [name, t] of b.initializers) expect(again.initializers.get(name)!.data).toEqual(t.data);
  });

  it('fflate never grows a caller-given output buffer (the bound loadKiln relies on)', () => {
    // Huffman output past the end is dropped (so the result fills the buffer); a stored block past
    // the end throws a RangeError. Either way nothing beyond the given buffer is allocated.
    const bomb = new Uint8Array(deflateRawSync(new Uint8Array(32 << 20)));
    const out = new Uint8Array(11);
    const got = inflateSync(bomb, { out });
    expect(got.buffer).toBe(out.buffer);
    expect(got.length).toBe(11);
    expect(() => inflateSync(new Uint8Array(deflateRawSync(json, { level: 0 })), { out: new Uint8Array(100) })).toThrow(RangeError);
  });

  it('refuses a header that inflates past its declared length (Huffman and stored blocks, and a bomb)', () => {
    for (const level of [0, 9]) {
      const z = new Uint8Array(deflateRawSync(json, { level }));
      expectClearError(() => loadKiln(v2File(z, json.length - 1)), new RegExp(`expands past its declared ${json.length - 1} bytes`));
    }
    // 32 MiB of zeros in ~32 KiB of stream, declared as 1000 bytes: refused, nothing near 32 MiB allocated.
    const bomb = new Uint8Array(deflateRawSync(new Uint8Array(32 << 20)));
    const before = process.memoryUsage().arrayBuffers;
    expectClearError(() => loadKiln(v2File(bomb, 1000)), /expands past its declared 1000 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
    // Declared past what any stream of that size can produce: refused before inflating.
    expectClearError(() => loadKiln(v2File(bomb, 1033 * bomb.length)), /cannot expand to the \d+ bytes the preamble claims/);
  });

  it('refuses short, truncated, empty and invalid streams with a plain Error naming the header', () => {
    const z = new Uint8Array(deflateRawSync(json));
    expectClearError(() => loadKiln(v2File(z, json.length + 1)), new RegExp(`expands to ${json.length} bytes, but ${json.length + 1} were declared`));
    // Every cut the preamble's ratio check lets through reaches the inflater.
    for (let cut = Math.ceil((json.length - 8) / 1032); cut < z.length; cut++) {
      expectClearError(() => loadKiln(v2File(z.subarray(0, cut), json.length)), /^kiln: compressed header (is truncated|is corrupt|expands to)/);
    }
    expectClearError(() => loadKiln(v2File(z.subarray(0, z.length >> 1), json.length)), /compressed header is truncated/);
    expectClearError(() => loadKiln(v2File(new Uint8Array(0), 5)), /compressed header is empty/);
    expectClearError(() => loadKiln(v2File(Uint8Array.of(0x07), 10)), /compressed header is corrupt \(invalid block type\)/);
    // Fixed block: a match (length code 257) with distance 1 before any output.
    const bits = [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0];
    const back = new Uint8Array(3);
    bits.forEach((b, i) => (back[i >> 3]! |= b << (i & 7)));
    expectClearError(() => loadKiln(v2File(back, 10)), /compressed header is corrupt \(invalid distance\)/);
  });
});
