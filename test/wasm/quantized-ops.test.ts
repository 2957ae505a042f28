// The WASM backend's quantized op kernels (constant weights and quantization parameters, as
// quantized models have them) against the reference backend: results must be bit-identical and no
// node may fall back.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import { MS_DOMAIN, type AttrValue } from '../../src/graph/ir.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';

let seed = 99;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const q8 = (type: 'uint8' | 'int8', dims: number[], lo = type === 'int8' ? -128 : 0, hi = type === 'int8' ? 127 : 255) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = type === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + Math.floor(rnd() * (hi - lo + 1));
  return new Tensor(type, data, dims);
};
const f32 = (values: number[], dims: number[] = [values.length === 1 ? 0 : values.length].filter((d) => d > 0)) => new Tensor('float32', Float32Array.from(values), dims);
const scalarQ = (type: 'uint8' | 'int8', v: number) => new Tensor(type, type === 'int8' ? Int8Array.of(v) : Uint8Array.of(v), []);

async function expectWasmMatchesReference(build: (b: GraphBuilder) => string, feeds: Record<string, Tensor>): Promise<void> {
  const b = new GraphBuilder('q', 21);
  b.output(build(b));
  const g = b.build();
  const ref = await (await InferenceSession.create(g, { backend: 'reference' })).run(feeds);
  const wasmSession = await InferenceSession.create(g, { backend: 'wasm' });
  const got = await wasmSession.run(feeds);
  expect(wasmSession.fallbackNodes()).toEqual([]);
  for (const k of Object.keys(ref)) {
    expect(got[k]!.type).toBe(ref[k]!.type);
    expect(got[k]!.dims).toEqual(ref[k]!.dims);
    expect(Array.from(got[k]!.data as ArrayLike<number>)).toEqual(Array.from(ref[k]!.data as ArrayLike<number>));
  }
}

const convCases: { name: string; C: number; Cout: number; k: number; group: number; attrs: Record<string, AttrValue>; xType: 'uint8' | 'int8'; wType: 'uint8' | 'int8'; perChannel: boolean }[] = [
  { name: '3x3 pad 1, per-channel int8 weights', C: 5, Cout: 7, k: 3, group: 1, attrs: { pads: [1, 1, 1, 1] }, xType: 'uint8', wType: 'int8', perChannel: true },
  { name: 'depthwise 3x3 stride 2', C: 6, Cout: 6, k: 3, group: 6, attrs: { pads: [1, 1, 1, 1], strides: [2, 2] }, xType: 'uint8', wType: 'int8', perChannel: true },
  { name: 'depthwise 3x3 stride 1 uint8 weights', C: 4, Cout: 4, k: 3, group: 4, attrs: { pads: [1, 1, 1, 1] }, xType: 'uint8', wType: 'uint8', perChannel: false },
  { name: 'pointwise 1x1', C: 9, Cout: 12, k: 1, group: 1, attrs: {}, xType: 'int8', wType: 'int8', perChannel: false },
  { name: 'grouped 3x3 with dilation and SAME_UPPER', C: 4, Cout: 6, k: 3, group: 2, attrs: { dilations: [2, 2], auto_pad: 'SAME_UPPER' }, xType: 'uint8', wType: 'int8', perChannel: true },
];

describe('WASM quantized conv kernels', () => {
  for (const c of convCases) {
    it(`QLinearConv ${c.name}`, async () => {
      const H = 9, W = 11;
      const x = q8(c.xType, [2, c.C, H, W]);
      await expectWasmMatchesReference((b) => b.op('QLinearConv', [
        b.input('x', c.xType, [2, c.C, H, W]),
        b.constant('xs', f32([0.02])), b.constant('xz', scalarQ(c.xType, c.xType === 'uint8' ? 128 : 3)),
        b.constant('w', q8(c.wType, [c.Cout, c.C / c.group, c.k, c.k], c.wType === 'int8' ? -100 : 0, c.wType === 'int8' ? 100 : 255)),
        b.constant('ws', c.perChannel ? f32(Array.from({ length: c.Cout }, (_, i) => 0.003 + 0.001 * i), [c.Cout]) : f32([0.004])),
        b.constant('wz', c.perChannel ? new Tensor(c.wType, c.wType === 'int8' ? new Int8Array(c.Cout) : new Uint8Array(c.Cout).fill(120), [c.Cout]) : scalarQ(c.wType, c.wType === 'uint8' ? 125 : 0)),
        b.constant('ys', f32([0.05])), b.constant('yz', scalarQ(c.xType, c.xType === 'uint8' ? 100 : -5)),
        b.constant('bias', new Tensor('int32', Int32Array.from({ length: c.Cout }, (_, i) => (i - 3) * 250), [c.Cout])),
      ], { ...c.attrs, group: c.group }), { x });
    });
  }

  it('ConvInteger with zero points (int32 output)', async () => {
    await expectWasmMatchesReference((b) => b.op('ConvInteger', [
      b.input('x', 'uint8', [1, 3, 6, 6]), b.constant('w', q8('uint8', [4, 3, 3, 3])),
      b.constant('xz', scalarQ('uint8', 7)), b.constant('wz', scalarQ('uint8', 131)),
    ], { pads: [1, 0, 1, 0] }), { x: q8('uint8', [1, 3, 6, 6]) });
  });
});

