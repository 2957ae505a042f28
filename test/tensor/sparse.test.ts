import { describe, expect, it } from 'vitest';
import {
  attachSparse, bsrFromDense, bsrToDense, csrFromDense, csrToDense, isNmSparse, nmFromDense, nmIndexBits,
  nmToDense, readNmIndex, sparseToDense, validateBsr, validateCsr, validateNm, validateSparse,
  type CsrLayout, type NmLayout,
} from '../../src/tensor/sparse.js';
import { perTensorQuant } from '../../src/tensor/quant.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { writeInt4 } from '../../src/tensor/convert.js';

function bytesOf(t: Tensor): number[] {
  return Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/** float32 matrix whose zeros include -0 and a signalling NaN with a payload. */
function trickyF32(): Tensor {
  const bits = new Uint32Array([0, 0x3f800000, 0, 0, 0x80000000, 0, 0, 0x7f800001, 0, 0, 0, 0x7fc01234]);
  return new Tensor('float32', new Float32Array(bits.buffer), [3, 4]);
}

describe('CSR', () => {
  it('compresses and expands a float32 matrix bit-exactly, keeping -0 and NaN payloads', () => {
    const t = trickyF32();
    const l = csrFromDense(t);
    expect(Array.from(l.rowPtr)).toEqual([0, 1, 3, 4]);
    expect(Array.from(l.colIdx)).toEqual([1, 0, 3, 3]);
    const back = csrToDense(l);
    expect(back.dims).toEqual([3, 4]);
    expect(bytesOf(back)).toEqual(bytesOf(t));
  });

  it('handles int8 with quant params, int64, float16, int4 and empty rows', () => {
    const q = new Tensor('int8', Int8Array.from([0, -3, 0, 0, 0, 0, 127, 0]), [2, 4]).withQuant(perTensorQuant(0.5));
    const lq = csrFromDense(q);
    expect(lq.values).toBeInstanceOf(Int8Array);
    expect(Array.from(lq.values as Int8Array)).toEqual([-3, 127]);
    const sq = attachSparse(q, lq);
    expect(sq.sparse?.kind).toBe('csr');
    expect(sq.quant?.scale[0]).toBe(0.5);

    const i64 = new Tensor('int64', BigInt64Array.from([0n, 2n ** 62n, 0n, -1n]), [2, 2]);
    expect(bytesOf(csrToDense(csrFromDense(i64)))).toEqual(bytesOf(i64));
    const f16 = new Tensor('float16', Uint16Array.from([0x8000, 0, 0, 0x7e01]), [2, 2]);
    expect(bytesOf(csrToDense(csrFromDense(f16)))).toEqual(bytesOf(f16));

    const packed = new Uint8Array(3);
    writeInt4(packed, 1, -8);
    writeInt4(packed, 4, 7);
    const i4 = new Tensor('int4', packed, [2, 3]);
    const l4 = csrFromDense(i4);
    expect(l4.colIdx.length).toBe(2);
    expect(l4.values.length).toBe(1);
    expect(bytesOf(csrToDense(l4))).toEqual(bytesOf(i4));

    const zeros = Tensor.zeros('float32', [3, 2]);
    const lz = csrFromDense(zeros);
    expect(Array.from(lz.rowPtr)).toEqual([0, 0, 0, 0]);
    expect(csrToDense(lz).dims).toEqual([3, 2]);
  });

  it('views higher-rank tensors as dims[0] x rest', () => {
    const t = new Tensor('float32', Float32Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? i : 0)), [2, 3, 2, 2]);
    const l = csrFromDense(t);
    expect(l.rowPtr.length).toBe(3);
    expect(bytesOf(csrToDense(l))).toEqual(bytesOf(t));
    expect(() => csrFromDense(new Tensor('float32', [1, 2]))).toThrow(/rank >= 2/);
  });

  it('rejects malformed layouts with clear errors', () => {
    const ok = csrFromDense(trickyF32());
    const bad = (patch: Partial<CsrLayout>) => () => validateCsr({ ...ok, ...patch });
    expect(bad({ rowPtr: Int32Array.from([0, 1, 3]) })).toThrow(/rowPtr has length 3, expected 4/);
    expect(bad({ rowPtr: Int32Array.from([1, 1, 3, 4]) })).toThrow(/rowPtr\[0\] must be 0/);
    expect(bad({ rowPtr: Int32Array.from([0, 3, 1, 4]) })).toThrow(/not monotonic at row 1/);
    expect(bad({ rowPtr: Int32Array.from([0, 1, 3, 5]) })).toThrow(/colIdx holds 4/);
    expect(bad({ colIdx: Int32Array.from([1, 0, 4, 3]) })).toThrow(/column index 4 .* out of range \[0, 4\)/);
    expect(bad({ colIdx: Int32Array.from([1, 3, 0, 3]) })).toThrow(/strictly increasing/);
    expect(bad({ colIdx: Int32Array.from([1, -1, 3, 3]) })).toThrow(/out of range/);
    expect(bad({ values: new Float32Array(3) })).toThrow(/values hold 3 entries, expected 4/);
    expect(bad({ values: new Int32Array(4) })).toThrow(/must be a Float32Array/);
    expect(bad({ colIdx: [1, 0, 3, 3] as unknown as Int32Array })).toThrow(/colIdx must be an Int32Array/);
    expect(() => csrToDense({ ...ok, colIdx: Int32Array.from([1, 0, 9, 3]) })).toThrow(/out of range/);
  });
});

