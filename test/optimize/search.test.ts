// searchCompression: the pick on a small model whose answer is forced (one layer compresses
// losslessly, the other is destroyed by every compressed setting), the Pareto front as a pure
// function, maxDrop 0, bad options, purity, a mixed per-layer configuration built on mnist-8,
// and the mnist-8 search itself (evaluation on MNIST test images, calibration on train digits).
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/graph/ir.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { evaluate } from '../../src/optimize/evaluate.js';
import { applyConfig, ladder, searchLayers, settingLabel } from '../../src/optimize/search-config.js';
import { paretoFront, searchCompression, type SearchCompressionOptions } from '../../src/optimize/search.js';
import { formatSearch } from '../../src/optimize/search-format.js';
import { prepareForQuantization } from '../../src/passes/quantize/prepare.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, graph, node } from '../passes/helpers.js';
import { mnist8, mnistSet } from './mnist-data.js';

/** A seeded generator in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * y = MatMul(MatMul(x [N, 16], A [16, 64]), B [64, 2]). A copies x into h (ones on its diagonal)
 * and otherwise holds values of 1e-7: any of A's settings keeps every prediction. B's second
 * column is its first plus d, |d_i| about 1e-4, below half a float16 step of B's values in
 * [0.5, 1): the class is the sign of sum_i x_i d_i, which float16 rounding, int8 / int4 steps,
 * 16 or 32 shared values and pruning all erase.
 */
function forcedModel(): Graph {
  const r = lcg(7);
  const a = Array.from({ length: 16 * 64 }, (_, i) => (Math.floor(i / 64) === i % 64 ? 1 : 1e-7 * (1 + r())));
  const b = Array.from({ length: 64 }, () => {
    const v = 0.5 + 0.49 * r();
    return [v, v + (r() < 0.5 ? -1 : 1) * 1e-4 * (0.5 + r())];
  }).flat();
  return graph('forced', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
    initializers: new Map([['A', f32(a, [16, 64])], ['B', f32(b, [64, 2])]]),
    nodes: [node('MatMul', ['x', 'A'], ['h'], {}, 'fcA'), node('MatMul', ['h', 'B'], ['y'], {}, 'fcB')],
  });
}

/** 48 samples, alternately of class 0 and 1, each with |sum_i x_i d_i| >= 5e-5 (far above A's 1e-7 terms). */
function forcedData(g: Graph): { data: Record<string, Tensor>[]; labels: number[] } {
  const b = g.initializers.get('B')!.data as Float32Array;
  const r = lcg(11);
  const data: Record<string, Tensor>[] = [];
  const labels: number[] = [];
  while (data.length < 48) {
    const x = Array.from({ length: 16 }, () => 2 * r() - 1);
    const s = x.reduce((acc, v, i) => acc + v * (b[2 * i + 1]! - b[2 * i]!), 0);
    const want = data.length % 2;
    if (Math.abs(s) < 5e-5 || (s > 0 ? 1 : 0) !== want) continue;
    data.push({ x: f32(x, [1, 16]) });
    labels.push(want);
  }
  return { data, labels };
}

const snapshot = (g: Graph) => ({ nodes: JSON.stringify(g.nodes), inits: [...g.initializers].map(([k, t]) => [k, Array.from(t.data as Float32Array)]) });

