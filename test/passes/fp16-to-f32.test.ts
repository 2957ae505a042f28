// fp16ToF32: float16 graphs rewritten to compute in float32 with float16 inputs and outputs kept.
// Exact graph-after expectations (types, boundary Casts, widened constants, subgraphs), the
// numerics against a float64 oracle rounded once to float16, and the WASM backend: a float16 model
// (and the output of quantizeFp16) runs with no node on the reference fallback.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/graph/ir.js';
import { verifyGraph } from '../../src/graph/verify.js';
import { fp16ToF32, hasFloat16 } from '../../src/passes/fp16-to-f32.js';
import { quantizeFp16 } from '../../src/passes/quantize/fp16-weights.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { float16ToFloat32, float32ToFloat16 } from '../../src/tensor/float16.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { graph, node, ops, rand, randT, runRef } from './helpers.js';

/** float16 tensor of the given values (rounded to nearest even). */
const f16 = (values: ArrayLike<number>, dims: number[]): Tensor =>
  new Tensor('float16', Uint16Array.from(values as ArrayLike<number>, (v) => float32ToFloat16(v)), dims);
const values = (t: Tensor): number[] => Array.from(t.data as Uint16Array, float16ToFloat32);

const K = 16;
const N = 8;
const W = f16(rand(K * N, 1), [K, N]);
const B = f16(rand(N, 2), [N]);

/**
 * y = Relu(MatMul(x, W) + B) * Constant(0.5 as float16); z = Cast(Shape(x), to float16);
 * x, y, z are float16.
 */
function mlp(): Graph {
  return graph('mlp16', {
    inputs: [{ name: 'x', dtype: 'float16', shape: [2, K] }],
    outputs: [{ name: 'y', dtype: 'float16', shape: [2, N] }, { name: 'z', dtype: 'float16', shape: [2] }],
    initializers: new Map([['W', W], ['B', B]]),
    nodes: [
      node('MatMul', ['x', 'W'], ['m']),
      node('Add', ['m', 'B'], ['a']),
      node('Relu', ['a'], ['r']),
      node('Constant', [], ['half'], { value: f16([0.5], []) }),
      node('Mul', ['r', 'half'], ['y']),
      node('Shape', ['x'], ['s']),
      node('Cast', ['s'], ['z'], { to: 10 }),
    ],
    valueInfo: new Map([['m', { name: 'm', dtype: 'float16', shape: [2, N] }]]),
  });
}

/** The float64 result of mlp() on x, rounded once to float16. */
function oracle(x: Tensor): number[] {
  const xv = values(x);
  const wv = values(W);
  const bv = values(B);
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < N; j++) {
      let s = bv[j]!;
      for (let k = 0; k < K; k++) s += xv[i * K + k]! * wv[k * N + j]!;
      out.push(float16ToFloat32(float32ToFloat16(Math.max(s, 0) * 0.5)));
    }
  }
  return out;
}

