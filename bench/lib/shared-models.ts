// The shared model files (../shared/models next to the repository, or KILN_MODELS_DIR) for the
// benchmark suites; a missing directory makes the case n/a, not an error.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModel } from '../../src/runtime/load.js';
import { randomF32 } from './onnx-models.js';
import type { OrtFeed } from './ort.js';
import { NotAvailable } from './types.js';

const MODELS_DIR = process.env.KILN_MODELS_DIR ? join(process.env.KILN_MODELS_DIR, '/') : fileURLToPath(new URL('../../../shared/models/', import.meta.url));

/** A loader for one shared model file, read when a case is set up. */
export function sharedModel(name: string): () => Uint8Array {
  return () => {
    const path = MODELS_DIR + name;
    if (!existsSync(path)) throw new NotAvailable(`model ${name} not found in ${MODELS_DIR}`);
    return new Uint8Array(readFileSync(path));
  };
}

/** Feeds for a model's inputs: seeded uniform [0,1) floats (image-like); symbolic dims become 1. Another `seed` gives other samples (calibration data apart from the measured input). */
export function feedsFor(bytes: Uint8Array, seed = 50): Record<string, OrtFeed> {
  const graph = parseModel(bytes);
  const feeds: Record<string, OrtFeed> = {};
  graph.inputs.forEach((info, i) => {
    if (info.dtype !== 'float32') throw new NotAvailable(`input '${info.name}' is ${info.dtype}; the bench feeds float32 only`);
    const dims = (info.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const data = randomF32(dims.reduce((a, b) => a * b, 1), seed + i);
    for (let j = 0; j < data.length; j++) data[j] = (data[j]! + 1) / 2;
    feeds[info.name] = { type: 'float32', data, dims };
  });
  return feeds;
}
