// Data sets for calibration and evaluation: a list of feeds, addressed by index, so that a large
// tensor (.npy with the samples along axis 0) is sliced one sample at a time instead of copied.
import { Tensor } from '../tensor/tensor.js';
import type { ValueInfo } from '../graph/ir.js';

export interface Dataset {
  readonly length: number;
  /** The feeds of sample i (one batch of the model's inputs). */
  sample(i: number): Record<string, Tensor>;
}

export function isDataset(x: unknown): x is Dataset {
  return typeof x === 'object' && x !== null && 'sample' in x && 'length' in x && typeof (x as Dataset).sample === 'function';
}

/** A data set from a list of feeds, or a Dataset as is. */
export function toDataset(data: Dataset | readonly Record<string, Tensor>[]): Dataset {
  if (isDataset(data)) return data;
  const list = data as readonly Record<string, Tensor>[];
  return { length: list.length, sample: (i) => list[i]! };
}

/** The first `n` samples (all when n is undefined or larger). */
export function take(data: Dataset, n: number | undefined): Dataset {
  if (n === undefined || n >= data.length) return data;
  if (!Number.isInteger(n) || n < 1) throw new Error(`take: sample count must be a positive integer, got ${n}`);
  return { length: n, sample: (i) => data.sample(i) };
}

/**
 * Samples along axis 0 of `t`, each fed as a batch of `batch` (default 1) to `input`, reshaped to
 * the model input's rank when `input` is a ValueInfo (x[N, 784] for an input [1, 1, 28, 28]).
 * A sample count that `batch` does not divide leaves the rest out.
 */
export function tensorDataset(input: string | ValueInfo, t: Tensor, batch = 1): Dataset {
  const name = typeof input === 'string' ? input : input.name;
  if (t.dims.length < 1) throw new Error(`dataset for '${name}': need samples along axis 0, got a scalar`);
  const N = t.dims[0]!;
  const per = t.size / Math.max(N, 1);
  let dims = [batch, ...t.dims.slice(1)];
  if (typeof input !== 'string' && input.shape) {
    const want = input.shape.slice(1);
    if (want.every((d): d is number => typeof d === 'number')) {
      const size = want.reduce((a, b) => a * b, 1);
      if (size !== per) {
        throw new Error(`dataset for '${name}': each sample has ${per} values (shape [${t.dims.slice(1).join(', ')}]) but the model input [${input.shape.join(', ')}] needs ${size}`);
      }
      dims = [batch, ...want];
    }
    if (input.dtype !== t.type) throw new Error(`dataset for '${name}': data is ${t.type} but the model input is ${input.dtype}`);
  }
  const data = t.data as unknown as { subarray(a: number, b: number): Tensor['data'] };
  return {
    length: Math.floor(N / batch),
    sample: (i) => ({ [name]: new Tensor(t.type, data.subarray(i * batch * per, (i + 1) * batch * per), dims) }),
  };
}

/** MNIST-style images (uint8 pixels, `pixels` per image) as float32 in [0, 1], shaped [1, 1, rows, cols]. */
export function imageDataset(input: string, images: Uint8Array, rows: number, cols: number): Dataset {
  const pixels = rows * cols;
  if (images.length % pixels !== 0) throw new Error(`image dataset: ${images.length} bytes is not a whole number of ${rows}x${cols} images`);
  return {
    length: images.length / pixels,
    sample: (i) => {
      const x = new Float32Array(pixels);
      for (let p = 0; p < pixels; p++) x[p] = images[i * pixels + p]! / 255;
      return { [input]: new Tensor('float32', x, [1, 1, rows, cols]) };
    },
  };
}
