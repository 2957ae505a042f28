// sparsify: exact layouts chosen from a fixed cost table (unstructured -> CSR, 4x1-blocked -> BSR,
// 2:4 -> 2:4, nearly dense -> dense, no zeros -> not listed), the batch changing the choice, the
// predicted times, provenance through applyPass, the input graph untouched, bad options; the
// measured path on a small graph; and the sparsified graph on the WASM backend within float32
// rounding of the reference, each weight on the kernel its layout names.
import { describe, expect, it } from 'vitest';
import { sparseKernelKind } from '../../src/backends/wasm/ops/sparse.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { clusterWeights } from '../../src/passes/cluster/cluster-weights.js';
import { applyPass } from '../../src/passes/pass.js';
import { sparsify, sparsifyPass, type SparseCostTable } from '../../src/passes/sparsify.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { rngUnit } from '../wasm/module-setup.js';

/** ns per unit: dense 1 per MAC, CSR 3 per non-zero, a 4x1 block 4, 2:4 4 per 8 columns. */
const TABLE: SparseCostTable = {
  dense: { d1: 1, d4: 1 },
  csr: { cNnz: 3, cRow: 0, sNnz: 3 },
  bsr: { bBlock: 4, bGroup: 0 },
  nm24: { n24: 4 },
};

/** W [N, K] (output rows by reduction) from a rule; stored as B [N, K] for Gemm transB, else [K, N]. */
function weight(N: number, K: number, transB: boolean, keep: (n: number, k: number) => boolean, r: () => number): Tensor {
  const data = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      if (keep(n, k)) data[transB ? n * K + k : k * N + n] = r() < 0.5 ? -0.5 - r() : 0.5 + r();
    }
  }
  return new Tensor('float32', data, transB ? [N, K] : [K, N]);
}

function model(batch: number | string): { g: Graph; nnz: Record<string, number> } {
  const r = rngUnit(7);
  const b = new GraphBuilder('sparsify', 21);
  const x = b.input('x', 'float32', [batch, 16]);
  // 12 non-zeros of 128, each in its own 4x1 block: row 0 at even columns below 12, row 4 at odd ones.
  const unstructured = weight(8, 16, true, (n, k) => k < 12 && ((n === 0 && k % 2 === 0) || (n === 4 && k % 2 === 1)), r);
  // Four full 4x1 blocks: rows 0-3 at columns 2 and 9, rows 4-7 at columns 5 and 13.
  const blocked = weight(8, 16, false, (n, k) => (n < 4 ? k === 2 || k === 9 : k === 5 || k === 13), r);
  // 2 of every 4 along K.
  const twoFour = weight(8, 16, false, (n, k) => (k + n) % 4 < 2, r);
  // 90% dense.
  const nearlyDense = weight(8, 16, true, (n, k) => (n * 16 + k) % 10 !== 3, r);
  const full = weight(8, 8, false, () => true, r);
  const h1 = b.op('Gemm', [x, b.constant('w_unstructured', unstructured)], { transB: 1 }, { name: 'fc_unstructured' });
  const h2 = b.op('MatMul', [x, b.constant('w_blocked', blocked)], {}, { name: 'fc_blocked' });
  const h3 = b.op('MatMul', [x, b.constant('w_24', twoFour)], {}, { name: 'fc_24' });
  const h4 = b.op('Gemm', [x, b.constant('w_dense90', nearlyDense)], { transB: 1 }, { name: 'fc_dense90' });
  const s = b.op('Add', [b.op('Add', [h1, h2]), b.op('Add', [h3, h4])]);
  b.output(b.op('MatMul', [s, b.constant('w_full', full)], {}, { name: 'fc_full' }));
  const count = (t: Tensor) => (t.data as Float32Array).filter((v) => v !== 0).length;
  return { g: b.build(), nnz: { unstructured: count(unstructured), blocked: count(blocked), twoFour: count(twoFour), nearlyDense: count(nearlyDense) } };
}

