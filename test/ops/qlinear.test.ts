import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { MS_DOMAIN, type AttrValue, type Node } from '../../src/graph/ir.js';
import { evalNodeReference } from '../../src/ops/invoke.js';
import type { DType } from '../../src/tensor/dtype.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { encodeModel } from '../helpers/onnx-build.js';
import { f32, runOp } from '../helpers/op.js';

const t = (dtype: DType, data: readonly number[], dims: readonly number[]) => new Tensor(dtype, data, dims);
const vals = (x: Tensor) => Array.from(toNumbers(x));
const s = (v: number) => f32([v], []);
const u8 = (v: number) => t('uint8', [v], []);
const i8 = (v: number) => t('int8', [v], []);
const ms = { domain: MS_DOMAIN };

describe('QLinearConv', () => {
  const x = t('uint8', [10, 20, 30, 40], [1, 1, 2, 2]);
  const w = t('uint8', [3], [1, 1, 1, 1]);

  it('dequantizes, convolves and requantizes with saturation', () => {
    const [y] = runOp('QLinearConv', [x, s(0.5), u8(10), w, s(2), u8(1), s(0.25), u8(5)]);
    expect(y!.type).toBe('uint8');
    expect(vals(y!)).toEqual([5, 85, 165, 245]);
    expect(vals(runOp('QLinearConv', [x, s(0.5), u8(10), w, s(2), u8(1), s(0.2), u8(5)])[0]!)).toEqual([5, 105, 205, 255]);
    // The int32 bias is in accumulator units (x_scale * w_scale).
    expect(vals(runOp('QLinearConv', [x, s(0.5), u8(10), w, s(2), u8(1), s(0.25), u8(5), t('int32', [4], [1])])[0]!)).toEqual([21, 101, 181, 255]);
  });

  it('uses per-channel int8 weight scales', () => {
    const [y] = runOp('QLinearConv', [t('int8', [4, -6], [1, 1, 1, 2]), s(1), i8(0), t('int8', [2, -3], [2, 1, 1, 1]),
      f32([0.5, 1], [2]), t('int8', [0, 0], [2]), s(1), i8(0)]);
    expect(y!.type).toBe('int8');
    expect(vals(y!)).toEqual([4, -6, -12, 18]);
  });

  it('rounds half to even before adding the output zero point', () => {
    const one = t('uint8', [1], [1, 1, 1, 1]);
    expect(vals(runOp('QLinearConv', [t('uint8', [5], [1, 1, 1, 1]), s(1), u8(0), one, s(0.5), u8(0), s(1), u8(1)])[0]!)).toEqual([3]);
  });

  it('rejects malformed parameters', () => {
    expect(() => runOp('QLinearConv', [x, s(0.5), i8(10), w, s(2), u8(1), s(0.25), u8(5)])).toThrow(/x_zero_point/);
    expect(() => runOp('QLinearConv', [x, f32([1, 2], [2]), u8(10), w, s(2), u8(1), s(0.25), u8(5)])).toThrow(/x_scale/);
    expect(() => runOp('QLinearConv', [x, s(0.5), u8(10), w, f32([1, 2], [2]), u8(1), s(0.25), u8(5)])).toThrow(/w_scale/);
  });
});

describe('QLinearMatMul', () => {
  const a = t('uint8', [10, 12, 14, 16], [2, 2]);
  const b = t('uint8', [1, 2, 3, 4], [2, 2]);

  it('requantizes the integer product', () => {
    expect(vals(runOp('QLinearMatMul', [a, s(0.5), u8(10), b, s(1), u8(0), s(0.5), u8(0)])[0]!)).toEqual([6, 8, 22, 32]);
  });

  it('takes per-column b and per-row a/y parameters', () => {
    expect(vals(runOp('QLinearMatMul', [a, s(0.5), u8(10), b, f32([1, 2], [2]), u8(0), s(0.5), u8(0)])[0]!)).toEqual([6, 16, 22, 64]);
    const [y] = runOp('QLinearMatMul', [a, f32([0.5, 1], [2]), t('uint8', [10, 12], [2]), b, s(1), u8(0), f32([0.5, 1], [2]), t('uint8', [0, 1], [2])]);
    expect(vals(y!)).toEqual([6, 8, 15, 21]);
  });

  it('broadcasts batches and saturates int8', () => {
    const [y] = runOp('QLinearMatMul', [t('int8', [100, 100, -100, -100], [2, 1, 2]), s(1), i8(0), t('int8', [1, 1], [2, 1]), s(1), i8(0), s(1), i8(0)]);
    expect(y!.dims).toEqual([2, 1, 1]);
    expect(vals(y!)).toEqual([127, -128]);
  });
});

