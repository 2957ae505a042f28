// QLinearConv's parameter shapes are checked in its shape rule, so every backend refuses a malformed
// node when the session is created (before any run), with the reference kernel's wording. A WASM
// kernel used to zero-fill a short bias and cut a long one.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';

const f32 = (v: number[], dims: number[]) => new Tensor('float32', Float32Array.from(v), dims);
const u8 = (v: number[], dims: number[]) => new Tensor('uint8', Uint8Array.from(v), dims);
const i8 = (v: number[], dims: number[]) => new Tensor('int8', Int8Array.from(v), dims);

/** A valid QLinearConv (4 output channels), then `edit` swaps one initializer for a malformed one. */
function qlinearConv(edit: Record<string, Tensor>): Graph {
  const b = new GraphBuilder('qconv', 21);
  b.output(b.op('QLinearConv', [
    b.input('x', 'uint8', [1, 2, 5, 5]), b.constant('xs', f32([0.02], [])), b.constant('xz', u8([128], [])),
    b.constant('w', i8(Array.from({ length: 4 * 2 * 9 }, (_, i) => (i % 7) - 3), [4, 2, 3, 3])),
    b.constant('ws', f32([0.01, 0.02, 0.03, 0.04], [4])), b.constant('wz', i8([0, 0, 0, 0], [4])),
    b.constant('ys', f32([0.05], [])), b.constant('yz', u8([100], [])), b.constant('bias', new Tensor('int32', Int32Array.of(1, 2, 3, 4), [4])),
  ], { pads: [1, 1, 1, 1] }));
  const g = b.build();
  for (const [name, t] of Object.entries(edit)) g.initializers.set(name, t);
  return g;
}

const BAD: [string, Record<string, Tensor>, RegExp][] = [
  ['a short bias', { bias: new Tensor('int32', Int32Array.of(1, 2, 3), [3]) }, /B has 3 values but there are 4 output channels/],
  ['a long bias', { bias: new Tensor('int32', Int32Array.of(1, 2, 3, 4, 5), [5]) }, /B has 5 values but there are 4 output channels/],
  ['a 2-D bias', { bias: new Tensor('int32', Int32Array.of(1, 2, 3, 4), [2, 2]) }, /B must be 1-D/],
  ['w_scale of the wrong length', { ws: f32([0.01, 0.02, 0.03], [3]) }, /w_scale must be a scalar or a 1-D tensor of 4 values/],
  ['w_zero_point of the wrong length', { wz: i8([0, 0], [2]) }, /w_zero_point must be a scalar or a 1-D tensor of 4 values/],
  ['a per-channel x_scale', { xs: f32([0.02, 0.03], [2]) }, /x_scale must be a scalar/],
  ['a vector y_zero_point', { yz: u8([1, 2], [2]) }, /y_zero_point must be a scalar/],
  ['an x_zero_point of the wrong dtype', { xz: i8([0], []) }, /x_zero_point has dtype int8 but its data has uint8/],
];

describe('QLinearConv parameter checks at plan time', () => {
  for (const backend of ['reference', 'wasm'] as const) {
    for (const [what, edit, message] of BAD) {
      it(`${backend} refuses ${what} when the session is created`, async () => {
        await expect(InferenceSession.create(qlinearConv(edit), { backend })).rejects.toThrow(message);
      });
    }
    it(`${backend} accepts the well-formed node (per-tensor w_scale too)`, async () => {
      const s = await InferenceSession.create(qlinearConv({ ws: f32([0.01], [1]), wz: i8([0], []) }), { backend });
      const y = (await s.run({ x: new Tensor('uint8', new Uint8Array(50).fill(130), [1, 2, 5, 5]) }))[s.outputNames[0]!]!;
      expect(y.dims).toEqual([1, 4, 5, 5]);
    });
  }
});

/** A valid QLinearMatMul [3, 4] x [4, 5] with per-column b_scale, then `edit` swaps initializers. */
function qlinearMatMul(edit: Record<string, Tensor>): Graph {
  const b = new GraphBuilder('qmm', 21);
  b.output(b.op('QLinearMatMul', [
    b.input('a', 'uint8', [3, 4]), b.constant('as', f32([0.02], [])), b.constant('az', u8([128], [])),
    b.constant('b', i8(Array.from({ length: 20 }, (_, i) => (i % 9) - 4), [4, 5])),
    b.constant('bs', f32([0.01, 0.02, 0.03, 0.04, 0.05], [5])), b.constant('bz', i8([0], [])),
    b.constant('ys', f32([0.05], [])), b.constant('yz', u8([100], [])),
  ]));
  const g = b.build();
  for (const [name, t] of Object.entries(edit)) g.initializers.set(name, t);
  return g;
}

const BAD_MATMUL: [string, Record<string, Tensor>, RegExp][] = [
  ['b_scale of the wrong length', { bs: f32([0.01, 0.02], [2]) }, /b_scale must be a scalar or a 1-D tensor of 5 values/],
  ['a 2-D y_scale', { ys: f32([0.05, 0.05], [1, 2]) }, /y_scale must be a scalar or a 1-D tensor of 3 values/],
  ['an a_zero_point of the wrong dtype', { az: i8([0], []) }, /a_zero_point has dtype int8 but its data has uint8/],
];

describe('QLinearMatMul parameter checks at plan time', () => {
  for (const backend of ['reference', 'wasm'] as const) {
    for (const [what, edit, message] of BAD_MATMUL) {
      it(`${backend} refuses ${what} when the session is created`, async () => {
        await expect(InferenceSession.create(qlinearMatMul(edit), { backend })).rejects.toThrow(message);
      });
    }
    it(`${backend} accepts per-row a_scale / y_scale and per-column b_scale`, async () => {
      const s = await InferenceSession.create(qlinearMatMul({ as: f32([0.02, 0.03, 0.04], [3]), ys: f32([0.05, 0.06, 0.07], [3]) }), { backend });
      const y = (await s.run({ a: new Tensor('uint8', new Uint8Array(12).fill(140), [3, 4]) }))[s.outputNames[0]!]!;
      expect(y.dims).toEqual([3, 5]);
    });
  }
});