describe('searchCompression on a model with a forced answer', () => {
  it('compresses the robust layer as far as its ladder goes and keeps the fragile one float', { timeout: 60_000 }, async () => {
    const g = forcedModel();
    const before = snapshot(g);
    const ev = forcedData(g);
    const r = await searchCompression(g, { maxDrop: 1, target: 'size', evaluation: ev, latencyBudgetMs: 5 });
    expect(r.metric).toBe('accuracy');
    expect(r.float.accuracy).toBe(1);
    expect(r.layers.map((l) => l.name)).toEqual(['fcA', 'fcB']);
    expect(r.pick.config).toEqual({ fcA: { prune: 0.9, precision: 'k16' }, fcB: { prune: 0, precision: 'float' } });
    expect(r.pick.accuracy).toBe(1);
    // Every model that compresses B loses at least a tenth of the samples; none is within budget.
    const touchB = r.candidates.filter((c) => c.config.fcB!.precision !== 'float');
    expect(touchB.length).toBeGreaterThan(0);
    for (const c of touchB) {
      expect(c.withinBudget, c.label).toBe(false);
      expect(c.drop, c.label).toBeGreaterThan(10);
    }
    // The pick is the smallest within budget, and its graph is what the candidate measured.
    for (const c of r.candidates) if (c.withinBudget) expect(c.bytes).toBeGreaterThanOrEqual(r.pick.bytes);
    expect(saveKiln(r.graph, { compressHeader: true }).length).toBe(r.pick.bytes);
    expect((await evaluate(r.graph, ev.data, ev.labels)).accuracy).toBe(1);
    expect(r.pick.bytes).toBeLessThan(r.float.bytes);
    expect(r.candidates.length).toBeLessThanOrEqual(30);
    expect(r.candidates.map((c) => c.index)).toEqual(r.candidates.map((_, i) => i));
    // Purity: the input graph is unchanged.
    expect(snapshot(g)).toEqual(before);
    // The printed tables: one row per candidate, the pick starred, then both fronts.
    const text = formatSearch(r).split('\n');
    expect(text[0]).toBe(`${r.candidates.length} candidates (top-1 accuracy, budget 1 points, target size); pick #${r.pick.index}: fcA:p90+k16`);
    expect(text.slice(1).filter((l) => /^\d+\*? /.test(l)).length).toBe(r.candidates.length + r.front.size.length + r.front.latency.length);
    expect(text.find((l) => l.startsWith(`${r.pick.index}* `))).toMatch(/ 100\.00 +0\.00 .* yes +fcA:p90\+k16$/);
    expect(text).toContain('Pareto front, accuracy vs file bytes:');
  });

  it('maxDrop 0 returns a model without accuracy loss; agreement mode without labels', { timeout: 60_000 }, async () => {
    const g = forcedModel();
    const ev = forcedData(g);
    const r = await searchCompression(g, { maxDrop: 0, target: 'size', evaluation: { data: ev.data }, latencyBudgetMs: 5, maxCandidates: 8 });
    expect(r.metric).toBe('agreement');
    expect(r.candidates.length).toBeLessThanOrEqual(8);
    expect(r.pick.drop).toBeLessThanOrEqual(0);
    expect(r.pick.accuracy).toBe(1);
    const preds = await evaluate(r.graph, ev.data, ev.labels);
    expect(preds.accuracy).toBe(1);
  });

  it('latency target: the pick is the fastest candidate within budget', { timeout: 60_000 }, async () => {
    const g = forcedModel();
    const ev = forcedData(g);
    const r = await searchCompression(g, { maxDrop: 1, target: 'latency', evaluation: ev, latencyBudgetMs: 20 });
    expect(r.target).toBe('latency');
    expect(r.pick.withinBudget).toBe(true);
    for (const c of r.candidates) if (c.withinBudget) expect(c.latencyMs).toBeGreaterThanOrEqual(r.pick.latencyMs);
    // Latency settings never cluster or store fp16 (both decode to float at load).
    for (const c of r.candidates) for (const s of Object.values(c.config)) expect(['k16', 'k32', 'fp16']).not.toContain(s.precision);
    expect(r.front.latency).toContain(r.pick.index);
  });

  it('refuses bad options with clear errors', async () => {
    const g = forcedModel();
    const ev = forcedData(g);
    const base: SearchCompressionOptions = { maxDrop: 1, target: 'size', evaluation: ev };
    await expect(searchCompression(g, { ...base, maxDrop: -0.1 })).rejects.toThrow(/maxDrop must be a non-negative number of accuracy points, got -0.1/);
    await expect(searchCompression(g, { ...base, maxDrop: Number.NaN })).rejects.toThrow(/maxDrop must be a non-negative/);
    await expect(searchCompression(g, { ...base, target: 'speed' as 'size' })).rejects.toThrow(/target must be 'size' or 'latency', got 'speed'/);
    await expect(searchCompression(g, { ...base, backend: 'webgpu' as 'wasm' })).rejects.toThrow(/backend must be 'wasm'/);
    await expect(searchCompression(g, { ...base, maxCandidates: 1 })).rejects.toThrow(/maxCandidates must be an integer of at least 2/);
    await expect(searchCompression(g, { ...base, evaluation: { data: [] } })).rejects.toThrow(/evaluation data is empty/);
    await expect(searchCompression(g, { ...base, evaluation: { data: ev.data, labels: [0, 1] } })).rejects.toThrow(/2 labels but the evaluation data gave 48 predictions/);
    const noLayer = graph('relu', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
      nodes: [node('Relu', ['x'], ['y'])],
    });
    await expect(searchCompression(noLayer, { ...base, evaluation: { data: [{ x: f32([1, 2, 3, 4], [1, 4]) }] } })).rejects.toThrow(/graph 'relu' has no layer to compress/);
  });
});

