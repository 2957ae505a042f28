// Runs the ONNX backend tests in ../shared/conformance on a Kiln backend and compares outputs at
// per-dtype tolerances. Shared by the vitest suite and scripts/conformance.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BackendName } from '../../src/backends/backend.js';
import { decodeValueProto } from '../../src/io/onnx/value-proto.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { describeValue, OptionalValue, TensorSequence, type Value } from '../../src/tensor/value.js';
import { TOLERANCE_OVERRIDES } from './skips.js';

export const CONFORMANCE_ROOT = resolve(process.env.KILN_CONFORMANCE_DIR ?? join(import.meta.dirname, '../../../shared/conformance'));

export interface ConformanceCase {
  suite: string;
  name: string;
  dir: string;
}

export function listCases(root = CONFORMANCE_ROOT): ConformanceCase[] {
  if (!existsSync(root)) return [];
  const cases: ConformanceCase[] = [];
  for (const suite of readdirSync(root).sort()) {
    const sdir = join(root, suite);
    for (const name of readdirSync(sdir).sort()) {
      if (existsSync(join(sdir, name, 'model.onnx'))) cases.push({ suite, name, dir: join(sdir, name) });
    }
  }
  return cases;
}

/**
 * Tolerances per dtype. float32: relative 1e-5 of each element, plus an absolute floor of 1e-6 of
 * the tensor's largest magnitude for elements that cancel to near zero (sums computed in a
 * different order differ there by rounding, not by error). float16: one half-precision ulp.
 * float64: relative 1e-7 (floor 1e-8).
 * Integers and bool: exact.
 */
export function compareTensors(actual: Tensor, expected: Tensor, atolOverride = 0): { ok: boolean; message: string; maxErr: number } {
  if (actual.type !== expected.type) return { ok: false, message: `dtype ${actual.type}, expected ${expected.type}`, maxErr: Infinity };
  if (actual.dims.join(',') !== expected.dims.join(',')) {
    return { ok: false, message: `shape [${actual.dims.join(', ')}], expected [${expected.dims.join(', ')}]`, maxErr: Infinity };
  }
  const a = toNumbers(actual);
  const e = toNumbers(expected);
  // float64: relative 1e-7 with a floor of 1e-8 of the largest magnitude.
  // bfloat16: one bfloat16 ulp (8 significant bits).
  const [rtol, floor] = expected.type === 'float16' ? [1e-3, 1e-3] : expected.type === 'bfloat16' ? [8e-3, 8e-3] : expected.type === 'float32' ? [1e-5, 1e-6]
    : expected.type === 'float64' ? [1e-7, 1e-8] : [0, 0];
  let scale = 0;
  for (const v of e) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const atol = Math.max(floor * Math.max(scale, 1), atolOverride);
  let maxErr = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y) || Number.isNaN(x)) {
      if (Number.isNaN(y) !== Number.isNaN(x)) return { ok: false, message: `element ${i}: got ${x}, expected ${y}`, maxErr: Infinity };
      continue;
    }
    if (x === y) continue;
    const err = Math.abs(x - y);
    maxErr = Math.max(maxErr, err);
    if (!(err <= atol + rtol * Math.abs(y))) {
      return { ok: false, message: `element ${i}: got ${x}, expected ${y} (|diff| ${err.toExponential(2)})`, maxErr: err };
    }
  }
  return { ok: true, message: '', maxErr };
}

/** compareTensors over sequences (element by element) and optionals (both empty, or the same contents). */
export function compareValues(actual: Value, expected: Value, atolOverride = 0): { ok: boolean; message: string; maxErr: number } {
  const fail = (message: string) => ({ ok: false, message, maxErr: Infinity });
  if (expected instanceof Tensor) return actual instanceof Tensor ? compareTensors(actual, expected, atolOverride) : fail(`got a ${describeValue(actual)}, expected a tensor`);
  if (expected instanceof TensorSequence) {
    if (!(actual instanceof TensorSequence)) return fail(`got a ${describeValue(actual)}, expected a ${describeValue(expected)}`);
    if (actual.length !== expected.length) return fail(`sequence of ${actual.length} tensors, expected ${expected.length}`);
    let maxErr = 0;
    for (let i = 0; i < expected.length; i++) {
      const r = compareTensors(actual.tensors[i]!, expected.tensors[i]!, atolOverride);
      if (!r.ok) return { ...r, message: `sequence element ${i}: ${r.message}` };
      maxErr = Math.max(maxErr, r.maxErr);
    }
    return { ok: true, message: '', maxErr };
  }
  if (!(actual instanceof OptionalValue)) return fail(`got a ${describeValue(actual)}, expected an optional`);
  if (!expected.value || !actual.value) {
    return !expected.value && !actual.value ? { ok: true, message: '', maxErr: 0 } : fail(`optional ${actual.value ? 'holds a value' : 'is empty'}, expected the opposite`);
  }
  return compareValues(actual.value, expected.value, atolOverride);
}

export interface CaseResult {
  ok: boolean;
  message: string;
  maxErr: number;
  /** Nodes that ran on the reference fallback instead of a kernel of the backend under test. */
  fallbacks?: string[];
}

export async function runCase(c: ConformanceCase, backend: BackendName): Promise<CaseResult> {
  const graph = importOnnx(readFileSync(join(c.dir, 'model.onnx')));
  const session = await InferenceSession.create(graph, { backend });
  let maxErr = 0;
  const dataSets = readdirSync(c.dir).filter((d) => d.startsWith('test_data_set_')).sort();
  for (const ds of dataSets) {
    const dir = join(c.dir, ds);
    const feeds: Record<string, Value> = {};
    graph.inputs.forEach((v, i) => {
      const f = join(dir, `input_${i}.pb`);
      if (existsSync(f)) feeds[v.name] = decodeValueProto(readFileSync(f), v, `${c.name} input ${i}`);
    });
    const outs = await session.runValues(feeds);
    for (let i = 0; i < graph.outputs.length; i++) {
      const f = join(dir, `output_${i}.pb`);
      if (!existsSync(f)) continue;
      const expected = decodeValueProto(readFileSync(f), graph.outputs[i]!, `${c.name} output ${i}`);
      const name = graph.outputs[i]!.name;
      const r = compareValues(outs[name]!, expected, TOLERANCE_OVERRIDES[c.name]?.atol);
      if (!r.ok) return { ok: false, message: `${ds} output '${name}': ${r.message}`, maxErr: r.maxErr };
      maxErr = Math.max(maxErr, r.maxErr);
    }
  }
  return { ok: true, message: '', maxErr, fallbacks: session.fallbackNodes() };
}