describe('sparsify with a fixed cost table', () => {
  it('chooses CSR, BSR, 2:4 and dense exactly at batch 1, with the predicted times', () => {
    const { g, nnz } = model(1);
    expect(nnz).toEqual({ unstructured: 12, blocked: 16, twoFour: 64, nearlyDense: 115 });
    const { graph, layers } = sparsify(g, { costTable: TABLE });
    expect(layers.map((l) => [l.name, l.layout])).toEqual([
      ['fc_unstructured', 'csr'], ['fc_blocked', 'bsr'], ['fc_24', '2:4'], ['fc_dense90', 'dense'],
    ]);
    const us = (ns: number) => ns / 1000;
    // dense 128 MACs; CSR 3 per non-zero; 4 per 4x1 block (12, 4, 32 blocks); 2:4 4 * 128 / 8.
    expect(layers.map((l) => l.timesUs)).toEqual([
      // Both sparse weights also fit 2:4 (no group of 4 along K holds more than 2).
      { dense: us(128), csr: us(36), bsr: us(48), '2:4': us(64) },
      { dense: us(128), csr: us(48), bsr: us(16), '2:4': us(64) },
      { dense: us(128), '2:4': us(64) },
      { dense: us(128) },
    ]);
    expect(layers.every((l) => l.source === 'table' && l.batch === 1 && l.N === 8 && l.K === 16)).toBe(true);
    expect(layers[0]!.sparsity).toBeCloseTo(1 - 12 / 128, 12);
    const layout = (name: string) => graph.initializers.get(name)!.sparse;
    expect(layout('w_unstructured')?.kind).toBe('csr');
    expect(layout('w_blocked')).toMatchObject({ kind: 'bsr', blockDims: [1, 4] });
    expect(layout('w_24')).toMatchObject({ kind: 'nm', n: 2, m: 4, axis: 0 });
    expect(layout('w_dense90')).toBeUndefined();
    // The dense data is the input's, bit for bit, and the input graph is untouched.
    for (const [name, t] of g.initializers) {
      expect(graph.initializers.get(name)!.data).toEqual(t.data);
      expect(t.sparse).toBeUndefined();
    }
  });

  it('takes the batch into account: at 4 rows 2:4 runs as dense and BSR as CSR SpMM', () => {
    const { layers } = sparsify(model(1).g, { costTable: TABLE, batch: 4 });
    expect(layers.map((l) => l.layout)).toEqual(['csr', 'csr', 'dense', 'dense']);
    expect(layers[2]!.timesUs).toEqual({ dense: 0.128, '2:4': 0.128 });
    // From the graph's static shapes when no batch is given.
    expect(sparsify(model(4).g, { costTable: TABLE }).layers.map((l) => l.batch)).toEqual([4, 4, 4, 4]);
    expect(sparsify(model('N').g, { costTable: TABLE }).layers.map((l) => l.batch)).toEqual([1, 1, 1, 1]);
  });

  it('keeps to the allowed layouts and returns the input graph when nothing changes', () => {
    const { g } = model(1);
    const r = sparsify(g, { costTable: TABLE, layouts: ['csr'] });
    expect(r.layers.map((l) => l.layout)).toEqual(['csr', 'csr', 'dense', 'dense']);
    const again = sparsify(r.graph, { costTable: TABLE, layouts: ['csr'] });
    expect(again.graph).toBe(r.graph);
    const none = sparsify(g, { costTable: TABLE, layouts: [] });
    expect(none.graph).toBe(g);
  });

  it('keeps a clustered layout next to the sparse one (a pruned, then clustered weight)', () => {
    const clustered = clusterWeights(model(1).g, { k: 4 });
    const before = clustered.initializers.get('w_unstructured')!;
    expect(before.clustered).toBeDefined();
    const { graph, layers } = sparsify(clustered, { costTable: TABLE });
    expect(layers[0]!.layout).toBe('csr');
    const after = graph.initializers.get('w_unstructured')!;
    expect(after.sparse?.kind).toBe('csr');
    expect(after.clustered).toBe(before.clustered);
    expect(after.data).toBe(before.data);
  });

  it('records the choices in provenance as a pass', () => {
    const out = applyPass(model(1).g, sparsifyPass({ costTable: TABLE }));
    const entry = out.provenance[out.provenance.length - 1]!;
    expect(entry.pass).toBe('sparsify');
    const layers = (entry.options as { result: { layers: { name: string; layout: string }[] } }).result.layers;
    expect(layers.map((l) => l.layout)).toEqual(['csr', 'bsr', '2:4', 'dense']);
  });

  it('rejects bad options with clear errors', () => {
    const { g } = model(1);
    expect(() => sparsify(g, { batch: 0 })).toThrow(/batch must be a positive integer/);
    expect(() => sparsify(g, { batch: 1.5 })).toThrow(/batch must be a positive integer/);
    expect(() => sparsify(g, { backend: 'webgpu' as 'wasm' })).toThrow(/backend must be 'wasm'/);
    expect(() => sparsify(g, { layouts: ['coo' as 'csr'] })).toThrow(/unknown layout 'coo'/);
    expect(() => sparsify(g, { costTable: { ...TABLE, csr: { cNnz: -1, cRow: 0, sNnz: 0 } } })).toThrow(/costTable needs finite non-negative/);
  });
});

