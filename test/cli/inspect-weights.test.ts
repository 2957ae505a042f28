// `kiln inspect` of a pruned, sparse and clustered model: per-layer sparsity, storage layout and
// the bits the .kiln file stores per weight, computed here from the layouts' array sizes. The
// layouts are attached by hand (not measured), so the expected table is exact.
import { describe, expect, it } from 'vitest';
import { inspectGraph } from '../../src/cli/inspect.js';
import { parseModel } from '../../src/runtime/load.js';
import { saveKiln } from '../../src/io/kiln-format/index.js';
import type { Graph } from '../../src/graph/ir.js';
import { clusterWeights } from '../../src/passes/cluster/cluster-weights.js';
import { pruneMagnitude } from '../../src/passes/prune/magnitude.js';
import { prepareForQuantization } from '../../src/passes/quantize/prepare.js';
import { attachSparse, csrFromDense, nmFromDense } from '../../src/tensor/sparse.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { mnist8 } from '../optimize/mnist-data.js';

function inspect(g: Graph): string[] {
  const lines: string[] = [];
  inspectGraph(parseModel(saveKiln(g, { compressHeader: true })), (s: string) => lines.push(s));
  return lines.join('\n').split('\n');
}

/** `t`'s data with `layout` attached (a fresh tensor, so the input graph is not changed). */
function withLayout(g: Graph, name: string, attach: (t: Tensor) => Tensor): Graph {
  const t = g.initializers.get(name)!;
  const initializers = new Map(g.initializers);
  initializers.set(name, attach(new Tensor('float32', t.data as Float32Array, t.dims)));
  return { ...g, initializers };
}

describe('kiln inspect: weights of a pruned, sparse or clustered model', () => {
  it('prints each layer\'s sparsity, layout and stored bits per weight', () => {
    let g = prepareForQuantization(mnist8());
    // Times212's weight (a MatMul: no clean-up here) 2:4 along K (axis 0 of its [256, 10] B), Convolution110's 90% per layer.
    g = pruneMagnitude(g, { kind: '2:4', keepDense: ['Convolution28', 'Convolution110'] }).graph;
    g = pruneMagnitude(g, { kind: 'layer', amount: 0.9, keepDense: ['Convolution28', 'Times212'] }).graph;
    g = withLayout(g, 'Parameter193_reshape1', (t) => attachSparse(t, nmFromDense(t, 2, 4, 0)));
    g = withLayout(g, 'Parameter87', (t) => attachSparse(t, csrFromDense(t)));
    // Convolution28's weight clustered to 16 values (no zeros: one 4-bit index per weight).
    g = clusterWeights(g, { k: 16, keepDense: ['Convolution110', 'Times212'] });
    const lines = inspect(g);
    const at = lines.findIndex((l) => l.startsWith('weights:'));
    expect(lines[at]).toBe(`weights: 3 layers, ${((100 * (2880 + 1280)) / 5960).toFixed(1)}% zeros overall`);
    // Bits per weight: clustered 16 floats + 200 nibbles = 164 bytes over 200 weights; CSR 17 row
    // pointers, 320 column indices (int32) and 320 float values over 3200; 2:4 1280 values and 1280
    // 2-bit positions over 2560.
    const bits = [(8 * (64 + 100)) / 200, (8 * (17 * 4 + 320 * 4 + 320 * 4)) / 3200, (8 * (1280 * 4 + 320)) / 2560];
    expect(bits.map((b) => b.toFixed(2))).toEqual(['6.56', '6.57', '17.00']);
    expect(lines.slice(at + 1, at + 5).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ['layer', 'op', 'weight', 'dtype', 'sparsity', 'layout', 'bits/weight'],
      ['Convolution28', 'Conv', 'Parameter5 [8x1x5x5]', 'float32', '0.0%', 'clustered k=16', '6.56'],
      ['Convolution110', 'Conv', 'Parameter87 [16x8x5x5]', 'float32', '90.0%', 'csr', '6.57'],
      ['Times212', 'MatMul', 'Parameter193_reshape1 [256x10]', 'float32', '50.0%', '2:4', '17.00'],
    ]);
  });

  it('a pruned model without layouts shows 32 bits and its zeros; a dense model prints no weights table', () => {
    const g = prepareForQuantization(mnist8());
    expect(inspect(g).some((l) => l.startsWith('weights:'))).toBe(false);
    const pruned = pruneMagnitude(g, { kind: 'layer', amount: 0.5 }).graph;
    const rows = inspect(pruned).filter((l) => /^ {2}(Convolution|Times)/.test(l)).map((l) => l.trim().split(/\s{2,}/).slice(4));
    expect(rows).toEqual([['50.0%', 'dense', '32.00'], ['50.0%', 'dense', '32.00'], ['50.0%', 'dense', '32.00']]);
  });

  it('per-channel clustering of a pruned weight: the nonzeros and gap-coded positions count', () => {
    const g = pruneMagnitude(prepareForQuantization(mnist8()), { kind: 'layer', amount: 0.5 }).graph;
    const c = clusterWeights(g, { k: 4, perChannel: true });
    const t = c.initializers.get('Parameter87')!;
    const l = t.clustered!;
    const stored = l.codebook.byteLength + l.indices.byteLength + l.positions!.codes.byteLength;
    expect([l.codebook.length, l.nnz]).toEqual([16 * 4, 1600]);
    const line = inspect(c).find((s) => s.trim().startsWith('Convolution110'))!.trim().split(/\s{2,}/);
    expect(line.slice(4)).toEqual(['50.0%', 'clustered k=4 per-channel', ((8 * stored) / 3200).toFixed(2)]);
  });
});
