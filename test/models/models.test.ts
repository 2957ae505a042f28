// The four real models in ../shared/models on Kiln's reference backend, checked against
// onnxruntime-web (a dev-only oracle) on the same inputs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { toNumbers } from '../../src/tensor/convert.js';

const MODELS = join(import.meta.dirname, '../../../shared/models');
ort.env.wasm.numThreads = 1;

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

interface Case {
  file: string;
  input: () => Float32Array;
  dims: number[];
  /** Allowed |kiln - ort| for each output element, given the oracle's output. */
  tolerance: (kiln: InferenceSession, output: string, expected: Float64Array) => number;
}

/** Float models: 1e-4 relative to the output tensor's largest magnitude. */
const relative = (_s: InferenceSession, _o: string, expected: Float64Array) => 1e-4 * expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * mobilenetv2-12-int8: 16 quantization steps of the output's DequantizeLinear, not one. The
 * engines disagree by design on a few elements per inference: the ONNX spec rounds the exact
 * acc * x_scale * w_scale / y_scale half to even (Kiln), onnxruntime rounds a float32 product of it,
 * which differs by one step when the exact value is within float32 rounding of a .5 (3 elements of
 * 6.7 million on this input, the first in the first convolution). Through 52 convolutions those
 * one-step differences grow chaotically on random inputs: measured 7 steps on this input and 0-12
 * on seeds 1-7 (docs/INT8-NUMERICS.md). The tight check is int8-agreement.test.ts: every node, fed
 * onnxruntime's own inputs, agrees exactly except at such near-ties, each one verified exactly.
 */
function int8Tolerance(s: InferenceSession, output: string): number {
  return 16 * quantStep(s, output);
}

/** One quantization step of the DequantizeLinear that produces the output. */
function quantStep(s: InferenceSession, output: string): number {
  const node = s.graph.nodes.find((n) => n.outputs.includes(output));
  expect(node?.op, 'the int8 model ends in DequantizeLinear').toBe('DequantizeLinear');
  const scale = s.graph.initializers.get(node!.inputs[1]!);
  expect(scale?.size).toBe(1);
  return toNumbers(scale!)[0]!;
}

const CASES: Case[] = [
  { file: 'mnist-8.onnx', dims: [1, 1, 28, 28], input: () => pseudoRandom(784, 0, 255, 7), tolerance: relative },
  { file: 'ultraface-RFB-320.onnx', dims: [1, 3, 240, 320], input: () => pseudoRandom(3 * 240 * 320, -1, 1, 11), tolerance: relative },
  { file: 'superres-core_derived.onnx', dims: [1, 1, 224, 224], input: () => pseudoRandom(224 * 224, 0, 1, 13), tolerance: relative },
  { file: 'mobilenetv2-12-int8.onnx', dims: [1, 3, 224, 224], input: () => pseudoRandom(3 * 224 * 224, -2, 2, 17), tolerance: int8Tolerance },
];

describe.skipIf(!existsSync(MODELS))('real models vs onnxruntime-web', () => {
  for (const c of CASES) for (const backend of ['reference', 'wasm'] as const) {
    it(`${c.file} on ${backend}`, async () => {
      const bytes = readFileSync(join(MODELS, c.file));
      const data = c.input();
      const kiln = await InferenceSession.create(bytes, { backend });
      const oracle = await ort.InferenceSession.create(bytes);
      const name = kiln.inputNames[0]!;
      const got = await kiln.run({ [name]: new Tensor('float32', data, c.dims) });
      const want = await oracle.run({ [name]: new ort.Tensor('float32', data, c.dims) });
      for (const out of kiln.outputNames) {
        const g = got[out]!;
        const w = want[out]!;
        expect(g.dims).toEqual(w.dims);
        const expected = Float64Array.from(w.data as Float32Array);
        const actual = toNumbers(g);
        const tol = c.tolerance(kiln, out, expected);
        let worst = 0;
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
        console.log(`${c.file} [${backend}, fallback nodes: ${kiln.fallbackNodes().length}] ${out}: max |kiln - onnxruntime| = ${worst.toExponential(2)} (tolerance ${tol.toExponential(2)})`);
        expect(worst, `${c.file} output ${out}: max |diff| ${worst} vs tolerance ${tol}`).toBeLessThanOrEqual(tol);
      }
    });
  }
});
