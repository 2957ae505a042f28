// Calibration and evaluation data for the CLI: .npy (samples along axis 0, one-input models),
// .npz (one array per model input, named after it), the bundled MNIST sets by name
// ('mnist-train' for calibration, 'mnist-test' for evaluation, optionally ':N' for the first N),
// and 'random:N' (N generated samples). Labels: .npy of integers, or the MNIST names.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Graph, ValueInfo } from '../graph/ir.js';
import { parseNpy, parseNpz } from '../io/npy.js';
import { imageDataset, take, tensorDataset, type Dataset } from '../optimize/dataset.js';
import { toNumbers } from '../tensor/convert.js';
import { isFloatDType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadMnist, type MnistSet } from './mnist-data.js';
import { generatedInput } from './run.js';

/** A bundled asset: dist/cli.js and src/cli/*.ts both find the package's assets/ folder. */
export function assetPath(p: string): string {
  for (const up of ['../assets/', '../../assets/']) {
    const f = fileURLToPath(new URL(up + p, import.meta.url));
    if (existsSync(f)) return f;
  }
  throw new Error(`bundled asset '${p}' is missing (reinstall kiln)`);
}

const MNIST = {
  'mnist-train': ['mnist/train-10k-images-idx3-ubyte.gz', 'mnist/train-10k-labels-idx1-ubyte.gz'],
  'mnist-test': ['mnist/t10k-images-idx3-ubyte.gz', 'mnist/t10k-labels-idx1-ubyte.gz'],
} as const;
type MnistName = keyof typeof MNIST;

const cache = new Map<string, MnistSet>();
export function mnist(name: MnistName): MnistSet {
  let s = cache.get(name);
  if (!s) {
    const [img, lab] = MNIST[name];
    s = loadMnist(assetPath(img), assetPath(lab));
    cache.set(name, s);
  }
  return s;
}

/** 'mnist-train:500' -> ['mnist-train', 500]. */
function splitCount(spec: string): [string, number | undefined] {
  const m = /^([a-z-]+):(\d+)$/.exec(spec);
  if (!m) return [spec, undefined];
  const n = Number(m[2]);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`'${spec}': the sample count must be a positive integer`);
  return [m[1]!, n];
}

function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new Error(`cannot read data file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function onlyInput(graph: Graph, what: string): ValueInfo {
  if (graph.inputs.length !== 1) {
    throw new Error(`${what} gives one array, but model '${graph.name}' has ${graph.inputs.length} inputs (${graph.inputs.map((v) => v.name).join(', ')}): use an .npz with one array per input`);
  }
  return graph.inputs[0]!;
}

/** A data set for `graph`'s inputs from a file or a bundled name. */
export async function loadData(spec: string, graph: Graph): Promise<Dataset> {
  const [base, count] = splitCount(spec);
  if (base === 'mnist-train' || base === 'mnist-test') {
    const input = onlyInput(graph, `'${base}'`);
    const size = input.shape?.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
    if (input.dtype !== 'float32' || size !== 784) {
      throw new Error(`'${base}' is 28x28 float32 images, but model input '${input.name}' is ${input.dtype}[${input.shape?.join(', ') ?? '?'}]`);
    }
    const s = mnist(base);
    return take(imageDataset(input.name, s.images, s.rows, s.cols), count);
  }
  if (base === 'random') {
    if (count === undefined) throw new Error(`'${spec}': write random:N with the number of samples`);
    for (const v of graph.inputs) if (!isFloatDType(v.dtype)) throw new Error(`random:N generates float data, but input '${v.name}' is ${v.dtype}`);
    return { length: count, sample: (i) => Object.fromEntries(graph.inputs.map((v, k) => [v.name, generatedInput(v, {}, 1 + i * graph.inputs.length + k)])) };
  }
  if (spec.endsWith('.npz')) {
    const arrays = await parseNpz(readBytes(spec), spec);
    const parts = graph.inputs.map((v) => {
      const t = arrays.get(v.name);
      if (!t) throw new Error(`${spec}: no array named '${v.name}' (the model's input); the archive has ${[...arrays.keys()].join(', ') || 'no arrays'}`);
      return wrap(spec, () => tensorDataset(v, t));
    });
    const n = parts[0]!.length;
    parts.forEach((p, i) => { if (p.length !== n) throw new Error(`${spec}: array '${graph.inputs[i]!.name}' has ${p.length} samples, '${graph.inputs[0]!.name}' has ${n}`); });
    return { length: n, sample: (i) => Object.assign({}, ...parts.map((p) => p.sample(i))) as Record<string, Tensor> };
  }
  if (spec.endsWith('.npy')) {
    const input = onlyInput(graph, spec);
    const t = parseNpy(readBytes(spec), spec);
    return wrap(spec, () => tensorDataset(input, t));
  }
  throw new Error(`unknown data '${spec}': give a .npy or .npz file, mnist-train[:N], mnist-test[:N] or random:N`);
}

function wrap<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const m = (e as Error).message;
    const hint = / is float64 but the model input is float32/.test(m) ? ' (save with x.astype(np.float32))' : '';
    throw new Error(`${file}: ${m}${hint}`);
  }
}

/** Integer class labels from a .npy file or an MNIST name. */
export function loadLabels(spec: string): Int32Array {
  const [base, count] = splitCount(spec);
  if (base === 'mnist-train' || base === 'mnist-test') {
    const labels = Int32Array.from(mnist(base).labels);
    return count === undefined ? labels : labels.subarray(0, count);
  }
  if (!spec.endsWith('.npy')) throw new Error(`unknown labels '${spec}': give a .npy file of integers, mnist-train[:N] or mnist-test[:N]`);
  const t = parseNpy(readBytes(spec), spec);
  if (isFloatDType(t.type) || t.type === 'bool') throw new Error(`${spec}: labels must be integers, got ${t.type}`);
  if (t.dims.length !== 1 && !(t.dims.length === 2 && t.dims[1] === 1)) throw new Error(`${spec}: labels must be one integer per sample (shape [N]), got [${t.dims.join(', ')}]`);
  return Int32Array.from(toNumbers(t));
}
