// saveOnnx: import(saveOnnx(g)) gives g back for every conformance model and real model, with
// identical reference-backend outputs, and the exported files run in onnxruntime-web (dev-only
// oracle) with the outputs onnxruntime gives for the original files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../src/graph/ir.js';
import { saveOnnx } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { decodeValueProto } from '../../src/io/onnx/value-proto.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { byteLengthOf } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { describeValue, type Value } from '../../src/tensor/value.js';
import { compareTensors, listCases } from '../conformance/runner.js';
import { graphDiff } from '../helpers/graph-equal.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const MODELS = join(import.meta.dirname, '../../../shared/models');

/** The exporter writes ai.onnx opset 21 or later (the op forms Kiln's importer produces). */
function expectedOpsets(g: Graph): Record<string, number> {
  return { ...g.opsets, '': Math.max(g.opsets[''] ?? 21, 21) };
}

/** Same dtype, dims and bytes (NaN payloads included). */
function sameBits(a: Value, b: Value): string | undefined {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) return describeValue(a) === describeValue(b) ? undefined : `${describeValue(a)} vs ${describeValue(b)}`;
  if (a.type !== b.type || a.dims.join(',') !== b.dims.join(',')) return `${a.type}[${a.dims.join(', ')}] vs ${b.type}[${b.dims.join(', ')}]`;
  const n = byteLengthOf(a.type, a.size);
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, n);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, n);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return `byte ${i}: ${x[i]} vs ${y[i]}`;
  return undefined;
}

async function referenceOutputs(g: Graph, feeds: Record<string, Value>): Promise<Record<string, Value>> {
  const s = await InferenceSession.create(g, { backend: 'reference' });
  return s.runValues(feeds);
}

/** onnxruntime-web outputs, or the reason it refused the model or the feeds. */
async function ortOutputs(bytes: Uint8Array, feeds: Record<string, Value>): Promise<Record<string, ort.Tensor> | string> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    if (!(v instanceof Tensor)) return `input '${k}' is a ${describeValue(v)}`;
    ortFeeds[k] = new ort.Tensor(v.type as ort.Tensor.Type, v.data as ort.Tensor.DataType, [...v.dims]);
  }
  try {
    const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    try {
      return await s.run(ortFeeds);
    } finally {
      await s.release();
    }
  } catch (e) {
    return (e as Error).message.split('\n')[0]!.slice(0, 200);
  }
}

function fromOrt(t: ort.Tensor): Tensor {
  return new Tensor(t.type as Tensor['type'], t.data as Tensor['data'], t.dims);
}

const tally = { roundTrip: 0, ortCompared: 0, ortOriginalRefused: [] as string[], ortOnlyExported: [] as string[] };

