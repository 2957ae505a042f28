// The float16 widening table (used by toNumbers, the fp16ToF32 pass and the WASM float16 Cast)
// against the bit-level float16ToFloat32 for all 65536 patterns, NaNs, infinities, subnormals and
// signed zeros included; and the round trip through float32ToFloat16.
import { describe, expect, it } from 'vitest';
import { toNumbers } from '../../src/tensor/convert.js';
import { float16ArrayToFloat32, float16Table, float16ToFloat32, float32ToFloat16 } from '../../src/tensor/float16.js';
import { Tensor } from '../../src/tensor/tensor.js';

const ALL = Uint16Array.from({ length: 65536 }, (_, i) => i);

describe('float16 widening table', () => {
  it('matches float16ToFloat32 on every bit pattern', () => {
    const table = float16Table();
    const wide = float16ArrayToFloat32(ALL);
    const numbers = toNumbers(new Tensor('float16', ALL, [65536]));
    for (let h = 0; h < 65536; h++) {
      const want = float16ToFloat32(h);
      expect(Object.is(table[h], Math.fround(want)) || (Number.isNaN(want) && Number.isNaN(table[h]))).toBe(true);
      expect(Object.is(wide[h], table[h]) || Number.isNaN(want)).toBe(true);
      expect(Object.is(numbers[h], table[h]) || Number.isNaN(want)).toBe(true);
    }
    expect(Object.is(table[0x8000], -0)).toBe(true);
    expect(table[0x7c00]).toBe(Infinity);
    expect(table[0x0001]).toBe(2 ** -24);
  });

  it('round-trips every non-NaN pattern through float32ToFloat16', () => {
    const wide = float16ArrayToFloat32(ALL);
    for (let h = 0; h < 65536; h++) if (!Number.isNaN(wide[h])) expect(float32ToFloat16(wide[h]!)).toBe(h);
  });
});