describe('WASM quantized matmul kernels', () => {
  for (const [aType, bType] of [['uint8', 'int8'], ['int8', 'int8'], ['uint8', 'uint8']] as const) {
    it(`QLinearMatMul ${aType} x ${bType}, per-column B scales`, async () => {
      await expectWasmMatchesReference((b) => b.op('QLinearMatMul', [
        b.input('a', aType, [3, 5, 37]), b.constant('as', f32([0.03])), b.constant('az', scalarQ(aType, aType === 'uint8' ? 120 : -2)),
        b.constant('b', q8(bType, [37, 19])), b.constant('bs', f32(Array.from({ length: 19 }, (_, i) => 0.002 + i * 0.0003), [19])),
        b.constant('bz', new Tensor(bType, bType === 'int8' ? new Int8Array(19) : new Uint8Array(19).fill(128), [19])),
        b.constant('ys', f32([0.4])), b.constant('yz', scalarQ(aType, aType === 'uint8' ? 128 : 0)),
      ]), { a: q8(aType, [3, 5, 37]) });
    });
  }

  it('MatMulInteger (int32 output)', async () => {
    await expectWasmMatchesReference((b) => b.op('MatMulInteger', [
      b.input('a', 'uint8', [13, 70]), b.constant('b', q8('int8', [70, 9])), b.constant('az', scalarQ('uint8', 12)),
    ]), { a: q8('uint8', [13, 70]) });
  });
});

describe('WASM quantize, dequantize and com.microsoft elementwise kernels', () => {
  for (const type of ['uint8', 'int8'] as const) {
    it(`QuantizeLinear / DequantizeLinear round trip (${type})`, async () => {
      const x = new Tensor('float32', Float32Array.from({ length: 300 }, (_, i) => (i - 150) * 0.0371 + (i % 2 ? 0.0185 : 0)), [3, 100]);
      await expectWasmMatchesReference((b) => {
        const q = b.op('QuantizeLinear', [b.input('x', 'float32', [3, 100]), b.constant('s', f32([0.037])), b.constant('z', scalarQ(type, type === 'uint8' ? 128 : -3))]);
        return b.op('DequantizeLinear', [q, b.constant('s2', f32([0.037])), b.constant('z2', scalarQ(type, type === 'uint8' ? 128 : -3))]);
      }, { x });
    });

    it(`QLinearAdd, QLinearMul (scalar B) and QLinearGlobalAveragePool (${type})`, async () => {
      const dims = [2, 4, 5, 6];
      await expectWasmMatchesReference((b) => {
        const a = b.input('a', type, dims);
        const c = b.input('c', type, dims);
        const p = (n: string, s: number, z: number): [string, string] => [b.constant(`${n}s`, f32([s])), b.constant(`${n}z`, scalarQ(type, z))];
        const sum = b.op('QLinearAdd', [a, ...p('a', 0.05, 10), c, ...p('c', 0.07, -4), ...p('o', 0.09, 3)], {}, { domain: MS_DOMAIN });
        const prod = b.op('QLinearMul', [sum, ...p('m', 0.09, 3), b.constant('k', scalarQ(type, 17)), ...p('k', 0.1, 0), ...p('p', 0.2, 1)], {}, { domain: MS_DOMAIN });
        return b.op('QLinearGlobalAveragePool', [prod, ...p('g', 0.2, 1), ...p('h', 0.15, 2)], {}, { domain: MS_DOMAIN });
      }, { a: q8(type, dims), c: q8(type, dims) });
    });
  }
});

