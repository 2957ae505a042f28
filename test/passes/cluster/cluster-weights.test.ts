// clusterWeights on small graphs: exact codebooks and packed indices where k-means has one answer,
// per-channel codebooks, pruned weights (only nonzeros clustered, zeros exact), option errors,
// purity and determinism.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../src/graph/ir.js';
import { verifyGraph } from '../../../src/graph/verify.js';
import { applyPass } from '../../../src/passes/pass.js';
import { clusteredWeights, clusterWeights, clusterWeightsPass } from '../../../src/passes/cluster/cluster-weights.js';
import { kmeans1d, nearest, seededRandom, sortFloats } from '../../../src/passes/cluster/kmeans.js';
import { decodePositions, unpackBits } from '../../../src/tensor/clustered.js';
import { csrFromDense } from '../../../src/tensor/sparse.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { f32, graph, node, rand, runRef } from '../helpers.js';

/** x [1, K] @ w [K, N] -> y. */
function matmul(w: Tensor, name = 'w'): Graph {
  return graph('mm', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, w.dims[0]!] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, w.dims[1]!] }],
    nodes: [node('MatMul', ['x', name], ['y'], {}, 'mm')],
    initializers: new Map([[name, w]]),
  });
}

/** A 1x1 Conv over [1, C, 2, 2] with weight [O, C, 1, 1]. */
function conv(w: Tensor): Graph {
  return graph('conv', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, w.dims[1]!, 2, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, w.dims[0]!, 2, 2] }],
    nodes: [node('Conv', ['x', 'w'], ['y'], { kernel_shape: [1, 1] }, 'conv')],
    initializers: new Map([['w', w]]),
  });
}

const big = (values: number[], dims: number[]) => f32(values, dims);

