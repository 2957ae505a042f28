// pruneMagnitude on real graphs:
//  - every conformance model: pruning 0% returns the input graph (global and per layer) or refuses
//    a graph with nothing prunable; the prunable ones, run through optimize() with the pass, still
//    give the expected outputs on the reference backend;
//  - mnist-8 (published 98.90%) pruned without fine-tuning, top-1 on all 10,000 MNIST test images:
//    global 50% / 75% / 90%, per layer 50%, and 2:4 with the first Conv kept dense (its reduction,
//    1 * 5 * 5 = 25, is no multiple of 4). The figures are the measured ones (docs/OPTIMIZATION.md);
//    the windows only absorb float-rounding flips of near-tied scores.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceExecutable } from '../../../src/backends/reference/index.js';
import type { Graph } from '../../../src/graph/ir.js';
import { importOnnx } from '../../../src/io/onnx/import.js';
import { decodeValueProto } from '../../../src/io/onnx/value-proto.js';
import { loadKiln, saveKiln } from '../../../src/io/kiln-format/index.js';
import { evaluate } from '../../../src/optimize/evaluate.js';
import { optimize } from '../../../src/passes/pipeline.js';
import { pruneMagnitude, pruneMagnitudePass, type MagnitudePruneOptions } from '../../../src/passes/prune/index.js';
import type { Value } from '../../../src/tensor/value.js';
import { compareValues, listCases } from '../../conformance/runner.js';
import { TOLERANCE_OVERRIDES } from '../../conformance/skips.js';
import { mnist8, mnistSet } from '../../optimize/mnist-data.js';

const NOTHING = 'has nothing prunable';

describe('pruning 0% on the conformance suite', () => {
  const cases = listCases();
  it.runIf(cases.length > 0)(`is a no-op on all ${cases.length} conformance models`, async () => {
    const failures: string[] = [];
    let prunable = 0;
    for (const c of cases) {
      const g = importOnnx(readFileSync(join(c.dir, 'model.onnx')));
      let result: Graph;
      try {
        result = pruneMagnitude(g, { amount: 0 }).graph;
        expect(pruneMagnitude(g, { amount: 0, kind: 'layer' }).graph).toBe(g);
      } catch (e) {
        if (!(e as Error).message.includes(NOTHING)) failures.push(`${c.suite}/${c.name}: ${(e as Error).message}`);
        continue;
      }
      prunable++;
      if (result !== g) failures.push(`${c.suite}/${c.name}: 0% changed the graph`);
      const { graph: out, report } = await optimize(g, [pruneMagnitudePass({ amount: 0 })]);
      if (report[0]!.changed || out.provenance.length !== g.provenance.length) failures.push(`${c.suite}/${c.name}: the pass changed or recorded something`);
      const exec = new ReferenceExecutable(out);
      for (const ds of readdirSync(c.dir).filter((d) => d.startsWith('test_data_set_')).sort()) {
        const dir = join(c.dir, ds);
        const feeds = new Map<string, Value>();
        g.inputs.forEach((v, i) => {
          const file = join(dir, `input_${i}.pb`);
          if (existsSync(file)) feeds.set(v.name, decodeValueProto(readFileSync(file), v, `${c.name} input ${i}`));
        });
        const outs = await exec.run(feeds, out.outputs.map((v) => v.name));
        g.outputs.forEach((o, i) => {
          const file = join(dir, `output_${i}.pb`);
          if (!existsSync(file)) return;
          const r = compareValues(outs.get(o.name)!, decodeValueProto(readFileSync(file), o, `${c.name} output ${i}`), TOLERANCE_OVERRIDES[c.name]?.atol);
          if (!r.ok) failures.push(`${c.suite}/${c.name} ${ds} '${o.name}': ${r.message}`);
        });
      }
    }
    expect(failures).toEqual([]);
    expect(prunable).toBeGreaterThanOrEqual(16); // the pytorch-converted models with constant weights
  }, 180_000);
});

describe('mnist-8 pruned without fine-tuning, 10,000 test images', () => {
  const g = mnist8();
  const test = mnistSet('test');
  const cases: [string, MagnitudePruneOptions, number, number[]][] = [
    // label, options, measured top-1, per-layer sparsity (%) of Convolution28, Convolution110, Times212
    ['global 50%', { amount: 0.5 }, 0.9882, [20.5, 54.2, 47.0]],
    ['global 75%', { amount: 0.75 }, 0.9601, [38.5, 79.9, 71.8]],
    ['global 90%', { amount: 0.9 }, 0.4357, [57.5, 94.4, 87.0]],
    ['per layer 50%', { amount: 0.5, kind: 'layer' }, 0.9859, [50, 50, 50]],
    ['2:4, Convolution28 dense', { kind: '2:4', keepDense: ['Convolution28'] }, 0.9837, [0, 50, 50]],
  ];
  for (const [label, options, measured, sparsity] of cases) {
    it(`${label}: ${(measured * 100).toFixed(2)}%`, { timeout: 60_000 }, async () => {
      const r = pruneMagnitude(g, options);
      expect(r.layers.map((l) => l.name)).toEqual(['Convolution28', 'Convolution110', 'Times212']);
      expect(r.layers.map((l) => Math.round(l.sparsity * 1000) / 10)).toEqual(sparsity);
      // The MatMul weight was Reshape(Parameter193); pruned, it is a [256, 10] initializer.
      expect(r.graph.initializers.get('Parameter193_reshape1')!.dims).toEqual([256, 10]);
      expect(r.graph.nodes.some((n) => n.name === 'Times212_reshape1')).toBe(false);
      const acc = (await evaluate(r.graph, test.data, test.labels)).accuracy;
      expect(acc).toBeGreaterThanOrEqual(measured - 0.001);
      expect(acc).toBeLessThanOrEqual(measured + 0.001);
    });
  }

  it('through optimize(), the .kiln file keeps the zeros and the per-layer record', async () => {
    const { graph: out } = await optimize(g, [pruneMagnitudePass({ amount: 0.5 })]);
    const back = loadKiln(saveKiln(out));
    expect(back.provenance.at(-1)!.pass).toBe('pruneMagnitude');
    expect(back.provenance.at(-1)!.options).toEqual({
      amount: 0.5,
      result: {
        sparsity: 0.5,
        layers: {
          Convolution28: { weight: 'Parameter5', sparsity: 41 / 200 },
          Convolution110: { weight: 'Parameter87', sparsity: 1735 / 3200 },
          Times212: { weight: 'Parameter193_reshape1', sparsity: 1204 / 2560 },
        },
      },
    });
    for (const [name, t] of out.initializers) expect(Array.from(back.initializers.get(name)!.data as Float32Array | BigInt64Array, Number), name).toEqual(Array.from(t.data as Float32Array | BigInt64Array, Number));
  });

  it('2:4 on every layer is refused: the first Conv reduces over 25 weights', () => {
    expect(() => pruneMagnitude(g, { kind: '2:4' })).toThrow("layer 'Convolution28' (Conv, weight 'Parameter5' [8, 1, 5, 5]) to be a multiple of 4, but Cin/group * kernel = 1 * 5 * 5 = 25");
  });
});