describe('fp16ToF32', () => {
  it('widens everything inside and keeps float16 inputs and outputs behind Casts', () => {
    const g = mlp();
    verifyGraph(g);
    const out = fp16ToF32(g);
    verifyGraph(out);
    expect(ops(out)).toEqual(['Cast', 'MatMul', 'Add', 'Relu', 'Constant', 'Mul', 'Shape', 'Cast', 'Cast', 'Cast']);
    const [toF32, , , , constant, mul, shape, inner, yOut, zOut] = out.nodes;
    expect(toF32).toMatchObject({ inputs: ['x'], outputs: ['x_f32'], attrs: { to: 1 } });
    expect(out.nodes[1]!.inputs).toEqual(['x_f32', 'W']);
    expect(shape!.inputs).toEqual(['x_f32']);
    expect((constant!.attrs.value as Tensor).type).toBe('float32');
    expect(mul!.outputs).toEqual(['y_f32']);
    // The Cast to float16 inside the graph now widens to float32; each output gets its own Cast back.
    expect(inner).toMatchObject({ inputs: ['s'], outputs: ['z_f32'], attrs: { to: 1 } });
    expect(yOut).toMatchObject({ inputs: ['y_f32'], outputs: ['y'], attrs: { to: 10 } });
    expect(zOut).toMatchObject({ inputs: ['z_f32'], outputs: ['z'], attrs: { to: 10 } });
    expect([...out.initializers.values()].map((t) => t.type)).toEqual(['float32', 'float32']);
    expect(Array.from(out.initializers.get('W')!.data as Float32Array)).toEqual(values(W));
    expect(out.valueInfo.get('m')?.dtype).toBe('float32');
    expect(out.inputs).toEqual(g.inputs);
    expect(out.outputs).toEqual(g.outputs);
    expect(out.provenance.at(-1)?.pass).toBe('fp16ToF32');
    // The input graph is untouched.
    expect(g.initializers.get('W')!.type).toBe('float16');
    expect(ops(g)).toEqual(['MatMul', 'Add', 'Relu', 'Constant', 'Mul', 'Shape', 'Cast']);
  });

  it('computes in float32 and rounds once: within one float16 step of the float64 result', async () => {
    const g = mlp();
    const x = f16(rand(2 * K, 3), [2, K]);
    const want = oracle(x);
    const got = (await runRef(fp16ToF32(g), { x })).get('y')!;
    expect(got.type).toBe('float16');
    const gv = values(got);
    // Exactly the oracle except where the float32 sum lands on the other side of a float16
    // rounding boundary than the float64 sum: then one float16 step away.
    for (let i = 0; i < want.length; i++) {
      const step = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(want[i]!), 2 ** -14))) - 10);
      expect(Math.abs(gv[i]! - want[i]!), `y[${i}]`).toBeLessThanOrEqual(step);
    }
    expect(Array.from((await runRef(fp16ToF32(g), { x })).get('z')!.data as Uint16Array).map(float16ToFloat32)).toEqual([2, K]);
  });

  it('converts subgraphs: If branches read an outer float16 value and declare float32 outputs', async () => {
    const branch = (name: string, op: string): Graph => graph(name, {
      outputs: [{ name: `${name}_o`, dtype: 'float16', shape: [3] }],
      initializers: new Map([[`${name}_k`, f16([1, 2, 3], [3])]]),
      nodes: [node(op, ['x', `${name}_k`], [`${name}_o`])],
    });
    const g = graph('if16', {
      inputs: [{ name: 'x', dtype: 'float16', shape: [3] }, { name: 'c', dtype: 'bool', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float16', shape: [3] }],
      nodes: [node('If', ['c'], ['y'], { then_branch: branch('then', 'Add'), else_branch: branch('else', 'Mul') })],
    });
    verifyGraph(g);
    const out = fp16ToF32(g);
    verifyGraph(out);
    expect(ops(out)).toEqual(['Cast', 'If', 'Cast']);
    const then = out.nodes[1]!.attrs.then_branch as Graph;
    expect(then.outputs[0]!.dtype).toBe('float32');
    expect(then.initializers.get('then_k')!.type).toBe('float32');
    expect(then.nodes[0]!.inputs).toEqual(['x_f32', 'then_k']);
    const x = f16([0.5, -1, 2], [3]);
    for (const c of [true, false]) {
      const feeds = { x, c: new Tensor('bool', Uint8Array.of(c ? 1 : 0), []) };
      const before = (await runRef(g, feeds)).get('y')!;
      const after = (await runRef(out, feeds)).get('y')!;
      // One op on exact small values: float16 and float32 agree exactly.
      expect(after.type).toBe('float16');
      expect(Array.from(after.data as Uint16Array)).toEqual(Array.from(before.data as Uint16Array));
    }
  });

  it('handles outputs that are initializers or inputs, and dtype attributes', () => {
    const g = graph('edges', {
      inputs: [{ name: 'x', dtype: 'float16', shape: [2] }, { name: 'n', dtype: 'int64', shape: [1] }],
      outputs: [
        { name: 'x', dtype: 'float16', shape: [2] },
        { name: 'k', dtype: 'float16', shape: [2] },
        { name: 'fill', dtype: 'float16', shape: ['n'] },
        { name: 'eye', dtype: 'float16', shape: [2, 2] },
      ],
      initializers: new Map([['k', f16([1, 2], [2])]]),
      nodes: [
        node('ConstantOfShape', ['n'], ['fill'], { value: f16([3], [1]) }),
        node('Add', ['x', 'k'], ['sum']),
        node('Unsqueeze', ['sum', 'axes'], ['sum2']),
        node('Concat', ['sum2', 'sum2'], ['sq'], { axis: 0 }),
        node('EyeLike', ['sq'], ['eye'], { dtype: 10 }),
      ],
    });
    g.initializers.set('axes', new Tensor('int64', BigInt64Array.of(0n), [1]));
    verifyGraph(g);
    const out = fp16ToF32(g);
    verifyGraph(out);
    // x passes through as fed (no Cast); k is read as float32 under a new name and cast back.
    expect(out.outputs.map((v) => v.name)).toEqual(['x', 'k', 'fill', 'eye']);
    expect(out.initializers.has('k')).toBe(false);
    expect(out.initializers.get('k_f32')!.type).toBe('float32');
    expect(ops(out)).toEqual(['Cast', 'ConstantOfShape', 'Add', 'Unsqueeze', 'Concat', 'EyeLike', 'Cast', 'Cast', 'Cast']);
    expect((out.nodes[1]!.attrs.value as Tensor).type).toBe('float32');
    expect(out.nodes[5]!.attrs.dtype).toBe(1);
    expect(out.nodes[2]!.inputs).toEqual(['x_f32', 'k_f32']);
  });

  it('returns graphs without float16 unchanged', () => {
    const g = graph('f32', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
      nodes: [node('Relu', ['x'], ['y'])],
    });
    expect(hasFloat16(g)).toBe(false);
    expect(fp16ToF32(g)).toBe(g);
  });
});