describe('clusterWeights: exact small cases', () => {
  it('two well-separated groups give their means and 1-bit indices', () => {
    // 48 weights so the codebook and packed indices (8 + 6 bytes) are smaller than 192 dense bytes.
    const values = Array.from({ length: 48 }, (_, i) => (i % 2 === 0 ? [1, 2, 3][i % 3]! : [10, 11, 12][i % 3]!));
    const g = matmul(big(values, [6, 8]));
    const out = clusterWeights(g, { k: 2 });
    const t = out.initializers.get('w')!;
    const l = t.clustered!;
    expect(l.k).toBe(2);
    expect(l.bits).toBe(1);
    expect(l.axis).toBeUndefined();
    // Evens hold 1, 3, 2 (i % 3 for i = 0, 2, 4, ...), odds 11, 10, 12: means 2 and 11.
    expect([...l.codebook]).toEqual([2, 11]);
    const expectIdx = values.map((v) => (v < 5 ? 0 : 1));
    expect([...unpackBits(l.indices, 48, 1)]).toEqual(expectIdx);
    expect(l.indices.length).toBe(6);
    expect(l.indices[0]).toBe(0b10101010); // LSB first: element 0 -> bit 0
    expect([...(t.data as Float32Array)]).toEqual(values.map((v) => (v < 5 ? 2 : 11)));
    expect(() => verifyGraph(out)).not.toThrow();
  });

  it('per-channel: one codebook per Conv output channel', () => {
    // 4 output channels of 16 weights, each channel two values apart by channel.
    const values: number[] = [];
    for (let o = 0; o < 4; o++) for (let i = 0; i < 16; i++) values.push(o * 100 + (i < 8 ? i % 2 : 50 + (i % 2)));
    const out = clusterWeights(conv(big(values, [4, 16, 1, 1])), { k: 2, perChannel: true });
    const l = out.initializers.get('w')!.clustered!;
    expect(l.axis).toBe(0);
    expect([...l.codebook]).toEqual([0.5, 50.5, 100.5, 150.5, 200.5, 250.5, 300.5, 350.5]);
    const idx = unpackBits(l.indices, 64, 1);
    expect([...idx]).toEqual(values.map((_, i) => (i % 16 < 8 ? 0 : 1)));
  });

  it('per-channel MatMul clusters columns (axis 1), Gemm with transB rows (axis 0)', () => {
    const w = big(Array.from(rand(64, 3), (v, i) => v + (i % 8) * 10), [8, 8]);
    const mm = clusterWeights(matmul(w), { k: 4, perChannel: true }).initializers.get('w')!;
    expect(mm.clustered!.axis).toBe(1);
    // Every column's weights take values from that column's 4 entries.
    for (let i = 0; i < 64; i++) {
      const col = i % 8;
      expect([...mm.clustered!.codebook.subarray(col * 4, col * 4 + 4)]).toContain((mm.data as Float32Array)[i]);
    }
    const gemm = graph('gemm', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 8] }],
      nodes: [node('Gemm', ['x', 'w'], ['y'], { transB: 1 }, 'gemm')],
      initializers: new Map([['w', w]]),
    });
    expect(clusterWeights(gemm, { k: 4, perChannel: true }).initializers.get('w')!.clustered!.axis).toBe(0);
  });

  it('fewer distinct values than k: the codebook holds them exactly and the data is unchanged', () => {
    const values = Array.from({ length: 64 }, (_, i) => [-1.5, 0.25, 7][i % 3]!);
    const w = big(values, [8, 8]);
    const t = clusterWeights(matmul(w), { k: 4 }).initializers.get('w')!;
    expect([...t.clustered!.codebook]).toEqual([-1.5, 0.25, 7, 7]);
    expect([...(t.data as Float32Array)]).toEqual([...(w.data as Float32Array)]);
  });

  it('a pruned weight clusters only its nonzeros, keeps zeros exact and stores their positions', () => {
    // 75% zeros; the nonzeros are 1, 2 (mean 1.5) and 10, 11 (mean 10.5).
    const values = new Array<number>(64).fill(0);
    const nz = [3, 4, 17, 30, 31, 40, 41, 42, 50, 51, 52, 53, 60, 61, 62, 63];
    nz.forEach((p, j) => (values[p] = j % 2 === 0 ? (j % 4 === 0 ? 1 : 2) : (j % 4 === 1 ? 10 : 11)));
    const t = clusterWeights(matmul(big(values, [8, 8])), { k: 2 }).initializers.get('w')!;
    const l = t.clustered!;
    expect(l.nnz).toBe(16);
    expect([...decodePositions(l.positions!, 64, 16)]).toEqual(nz);
    expect([...l.codebook]).toEqual([1.5, 10.5]);
    expect([...(t.data as Float32Array)]).toEqual(values.map((v) => (v === 0 ? 0 : v < 5 ? 1.5 : 10.5)));
    expect(l.indices.length).toBe(2); // 16 one-bit indices, none for the 48 zeros
  });

  it('keeps a sparse layout of the same kind, rebuilt for the clustered values', () => {
    const values = Array.from(rand(256, 9), (v, i) => (i % 3 === 0 ? v : 0));
    const w = big(values, [16, 16]);
    w.sparse = csrFromDense(w);
    const t = clusterWeights(matmul(w), { k: 4 }).initializers.get('w')!;
    expect(t.sparse?.kind).toBe('csr');
    expect(t.clustered?.nnz).toBe(86);
    const before = w.sparse;
    const after = t.sparse!;
    if (after.kind !== 'csr') throw new Error('expected CSR');
    // Same zero structure, clustered values.
    expect(after.colIdx).toEqual(before.colIdx);
    expect(after.rowPtr).toEqual(before.rowPtr);
    expect([...after.values as Float32Array].every((v) => t.clustered!.codebook.includes(v))).toBe(true);
  });

  it('runs on the reference backend with the decoded weights', async () => {
    const w = big(Array.from(rand(64, 4)), [8, 8]);
    const out = clusterWeights(matmul(w), { k: 4 });
    const x = f32(Array.from(rand(8, 5)), [1, 8]);
    const y = (await runRef(out, { x })).get('y')!;
    const d = out.initializers.get('w')!.data as Float32Array;
    for (let j = 0; j < 8; j++) {
      let s = 0;
      for (let i = 0; i < 8; i++) s += (x.data as Float32Array)[i]! * d[i * 8 + j]!;
      expect((y.data as Float32Array)[j]).toBeCloseTo(s, 5);
    }
  });
});

