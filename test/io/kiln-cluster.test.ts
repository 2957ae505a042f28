// Clustered tensors in .kiln: the file holds the codebook and packed indices (and a pruned
// weight's positions), loading decodes them to exactly codebook[index], and every corrupt field,
// length or truncation is refused with a plain Error.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { clusterWeights } from '../../src/passes/cluster/cluster-weights.js';
import { decodePositions, unpackBits, type ClusterLayout } from '../../src/tensor/clustered.js';
import { csrFromDense } from '../../src/tensor/sparse.js';
import { Tensor } from '../../src/tensor/tensor.js';
import '../../src/ops/index.js';
import { expectClearError } from '../helpers/clear-error.js';

type Json = Record<string, unknown>;

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

/** x [1, 32] -> MatMul w1 [32, 24] -> MatMul w2 [24, 8]; w2 is 80% zeros (pruned). */
function model(): Graph {
  // A long name leaves room for header edits that lengthen other fields (withHeader shortens it).
  const b = new GraphBuilder('g'.repeat(64), 17);
  const x = b.input('x', 'float32', [1, 32]);
  const w1 = b.constant('w1', new Tensor('float32', rand(32 * 24, 1), [32, 24]));
  const pruned = rand(24 * 8, 2).map((v, i) => (i % 5 === 0 ? v : 0));
  const w2t = new Tensor('float32', pruned, [24, 8]);
  w2t.sparse = csrFromDense(w2t);
  const w2 = b.constant('w2', w2t);
  b.output(b.op('MatMul', [b.op('MatMul', [x, w1]), w2]));
  return b.build();
}