describe('float16 models on the WASM backend', () => {
  it('runs every node on WASM kernels with float16 inputs and outputs', async () => {
    const g = mlp();
    const x = f16(rand(2 * K, 4), [2, K]);
    const session = await InferenceSession.create(g, { backend: 'wasm', threads: 1 });
    expect(session.fallbackNodes()).toEqual([]);
    const out = await session.run({ x });
    expect(out.y!.type).toBe('float16');
    expect(out.z!.type).toBe('float16');
    const want = oracle(x);
    const got = values(out.y!);
    for (let i = 0; i < want.length; i++) {
      const step = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(want[i]!), 2 ** -14))) - 10);
      expect(Math.abs(got[i]! - want[i]!), `y[${i}]`).toBeLessThanOrEqual(step);
    }
    expect(values(out.z!)).toEqual([2, K]);
    await session.release();
  });

  it('runs quantizeFp16 output (float16 weights behind Casts) with no fallback and float32 results', async () => {
    const g = graph('mlp', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 32] }],
      initializers: new Map([['W', randT([64, 32], 5)]]),
      nodes: [node('MatMul', ['x', 'W'], ['y'])],
    });
    const q = quantizeFp16(g);
    expect([...q.initializers.values()].some((t) => t.type === 'float16')).toBe(true);
    const x = randT([1, 64], 6);
    const want = (await runRef(q, { x })).get('y')!.data as Float32Array;
    const session = await InferenceSession.create(q, { backend: 'wasm', threads: 1 });
    expect(session.fallbackNodes()).toEqual([]);
    const got = (await session.run({ x })).y!.data as Float32Array;
    // The same float32 computation on the widened weights (sums reassociated by the kernel).
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * scale);
    await session.release();
  });
});
