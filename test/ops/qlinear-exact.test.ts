// QLinearConv / QLinearMatMul and the shared requantization (src/ops/requant-exact.ts) against an
// exact rational oracle of the ONNX formula y = saturate(round_half_even(acc * x_scale * w_scale /
// y_scale) + y_zero_point) (test/helpers/exact-quant.ts): random float32 scales, scales whose
// multiplier is not representable but whose products hit exact .5 ties, and accumulators searched
// to lie as close to a .5 as possible.
import { describe, expect, it } from 'vitest';
import { requantizeExact, requantScale } from '../../src/ops/requant-exact.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { exactRequant, exactRoundHalfEven, isExactTie } from '../helpers/exact-quant.js';
import { runOp } from '../helpers/op.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const f32 = Math.fround;

describe('requantizeExact', () => {
  it('matches the exact oracle on random float32 scales and accumulators', () => {
    const r = rng(1);
    for (let t = 0; t < 20000; t++) {
      const xs = f32(10 ** (-4 + 3 * r())), ws = f32(10 ** (-4 + 3 * r())), ys = f32(10 ** (-3 + 3 * r()));
      const s = requantScale(xs, ws, ys);
      const limit = Math.min(2 ** 31, (2 ** 19 * ys) / (xs * ws));
      const acc = Math.round((r() - 0.5) * 2 * limit);
      expect(requantizeExact(acc, s.p, s.ys, s.m), `${acc} * ${xs} * ${ws} / ${ys}`).toBe(exactRoundHalfEven([acc, xs, ws], ys));
    }
  });

  it('rounds exact ties half to even where the float64 multiplier is inexact', () => {
    // x_scale * w_scale / y_scale = 1/6, 1/750, 3/10: not representable; acc * m is an exact .5 for
    // acc = 3, 375, 5 times an odd number.
    const cases: [number, number, number, number][] = [[1, 1, 6, 3], [2 ** -6, 2 ** -8, 750 * 2 ** -14, 375], [0.75, 2 ** -3, 0.3125, 5]];
    let ties = 0;
    for (const [xs, ws, ys, unit] of cases) {
      const s = requantScale(xs, ws, ys);
      for (let odd = -301; odd <= 301; odd += 2) {
        const acc = unit * odd;
        expect(isExactTie([acc, xs, ws], ys)).toBe(true);
        ties++;
        expect(requantizeExact(acc, s.p, s.ys, s.m), `${acc} * ${xs} * ${ws} / ${ys}`).toBe(exactRoundHalfEven([acc, xs, ws], ys));
      }
    }
    expect(ties).toBeGreaterThan(900);
    // Half to even, not away from zero: 3/6 -> 0, 9/6 -> 2, -3/6 -> 0, -9/6 -> -2.
    const s = requantScale(1, 1, 6);
    expect([3, 9, -3, -9].map((a) => requantizeExact(a, s.p, s.ys, s.m))).toEqual([0, 2, 0, -2]);
  });

  it('decides accumulators nearest to a .5 exactly (where a float32 multiplier errs)', () => {
    const r = rng(7);
    let float32Wrong = 0;
    for (let t = 0; t < 60; t++) {
      const xs = f32(0.001 + r() * 0.05), ws = f32(0.0001 + r() * 0.01), ys = f32(0.005 + r() * 0.05);
      const s = requantScale(xs, ws, ys);
      // The accumulators in [1, 2^18) whose acc * m lies closest to a .5.
      const best: { acc: number; d: number }[] = [];
      for (let acc = 1; acc < 2 ** 18; acc++) {
        const v = acc * s.m;
        const d = Math.abs(v - Math.floor(v) - 0.5);
        if (best.length < 4 || d < best[3]!.d) {
          best.push({ acc, d });
          best.sort((a, b) => a.d - b.d);
          best.length = Math.min(best.length, 4);
        }
      }
      for (const { acc } of best) {
        for (const a of [acc, -acc]) {
          const want = exactRoundHalfEven([a, xs, ws], ys);
          expect(requantizeExact(a, s.p, s.ys, s.m), `${a} * ${xs} * ${ws} / ${ys}`).toBe(want);
          const viaFloat32 = Math.round(f32(f32(a) * f32(f32(xs * ws) / ys)));
          if (viaFloat32 !== want) float32Wrong++;
        }
      }
    }
    // The search does find values a float32 requantization rounds the wrong way.
    expect(float32Wrong).toBeGreaterThan(0);
  });
});

const rangeOf = (type: 'uint8' | 'int8'): [number, number] => (type === 'uint8' ? [0, 255] : [-128, 127]);