describe('sparsify on pointwise convs', () => {
  function convModel(spatial: (number | string)[], kernel: number[]): Graph {
    const r = rngUnit(9);
    const b = new GraphBuilder('conv', 21);
    const x = b.input('x', 'float32', [2, 16, ...spatial]);
    const wData = new Float32Array(8 * 16 * kernel.reduce((p, q) => p * q, 1)).map((_, i) => (i % 10 === 0 ? r() + 0.5 : 0));
    const w = new Tensor('float32', wData, [8, 16, ...kernel]);
    b.output(b.op('Conv', [x, b.constant('w', w)], { kernel_shape: kernel }, { name: 'pw' }));
    return b.build();
  }

  it('gives a 90%-zero 1x1 conv CSR, costed over images x pixels', () => {
    const { graph, layers } = sparsify(convModel([7, 5], [1, 1]), { costTable: TABLE });
    // 13 non-zeros (every 10th of 128); 2 images x 35 pixels = 70 rows: 18 tiles of 4.
    expect(layers).toEqual([{
      name: 'pw', op: 'Conv', weight: 'w', N: 8, K: 16, batch: 70, sparsity: 1 - 13 / 128, layout: 'csr',
      timesUs: { dense: (18 * 128) / 1000, csr: (18 * 3 * 13) / 1000 }, source: 'table',
    }]);
    expect(graph.initializers.get('w')!.sparse?.kind).toBe('csr');
    expect(sparsify(convModel([7, 5], [1, 1]), { costTable: TABLE, batch: 1 }).layers[0]!.batch).toBe(35);
  });

  it('leaves alone a 3x3 conv and a 1x1 conv whose pixels the shapes do not fix', () => {
    expect(sparsify(convModel([7, 5], [3, 3]), { costTable: TABLE }).layers).toEqual([]);
    const g = convModel(['H', 'W'], [1, 1]);
    const r = sparsify(g, { costTable: TABLE });
    expect(r.layers).toEqual([]);
    expect(r.graph).toBe(g);
  });
});

