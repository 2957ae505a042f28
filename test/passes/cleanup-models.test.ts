// The clean-up pipeline on every conformance model (onnx-node and pytorch-converted) and every
// model in /work/shared/models: the cleaned graph verifies after each pass, and its reference
// outputs still match (conformance: the expected outputs at the conformance runner's tolerances;
// real models: the uncleaned graph's outputs at the same tolerances, both run on the WASM backend
// because the reference interpreter needs ~20 s per superres-core run, too slow for this suite).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceExecutable } from '../../src/backends/reference/index.js';
import type { Graph } from '../../src/graph/ir.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { decodeValueProto } from '../../src/io/onnx/value-proto.js';
import { cleanupPasses } from '../../src/passes/cleanup.js';
import { optimize } from '../../src/passes/pipeline.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { allocData } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { Value } from '../../src/tensor/value.js';
import { compareTensors, compareValues, listCases } from '../conformance/runner.js';
import { TOLERANCE_OVERRIDES } from '../conformance/skips.js';
import { rand } from './helpers.js';

const MODELS_DIR = resolve(import.meta.dirname, '../../../shared/models');

async function runGraph(g: Graph, feeds: Map<string, Value>): Promise<Map<string, Value>> {
  return new ReferenceExecutable(g).run(feeds, g.outputs.map((v) => v.name));
}

describe('clean-up pipeline on the conformance suite', () => {
  const cases = listCases();
  it.runIf(cases.length > 0)(`keeps all ${cases.length} conformance models passing`, async () => {
    const failures: string[] = [];
    let changed = 0;
    for (const c of cases) {
      const graph = importOnnx(readFileSync(join(c.dir, 'model.onnx')));
      let cleaned: Graph;
      try {
        cleaned = (await optimize(graph, cleanupPasses())).graph;
      } catch (e) {
        failures.push(`${c.suite}/${c.name}: ${(e as Error).message}`);
        continue;
      }
      if (cleaned !== graph) changed++;
      for (const ds of readdirSync(c.dir).filter((d) => d.startsWith('test_data_set_')).sort()) {
        const dir = join(c.dir, ds);
        const feeds = new Map<string, Value>();
        graph.inputs.forEach((v, i) => {
          const f = join(dir, `input_${i}.pb`);
          if (existsSync(f)) feeds.set(v.name, decodeValueProto(readFileSync(f), v, `${c.name} input ${i}`));
        });
        let outs: Map<string, Value>;
        try {
          outs = await runGraph(cleaned, feeds);
        } catch (e) {
          failures.push(`${c.suite}/${c.name}: run failed: ${(e as Error).message}`);
          break;
        }
        graph.outputs.forEach((o, i) => {
          const f = join(dir, `output_${i}.pb`);
          if (!existsSync(f)) return;
          const expected = decodeValueProto(readFileSync(f), o, `${c.name} output ${i}`);
          const r = compareValues(outs.get(o.name)!, expected, TOLERANCE_OVERRIDES[c.name]?.atol);
          if (!r.ok) failures.push(`${c.suite}/${c.name} ${ds} '${o.name}': ${r.message}`);
        });
      }
    }
    expect(failures).toEqual([]);
    expect(changed).toBeGreaterThan(0);
  }, 120_000);
});

describe('clean-up pipeline on the real models', () => {
  const files = existsSync(MODELS_DIR) ? readdirSync(MODELS_DIR).filter((f) => f.endsWith('.onnx')).sort() : [];
  for (const file of files) {
    it(file, async () => {
      const graph = importOnnx(readFileSync(join(MODELS_DIR, file)));
      const { graph: cleaned, report } = await optimize(graph, cleanupPasses());
      const feeds = new Map<string, Value>();
      graph.inputs.forEach((v, k) => {
        const dims = (v.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
        const n = dims.reduce((a, b) => a * b, 1);
        const data = allocData(v.dtype, n);
        if (v.dtype === 'float32') (data as Float32Array).set(rand(n, 11 + k).map((x) => (x + 1) / 2));
        feeds.set(v.name, new Tensor(v.dtype, data, dims));
      });
      const run = async (g: Graph) => {
        const s = await InferenceSession.create(g, { backend: 'wasm', threads: 1 });
        const out = await s.run(Object.fromEntries(feeds) as Record<string, Tensor>);
        await s.release();
        return new Map(Object.entries(out));
      };
      const want = await run(graph);
      const got = await run(cleaned);
      for (const o of graph.outputs) {
        const r = compareTensors(got.get(o.name) as Tensor, want.get(o.name) as Tensor);
        expect(r.ok, `${file} output '${o.name}': ${r.message}`).toBe(true);
      }
      expect(cleaned.nodes.length).toBeLessThanOrEqual(graph.nodes.length);
      expect(report.length).toBe(cleanupPasses().length);
    }, 60_000);
  }
});
