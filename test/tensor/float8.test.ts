// Bit-exact checks of the low-precision float codecs against tables produced by the onnx
// reference (ml_dtypes and onnx.numpy_helper.saturate_cast / to_float8e8m0) for float32 inputs.
import { describe, expect, it } from 'vitest';
import { fromNumbers, toNumbers } from '../../src/tensor/convert.js';
import {
  decodeE8M0, decodeMiniFloat, encodeE8M0, encodeMiniFloat, miniFloatTable, type E8M0Rounding, type MiniFloatDType,
} from '../../src/tensor/float8.js';

const INPUTS = [0.0, -0, NaN, Infinity, -Infinity, 1.0, -1.0, 0.10000000149011612, -3.299999952316284, 448.0, 449.0, 464.0, 465.0,
  480.0, 500.0, -500.0, 240.0, 247.0, 248.0, 256.0, 57344.0, 61439.0, 61440.0, 65536.0, 1000000000.0, 0.015625, 0.001953125,
  0.0009765625, 0.00146484375, 1.52587890625e-05, 7.62939453125e-06, 3.814697265625e-06, 1.000000013351432e-10, -1.000000013351432e-10,
  1.0625, 1.125, 1.1875, 0.30000001192092896, 6.0, 7.0, 5.0, 2.5, 0.25, 0.75];

const ENCODED: Record<string, { sat: number[]; nosat: number[] }> = {
  float8e4m3fn: {
    sat: [0, 128, 127, 126, 254, 56, 184, 29, 197, 126, 126, 126, 126, 126, 126, 254, 119, 119, 120, 120, 126, 126, 126, 126, 126, 8, 1, 0, 1,
      0, 0, 0, 0, 128, 56, 57, 58, 42, 76, 78, 74, 66, 40, 52],
    nosat: [0, 128, 127, 127, 255, 56, 184, 29, 197, 126, 126, 126, 127, 127, 127, 255, 119, 119, 120, 120, 127, 127, 127, 127, 127, 8, 1, 0,
      1, 0, 0, 0, 0, 128, 56, 57, 58, 42, 76, 78, 74, 66, 40, 52],
  },
  float8e4m3fnuz: {
    sat: [0, 0, 128, 127, 255, 64, 192, 37, 205, 127, 127, 127, 127, 127, 127, 255, 127, 127, 127, 127, 127, 127, 127, 127, 127, 16, 2, 1, 2,
      0, 0, 0, 0, 0, 64, 65, 66, 50, 84, 86, 82, 74, 48, 60],
    nosat: [0, 0, 128, 128, 128, 64, 192, 37, 205, 128, 128, 128, 128, 128, 128, 128, 127, 127, 128, 128, 128, 128, 128, 128, 128, 16, 2, 1,
      2, 0, 0, 0, 0, 0, 64, 65, 66, 50, 84, 86, 82, 74, 48, 60],
  },
  float8e5m2: {
    sat: [0, 128, 126, 123, 251, 60, 188, 46, 195, 95, 95, 95, 95, 96, 96, 224, 92, 92, 92, 92, 123, 123, 123, 123, 123, 36, 24, 20, 22, 1,
      0, 0, 0, 128, 60, 60, 61, 53, 70, 71, 69, 65, 52, 58],
    nosat: [0, 128, 126, 124, 252, 60, 188, 46, 195, 95, 95, 95, 95, 96, 96, 224, 92, 92, 92, 92, 123, 123, 124, 124, 124, 36, 24, 20, 22, 1,
      0, 0, 0, 128, 60, 60, 61, 53, 70, 71, 69, 65, 52, 58],
  },
  float8e5m2fnuz: {
    sat: [0, 0, 128, 127, 255, 64, 192, 50, 199, 99, 99, 99, 99, 100, 100, 228, 96, 96, 96, 96, 127, 127, 127, 127, 127, 40, 28, 24, 26, 2,
      1, 0, 0, 0, 64, 64, 65, 57, 74, 75, 73, 69, 56, 62],
    nosat: [0, 0, 128, 128, 128, 64, 192, 50, 199, 99, 99, 99, 99, 100, 100, 228, 96, 96, 96, 96, 127, 127, 128, 128, 128, 40, 28, 24, 26, 2,
      1, 0, 0, 0, 64, 64, 65, 57, 74, 75, 73, 69, 56, 62],
  },
};

