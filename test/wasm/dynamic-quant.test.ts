// Dynamic int8 on the WASM backend: DynamicQuantizeLinear feeding ConvInteger / MatMulInteger with
// the zero point computed at run time (as onnxruntime's dynamic quantizer emits them). No node may
// fall back to the reference, and every output must equal the reference backend's bit for bit; the
// quantization parameters must also equal the spec's formulas evaluated exactly here.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { exactRoundHalfEven } from '../helpers/exact-quant.js';

let seed = 5;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const floats = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rnd());
const q8 = (type: 'uint8' | 'int8', dims: number[]) => {
  const n = dims.reduce((a, b) => a * b, 1);
  return type === 'int8' ? new Tensor('int8', Int8Array.from({ length: n }, () => Math.floor(rnd() * 256) - 128), dims)
    : new Tensor('uint8', Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256)), dims);
};

async function expectWasmMatchesReference(g: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const ref = await (await InferenceSession.create(g, { backend: 'reference' })).run(feeds);
  const wasm = await InferenceSession.create(g, { backend: 'wasm' });
  const got = await wasm.run(feeds);
  expect(wasm.fallbackNodes()).toEqual([]);
  for (const k of Object.keys(ref)) {
    expect(got[k]!.type, k).toBe(ref[k]!.type);
    expect(got[k]!.dims, k).toEqual(ref[k]!.dims);
    expect(Array.from(toNumbers(got[k]!)), k).toEqual(Array.from(toNumbers(ref[k]!)));
  }
  return got;
}

/**
 * The spec's y_scale and y_zero_point, in float32 as the spec's reference implementation evaluates
 * them: scale = float32(float32(max(0, max) - min(0, min)) / 255), zero point =
 * round_half_even(saturate(0 - float32(min / scale))).
 */
function specParams(x: Float32Array): { scale: number; zp: number } {
  let mn = 0;
  let mx = 0;
  for (const v of x) {
    mn = Math.min(mn, v);
    mx = Math.max(mx, v);
  }
  if (mx === mn) return { scale: 1, zp: 0 };
  const scale = Math.fround(Math.fround(mx - mn) / 255);
  return { scale, zp: Math.min(255, Math.max(0, exactRoundHalfEven([-Math.fround(mn / scale)]))) };
}

function dynamicGraph(build: (b: GraphBuilder, y: string, ys: string, yz: string) => string, xDims: number[]): Graph {
  const b = new GraphBuilder('dyn', 21);
  const [y, ys, yz] = b.opMulti('DynamicQuantizeLinear', [b.input('x', 'float32', xDims)], {}, { outputs: ['y', 'y_scale', 'y_zero_point'] });
  b.output(y!);
  b.output(ys!);
  b.output(yz!);
  b.output(build(b, y!, ys!, yz!));
  return b.build();
}

