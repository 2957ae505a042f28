// The clustered tensor layout: bit packing for every index width the pass uses, gap-coded
// positions of pruned weights, decoding and the checks that refuse inconsistent layouts.
import { describe, expect, it } from 'vitest';
import {
  attachClustered, clusterToDense, decodePositions, encodePositions, indexBits, packBits, unpackBits, validateCluster, type ClusterLayout,
} from '../../../src/tensor/clustered.js';
import { Tensor } from '../../../src/tensor/tensor.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('bit packing', () => {
  it.each([2, 3, 16, 17, 256])('k = %d round-trips through ceil(log2 k)-bit indices', (k) => {
    const bits = indexBits(k);
    expect(bits).toBe(Math.max(1, Math.ceil(Math.log2(k))));
    const r = lcg(k);
    for (const n of [0, 1, 7, 8, 9, 1001]) {
      const values = Array.from({ length: n }, () => Math.floor(r() * k));
      if (n > 0) values[n - 1] = k - 1; // the largest index, in the final partial byte
      const packed = packBits(values, bits);
      expect(packed.length).toBe(Math.ceil((n * bits) / 8));
      expect([...unpackBits(packed, n, bits)]).toEqual(values);
    }
  });

  it('packs LSB-first across byte boundaries', () => {
    // 3-bit values 1..7, 0: bits 001 010 011 100 101 110 111 000 from the low end.
    expect([...packBits([1, 2, 3, 4, 5, 6, 7, 0], 3)]).toEqual([0xd1, 0x58, 0x1f]);
    expect([...packBits([0xabc, 0x123], 12)]).toEqual([0xbc, 0x3a, 0x12]);
  });

  it('refuses values that do not fit and byte counts that do not match', () => {
    expect(() => packBits([4], 2)).toThrow(/value 4 at 0 does not fit in 2 bits/);
    expect(() => packBits([1], 17)).toThrow(/bit width must be 1 to 16/);
    expect(() => unpackBits(new Uint8Array(1), 3, 5)).toThrow(/3 values of 5 bits need 2 bytes, got 1/);
    expect(() => unpackBits(new Uint8Array(3), 3, 5)).toThrow(/need 2 bytes, got 3/);
  });
});

