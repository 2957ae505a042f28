// The SIMD QuantizeLinear / DequantizeLinear / QLinearAdd / QLinearMul kernels (assembly/quant_f32.ts)
// against the reference kernels: bit-identical outputs, for lengths that leave a scalar tail,
// both 8-bit types, single-valued operands, and values that stress rounding and saturation
// (exact halves, far out of range, NaN, infinities).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import { MS_DOMAIN } from '../../src/graph/ir.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
type Q8 = 'uint8' | 'int8';
const q8 = (type: Q8, n: number) => {
  const data = type === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (type === 'int8' ? -128 : 0) + Math.floor(rnd() * 256);
  return new Tensor(type, data, [n]);
};
const scalarF = (v: number) => new Tensor('float32', Float32Array.of(v), []);
const scalarQ = (type: Q8, v: number) => new Tensor(type, type === 'int8' ? Int8Array.of(v) : Uint8Array.of(v), []);

async function expectSame(build: (b: GraphBuilder) => string, feeds: Record<string, Tensor>): Promise<void> {
  const b = new GraphBuilder('q', 21);
  b.output(build(b));
  const g = b.build();
  const want = await (await InferenceSession.create(g, { backend: 'reference' })).run(feeds);
  const s = await InferenceSession.create(g, { backend: 'wasm', threads: 1 });
  const got = await s.run(feeds);
  expect(s.fallbackNodes()).toEqual([]);
  for (const k of Object.keys(want)) {
    expect(got[k]!.type).toBe(want[k]!.type);
    expect(Array.from(got[k]!.data as ArrayLike<number>)).toEqual(Array.from(want[k]!.data as ArrayLike<number>));
  }
  await s.release();
}

/** Random floats over several scales plus the awkward values, n of them. */
function floats(n: number, scale: number): Tensor {
  const special = [0, -0, 0.5 * scale, 1.5 * scale, 2.5 * scale, -0.5 * scale, -2.5 * scale, 1e30, -1e30, Infinity, -Infinity, NaN, 127.5 * scale, 255.5 * scale, -128.5 * scale];
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = i < special.length ? special[i]! : (rnd() - 0.5) * 400 * scale * (rnd() < 0.5 ? 1 : 0.01);
  return new Tensor('float32', x, [n]);
}

describe('SIMD quantization kernels match the reference bit for bit', () => {
  for (const type of ['uint8', 'int8'] as const) {
    for (const n of [1, 15, 16, 17, 100, 1029]) {
      it(`QuantizeLinear f32 -> ${type}, ${n} values`, async () => {
        const scale = 0.0371;
        await expectSame((b) => b.op('QuantizeLinear', [b.input('x', 'float32', [n]), b.constant('s', scalarF(scale)), b.constant('z', scalarQ(type, type === 'int8' ? -7 : 131))]), { x: floats(n, scale) });
      });
      it(`DequantizeLinear ${type} -> f32, ${n} values`, async () => {
        await expectSame((b) => b.op('DequantizeLinear', [b.input('x', type, [n]), b.constant('s', scalarF(0.0193)), b.constant('z', scalarQ(type, type === 'int8' ? 5 : 120))]), { x: q8(type, n) });
      });
      for (const op of ['QLinearAdd', 'QLinearMul'] as const) {
        it(`${op} ${type}, ${n} values, full operands`, async () => {
          const zA = type === 'int8' ? -3 : 128, zB = type === 'int8' ? 9 : 100, zC = type === 'int8' ? 0 : 77;
          await expectSame((b) => b.op(op, [
            b.input('a', type, [n]), b.constant('as', scalarF(0.021)), b.constant('az', scalarQ(type, zA)),
            b.input('c', type, [n]), b.constant('bs', scalarF(0.047)), b.constant('bz', scalarQ(type, zB)),
            b.constant('cs', scalarF(op === 'QLinearAdd' ? 0.05 : 0.4)), b.constant('cz', scalarQ(type, zC)),
          ], {}, { domain: MS_DOMAIN }), { a: q8(type, n), c: q8(type, n) });
        });
      }
      it(`QLinearAdd ${type}, ${n} values, single-valued B and single-valued A`, async () => {
        await expectSame((b) => b.op('QLinearAdd', [
          b.input('a', type, [n]), b.constant('as', scalarF(0.03)), b.constant('az', scalarQ(type, 1)),
          b.constant('c', q8(type, 1)), b.constant('bs', scalarF(0.011)), b.constant('bz', scalarQ(type, 2)),
          b.constant('cs', scalarF(0.033)), b.constant('cz', scalarQ(type, 3)),
        ], {}, { domain: MS_DOMAIN }), { a: q8(type, n) });
        await expectSame((b) => b.op('QLinearMul', [
          b.constant('a', q8(type, 1)), b.constant('as', scalarF(0.03)), b.constant('az', scalarQ(type, 1)),
          b.input('c', type, [n]), b.constant('bs', scalarF(0.011)), b.constant('bz', scalarQ(type, 2)),
          b.constant('cs', scalarF(0.0123)), b.constant('cz', scalarQ(type, 3)),
        ], {}, { domain: MS_DOMAIN }), { c: q8(type, n) });
      });
    }
  }
});