describe('sparsify on quantized weights (DequantizeLinear -> MatMul / Gemm)', () => {
  function quantModel(zeroPoint?: number): Graph {
    const b = new GraphBuilder('q', 21);
    const x = b.input('x', 'float32', [1, 16]);
    const type = zeroPoint === undefined ? 'int8' : 'uint8';
    // B [K, N] = [16, 8]: 8 non-zeros at K rows 0, 4, 8, 12 (one per group of 4 along K), columns 0-7.
    const q = new Tensor(type, type === 'int8' ? new Int8Array(128) : new Uint8Array(128).fill(zeroPoint!), [16, 8]);
    for (let i = 0; i < 8; i++) (q.data as Int8Array | Uint8Array)[(i % 4) * 4 * 8 + i] = i + 3;
    const dqIn = [b.constant('w_q', q), b.constant('s', new Tensor('float32', Float32Array.of(0.05), []))];
    if (zeroPoint !== undefined) dqIn.push(b.constant('zp', new Tensor('uint8', Uint8Array.of(zeroPoint), [])));
    const w = b.op('DequantizeLinear', dqIn);
    b.output(b.op('MatMul', [x, w], {}, { name: 'qfc' }));
    return b.build();
  }

  it('gives a pruned int8 weight CSR, and the WASM session runs it on the int8 kernel', async () => {
    const g = quantModel();
    const { graph, layers } = sparsify(g, { costTable: TABLE });
    expect(layers.map((l) => [l.name, l.weight, l.layout, l.N, l.K])).toEqual([['qfc', 'w_q', 'csr', 8, 16]]);
    expect(layers[0]!.timesUs).toEqual({ dense: 0.128, csr: 0.024, '2:4': 0.064 });
    const t = graph.initializers.get('w_q')!;
    expect(t.type).toBe('int8');
    expect(t.sparse?.kind).toBe('csr');
    expect(sparseKernelKind(t, 1, false)).toBe('csr-spmv');
    const r = rngUnit(5);
    const x = new Tensor('float32', Float32Array.from({ length: 16 }, () => r() * 2 - 1), [1, 16]);
    const want = (await (await InferenceSession.create(g, { backend: 'reference' })).run({ x }))[g.outputs[0]!.name]!.data as Float32Array;
    const s = await InferenceSession.create(graph, { backend: 'wasm' });
    const got = (await s.run({ x }))[g.outputs[0]!.name]!.data as Float32Array;
    expect(s.fallbackNodes()).toEqual([]);
    await s.release();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want[i]!)));
  });

  it('leaves a weight with a non-zero zero point alone (its raw zeros are not zeros)', () => {
    expect(sparsify(quantModel(128), { costTable: TABLE }).layers).toEqual([]);
  });
});

describe('sparsify measured on this host', () => {
  it('chooses a layout per weight from measured costs, and the session runs it', async () => {
    const { g } = model(1);
    const { graph, layers } = sparsify(g, { backend: 'wasm' });
    expect(layers).toHaveLength(4);
    for (const l of layers) {
      expect(l.source).toBe('measured');
      expect(l.shapeClass).toMatch(/^wasm:.*:64x64:M1$/);
      const times = Object.values(l.timesUs);
      expect(times.every((t) => Number.isFinite(t) && t > 0)).toBe(true);
      expect(l.timesUs[l.layout]).toBe(Math.min(...times));
    }
    expect(layers[3]!.layout).toBe('dense');
    // Every chosen layout runs on its kernel, within float32 rounding of the reference.
    for (const l of layers) {
      const t = graph.initializers.get(l.weight)!;
      const kind = sparseKernelKind(t, 1, l.op === 'Gemm');
      expect(kind).toBe({ dense: undefined, csr: 'csr-spmv', bsr: 'bsr4', '2:4': 'gemv24' }[l.layout]);
    }
    const r = rngUnit(3);
    const x = new Tensor('float32', Float32Array.from({ length: 16 }, () => r() * 2 - 1), [1, 16]);
    const want = (await (await InferenceSession.create(g, { backend: 'reference' })).run({ x }))[g.outputs[0]!.name]!.data as Float32Array;
    const s = await InferenceSession.create(graph, { backend: 'wasm' });
    const got = (await s.run({ x }))[g.outputs[0]!.name]!.data as Float32Array;
    expect(s.fallbackNodes()).toEqual([]);
    await s.release();
    const scale = Math.max(...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * scale);
  });
});