describe('clusterWeights: options and purity', () => {
  const g = () => matmul(big(Array.from(rand(256, 1)), [16, 16]));

  it.each([1, 0, 257, 100000, 2.5, NaN])('k = %d is refused', (k) => {
    expect(() => clusterWeights(g(), { k })).toThrow(/k must be an integer from 2 to 256 shared values/);
  });

  it('k is required', () => {
    expect(() => applyPass(g(), clusterWeightsPass())).toThrow(/k must be an integer from 2 to 256/);
  });

  it('refuses unknown keepDense names and non-finite weights', () => {
    expect(() => clusterWeights(g(), { k: 4, keepDense: ['nope'] })).toThrow(/keepDense names 'nope'/);
    const bad = Array.from(rand(256, 1));
    bad[7] = NaN;
    expect(() => clusterWeights(matmul(big(bad, [16, 16])), { k: 4 })).toThrow(/weight 'w' holds a non-finite value \(NaN\) at element 7/);
  });

  it('keepDense layers and weights too small to gain are left alone (the input graph comes back)', () => {
    const input = g();
    expect(clusterWeights(input, { k: 4, keepDense: ['mm'] })).toBe(input);
    const tiny = matmul(big([1, 2, 3, 4], [2, 2]));
    expect(clusterWeights(tiny, { k: 16 })).toBe(tiny);
  });

  it('is pure and deterministic for a seed', () => {
    const input = g();
    const before = Float32Array.from(input.initializers.get('w')!.data as Float32Array);
    const a = clusterWeights(input, { k: 8, seed: 7 });
    const b = clusterWeights(input, { k: 8, seed: 7 });
    expect(input.initializers.get('w')!.data).toEqual(before);
    expect(input.initializers.get('w')!.clustered).toBeUndefined();
    expect(a).not.toBe(input);
    expect(a.initializers.get('w')!.clustered).toEqual(b.initializers.get('w')!.clustered);
    expect(a.nodes).toEqual(input.nodes);
  });

  it('the pass factory records its options in provenance; clusteredWeights reports bits per weight', () => {
    const out = applyPass(g(), clusterWeightsPass({ k: 16 }));
    expect(out.provenance.at(-1)).toMatchObject({ pass: 'clusterWeights', options: { k: 16 } });
    const [info] = clusteredWeights(out);
    // 256 4-bit indices (128 bytes) and a 16-entry float32 codebook (64 bytes).
    expect(info).toMatchObject({ name: 'w', k: 16, groups: 1, storedBytes: 192, bitsPerWeight: 6, nnz: 256 });
  });
});

describe('kmeans1d', () => {
  it('finds well-separated blob centres whatever the seed, and nearest() picks the closer entry', () => {
    const values: number[] = [];
    for (const c of [-8, 0, 5, 20]) for (let i = 0; i < 25; i++) values.push(c + (i - 12) / 100);
    for (const seed of [1, 2, 3]) {
      const r = kmeans1d(Float32Array.from(values), 4, seededRandom(seed));
      expect([...r.codebook].map((v) => Math.round(v * 1000) / 1000)).toEqual([-8, 0, 5, 20]);
      expect(r.assign[0]).toBe(0);
      expect(r.assign[99]).toBe(3);
    }
    const cb = Float32Array.of(-1, 0, 2, 2);
    expect([nearest(cb, -5), nearest(cb, -0.5), nearest(cb, -0.4), nearest(cb, 1), nearest(cb, 1.5), nearest(cb, 9)]).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('sortFloats sorts like a comparison sort (negatives, zeros, subnormals, extremes)', () => {
    const values = Float32Array.of(3, -1, 0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38, 0.5, -0.5, 2, 2, -7.25);
    const r = rand(5000, 11);
    const all = Float32Array.from([...values, ...r, ...r.map((v) => v * 1e-30)]);
    expect([...sortFloats(all)]).toEqual([...Float32Array.from(all).sort()]);
    expect([...sortFloats(values).subarray(0, 4)]).toEqual([-3.4e38, -7.25, -1, -0.5].map(Math.fround));
  });

  it('seededRandom is deterministic and in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    for (let i = 0; i < 100; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});
