// Runs mnist-8 through Kiln's public bundle on every backend the host has. The same code runs in
// Node, Deno and a browser bundle made with esbuild (no bundler configuration).
import { InferenceSession, parseModel, quantizeStatic, Tensor } from '../../dist/index.js';

export interface QuantizeSmokeResult {
  /** Ops of the quantized graph (QuantizeLinear / DequantizeLinear around Conv and MatMul). */
  ops: string[];
  scores: number[];
  fallbacks: string[];
}

export interface SmokeResult {
  backend: string;
  scores: number[];
  fallbacks: string[];
}

export function smokeInput(): Float32Array {
  // A vertical bar, roughly a "1", in [0, 1].
  const x = new Float32Array(28 * 28);
  for (let r = 4; r < 24; r++) for (let c = 12; c < 16; c++) x[r * 28 + c] = 1;
  return x;
}

export async function runSmoke(model: Uint8Array, backends: readonly string[]): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const backend of backends) {
    const s = await InferenceSession.create(model, { backend: backend as 'wasm' });
    const out = await s.run({ [s.inputNames[0]!]: new Tensor('float32', smokeInput(), [1, 1, 28, 28]) });
    results.push({ backend: s.backend, scores: Array.from(out[s.outputNames[0]!]!.data as Float32Array), fallbacks: s.fallbackNodes() });
  }
  return results;
}

/** Eight calibration images: bars and blocks at several places, intensities in [0, 1]. */
function calibrationImages(): Float32Array[] {
  return Array.from({ length: 8 }, (_, k) => {
    const x = new Float32Array(28 * 28);
    for (let r = 2 + k; r < 18 + k; r++) for (let c = 3 * k % 20; c < (3 * k % 20) + 5 + k; c++) x[r * 28 + c] = (r + c) % 3 === 0 ? 0.5 : 1;
    return x;
  });
}

/**
 * The library's quantization path as a web page would call it: static int8 (min-max) calibrated
 * on in-memory images, then the quantized graph on the wasm backend.
 */
export async function runQuantizeSmoke(model: Uint8Array): Promise<QuantizeSmokeResult> {
  const graph = parseModel(model);
  const input = graph.inputs[0]!.name;
  const data = calibrationImages().map((x) => ({ [input]: new Tensor('float32', x, [1, 1, 28, 28]) }));
  const q = await quantizeStatic(graph, data, { method: 'minmax' });
  const s = await InferenceSession.create(q, { backend: 'wasm' });
  const out = await s.run({ [input]: new Tensor('float32', smokeInput(), [1, 1, 28, 28]) });
  return { ops: q.nodes.map((n) => n.op), scores: Array.from(out[s.outputNames[0]!]!.data as Float32Array), fallbacks: s.fallbackNodes() };
}