// ml_dtypes gives a zero of the opposite sign for NaN (float4e2m1 has no NaN; the spec leaves it open).
const FLOAT4 = [0, 8, 8, 7, 15, 2, 10, 0, 13, 7, 7, 7, 7, 7, 7, 15, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 2, 2, 1, 7, 7,
  6, 4, 0, 2];

const F8: MiniFloatDType[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz'];

describe('float8 encoding (Cast / QuantizeLinear rounding)', () => {
  for (const dtype of F8) {
    it(`${dtype}: saturating round-to-nearest-even`, () => {
      expect(INPUTS.map((v) => encodeMiniFloat(dtype, v, true))).toEqual(ENCODED[dtype]!.sat);
    });
    it(`${dtype}: saturate=0 gives inf or NaN for overflow`, () => {
      expect(INPUTS.map((v) => encodeMiniFloat(dtype, v, false))).toEqual(ENCODED[dtype]!.nosat);
    });
    it(`${dtype}: every non-NaN code decodes and re-encodes to itself`, () => {
      const table = miniFloatTable(dtype);
      expect(table.length).toBe(256);
      for (let c = 0; c < 256; c++) {
        const v = table[c]!;
        if (v !== v) continue;
        expect(encodeMiniFloat(dtype, v, false), `code ${c}`).toBe(c);
      }
    });
  }

  it('float4e2m1 rounds to nearest even and always saturates', () => {
    expect(INPUTS.map((v) => encodeMiniFloat('float4e2m1', v))).toEqual(FLOAT4);
    expect(INPUTS.map((v) => encodeMiniFloat('float4e2m1', v, false))).toEqual(FLOAT4);
  });

  it('keeps the sign of negative NaN where the format has one', () => {
    const negNaN = new Float32Array(new Uint32Array([0xffc00000]).buffer)[0]!;
    expect(encodeMiniFloat('float8e4m3fn', negNaN)).toBe(0xff);
    expect(encodeMiniFloat('float8e5m2', negNaN)).toBe(0xfe);
    expect(encodeMiniFloat('float8e4m3fnuz', negNaN)).toBe(0x80);
  });
});

describe('float8 decoding', () => {
  it('E4M3FN: max 448, min subnormal 2^-9, only S.1111.111 is NaN, -0 exists', () => {
    expect(decodeMiniFloat('float8e4m3fn', 0x7e)).toBe(448);
    expect(decodeMiniFloat('float8e4m3fn', 0x01)).toBe(2 ** -9);
    expect(decodeMiniFloat('float8e4m3fn', 0x08)).toBe(2 ** -6);
    expect(decodeMiniFloat('float8e4m3fn', 0x78)).toBe(256);
    expect(decodeMiniFloat('float8e4m3fn', 0x7f)).toBeNaN();
    expect(decodeMiniFloat('float8e4m3fn', 0xff)).toBeNaN();
    expect(Object.is(decodeMiniFloat('float8e4m3fn', 0x80), -0)).toBe(true);
    expect(decodeMiniFloat('float8e4m3fn', 0xfe)).toBe(-448);
  });

  it('E4M3FNUZ: max 240, 0x80 is the only NaN, no infinities', () => {
    expect(decodeMiniFloat('float8e4m3fnuz', 0x7f)).toBe(240);
    expect(decodeMiniFloat('float8e4m3fnuz', 0x01)).toBe(2 ** -10);
    expect(decodeMiniFloat('float8e4m3fnuz', 0x80)).toBeNaN();
    expect(decodeMiniFloat('float8e4m3fnuz', 0xff)).toBe(-240);
  });

  it('E5M2: IEEE-like with inf at 0x7C and NaN above, max 57344', () => {
    expect(decodeMiniFloat('float8e5m2', 0x7b)).toBe(57344);
    expect(decodeMiniFloat('float8e5m2', 0x7c)).toBe(Infinity);
    expect(decodeMiniFloat('float8e5m2', 0xfc)).toBe(-Infinity);
    for (const c of [0x7d, 0x7e, 0x7f, 0xfd, 0xfe, 0xff]) expect(decodeMiniFloat('float8e5m2', c)).toBeNaN();
    expect(decodeMiniFloat('float8e5m2', 0x01)).toBe(2 ** -16);
  });

  it('E5M2FNUZ: max 57344, min subnormal 2^-17, 0x80 NaN', () => {
    expect(decodeMiniFloat('float8e5m2fnuz', 0x7f)).toBe(57344);
    expect(decodeMiniFloat('float8e5m2fnuz', 0x01)).toBe(2 ** -17);
    expect(decodeMiniFloat('float8e5m2fnuz', 0x80)).toBeNaN();
  });

  it('E2M1: the eight magnitudes 0 .. 6', () => {
    expect(Array.from(miniFloatTable('float4e2m1'))).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]);
  });

  it('E8M0: powers of two, 0xFF NaN', () => {
    expect(decodeE8M0(127)).toBe(1);
    expect(decodeE8M0(0)).toBe(2 ** -127);
    expect(decodeE8M0(254)).toBe(2 ** 127);
    expect(decodeE8M0(255)).toBeNaN();
  });
});