describe('QLinearConv and QLinearMatMul vs the exact oracle', () => {
  it('QLinearConv 3x3 pad 1, per-channel int8 weights, bias, tie-prone scales', () => {
    const r = rng(3);
    const [C, H, W, M] = [3, 6, 5, 4];
    const x = Array.from({ length: C * H * W }, () => Math.floor(r() * 256));
    const w = Array.from({ length: M * C * 9 }, () => Math.floor(r() * 256) - 128);
    const bias = Array.from({ length: M }, () => Math.floor((r() - 0.5) * 4000));
    const xs = 2 ** -6, xz = 117, ys = 750 * 2 ** -14, yz = 100;
    const ws = [2 ** -8, 3 * 2 ** -9, 5 * 2 ** -10, f32(0.0123)];
    const [y] = runOp('QLinearConv', [
      new Tensor('uint8', x, [1, C, H, W]), new Tensor('float32', [xs], []), new Tensor('uint8', [xz], []),
      new Tensor('int8', w, [M, C, 3, 3]), new Tensor('float32', ws, [M]), new Tensor('int8', [0, 0, 0, 0], [M]),
      new Tensor('float32', [ys], []), new Tensor('uint8', [yz], []), new Tensor('int32', bias, [M]),
    ], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
    const got = toNumbers(y!);
    const [lo, hi] = rangeOf('uint8');
    for (let m = 0; m < M; m++) {
      for (let oh = 0; oh < H; oh++) {
        for (let ow = 0; ow < W; ow++) {
          let acc = bias[m]!;
          for (let c = 0; c < C; c++) {
            for (let i = 0; i < 3; i++) {
              for (let j = 0; j < 3; j++) {
                const ih = oh - 1 + i, iw = ow - 1 + j;
                if (ih < 0 || iw < 0 || ih >= H || iw >= W) continue;
                acc += (x[(c * H + ih) * W + iw]! - xz) * w[((m * C + c) * 3 + i) * 3 + j]!;
              }
            }
          }
          expect(got[(m * H + oh) * W + ow], `m ${m} (${oh}, ${ow}) acc ${acc}`).toBe(exactRequant(acc, xs, ws[m]!, ys, yz, lo, hi));
        }
      }
    }
  });

  for (const [aType, bType] of [['uint8', 'int8'], ['int8', 'int8'], ['uint8', 'uint8']] as const) {
    it(`QLinearMatMul ${aType} x ${bType}: per-column scales, exact ties hit`, () => {
      const r = rng(aType === 'uint8' ? 11 : 12);
      const [M, K, N] = [40, 3, 6];
      const [alo, ahi] = rangeOf(aType);
      const [blo, bhi] = rangeOf(bType);
      // Values near the zero points keep |acc| <= 120, and multipliers 1/6, 1/4, 5/24 (the first
      // and last not representable) make acc = 3 * odd, 2 * odd, 12 * odd exact .5 ties.
      const az = alo + 50, bz = [0, 1, 2, 3, 4, 5].map((v) => blo + 100 + v);
      const a = Array.from({ length: M * K }, () => az - 4 + Math.floor(r() * 9));
      const b = Array.from({ length: K * N }, (_, i) => bz[i % N]! - 10 + Math.floor(r() * 21));
      const as = 2 ** -6, ys = 6 * 2 ** -14, yz = aType === 'uint8' ? 128 : 0;
      const bs = [2 ** -8, 3 * 2 ** -9, 5 * 2 ** -10, 2 ** -8, f32(0.0031), f32(0.00077)];
      let ties = 0;
      const [y] = runOp('QLinearMatMul', [
        new Tensor(aType, a, [M, K]), new Tensor('float32', [as], []), new Tensor(aType, [az], []),
        new Tensor(bType, b, [K, N]), new Tensor('float32', bs, [N]), new Tensor(bType, bz, [N]),
        new Tensor('float32', [ys], []), new Tensor(aType, [yz], []),
      ]);
      const got = toNumbers(y!);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let k = 0; k < K; k++) acc += (a[i * K + k]! - az) * (b[k * N + j]! - bz[j]!);
          if (isExactTie([acc, as, bs[j]!], ys)) ties++;
          expect(got[i * N + j], `(${i}, ${j}) acc ${acc}`).toBe(exactRequant(acc, as, bs[j]!, ys, yz, alo, ahi));
        }
      }
      expect(ties).toBeGreaterThan(5);
    });
  }

  it('refuses a y_scale that is zero, negative or not finite', () => {
    const one = (type: 'uint8', v: number) => new Tensor(type, [v], []);
    const sc = (v: number) => new Tensor('float32', [v], []);
    for (const ys of [0, -1, Infinity, NaN]) {
      expect(() => runOp('QLinearMatMul', [new Tensor('uint8', [1], [1, 1]), sc(1), one('uint8', 0), new Tensor('uint8', [1], [1, 1]), sc(1), one('uint8', 0), sc(ys), one('uint8', 0)]))
        .toThrow(/y_scale must be positive and finite/);
    }
  });
});
