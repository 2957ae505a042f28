// Bundled mnist-8 and MNIST sets for the optimization tests (train digits for calibration and
// selection, the test set only for scores).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist } from '../../src/cli/mnist-data.js';
import type { Graph } from '../../src/graph/ir.js';
import { imageDataset, type Dataset } from '../../src/optimize/dataset.js';
import { parseModel } from '../../src/runtime/load.js';
import '../../src/ops/index.js';
import '../../src/backends/wasm/index.js';

const ASSETS = join(import.meta.dirname, '../../assets');

export const mnist8 = (): Graph => parseModel(readFileSync(join(ASSETS, 'mnist-8.onnx')));

export function mnistSet(name: 'train' | 'test', from = 0, to?: number): { data: Dataset; labels: Int32Array } {
  const s = name === 'train'
    ? loadMnist(join(ASSETS, 'mnist/train-10k-images-idx3-ubyte.gz'), join(ASSETS, 'mnist/train-10k-labels-idx1-ubyte.gz'))
    : loadMnist(join(ASSETS, 'mnist/t10k-images-idx3-ubyte.gz'), join(ASSETS, 'mnist/t10k-labels-idx1-ubyte.gz'));
  const end = to ?? s.count;
  return { data: imageDataset('Input3', s.images.subarray(784 * from, 784 * end), 28, 28), labels: Int32Array.from(s.labels.subarray(from, end)) };
}