describe('E8M0 encoding (onnx.numpy_helper.to_float8e8m0)', () => {
  const xs = [2 ** 127 * 1.5, 2 ** 127, 2 ** -127, 2 ** -130, 1.5, 1.25, 1.75, 3, 0, NaN, Infinity, 0.1];
  const want: Record<string, number[]> = {
    'up/true': [254, 254, 1, 1, 128, 128, 128, 129, 0, 255, 255, 124],
    'up/false': [255, 254, 1, 1, 128, 128, 128, 129, 0, 255, 255, 124],
    'down/true': [254, 254, 0, 0, 127, 127, 127, 128, 0, 255, 255, 123],
    'down/false': [254, 254, 0, 0, 127, 127, 127, 128, 0, 255, 255, 123],
    'nearest/true': [254, 254, 0, 0, 128, 127, 128, 129, 0, 255, 255, 124],
    'nearest/false': [255, 254, 0, 0, 128, 127, 128, 129, 0, 255, 255, 124],
  };
  for (const [key, codes] of Object.entries(want)) {
    const [mode, sat] = key.split('/') as [E8M0Rounding, string];
    it(`round_mode ${mode}, saturate ${sat}`, () => {
      expect(xs.map((v) => encodeE8M0(v, sat === 'true', mode))).toEqual(codes);
    });
  }
});

describe('low-precision tensors through toNumbers / fromNumbers', () => {
  it('float8 tensors hold one code per byte; fromNumbers saturates', () => {
    const t = fromNumbers('float8e4m3fn', [1, -2, 1000, 0.1], [4]);
    expect(Array.from(t.data)).toEqual([0x38, 0xc0, 0x7e, 0x1d]);
    expect(Array.from(toNumbers(t))).toEqual([1, -2, 448, 0.1015625]);
  });

  it('uint4 and float4e2m1 pack two per byte, int2 and uint2 four per byte, low bits first', () => {
    const u4 = fromNumbers('uint4', [1, 15, 7], [3]);
    expect(Array.from(u4.data)).toEqual([0xf1, 0x07]);
    expect(Array.from(toNumbers(u4))).toEqual([1, 15, 7]);
    const f4 = fromNumbers('float4e2m1', [0.5, -6, 2.6], [3]);
    expect(Array.from(f4.data)).toEqual([0xf1, 0x05]);
    expect(Array.from(toNumbers(f4))).toEqual([0.5, -6, 3]);
    const i2 = fromNumbers('int2', [-2, -1, 0, 1, 1], [5]);
    expect(Array.from(i2.data)).toEqual([0b01001110, 0b01]);
    expect(Array.from(toNumbers(i2))).toEqual([-2, -1, 0, 1, 1]);
    const u2 = fromNumbers('uint2', [3, 2, 1], [3]);
    expect(Array.from(u2.data)).toEqual([0b011011]);
    expect(Array.from(toNumbers(u2))).toEqual([3, 2, 1]);
  });

  it('integer packed dtypes truncate and wrap like the other integer storage', () => {
    expect(Array.from(toNumbers(fromNumbers('uint4', [16, 17.9, -1], [3])))).toEqual([0, 1, 15]);
    expect(Array.from(toNumbers(fromNumbers('int2', [2, -3, 5, NaN], [4])))).toEqual([-2, 1, 1, 0]);
  });
});
