// The pruning, clustering and sparse-layout API is reachable from the package entry (src/index.ts,
// the browser-safe bundle), the same functions kiln optimize uses.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { mnist8 } from '../optimize/mnist-data.js';

describe('library exports: pruning, clustering, sparsify', () => {
  it('exports the passes, their factories and helpers', () => {
    for (const f of [
      kiln.pruneMagnitude, kiln.pruneMagnitudePass, kiln.pruneStructured, kiln.pruneStructuredPass, kiln.planStructuredPruning, kiln.maskChannels,
      kiln.sparsityAt, kiln.pruningMasks, kiln.applyPruningMasks, kiln.clusterWeights, kiln.clusterWeightsPass, kiln.clusteredWeights,
      kiln.sparsify, kiln.sparsifyPass,
    ]) expect(typeof f).toBe('function');
    expect(kiln.WEIGHT_LAYOUTS).toEqual(['dense', '2:4', 'csr', 'bsr']);
  });

  it('prune, cluster and sparsify through the entry point', () => {
    const options: kiln.MagnitudePruneOptions = { amount: 0.5, kind: 'layer' };
    const pruned: kiln.MagnitudePruneResult = kiln.pruneMagnitude(mnist8(), options);
    expect(pruned.zeros).toBe(2980);
    const cluster: kiln.ClusterOptions = { k: 16 };
    const info: kiln.ClusteredWeightInfo[] = kiln.clusteredWeights(kiln.clusterWeights(pruned.graph, cluster));
    expect(info.map((w) => w.k)).toEqual([16, 16, 16]);
    const table: kiln.SparseCostTable = { dense: { d1: 1, d4: 1 }, csr: { cNnz: 0.1, cRow: 0, sNnz: 0.1 }, bsr: { bBlock: 1, bGroup: 1 }, nm24: { n24: 1 } };
    const r: kiln.SparsifyResult = kiln.sparsify(pruned.graph, { costTable: table });
    // Only the MatMul weight is a candidate (mnist-8's Convs are 5x5); the layout is the cheapest predicted.
    expect(r.layers.map((l) => [l.weight, l.source])).toEqual([['Parameter193_reshape1', 'table']]);
    const [l] = r.layers;
    const best = Math.min(...Object.values(l!.timesUs));
    expect(l!.timesUs[l!.layout]).toBe(best);
    expect(r.graph.initializers.get('Parameter193_reshape1')!.sparse?.kind ?? 'dense').toBe({ csr: 'csr', bsr: 'bsr', '2:4': 'nm', dense: 'dense' }[l!.layout]);
  });
});