describe('BSR', () => {
  it('keeps whole blocks and round-trips bits', () => {
    const d = new Float32Array(4 * 6);
    d[0 * 6 + 1] = 1; // block (0, 0)
    d[3 * 6 + 5] = -0; // block (1, 2): -0 keeps the block
    d[2 * 6 + 2] = 5; // block (1, 1)
    const t = new Tensor('float32', d, [4, 6]);
    const l = bsrFromDense(t, [2, 2]);
    expect(Array.from(l.blockPtr)).toEqual([0, 1, 3]);
    expect(Array.from(l.blockCol)).toEqual([0, 1, 2]);
    expect(l.values.length).toBe(12);
    expect(bytesOf(bsrToDense(l))).toEqual(bytesOf(t));
    expect(bytesOf(sparseToDense(l))).toEqual(bytesOf(t));
  });

  it('round-trips int8 and int4 and validates', () => {
    const i8 = new Tensor('int8', Int8Array.from({ length: 32 }, (_, i) => (i < 8 ? i - 4 : 0)), [4, 8]);
    const l = bsrFromDense(i8, [1, 4]);
    expect(bytesOf(bsrToDense(l))).toEqual(bytesOf(i8));
    expect(() => bsrFromDense(i8, [3, 4])).toThrow(/does not divide into 3x4 blocks/);
    expect(() => bsrFromDense(i8, [0, 4])).toThrow(/positive integers/);
    expect(() => validateBsr({ ...l, blockCol: Int32Array.from([0, 2]) })).toThrow(/block column index 2/);
    expect(() => validateBsr({ ...l, values: new Int8Array(5) })).toThrow(/expected 8/);
    const packed = Uint8Array.from({ length: 8 }, (_, i) => (i === 1 ? 0x9f : 0));
    const i4 = new Tensor('int4', packed, [4, 4]);
    expect(bytesOf(bsrToDense(bsrFromDense(i4, [2, 2])))).toEqual(bytesOf(i4));
  });
});