describe('com.microsoft QLinearAdd / QLinearMul', () => {
  it('adds and multiplies real values with broadcasting', () => {
    const args = [t('uint8', [10, 20], [2]), s(0.1), u8(10), t('uint8', [5], [1]), s(0.2), u8(0), s(0.05), u8(100)];
    expect(vals(runOp('QLinearAdd', args, {}, ms)[0]!)).toEqual([120, 140]);
    expect(vals(runOp('QLinearMul', args, {}, ms)[0]!)).toEqual([100, 120]);
  });

  it('treats omitted zero points as 0 and rejects mixed types', () => {
    const [y] = runOp('QLinearAdd', [t('int8', [-10, 10], [2]), s(1), undefined, t('int8', [5], [1]), s(1), undefined, s(1)], {}, ms);
    expect(vals(y!)).toEqual([-5, 15]);
    expect(() => runOp('QLinearAdd', [t('int8', [1], [1]), s(1), undefined, t('uint8', [5], [1]), s(1), undefined, s(1)], {}, ms)).toThrow(/dtype/);
    expect(() => runOp('QLinearAdd', [t('int8', [1, 2], [2]), s(1), undefined, t('int8', [5, 6, 7], [3]), s(1), undefined, s(1)], {}, ms)).toThrow(/broadcast/);
  });
});

describe('com.microsoft QLinearGlobalAveragePool', () => {
  it('averages each channel, NCHW or channels-last', () => {
    const [y] = runOp('QLinearGlobalAveragePool', [t('uint8', [1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]), s(1), u8(0), s(0.5), u8(3)], {}, ms);
    expect(y!.dims).toEqual([1, 2, 1, 1]);
    expect(vals(y!)).toEqual([8, 53]);
    const [z] = runOp('QLinearGlobalAveragePool', [t('uint8', [1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]), s(1), u8(0), s(0.5), u8(3)], { channels_last: 1 }, ms);
    expect(z!.dims).toEqual([1, 1, 1, 2]);
    expect(vals(z!)).toEqual([8, 53]);
  });
});

// ---- Agreement with onnxruntime-web (the dev-only oracle) on random inputs -------------------

ort.env.wasm.numThreads = 1;
const ONNX_CODE: Partial<Record<DType, number>> = { float32: 1, uint8: 2, int8: 3, int32: 6 };

function attrProto(name: string, v: AttrValue) {
  if (typeof v === 'number') return { name, type: 2, i: v };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  throw new Error(`attribute ${name}: only ints in these tests`);
}

/** Runs one node on Kiln's reference kernel and on onnxruntime-web (inputs after the first as initializers). */
async function both(op: string, inputs: (Tensor | undefined)[], attrs: Record<string, AttrValue> = {}, domain = ''): Promise<[Tensor, number[]]> {
  const names = inputs.map((x, i) => (x ? `in${i}` : ''));
  const node: Node = { name: 'n', op, domain, inputs: names, outputs: ['y'], attrs };
  const [mine] = evalNodeReference(node, inputs);
  const bytes = encodeModel({
    opset: 21,
    extraOpsets: domain ? [{ domain, version: 1 }] : [],
    inputs: [{ name: 'in0', elemType: ONNX_CODE[inputs[0]!.type]!, dims: [...inputs[0]!.dims] }],
    outputs: [{ name: 'y', elemType: ONNX_CODE[mine!.type]! }],
    nodes: [{ op, domain, inputs: names, outputs: ['y'], attrs: Object.entries(attrs).map(([k, v]) => attrProto(k, v)) }],
    initializers: inputs.slice(1).flatMap((x, i) => {
      if (!x) return [];
      const d = x.data as Uint8Array;
      return [{ name: `in${i + 1}`, dims: x.dims, dataType: ONNX_CODE[x.type], rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) }];
    }),
  });
  const session = await ort.InferenceSession.create(bytes);
  const x0 = inputs[0]!;
  const out = await session.run({ in0: new ort.Tensor(x0.type as 'uint8', x0.data as Uint8Array, [...x0.dims]) });
  return [mine!, Array.from(out.y!.data as ArrayLike<number>, Number)];
}

