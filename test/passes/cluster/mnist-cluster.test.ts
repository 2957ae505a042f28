// The must-show figure: mnist-8 clustered to 16 shared values per layer, without
// fine-tuning, scored on all 10,000 MNIST test images after a .kiln round trip: at most 0.5
// points below the published 98.90%, and the .kiln file at least 5x smaller than the float one
// (the files' bytes, as saveKiln writes them).
import { describe, expect, it } from 'vitest';
import { loadKiln, saveKiln } from '../../../src/io/kiln-format/index.js';
import { evaluate } from '../../../src/optimize/evaluate.js';
import { clusteredWeights, clusterWeights } from '../../../src/passes/cluster/cluster-weights.js';
import type { Graph } from '../../../src/graph/ir.js';
import { prepareForQuantization } from '../../../src/passes/quantize/prepare.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { mnist8, mnistSet } from '../../optimize/mnist-data.js';

const PUBLISHED = 0.989;

describe('mnist-8 clustered to 16 values per layer', () => {
  it('loses at most 0.5 points on 10,000 test images and its .kiln is 5x smaller', { timeout: 120_000 }, async () => {
    const g = mnist8();
    const test = mnistSet('test');
    const clustered = clusterWeights(g, { k: 16 });
    // The two Conv weights and the MatMul weight (materialized from its Reshape), 4 bits each.
    const info = clusteredWeights(clustered);
    expect(info.map((w) => [w.name, w.k, w.groups])).toEqual([
      ['Parameter87', 16, 1], ['Parameter5', 16, 1], ['Parameter193_reshape1', 16, 1],
    ]);
    for (const w of info) expect(new Set(clustered.initializers.get(w.name)!.data as Float32Array).size).toBeLessThanOrEqual(16);

    const floatFile = saveKiln(g);
    const file = saveKiln(clustered, { compressHeader: true });
    expect(floatFile.length).toBe(28648);
    expect(file.length * 5).toBeLessThanOrEqual(floatFile.length);
    // Against the float model written with the same compact header, still 5x.
    expect(file.length * 5).toBeLessThanOrEqual(saveKiln(g, { compressHeader: true }).length);

    const acc = (await evaluate(loadKiln(file), test.data, test.labels)).accuracy;
    expect(acc).toBeGreaterThanOrEqual(PUBLISHED - 0.005);
    console.log(`mnist-8 k=16 per layer: top-1 ${(acc * 100).toFixed(2)}%, .kiln ${file.length} bytes vs ${floatFile.length} float`);
  });
});

/** Global magnitude pruning of the clustered weights' float originals, written here so the test needs no other pass. */
function pruneGlobal(g: Graph, names: readonly string[], fraction: number): Graph {
  const mags = names.flatMap((n) => Array.from(g.initializers.get(n)!.data as Float32Array, Math.abs)).sort((a, b) => a - b);
  const threshold = mags[Math.floor(fraction * mags.length)]!;
  const initializers = new Map(g.initializers);
  for (const n of names) {
    const t = g.initializers.get(n)!;
    initializers.set(n, new Tensor('float32', (t.data as Float32Array).map((v) => (Math.abs(v) < threshold ? 0 : v)), t.dims));
  }
  return { ...g, initializers };
}

describe('mnist-8 pruned 50% then clustered (Deep Compression, no fine-tuning)', () => {
  it('clusters only the nonzeros, keeps the accuracy within 0.5 points and shrinks the file further', { timeout: 120_000 }, async () => {
    const weights = ['Parameter87', 'Parameter5', 'Parameter193_reshape1'];
    // clusterWeights materializes the MatMul weight; prune after the same preparation.
    const pruned = pruneGlobal(prepareForQuantization(mnist8()), weights, 0.5);
    const both = clusterWeights(pruned, { k: 16 });
    expect(clusteredWeights(both).filter((w) => both.initializers.get(w.name)!.clustered!.positions).map((w) => w.name)).toEqual(['Parameter87', 'Parameter193_reshape1']);
    for (const w of clusteredWeights(both)) {
      const t = both.initializers.get(w.name)!;
      const zeros = (t.data as Float32Array).filter((v) => v === 0).length;
      // Global pruning leaves the small first Conv mostly dense: below 25% zeros it is clustered whole.
      const before = pruned.initializers.get(w.name)!.data as Float32Array;
      const prunedZeros = before.filter((v) => v === 0).length;
      expect(t.clustered!.positions !== undefined, w.name).toBe(prunedZeros >= 0.25 * t.size);
      if (t.clustered!.positions) expect([w.nnz, zeros]).toEqual([t.size - prunedZeros, prunedZeros]);
    }
    const file = saveKiln(both, { compressHeader: true });
    const clusteredOnly = saveKiln(clusterWeights(mnist8(), { k: 16 }), { compressHeader: true });
    expect(file.length).toBeLessThan(clusteredOnly.length);
    const acc = (await evaluate(loadKiln(file), mnistSet('test').data, mnistSet('test').labels)).accuracy;
    expect(acc).toBeGreaterThanOrEqual(PUBLISHED - 0.005);
    console.log(`mnist-8 pruned 50% + k=16: top-1 ${(acc * 100).toFixed(2)}%, .kiln ${file.length} bytes (clustered only ${clusteredOnly.length})`);
  });
});