describe('paretoFront', () => {
  it('keeps exactly the points no other beats on both accuracy and cost, cheapest first', () => {
    const pts = [
      { accuracy: 0.99, cost: 100 }, // 0: most accurate, most expensive: on the front
      { accuracy: 0.98, cost: 40 }, // 1: on the front
      { accuracy: 0.97, cost: 50 }, // 2: beaten by 1 (cheaper and more accurate)
      { accuracy: 0.9, cost: 10 }, // 3: cheapest: on the front
      { accuracy: 0.9, cost: 12 }, // 4: same accuracy, dearer than 3
      { accuracy: 0.98, cost: 40 }, // 5: duplicate of 1: the first is kept
      { accuracy: 0.95, cost: 30 }, // 6: on the front
      { accuracy: Number.NaN, cost: 1 }, // 7: unmeasured: left out
      { accuracy: 0.99, cost: 100 }, // 8: duplicate of 0
    ];
    expect(paretoFront(pts)).toEqual([3, 6, 1, 0]);
    expect(paretoFront([])).toEqual([]);
    expect(paretoFront([{ accuracy: 0.5, cost: 1 }])).toEqual([0]);
    // Brute force on random points: the same set as the definition gives.
    const r = lcg(3);
    const rnd = Array.from({ length: 60 }, () => ({ accuracy: Math.round(r() * 20) / 20, cost: Math.round(r() * 30) }));
    const dominated = (i: number) => rnd.some((q, j) => j !== i && q.cost <= rnd[i]!.cost && q.accuracy >= rnd[i]!.accuracy
      && (q.cost < rnd[i]!.cost || q.accuracy > rnd[i]!.accuracy || j < i));
    const expected = rnd.map((_, i) => i).filter((i) => !dominated(i)).sort((a, b) => rnd[a]!.cost - rnd[b]!.cost);
    expect(paretoFront(rnd)).toEqual(expected);
  });
});

