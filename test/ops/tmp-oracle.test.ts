import * as ort from 'onnxruntime-web';
import { it } from 'vitest';
import type { AttrValue, Node } from '../../src/graph/ir.js';
import '../../src/ops/index.js';
import { evalNodeReference } from '../../src/ops/invoke.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { encodeModel } from '../helpers/onnx-build.js';
ort.env.wasm.numThreads = 1;
const CODE: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, int4: 22 };
function attrProto(name: string, v: AttrValue) {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) && !name.match(/alpha|beta|scale/) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  throw new Error('attr');
}
function tensorProto(name: string, t: Tensor) {
  const d = t.data as any;
  return { name, dims: t.dims, dataType: CODE[t.type], rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
}
let seed = 1;
export function rand(n: number, lo: number, hi: number, int = false) { const a: number[] = []; for (let i = 0; i < n; i++) { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; const v = lo + (hi - lo) * seed / 2 ** 32; a.push(int ? Math.floor(v) : v); } return a; }
async function compare(label: string, op: string, inputs: (Tensor | undefined)[], attrs: Record<string, AttrValue>, nOut = 1, domain = '', opset = 21) {
  const names = inputs.map((t, i) => (t ? `in${i}` : ''));
  const outs = Array.from({ length: nOut }, (_, i) => `out${i}`);
  const node: Node = { name: 'n', op, domain, inputs: names, outputs: outs, attrs };
  let mine: Tensor[];
  try { mine = evalNodeReference(node, inputs); } catch (e) { console.log(label, 'KILN ERROR', (e as Error).message); return; }
  const bytes = encodeModel({
    opset,
    extraOpsets: domain ? [{ domain, version: 1 }] : [],
    inputs: [{ name: 'in0', elemType: CODE[inputs[0]!.type]!, dims: [...inputs[0]!.dims] }],
    outputs: outs.map((o, i) => ({ name: o, elemType: CODE[mine[i]!.type]! })),
    nodes: [{ op, domain, inputs: names, outputs: outs, attrs: Object.entries(attrs).map(([k, v]) => attrProto(k, v)) }],
    initializers: inputs.slice(1).map((t, i) => (t ? tensorProto(`in${i + 1}`, t) : undefined)).filter((x) => x) as any,
  });
  let res: Record<string, ort.Tensor>;
  try {
    const s = await ort.InferenceSession.create(bytes);
    res = await s.run({ in0: new ort.Tensor(inputs[0]!.type as any, inputs[0]!.data as any, [...inputs[0]!.dims]) });
  } catch (e) { console.log(label, 'ORT ERROR', String(e).slice(0, 200)); return; }
  outs.forEach((o, i) => {
    const w = res[o]!; const g = mine[i]!;
    const wv = Array.from(w.data as any, Number); const gv = Array.from(toNumbers(g));
    let worst = 0, at = -1; for (let k = 0; k < wv.length; k++) { const d = Math.abs(wv[k]! - gv[k]!); if (!(d <= worst)) { worst = d; at = k; } }
    const dimsOk = JSON.stringify([...w.dims]) === JSON.stringify(g.dims);
    console.log(`${worst < 1e-4 && dimsOk ? 'ok  ' : 'DIFF'} ${label} out${i} dims ort ${JSON.stringify(w.dims)} kiln ${JSON.stringify(g.dims)} maxdiff ${worst} at ${at}${at >= 0 ? ` ort ${wv[at]} kiln ${gv[at]}` : ''}`);
  });
}
const f = (dims: number[], lo = -1, hi = 1) => new Tensor('float32', Float32Array.from(rand(dims.reduce((a, b) => a * b, 1), lo, hi)), dims);
const q = (type: 'uint8' | 'int8', dims: number[]) => new Tensor(type, (type === 'uint8' ? Uint8Array : Int8Array).from(rand(dims.reduce((a, b) => a * b, 1), type === 'uint8' ? 0 : -128, type === 'uint8' ? 256 : 128, true)), dims);
const s = (v: number) => new Tensor('float32', Float32Array.of(v), []);
const z = (type: 'uint8' | 'int8', v: number) => new Tensor(type, (type === 'uint8' ? Uint8Array : Int8Array).of(v), []);
it('oracle', async () => {
  for (const ap of ['SAME_UPPER', 'SAME_LOWER']) for (const st of [1, 2, 3]) {
    await compare(`convT ${ap} s${st}`, 'ConvTranspose', [f([1, 2, 5, 4]), f([2, 3, 3, 2])], { auto_pad: ap, strides: [st, st] });
    await compare(`convT ${ap} s${st} outshape`, 'ConvTranspose', [f([1, 2, 5, 4]), f([2, 3, 3, 2])], { auto_pad: ap, strides: [st, st], output_shape: [11, 9] });
    await compare(`conv ${ap} s${st} d2`, 'Conv', [f([1, 2, 7, 6]), f([4, 1, 3, 2]), f([4])], { auto_pad: ap, strides: [st, st], dilations: [2, 1], group: 2 });
  }
  await compare('convT outshape pads', 'ConvTranspose', [f([1, 2, 5, 4]), f([2, 3, 3, 3])], { strides: [2, 2], output_shape: [10, 8], pads: [1, 1, 1, 1] });
  await compare('convT outpad dil group', 'ConvTranspose', [f([2, 4, 3, 4]), f([4, 1, 3, 2]), f([2])], { strides: [3, 2], output_padding: [1, 1], dilations: [2, 3], group: 2, pads: [1, 0, 2, 1] });
  await compare('convT 3d', 'ConvTranspose', [f([1, 2, 3, 4, 3]), f([2, 2, 2, 3, 2])], { strides: [2, 1, 2], pads: [0, 1, 1, 1, 0, 0] });
  await compare('conv 3d', 'Conv', [f([1, 2, 5, 4, 6]), f([3, 2, 2, 3, 2])], { strides: [2, 1, 2], pads: [0, 1, 1, 1, 0, 0], dilations: [1, 1, 2] });
  await compare('conv 1d', 'Conv', [f([2, 3, 9]), f([6, 1, 3])], { strides: [2], pads: [2, 1], group: 3 });
  for (const cm of [0, 1]) for (const cip of [0, 1]) {
    await compare(`avg ceil${cm} cip${cip}`, 'AveragePool', [f([1, 2, 7, 6])], { kernel_shape: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil_mode: cm, count_include_pad: cip });
    await compare(`avg ceil${cm} cip${cip} dil`, 'AveragePool', [f([1, 2, 9, 8])], { kernel_shape: [2, 2], strides: [2, 2], dilations: [2, 2], pads: [1, 1, 1, 1], ceil_mode: cm, count_include_pad: cip });
    await compare(`avg ceil${cm} cip${cip} same_lower`, 'AveragePool', [f([1, 2, 7, 6])], { kernel_shape: [3, 2], strides: [2, 2], auto_pad: 'SAME_LOWER', ceil_mode: cm, count_include_pad: cip });
    await compare(`max ceil${cm} so${cip}`, 'MaxPool', [f([2, 2, 7, 6])], { kernel_shape: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil_mode: cm, storage_order: cip }, 2);
    await compare(`max ceil${cm} so${cip} dil 3d`, 'MaxPool', [f([1, 2, 5, 6, 7])], { kernel_shape: [2, 2, 3], strides: [2, 1, 2], dilations: [2, 1, 2], pads: [1, 0, 1, 1, 1, 0], ceil_mode: cm, storage_order: cip }, 2);
    await compare(`lp ceil${cm}`, 'LpPool', [f([1, 2, 7, 6])], { kernel_shape: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil_mode: cm, p: 3 });
  }
  await compare('maxpool u8', 'MaxPool', [q('uint8', [1, 2, 5, 5])], { kernel_shape: [2, 2], pads: [1, 1, 1, 1] });
  await compare('maxpool i8', 'MaxPool', [q('int8', [1, 2, 5, 5])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  await compare('glp', 'GlobalLpPool', [f([2, 3, 4, 5])], { p: 3 });
  await compare('gmax', 'GlobalMaxPool', [f([2, 3, 4, 5])], {});
  // quantized
  await compare('qadd u8 bcast', 'QLinearAdd', [q('uint8', [2, 3, 4]), s(0.02), z('uint8', 120), q('uint8', [3, 1]), s(0.05), z('uint8', 100), s(0.07), z('uint8', 128)], {}, 1, 'com.microsoft');
  await compare('qadd i8', 'QLinearAdd', [q('int8', [2, 3, 4]), s(0.02), z('int8', -3), q('int8', [2, 3, 4]), s(0.05), z('int8', 5), s(0.03), z('int8', 1)], {}, 1, 'com.microsoft');
  await compare('qmul u8', 'QLinearMul', [q('uint8', [2, 3, 4]), s(0.02), z('uint8', 120), q('uint8', [4]), s(0.05), z('uint8', 100), s(0.07), z('uint8', 128)], {}, 1, 'com.microsoft');
  await compare('qgap', 'QLinearGlobalAveragePool', [q('uint8', [2, 3, 5, 7]), s(0.02), z('uint8', 120), s(0.01), z('uint8', 100)], {}, 1, 'com.microsoft');
  await compare('qgap cl', 'QLinearGlobalAveragePool', [q('uint8', [2, 5, 7, 3]), s(0.02), z('uint8', 120), s(0.01), z('uint8', 100)], { channels_last: 1 }, 1, 'com.microsoft');
  await compare('qgap i8', 'QLinearGlobalAveragePool', [q('int8', [2, 3, 5, 7]), s(0.02), z('int8', 12), s(0.011), z('int8', -10)], {}, 1, 'com.microsoft');
  const M = 4;
  await compare('qconv perchannel i8', 'QLinearConv', [q('int8', [1, 4, 6, 5]), s(0.02), z('int8', 3), q('int8', [M, 2, 3, 3]), new Tensor('float32', Float32Array.from([0.01, 0.02, 0.015, 0.03]), [M]), new Tensor('int8', new Int8Array(M), [M]), s(0.3), z('int8', -5), new Tensor('int32', Int32Array.from([100, -200, 50, 7]), [M])], { group: 2, pads: [1, 1, 1, 1], strides: [2, 1] });
  await compare('qconv u8', 'QLinearConv', [q('uint8', [1, 3, 8, 8]), s(0.02), z('uint8', 128), q('uint8', [M, 3, 3, 3]), s(0.01), z('uint8', 120), s(0.2), z('uint8', 110)], { pads: [1, 1, 1, 1], strides: [2, 2] });
  await compare('qconv dw u8', 'QLinearConv', [q('uint8', [1, 4, 8, 8]), s(0.02), z('uint8', 128), q('uint8', [M, 1, 3, 3]), s(0.01), z('uint8', 120), s(0.05), z('uint8', 110)], { pads: [1, 1, 1, 1], group: 4 });
  await compare('qmatmul perrow', 'QLinearMatMul', [q('uint8', [2, 3, 4]), s(0.02), z('uint8', 128), q('uint8', [4, 5]), new Tensor('float32', Float32Array.from([0.01, 0.02, 0.03, 0.04, 0.05]), [5]), new Tensor('uint8', Uint8Array.from([1, 2, 3, 4, 5]), [5]), s(0.2), z('uint8', 110)], {});
  await compare('matmulint rowzp', 'MatMulInteger', [q('uint8', [3, 4]), q('uint8', [4, 5]), new Tensor('uint8', Uint8Array.from([1, 2, 3]), [3]), new Tensor('uint8', Uint8Array.from([1, 2, 3, 4, 5]), [5])], {});
  await compare('matmulint i8 batched', 'MatMulInteger', [q('uint8', [2, 3, 4]), q('int8', [4, 5]), z('uint8', 7), z('int8', -3)], {});
  await compare('convint', 'ConvInteger', [q('uint8', [1, 2, 5, 5]), q('int8', [3, 2, 2, 2]), z('uint8', 7), new Tensor('int8', Int8Array.from([1, -2, 3]), [3])], { pads: [1, 0, 0, 1] });
  await compare('quant int4', 'QuantizeLinear', [f([2, 6], -1, 1), new Tensor('float32', Float32Array.from([0.1, 0.2]), [2]), new Tensor('int4', Uint8Array.from([0x31]), [2])], { axis: 0 });
  await compare('quant blocked', 'QuantizeLinear', [f([2, 6], -1, 1), new Tensor('float32', Float32Array.from([0.1, 0.2, 0.05, 0.3]), [2, 2]), new Tensor('int8', Int8Array.from([1, 2, -3, 4]), [2, 2])], { axis: 1, block_size: 4 });
  await compare('dq blocked i4', 'DequantizeLinear', [new Tensor('int4', Uint8Array.from([0x12, 0xf3, 0x87, 0x7e, 0x21, 0x00]), [2, 6]), new Tensor('float32', Float32Array.from([0.1, 0.2, 0.05, 0.3]), [2, 2])], { axis: 1, block_size: 4 });
  await compare('dql', 'DynamicQuantizeLinear', [f([3, 7], -2, 5)], {}, 3);
  await compare('dql neg', 'DynamicQuantizeLinear', [f([3, 7], -2, -1)], {}, 3);
  await compare('gemm', 'Gemm', [f([3, 4]), f([5, 4]), f([5])], { transB: 1, alpha: 0.5, beta: 2 });
  await compare('gemm tA', 'Gemm', [f([4, 3]), f([4, 5]), f([3, 1])], { transA: 1 });
  await compare('matmul bcast', 'MatMul', [f([2, 1, 3, 4]), f([3, 4, 2])], {});
  await compare('matmul 1d', 'MatMul', [f([4]), f([2, 4, 3])], {});
}, 120000);