let seed = 12345;
function randQ(type: 'uint8' | 'int8', dims: number[]): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const lo = type === 'uint8' ? 0 : -128;
  const v = Array.from({ length: n }, () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return lo + (seed >>> 24);
  });
  return t(type, v, dims);
}

describe('QLinear ops agree with onnxruntime-web', () => {
  const cases: [string, () => [string, (Tensor | undefined)[], Record<string, AttrValue>, string]][] = [
    ['QLinearAdd uint8 broadcast', () => ['QLinearAdd', [randQ('uint8', [2, 3, 4]), s(0.02), u8(120), randQ('uint8', [3, 1]), s(0.05), u8(100), s(0.07), u8(128)], {}, MS_DOMAIN]],
    ['QLinearAdd int8', () => ['QLinearAdd', [randQ('int8', [2, 3, 4]), s(0.02), i8(-3), randQ('int8', [2, 3, 4]), s(0.05), i8(5), s(0.03), i8(1)], {}, MS_DOMAIN]],
    ['QLinearMul uint8', () => ['QLinearMul', [randQ('uint8', [2, 3, 4]), s(0.02), u8(120), randQ('uint8', [4]), s(0.05), u8(100), s(0.07), u8(128)], {}, MS_DOMAIN]],
    ['QLinearGlobalAveragePool NCHW', () => ['QLinearGlobalAveragePool', [randQ('uint8', [2, 3, 5, 7]), s(0.02), u8(120), s(0.01), u8(100)], {}, MS_DOMAIN]],
    ['QLinearGlobalAveragePool NHWC', () => ['QLinearGlobalAveragePool', [randQ('uint8', [2, 5, 7, 3]), s(0.02), u8(120), s(0.01), u8(100)], { channels_last: 1 }, MS_DOMAIN]],
    ['QLinearGlobalAveragePool int8', () => ['QLinearGlobalAveragePool', [randQ('int8', [2, 3, 5, 7]), s(0.02), i8(12), s(0.011), i8(-10)], {}, MS_DOMAIN]],
    ['QLinearConv uint8 strided', () => ['QLinearConv', [randQ('uint8', [1, 3, 8, 8]), s(0.02), u8(128), randQ('uint8', [4, 3, 3, 3]), s(0.01), u8(120), s(0.2), u8(110)], { pads: [1, 1, 1, 1], strides: [2, 2] }, '']],
    ['QLinearConv depthwise', () => ['QLinearConv', [randQ('uint8', [1, 4, 8, 8]), s(0.02), u8(128), randQ('uint8', [4, 1, 3, 3]), s(0.01), u8(120), s(0.05), u8(110)], { pads: [1, 1, 1, 1], group: 4 }, '']],
    ['QLinearConv int8 per-channel, grouped, biased', () => ['QLinearConv', [randQ('int8', [1, 4, 6, 5]), s(0.02), i8(3), randQ('int8', [4, 2, 3, 3]),
      f32([0.01, 0.02, 0.015, 0.03], [4]), t('int8', [0, 0, 0, 0], [4]), s(0.3), i8(-5), t('int32', [100, -200, 50, 7], [4])], { group: 2, pads: [1, 1, 1, 1], strides: [2, 1] }, '']],
    ['QLinearMatMul batched, per-column b', () => ['QLinearMatMul', [randQ('uint8', [2, 3, 4]), s(0.02), u8(128), randQ('uint8', [4, 5]),
      f32([0.01, 0.02, 0.03, 0.04, 0.05], [5]), t('uint8', [1, 2, 3, 4, 5], [5]), s(0.2), u8(110)], {}, '']],
  ];
  for (const [label, make] of cases) {
    it(label, async () => {
      const [op, inputs, attrs, domain] = make();
      const [mine, theirs] = await both(op, inputs, attrs, domain);
      expect(vals(mine)).toEqual(theirs);
    });
  }
});