describe('gap-coded positions', () => {
  it('round-trips sparse and dense patterns and picks the shortest width', () => {
    const r = lcg(5);
    for (const density of [0.02, 0.1, 0.5, 0.95]) {
      const size = 5000;
      const pos: number[] = [];
      for (let i = 0; i < size; i++) if (r() < density) pos.push(i);
      const g = encodePositions(pos);
      expect([...decodePositions(g, size, pos.length)]).toEqual(pos);
      for (let b = 1; b <= 16; b++) {
        const esc = (1 << b) - 1;
        let prev = 0;
        let codes = 0;
        for (const p of pos) {
          codes += Math.floor((p - prev) / esc) + 1;
          prev = p + 1;
        }
        expect(g.count * g.bits).toBeLessThanOrEqual(codes * b);
      }
    }
    // Width 1 is a bitmap: 0 places an element, 1 skips one.
    const bitmap = encodePositions([0, 2, 3]);
    expect(bitmap.bits).toBe(1);
    expect([...unpackBits(bitmap.codes, bitmap.count, 1)]).toEqual([0, 1, 0, 0]);
  });

  it('long gaps use escape codes', () => {
    const g = encodePositions([1000]);
    expect([...decodePositions(g, 1001, 1)]).toEqual([1000]);
    expect(() => decodePositions(g, 1000, 1)).toThrow(/places an element at 1000, past the tensor's 1000 elements/);
  });

  it('refuses streams that place too many or too few elements', () => {
    const g = encodePositions([0, 1, 2]);
    expect(() => decodePositions(g, 10, 2)).toThrow(/more than the 2 nonzeros/);
    expect(() => decodePositions(g, 10, 4)).toThrow(/place 3 elements, but the layout declares 4/);
    expect(() => encodePositions([3, 3])).toThrow(/strictly increasing/);
  });
});

describe('clustered layout', () => {
  const layout = (over: Partial<ClusterLayout> = {}): ClusterLayout => ({
    dtype: 'float32', dims: [2, 3], k: 3, bits: 2,
    codebook: Float32Array.of(-1, 0.5, 4), indices: packBits([0, 1, 2, 2, 1, 0], 2), ...over,
  });

  it('decodes to codebook[index], per tensor and per channel', () => {
    expect([...clusterToDense(layout()).data]).toEqual([-1, 0.5, 4, 4, 0.5, -1]);
    const perRow = layout({ axis: 0, codebook: Float32Array.of(1, 2, 3, 10, 20, 30) });
    expect([...clusterToDense(perRow).data]).toEqual([1, 2, 3, 30, 20, 10]);
    const perCol = layout({ axis: 1, k: 2, bits: 1, codebook: Float32Array.of(1, 2, 3, 4, 5, 6), indices: packBits([0, 1, 0, 1, 0, 1], 1) });
    expect([...clusterToDense(perCol).data]).toEqual([1, 4, 5, 2, 3, 6]);
    const pruned = layout({ nnz: 2, positions: encodePositions([1, 5]), indices: packBits([2, 0], 2) });
    expect([...clusterToDense(pruned).data]).toEqual([0, 4, 0, 0, 0, -1]);
  });

  it.each([[2, undefined], [16, undefined], [16, 0], [16, 1], [256, undefined], [256, 0], [17, 0], [3, 1]] as const)(
    'k = %d, axis %s: every decoding path gives codebook[group][index]', (k, axis) => {
      const dims = [6, 10];
      const r = lcg(k * 7 + (axis ?? 3));
      const groups = axis === undefined ? 1 : dims[axis]!;
      const codebook = Float32Array.from({ length: groups * k }, () => r() * 8 - 4);
      const idx = Array.from({ length: 60 }, () => Math.floor(r() * k));
      const l: ClusterLayout = { dtype: 'float32', dims, k, bits: indexBits(k), codebook, indices: packBits(idx, indexBits(k)), ...(axis !== undefined ? { axis } : {}) };
      const group = (i: number) => (axis === undefined ? 0 : axis === 0 ? Math.floor(i / 10) : i % 10);
      expect([...clusterToDense(l).data]).toEqual(idx.map((c, i) => codebook[group(i) * k + c]));
    });

  it('refuses inconsistent layouts with a clear message', () => {
    expect(() => validateCluster(layout({ bits: 3 }))).toThrow(/3 codebook entries need 2-bit indices, the layout says 3/);
    expect(() => validateCluster(layout({ codebook: Float32Array.of(1, 2) }))).toThrow(/codebook holds 2 entries, expected 1 group\(s\) of 3/);
    expect(() => validateCluster(layout({ indices: new Uint8Array(1) }))).toThrow(/6 indices of 2 bits need 2 bytes, got 1/);
    expect(() => validateCluster(layout({ axis: 2 }))).toThrow(/axis 2 is out of range for rank 2/);
    expect(() => validateCluster(layout({ k: 0 }))).toThrow(/k must be 1 to 65536/);
    expect(() => validateCluster(layout({ nnz: 7, positions: encodePositions([0]) }))).toThrow(/nnz 7 must be an integer from 0 to the 6 elements/);
    expect(() => validateCluster(layout({ nnz: 2 }))).toThrow(/nnz is set without positions/);
    expect(() => clusterToDense(layout({ indices: packBits([0, 1, 2, 3, 1, 0], 2) }))).toThrow(/index 3 at 3 is past the 3-entry codebook/);
  });

  it('attachClustered accepts only a layout that decodes to the tensor bit for bit', () => {
    const t = new Tensor('float32', Float32Array.of(-1, 0.5, 4, 4, 0.5, -1), [2, 3]);
    expect(attachClustered(t, layout()).clustered).toBeDefined();
    const other = new Tensor('float32', Float32Array.of(-1, 0.5, 4, 4, 0.5, -0), [2, 3]);
    expect(() => attachClustered(other, layout({ codebook: Float32Array.of(-1, 0.5, 4) , indices: packBits([0, 1, 2, 2, 1, 1], 2) }))).toThrow(/element 5/);
    expect(() => attachClustered(new Tensor('float32', new Float32Array(6), [3, 2]), layout())).toThrow(/dims \[2, 3\] do not match tensor dims \[3, 2\]/);
  });
});