describe('per-layer configurations on mnist-8', () => {
  it('builds int8 static, fp16 and int4 weight-only on three layers of one model, each layer as configured', { timeout: 60_000 }, async () => {
    const prepared = prepareForQuantization(mnist8());
    const layers = searchLayers(prepared);
    expect(layers.map((l) => [l.name, l.op, l.size, l.weightOnly])).toEqual([
      ['Convolution28', 'Conv', 200, false], ['Convolution110', 'Conv', 3200, false], ['Times212', 'MatMul', 2560, true],
    ]);
    // The ladders the search walks, most compressed first: for size, clustering (pruned first),
    // then int4 / int8 / fp16; for latency only what has a faster kernel (sparse for the MatMul,
    // int8 everywhere, pruned int8 on the sparse int8 kernels; static int8 only with calibration data).
    const names = (l: (typeof layers)[number], t: 'size' | 'latency', cal: boolean) => ladder(l, t, cal).map(settingLabel);
    expect(names(layers[0]!, 'size', true)).toEqual(['p90+k16', 'p75+k16', 'p50+k16', 'k16', 'k32', 'int8', 'fp16', 'float']);
    expect(names(layers[2]!, 'size', false)).toEqual(['p90+k16', 'p75+k16', 'p50+k16', 'k16', 'k32', 'int4-weight', 'int8-weight', 'fp16', 'float']);
    expect(names(layers[1]!, 'latency', true)).toEqual(['int8', 'float']);
    expect(names(layers[1]!, 'latency', false)).toEqual(['float']);
    expect(names(layers[2]!, 'latency', true)).toEqual(['p90+int8', 'p75+int8', 'p90', '2:4+int8', 'int8', 'p75', 'int4-weight', '2:4', 'p50', 'float']);
    expect(names(layers[2]!, 'latency', false)).toEqual(['p90', 'p75', 'int4-weight', '2:4', 'p50', 'float']);
    const train = mnistSet('train', 0, 300);
    const g = await applyConfig(prepared, layers, {
      Convolution28: { prune: 0, precision: 'int8' },
      Convolution110: { prune: 0.5, precision: 'fp16' },
      Times212: { prune: 0, precision: 'int4-weight' },
    }, { calibration: mnistSet('train', 300, 400).data, sparsify: true });
    const byName = new Map(g.nodes.map((n) => [n.name, n]));
    const producer = (v: string) => g.nodes.find((n) => n.outputs.includes(v));
    expect(producer(byName.get('Convolution28')!.inputs[1]!)?.op).toBe('DequantizeLinear');
    expect(g.initializers.get(producer(byName.get('Convolution28')!.inputs[1]!)!.inputs[0]!)!.type).toBe('int8');
    const w2 = producer(byName.get('Convolution110')!.inputs[1]!)!;
    expect(w2.op).toBe('Cast');
    const half = g.initializers.get(w2.inputs[0]!)!;
    expect(half.type).toBe('float16');
    expect((half.data as Uint16Array).filter((v) => v === 0).length).toBe(1600);
    const w3 = producer(byName.get('Times212')!.inputs[1]!)!;
    expect([w3.op, w3.attrs.block_size, g.initializers.get(w3.inputs[0]!)!.type]).toEqual(['DequantizeLinear', 32, 'int4']);
    // Each of the three is mild on its own: together within 1 point of float on train digits.
    const f = await evaluate(prepared, train.data, train.labels);
    const q = await evaluate(g, train.data, train.labels);
    expect(q.accuracy).toBeGreaterThanOrEqual(f.accuracy - 0.01);
  });

  it('keeps clustered weights compact next to int8 static layers, through sparsify and a .kiln round trip', { timeout: 60_000 }, async () => {
    const prepared = prepareForQuantization(mnist8());
    const layers = searchLayers(prepared);
    const g = await applyConfig(prepared, layers, {
      Convolution28: { prune: 0, precision: 'int8' },
      Convolution110: { prune: 0, precision: 'k32' },
      Times212: { prune: 0.75, precision: 'k16' },
    }, { calibration: mnistSet('train', 300, 400).data, sparsify: true });
    const byName = new Map(g.nodes.map((n) => [n.name, n]));
    const producer = (v: string) => g.nodes.find((n) => n.outputs.includes(v));
    expect(producer(byName.get('Convolution28')!.inputs[1]!)?.op).toBe('DequantizeLinear');
    const w2 = g.initializers.get(byName.get('Convolution110')!.inputs[1]!)!;
    expect([w2.clustered?.k, w2.clustered?.positions]).toEqual([32, undefined]);
    const w3 = g.initializers.get(byName.get('Times212')!.inputs[1]!)!;
    expect([w3.clustered?.k, w3.clustered?.nnz]).toEqual([16, 640]);
    expect((w3.data as Float32Array).filter((v) => v === 0).length).toBe(1920);
    const file = saveKiln(g, { compressHeader: true });
    const back = loadKiln(file);
    expect(back.initializers.get(byName.get('Times212')!.inputs[1]!)!.clustered?.k).toBe(16);
    const train = mnistSet('train', 0, 200);
    expect((await evaluate(back, train.data, train.labels)).accuracy).toBe((await evaluate(g, train.data, train.labels)).accuracy);
  });
});

describe('searchCompression on mnist-8', () => {
  it('picks a model within 0.5 points of float on 1000 test images, far smaller than the float file', { timeout: 120_000 }, async () => {
    const g = mnist8();
    const test = mnistSet('test', 0, 1000);
    const r = await searchCompression(g, { maxDrop: 0.5, target: 'size', evaluation: test, calibration: mnistSet('train', 0, 256).data });
    expect(r.candidates.length).toBeLessThanOrEqual(30);
    expect(r.pick.drop).toBeLessThanOrEqual(0.5);
    // The pick's own file, scored again on the same images.
    const acc = await evaluate(r.graph, test.data, test.labels);
    expect(acc.accuracy).toBe(r.pick.accuracy);
    expect(100 * (r.float.accuracy - acc.accuracy)).toBeLessThanOrEqual(0.5);
    const floatBytes = saveKiln(g, { compressHeader: true }).length;
    expect(r.float.bytes).toBe(floatBytes);
    expect(r.pick.bytes).toBeLessThan(floatBytes);
    expect(r.front.size).toContain(r.pick.index);
    console.log(`mnist-8 search (size, maxDrop 0.5): float ${floatBytes} B ${(100 * r.float.accuracy).toFixed(2)}%, pick "${r.pick.label}" ${r.pick.bytes} B `
      + `${(100 * r.pick.accuracy).toFixed(2)}% ${r.pick.latencyMs.toFixed(4)} ms (float ${r.float.latencyMs.toFixed(4)} ms), ${r.candidates.length} candidates, ${(r.ms / 1000).toFixed(1)} s`);
  });
});
