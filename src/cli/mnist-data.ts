// Reading the gzipped IDX files of the MNIST test set (CLI only: uses Node's fs and zlib).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface MnistSet {
  count: number;
  rows: number;
  cols: number;
  /** count*rows*cols pixels, 0..255. */
  images: Uint8Array;
  labels: Uint8Array;
}

function readIdx(path: string, magic: number, rank: number): { dims: number[]; data: Uint8Array } {
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * rank || view.getUint32(0) !== magic) throw new Error(`${path}: not an IDX file with magic ${magic}`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const start = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== start + size) throw new Error(`${path}: expected ${size} data bytes, found ${bytes.length - start}`);
  return { dims, data: bytes.subarray(start) };
}

export function loadMnist(imagesPath: string, labelsPath: string): MnistSet {
  const img = readIdx(imagesPath, 2051, 3);
  const lab = readIdx(labelsPath, 2049, 1);
  if (img.dims[0] !== lab.dims[0]) throw new Error(`MNIST: ${img.dims[0]} images but ${lab.dims[0]} labels`);
  return { count: img.dims[0]!, rows: img.dims[1]!, cols: img.dims[2]!, images: img.data, labels: lab.data };
}