describe('N:M', () => {
  const f = (vals: number[], dims: number[]) => new Tensor('float32', Float32Array.from(vals), dims);

  it('compresses 2:4 along the last axis with packed 2-bit indices', () => {
    const t = f([0, 1.5, 0, -2, 3, 0, 0, 0, 0, 0, 0, 0, -0, 0, 0, 7], [2, 8]);
    expect(isNmSparse(t, 2, 4)).toBe(true);
    const l = nmFromDense(t, 2, 4);
    expect(l.axis).toBe(1);
    expect(nmIndexBits(4)).toBe(2);
    expect(l.values.length).toBe(8);
    expect(l.indices.length).toBe(2); // 8 kept values * 2 bits
    const pos = Array.from({ length: 8 }, (_, k) => readNmIndex(l.indices, k, 2));
    // group [3,0,0,0] keeps its first zero as padding; an all-zero group keeps positions 0, 1.
    expect(pos).toEqual([1, 3, 0, 1, 0, 1, 0, 3]);
    expect(Array.from(l.values as Float32Array)).toEqual([1.5, -2, 3, 0, 0, 0, -0, 7]);
    expect(bytesOf(nmToDense(l))).toEqual(bytesOf(t));
  });

  it('groups along another axis, handles 1:2, 2:8 and int8', () => {
    const t = f([1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 4], [4, 3]);
    expect(isNmSparse(t, 2, 4, 0)).toBe(true);
    expect(isNmSparse(t, 1, 4, 0)).toBe(false);
    const l = nmFromDense(t, 2, 4, 0);
    expect(l.values.length).toBe(6);
    expect(bytesOf(nmToDense(l))).toEqual(bytesOf(t));
    const h = f([0, 5, 6, 0], [4]);
    expect(bytesOf(nmToDense(nmFromDense(h, 1, 2)))).toEqual(bytesOf(h));
    const wide = new Tensor('int8', Int8Array.from([0, 0, 0, 0, 0, 9, -9, 0, 1, 0, 0, 0, 0, 0, 0, 2]), [16]);
    const lw = nmFromDense(wide, 2, 8);
    expect(nmIndexBits(8)).toBe(3);
    expect(bytesOf(nmToDense(lw))).toEqual(bytesOf(wide));
  });

  it('refuses tensors that break the pattern and malformed layouts', () => {
    const t = f([1, 2, 3, 0, 0, 0, 0, 0], [2, 4]);
    expect(isNmSparse(t, 2, 4)).toBe(false);
    expect(() => nmFromDense(t, 2, 4)).toThrow(/not 2:4 sparse: group 0 of slice 0\/0 along axis 1 has 3 non-zeros/);
    expect(() => nmFromDense(f([1, 2, 3], [3]), 2, 4)).toThrow(/not a multiple of m=4/);
    expect(() => nmFromDense(t, 5, 4)).toThrow(/n must be/);
    expect(() => nmFromDense(t, 2, 4, 2)).toThrow(/axis 2 is out of range/);
    const ok = nmFromDense(f([0, 1, 0, 2, 0, 0, 0, 0], [2, 4]), 2, 4);
    const bad = (patch: Partial<NmLayout>) => () => validateNm({ ...ok, ...patch });
    expect(bad({ indices: new Uint8Array(1) })).toThrow(/strictly increasing/);
    expect(bad({ indices: new Uint8Array(3) })).toThrow(/Uint8Array of 1 bytes/);
    expect(bad({ values: new Float32Array(3) })).toThrow(/expected 4/);
    expect(bad({ axis: -1 })).toThrow(/non-negative/);
    expect(() => validateSparse({ ...ok, kind: 'coo' } as unknown as NmLayout)).toThrow(/unknown kind 'coo'/);
  });
});

describe('attachSparse', () => {
  it('refuses a layout that does not match the tensor', () => {
    const t = trickyF32();
    const other = csrFromDense(new Tensor('float32', new Float32Array(12), [3, 4]));
    expect(() => attachSparse(t, other)).toThrow(/does not expand to the tensor's data/);
    expect(() => attachSparse(t, csrFromDense(t.reshape([4, 3])))).toThrow(/dims \[4, 3\] do not match/);
    expect(attachSparse(t, csrFromDense(t)).sparse?.kind).toBe('csr');
  });
});
