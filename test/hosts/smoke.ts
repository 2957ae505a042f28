// Runs mnist-8 through Kiln's public bundle on every backend the host has. The same code runs in
// Node, Deno and a browser bundle made with esbuild (no bundler configuration).
import { InferenceSession, Tensor } from '../../dist/index.js';

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