describe('saveOnnx round trip over the conformance suite', () => {
  const cases = listCases();
  it('finds the conformance suite', () => expect(cases.length).toBeGreaterThan(250));
  for (const c of cases) {
    it(`${c.suite}/${c.name}`, async () => {
      const original = readFileSync(join(c.dir, 'model.onnx'));
      const g = importOnnx(original);
      const exported = saveOnnx(g);
      const h = importOnnx(exported);
      expect(graphDiff(g, h, { expectOpsets: expectedOpsets(g) })).toBeUndefined();
      for (const ds of readdirSync(c.dir).filter((d) => d.startsWith('test_data_set_')).sort()) {
        const feeds: Record<string, Value> = {};
        g.inputs.forEach((v, i) => {
          const f = join(c.dir, ds, `input_${i}.pb`);
          if (existsSync(f)) feeds[v.name] = decodeValueProto(readFileSync(f), v, `${c.name} input ${i}`);
        });
        const want = await referenceOutputs(g, feeds);
        const got = await referenceOutputs(h, feeds);
        for (const o of g.outputs) expect(sameBits(got[o.name]!, want[o.name]!), `${ds} output '${o.name}'`).toBeUndefined();
        // onnxruntime-web: the exported file must run wherever the original does, with its outputs.
        const before = await ortOutputs(original, feeds);
        const after = await ortOutputs(exported, feeds);
        if (typeof before === 'string') {
          tally.ortOriginalRefused.push(`${c.name}: ${before}`);
          // Where onnxruntime refuses the original (old opsets it dropped), the exported file may
          // still run: then it must give the test's expected outputs.
          if (typeof after !== 'string') {
            for (const [i, o] of g.outputs.entries()) {
              const f = join(c.dir, ds, `output_${i}.pb`);
              if (!existsSync(f)) continue;
              const r = compareTensors(fromOrt(after[o.name]!), decodeValueProto(readFileSync(f), o, o.name) as Tensor);
              expect(r.ok, `${ds} output '${o.name}' of the exported model in onnxruntime-web vs the expected data: ${r.message}`).toBe(true);
            }
            tally.ortOnlyExported.push(c.name);
          }
          continue;
        }
        expect(typeof after === 'string' ? after : undefined, 'onnxruntime-web runs the exported model').toBeUndefined();
        for (const o of g.outputs) {
          const r = compareTensors(fromOrt((after as Record<string, ort.Tensor>)[o.name]!), fromOrt(before[o.name]!));
          expect(r.ok, `${ds} output '${o.name}' in onnxruntime-web: ${r.message}`).toBe(true);
        }
        tally.ortCompared++;
      }
      tally.roundTrip++;
    });
  }
  afterAll(() => {
    console.log(`saveOnnx: ${tally.roundTrip} of ${cases.length} conformance models round trip; ${tally.ortCompared} data sets compared in onnxruntime-web`);
    console.log(`  ${tally.ortOnlyExported.length} exported models run in onnxruntime-web with the expected outputs where the original does not: ${tally.ortOnlyExported.join(', ')}`);
    console.log(`  ${tally.ortOriginalRefused.length} data sets whose original model onnxruntime-web itself refuses (no onnxruntime baseline):\n    ${tally.ortOriginalRefused.join('\n    ')}`);
  });
});

/** Deterministic values uniform in [lo, hi). */
function pseudoRandom(n: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

const REAL: { file: string; dims: number[]; lo: number; hi: number }[] = [
  { file: 'mnist-8.onnx', dims: [1, 1, 28, 28], lo: 0, hi: 1 },
  { file: 'mobilenetv2-12-int8.onnx', dims: [1, 3, 224, 224], lo: -2, hi: 2 },
  { file: 'superres-core_derived.onnx', dims: [1, 1, 224, 224], lo: 0, hi: 1 },
  { file: 'ultraface-RFB-320.onnx', dims: [1, 3, 240, 320], lo: -1, hi: 1 },
];

describe.skipIf(!existsSync(MODELS))('saveOnnx round trip over the real models', () => {
  for (const m of REAL) {
    it(m.file, async () => {
      const original = readFileSync(join(MODELS, m.file));
      const g = importOnnx(original);
      const exported = saveOnnx(g);
      const h = importOnnx(exported);
      expect(graphDiff(g, h, { expectOpsets: expectedOpsets(g) })).toBeUndefined();
      const size = m.dims.reduce((a, b) => a * b, 1);
      const feeds = { [g.inputs[0]!.name]: new Tensor('float32', pseudoRandom(size, m.lo, m.hi, 5), m.dims) };
      const want = await referenceOutputs(g, feeds);
      const got = await referenceOutputs(h, feeds);
      for (const o of g.outputs) expect(sameBits(got[o.name]!, want[o.name]!), `output '${o.name}'`).toBeUndefined();
      const before = await ortOutputs(original, feeds);
      const after = await ortOutputs(exported, feeds);
      expect(typeof before, `onnxruntime-web runs the original: ${String(before)}`).toBe('object');
      expect(typeof after === 'string' ? after : undefined, 'onnxruntime-web runs the exported model').toBeUndefined();
      for (const o of g.outputs) {
        const r = compareTensors(fromOrt((after as Record<string, ort.Tensor>)[o.name]!), fromOrt((before as Record<string, ort.Tensor>)[o.name]!));
        expect(r.ok, `output '${o.name}' in onnxruntime-web: ${r.message}`).toBe(true);
      }
      console.log(`${m.file}: ${original.length} bytes in, ${exported.length} bytes exported`);
    });
  }
});