describe('WASM dynamic int8', () => {
  const ranges: [string, number, number][] = [['mixed signs', -3, 5], ['all positive', 0.5, 2], ['all negative', -7, -0.25], ['narrow', -0.01, 0.002]];
  for (const [name, lo, hi] of ranges) {
    it(`DynamicQuantizeLinear -> MatMulInteger (${name})`, async () => {
      const [M, K, N] = [7, 33, 10];
      const x = floats(M * K, lo, hi);
      const g = dynamicGraph((b, y, _ys, yz) => b.op('MatMulInteger', [y, b.constant('w', q8('int8', [K, N])), yz, b.constant('wz', q8('int8', [N]))]), [M, K]);
      const got = await expectWasmMatchesReference(g, { x: new Tensor('float32', x, [M, K]) });
      const want = specParams(x);
      expect(toNumbers(got['y_scale']!)[0]).toBe(want.scale);
      expect(toNumbers(got['y_zero_point']!)[0]).toBe(want.zp);
    });
  }

  it('DynamicQuantizeLinear -> ConvInteger (3x3, pad 1, uint8 weights)', async () => {
    const dims = [2, 3, 9, 8];
    const x = floats(2 * 3 * 9 * 8, -1.5, 4);
    const g = dynamicGraph((b, y, _ys, yz) => b.op('ConvInteger', [y, b.constant('w', q8('uint8', [5, 3, 3, 3])), yz, b.constant('wz', new Tensor('uint8', Uint8Array.of(128), []))], { pads: [1, 1, 1, 1] }), dims);
    await expectWasmMatchesReference(g, { x: new Tensor('float32', x, dims) });
  });

  it('DynamicQuantizeLinear -> ConvInteger (depthwise 3x3 stride 2, int8 weights)', async () => {
    const dims = [1, 4, 10, 10];
    const x = floats(400, -2, 1);
    const g = dynamicGraph((b, y, _ys, yz) => b.op('ConvInteger', [y, b.constant('w', q8('int8', [4, 1, 3, 3])), yz], { pads: [1, 1, 1, 1], strides: [2, 2], group: 4 }), dims);
    await expectWasmMatchesReference(g, { x: new Tensor('float32', x, dims) });
  });

  it('the zero point changes between runs of one session (read at run time, not planned)', async () => {
    const [M, K, N] = [3, 8, 4];
    const g = dynamicGraph((b, y, _ys, yz) => b.op('MatMulInteger', [y, b.constant('w', q8('uint8', [K, N])), yz]), [M, K]);
    const ref = await InferenceSession.create(g, { backend: 'reference' });
    const wasm = await InferenceSession.create(g, { backend: 'wasm' });
    const zps = new Set<number>();
    for (const [lo, hi] of [[-1, 1], [0, 3], [-4, 0.5]] as const) {
      const feeds = { x: new Tensor('float32', floats(M * K, lo, hi), [M, K]) };
      const want = await ref.run(feeds);
      const got = await wasm.run(feeds);
      zps.add(toNumbers(got['y_zero_point']!)[0]!);
      for (const k of Object.keys(want)) expect(Array.from(toNumbers(got[k]!)), k).toEqual(Array.from(toNumbers(want[k]!)));
    }
    expect(zps.size).toBe(3);
    expect(wasm.fallbackNodes()).toEqual([]);
  });

  it('an all-zero input quantizes with scale 1 and zero point 0', async () => {
    const g = dynamicGraph((b, y) => b.op('Identity', [y]), [2, 3]);
    const got = await expectWasmMatchesReference(g, { x: new Tensor('float32', new Float32Array(6), [2, 3]) });
    expect(toNumbers(got['y_scale']!)[0]).toBe(1);
    expect(toNumbers(got['y_zero_point']!)[0]).toBe(0);
  });

  it('NaN (skipped by the range, quantized to 0), infinities, -0, exact .5 ties and ragged lengths', async () => {
    for (const n of [1, 15, 16, 17, 33, 1000]) {
      const x = floats(n, -3, 3);
      if (n > 3) {
        x[0] = NaN;
        x[1] = -0;
        x[2] = 2.5 * Math.fround(6 / 255);
      }
      const g = dynamicGraph((b, y) => b.op('Identity', [y]), [n]);
      await expectWasmMatchesReference(g, { x: new Tensor('float32', x, [n]) });
    }
    // x / scale landing on exact .5 ties: max 255 * 0.5 and values k + 0.5 steps of 0.5.
    const ties = Float32Array.from({ length: 64 }, (_, i) => (i % 2 ? 0.25 : -0.25) * (2 * i + 1));
    const g = dynamicGraph((b, y) => b.op('Identity', [y]), [64]);
    await expectWasmMatchesReference(g, { x: new Tensor('float32', ties, [64]) });
    const inf = Float32Array.from({ length: 20 }, (_, i) => (i === 3 ? Infinity : i - 10));
    await expectWasmMatchesReference(dynamicGraph((b, y) => b.op('Identity', [y]), [20]), { x: new Tensor('float32', inf, [20]) });
  });
});