/** codebook[group][index] for every element, computed from the layout's arrays here, not by the library's decoder. */
function expected(l: ClusterLayout): Float32Array {
  const size = l.dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const count = l.nnz ?? size;
  const idx = unpackBits(l.indices, count, l.bits);
  const at = l.positions ? decodePositions(l.positions, size, count) : Int32Array.from({ length: size }, (_, i) => i);
  let inner = 1;
  if (l.axis !== undefined) for (let i = l.axis + 1; i < l.dims.length; i++) inner *= l.dims[i]!;
  const groups = l.axis === undefined ? 1 : l.dims[l.axis]!;
  for (let j = 0; j < count; j++) out[at[j]!] = l.codebook[(Math.floor(at[j]! / inner) % groups) * l.k + idx[j]!]!;
  return out;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function header(bytes: Uint8Array): Json {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Json;
}

/** The (version 1) file with an edited header; the data section stays put when the new text fits. */
function withHeader(bytes: Uint8Array, edit: (h: Json) => void): Uint8Array {
  const h = header(bytes);
  (h.graph as Json).name = 'g';
  edit(h);
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const text = JSON.stringify(h);
  if (text.length > len) throw new Error('test: edited header does not fit');
  const out = bytes.slice();
  out.set(new TextEncoder().encode(text.padEnd(len, ' ')), 12);
  return out;
}

const clusteredOf = (h: Json, name: string) => (h.tensors as { name: string; clustered: Json & { indices: Json; codebook: Json; positions?: Json } }[]).find((t) => t.name === name)!.clustered;

describe('.kiln clustered tensors', () => {
  for (const perChannel of [false, true]) {
    for (const compressHeader of [false, true]) {
      it(`round-trips per ${perChannel ? 'channel' : 'layer'} codebooks (${compressHeader ? 'compressed' : 'JSON'} header)`, () => {
        const g = clusterWeights(model(), { k: 16, perChannel });
        const back = loadKiln(saveKiln(g, { compressHeader }));
        for (const name of ['w1', 'w2']) {
          const a = g.initializers.get(name)!;
          const b = back.initializers.get(name)!;
          expect(b.clustered).toEqual(a.clustered);
          expect(sameBits(b.data as Float32Array, expected(b.clustered!))).toBe(true);
          expect(sameBits(b.data as Float32Array, a.data as Float32Array)).toBe(true);
        }
        expect(back.initializers.get('w1')!.clustered!.axis).toBe(perChannel ? 1 : undefined);
        // The pruned weight keeps its CSR layout, rebuilt from the decoded values.
        const w2 = back.initializers.get('w2')!;
        expect(w2.clustered!.nnz).toBe(39);
        expect(w2.sparse).toEqual(g.initializers.get('w2')!.sparse);
      });
    }
  }

  it('stores the codebook and indices instead of the dense data', () => {
    const g = model();
    const dense = saveKiln(g).length;
    const bytes = saveKiln(clusterWeights(g, { k: 16 }));
    const h = header(bytes);
    const w1 = clusteredOf(h, 'w1');
    expect(w1.codebook).toMatchObject({ byteLength: 64 });
    expect(w1.indices).toMatchObject({ byteLength: (32 * 24) / 2 });
    expect((h.tensors as Json[]).find((t) => t.name === 'w1')!.data).toBeUndefined();
    const w2 = clusteredOf(h, 'w2');
    expect(w2.nnz).toBe(39);
    expect(w2.indices).toMatchObject({ byteLength: Math.ceil(39 / 2) });
    expect(w2.sparse).toEqual({ kind: 'csr' });
    expect(bytes.length * 2.5).toBeLessThan(dense); // 1.6 kB vs 4.4 kB
  });

  it('saveKiln refuses a clustered layout that does not decode to the tensor', () => {
    const g = clusterWeights(model(), { k: 4 });
    const w1 = g.initializers.get('w1')!;
    const changed = new Tensor('float32', Float32Array.from(w1.data as Float32Array), w1.dims);
    (changed.data as Float32Array)[5] = 123;
    changed.clustered = w1.clustered!;
    g.initializers.set('w1', changed);
    expect(() => saveKiln(g)).toThrow(/clustered layout does not decode to the tensor's data \(element 5/);
  });
});

describe('.kiln clustered refusals', () => {
  const good = () => saveKiln(clusterWeights(model(), { k: 16 }));

  it('loads the unmodified file', () => {
    expect(loadKiln(good()).initializers.get('w1')!.clustered?.k).toBe(16);
  });

  it('truncated data section', () => {
    const bytes = good();
    expectClearError(() => loadKiln(bytes.subarray(0, bytes.length - 10)), /lie outside the data section/);
  });

  it('index byte length that does not match the element count', () => {
    const bytes = withHeader(good(), (h) => {
      const c = clusteredOf(h, 'w1');
      c.indices = { ...c.indices, byteLength: (c.indices.byteLength as number) - 1 };
    });
    expectClearError(() => loadKiln(bytes), /tensors\[\d\] 'w1'.*768 indices of 4 bits need 384 bytes, got 383/);
  });

  it('k and bits that disagree, a codebook of the wrong size, an axis out of range', () => {
    expectClearError(() => loadKiln(withHeader(good(), (h) => void (clusteredOf(h, 'w1').bits = 5))), /16 codebook entries need 4-bit indices, the layout says 5/);
    expectClearError(() => loadKiln(withHeader(good(), (h) => void (clusteredOf(h, 'w1').k = 15))), /codebook holds 16 entries, expected 1 group\(s\) of 15/);
    expectClearError(() => loadKiln(withHeader(good(), (h) => void (clusteredOf(h, 'w1').axis = 2))), /axis 2 is out of range for rank 2/);
    expectClearError(() => loadKiln(withHeader(good(), (h) => void (clusteredOf(h, 'w1').k = 0))), /clustered\.k: expected an integer >= 1, got 0/);
  });

  it('an index past a short codebook', () => {
    // k = 15 keeps 4-bit indices; the 15-entry codebook is the first 60 of the 64 stored bytes.
    const bytes = withHeader(good(), (h) => {
      const c = clusteredOf(h, 'w1');
      c.k = 15;
      c.codebook = { ...c.codebook, byteLength: 60 };
    });
    const h = header(bytes);
    const idx = clusteredOf(h, 'w1').indices as { offset: number };
    bytes[idx.offset] = 0xff; // element 0 -> index 15
    expectClearError(() => loadKiln(bytes), /index 15 at 0 is past the 15-entry codebook/);
  });

  it('positions that run past the tensor or place the wrong count', () => {
    const bytes = good();
    const pos = clusteredOf(header(bytes), 'w2').positions! as { codes: { offset: number; byteLength: number }; count: number; bits: number };
    const corrupt = bytes.slice();
    corrupt.fill(0xff, pos.codes.offset, pos.codes.offset + pos.codes.byteLength); // every code an escape
    expectClearError(() => loadKiln(corrupt), /positions place 0 elements, but the layout declares 39 nonzeros/);
    // 38 escapes of 7 then a gap of 0: element 266 of 192. (39 3-bit codes: the last is bits 2-4 of byte 14.)
    expect(pos).toMatchObject({ bits: 3, count: 39, codes: { byteLength: 15 } });
    corrupt[pos.codes.offset + 14] = 0xe3;
    expectClearError(() => loadKiln(corrupt), /places an element at 266, past the tensor's 192 elements/);
    const fewer = withHeader(bytes, (h) => {
      const c = clusteredOf(h, 'w2');
      c.nnz = 38;
      c.indices = { ...c.indices, byteLength: 19 };
    });
    expectClearError(() => loadKiln(fewer), /positions place more than the 38 nonzeros/);
    expectClearError(() => loadKiln(withHeader(bytes, (h) => void (clusteredOf(h, 'w2').nnz = 193))), /nnz: 193 nonzeros in a tensor of 192 elements/);
    expectClearError(() => loadKiln(withHeader(bytes, (h) => void delete clusteredOf(h, 'w2').nnz)), /nnz and positions come together/);
    expectClearError(() => loadKiln(withHeader(bytes, (h) => void ((clusteredOf(h, 'w2').positions as Json).count = 1e6))), /positions: .*need \d+ bytes/);
  });

  it('clustered together with dense data, quantization or a non-float32 dtype', () => {
    const t = (h: Json) => (h.tensors as Json[]).find((x) => x.name === 'w1')!;
    expectClearError(() => loadKiln(withHeader(good(), (h) => void (t(h).data = (clusteredOf(h, 'w1').codebook)))), /clustered form and also dense data/);
    expectClearError(() => loadKiln(withHeader(good(), (h) => void (t(h).dtype = 'int32'))), /a clustered tensor must be float32, got int32/);
    expectClearError(() => loadKiln(withHeader(good(), (h) => void (t(h).quant = {}))), /both clustered and quantized/);
    expectClearError(() => loadKiln(withHeader(good(), (h) => void (clusteredOf(h, 'w2').sparse = { kind: 'coo' }))), /unknown sparse layout "coo"/);
  });
});
