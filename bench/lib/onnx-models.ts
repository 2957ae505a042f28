// Small ONNX models built in memory for the peers (and for Kiln's model runtime): one-op models for
// the kernel suites, an MLP and a LeNet-style CNN for the model suite. Weights come from a seeded
// generator so every run (and every engine) sees the same numbers.
import { seededRandom } from '../../src/tensor/seeded-random.js';
import { encodeModel, type TinyNode } from '../../test/helpers/onnx-build.js';

/** ONNX TensorProto.DataType codes used here. */
export const ONNX = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

type Typed = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** mulberry32 (Kiln's seeded generator), good enough for benchmark data. */
export const rng = seededRandom;

/** Uniform floats in [-scale, scale). */
export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

export function randomI8(n: number, seed: number): Int8Array {
  const r = rng(seed);
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256) - 128;
  return out;
}

export function randomU8(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

export function initializer(name: string, dims: number[], dataType: number, data: Typed): Record<string, unknown> {
  return { name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** c[m,n] = a[m,k] @ b[k,n] with b a constant (weights), as a model would hold it. */
export function matmulModel(m: number, k: number, n: number, b: Float32Array): Uint8Array {
  return encodeModel({
    inputs: [{ name: 'a', elemType: ONNX.FLOAT, dims: [m, k] }],
    outputs: [{ name: 'c', elemType: ONNX.FLOAT, dims: [m, n] }],
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
    initializers: [initializer('b', [k, n], ONNX.FLOAT, b)],
  });
}

/** c[m,n] int32 = a[m,k] (u8) @ b[k,n] (s8 constant), zero points 0: the int8 GEMM core. */
export function matmulIntegerModel(m: number, k: number, n: number, b: Int8Array): Uint8Array {
  return encodeModel({
    opset: 13,
    inputs: [{ name: 'a', elemType: ONNX.UINT8, dims: [m, k] }],
    outputs: [{ name: 'c', elemType: ONNX.INT32, dims: [m, n] }],
    nodes: [{ op: 'MatMulInteger', inputs: ['a', 'b'], outputs: ['c'] }],
    initializers: [initializer('b', [k, n], ONNX.INT8, b)],
  });
}

/** He-style uniform init: keeps activations in a sane range through Relu layers. */
function heScale(fanIn: number): number {
  return Math.sqrt(6 / fanIn);
}

/** MLP 784-512-256-10 (or other `sizes`) as a PyTorch export writes it: Gemm(transB=1) + Relu. */
export function mlpModel(seed = 1, sizes: readonly number[] = [784, 512, 256, 10]): Uint8Array {
  const nodes: TinyNode[] = [];
  const inits: Record<string, unknown>[] = [];
  let x = 'x';
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fin, fout] = [sizes[l]!, sizes[l + 1]!];
    inits.push(initializer(`w${l}`, [fout, fin], ONNX.FLOAT, randomF32(fout * fin, seed * 100 + l, heScale(fin))));
    inits.push(initializer(`b${l}`, [fout], ONNX.FLOAT, randomF32(fout, seed * 100 + 50 + l, 0.1)));
    const last = l + 2 === sizes.length;
    const y = last ? 'y' : `h${l}`;
    nodes.push({ op: 'Gemm', inputs: [x, `w${l}`, `b${l}`], outputs: [last ? y : `g${l}`], attrs: [{ name: 'transB', type: 2, i: 1 }] });
    if (!last) nodes.push({ op: 'Relu', inputs: [`g${l}`], outputs: [y] });
    x = y;
  }
  return encodeModel({
    inputs: [{ name: 'x', elemType: ONNX.FLOAT, dims: [1, sizes[0]!] }],
    outputs: [{ name: 'y', elemType: ONNX.FLOAT, dims: [1, sizes[sizes.length - 1]!] }],
    nodes,
    initializers: inits,
  });
}

const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });

/**
 * LeNet-5 style: Conv 6@5x5 pad 2, Relu, MaxPool 2, Conv 16@5x5, Relu, MaxPool 2, Flatten,
 * Gemm 120, Relu, Gemm 84, Relu, Gemm 10. Input [1,1,28,28].
 */
export function lenetModel(seed = 2): Uint8Array {
  const inits: Record<string, unknown>[] = [];
  const w = (name: string, dims: number[], fanIn: number, s: number) =>
    inits.push(initializer(name, dims, ONNX.FLOAT, randomF32(dims.reduce((a, b) => a * b, 1), seed * 100 + s, heScale(fanIn))));
  w('c1w', [6, 1, 5, 5], 25, 1);
  w('c1b', [6], 25, 2);
  w('c2w', [16, 6, 5, 5], 150, 3);
  w('c2b', [16], 150, 4);
  w('f1w', [120, 400], 400, 5);
  w('f1b', [120], 400, 6);
  w('f2w', [84, 120], 120, 7);
  w('f2b', [84], 120, 8);
  w('f3w', [10, 84], 84, 9);
  w('f3b', [10], 84, 10);
  const pool = [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])];
  const transB = [{ name: 'transB', type: 2, i: 1 }];
  const nodes: TinyNode[] = [
    { op: 'Conv', inputs: ['x', 'c1w', 'c1b'], outputs: ['c1'], attrs: [ints('kernel_shape', [5, 5]), ints('pads', [2, 2, 2, 2])] },
    { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
    { op: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attrs: pool },
    { op: 'Conv', inputs: ['p1', 'c2w', 'c2b'], outputs: ['c2'], attrs: [ints('kernel_shape', [5, 5])] },
    { op: 'Relu', inputs: ['c2'], outputs: ['r2'] },
    { op: 'MaxPool', inputs: ['r2'], outputs: ['p2'], attrs: pool },
    { op: 'Flatten', inputs: ['p2'], outputs: ['f'] },
    { op: 'Gemm', inputs: ['f', 'f1w', 'f1b'], outputs: ['g1'], attrs: transB },
    { op: 'Relu', inputs: ['g1'], outputs: ['h1'] },
    { op: 'Gemm', inputs: ['h1', 'f2w', 'f2b'], outputs: ['g2'], attrs: transB },
    { op: 'Relu', inputs: ['g2'], outputs: ['h2'] },
    { op: 'Gemm', inputs: ['h2', 'f3w', 'f3b'], outputs: ['y'], attrs: transB },
  ];
  return encodeModel({
    inputs: [{ name: 'x', elemType: ONNX.FLOAT, dims: [1, 1, 28, 28] }],
    outputs: [{ name: 'y', elemType: ONNX.FLOAT, dims: [1, 10] }],
    nodes,
    initializers: inits,
  });
}

/** Multiply-adds of the MLP and LeNet models, for a GFLOP/s column on the model rows. */
export const MLP_FLOPS = 2 * (784 * 512 + 512 * 256 + 256 * 10);
export const LENET_FLOPS = 2 * (28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10);
