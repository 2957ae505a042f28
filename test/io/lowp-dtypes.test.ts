// The low-precision dtypes through both file formats: ONNX TensorProto (raw_data and the
// int32_data form onnx.helper.make_tensor writes) and the .kiln container.
import { describe, expect, it } from 'vitest';
import { emptyGraph } from '../../src/graph/ir.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { TensorProtoType } from '../../src/io/onnx/schema.js';
import { decodeTensorProto } from '../../src/io/onnx/tensor.js';
import { toNumbers } from '../../src/tensor/convert.js';
import { DTYPES, type DType } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';

function proto(fields: Record<string, unknown>): Uint8Array {
  return TensorProtoType.encode(TensorProtoType.fromObject(fields)).finish();
}

// int32_data as onnx.helper.make_tensor writes it: one code per value for float8, packed bytes for 4- and 2-bit types.
const CASES: { code: number; dtype: DType; int32: number[]; dims: number[]; values: number[] }[] = [
  { code: 17, dtype: 'float8e4m3fn', int32: [56, 192, 126], dims: [3], values: [1, -2, 448] },
  { code: 20, dtype: 'float8e5m2fnuz', int32: [64, 196, 60], dims: [3], values: [1, -2, 0.5] },
  { code: 21, dtype: 'uint4', int32: [241, 7], dims: [3], values: [1, 15, 7] },
  { code: 22, dtype: 'int4', int32: [120, 1], dims: [3], values: [-8, 7, 1] },
  { code: 23, dtype: 'float4e2m1', int32: [241, 5], dims: [3], values: [0.5, -6, 3] },
  { code: 26, dtype: 'int2', int32: [78, 1], dims: [5], values: [-2, -1, 0, 1, 1] },
  { code: 25, dtype: 'uint2', int32: [27], dims: [3], values: [3, 2, 1] },
  { code: 24, dtype: 'float8e8m0', int32: [127, 128, 125], dims: [3], values: [1, 2, 0.25] },
];

describe('ONNX TensorProto decoding of low-precision dtypes', () => {
  for (const c of CASES) {
    it(`${c.dtype} (code ${c.code}) from int32_data and from raw_data`, () => {
      const a = decodeTensorProto(proto({ dataType: c.code, dims: c.dims, int32Data: c.int32 }));
      expect(a.type).toBe(c.dtype);
      expect(Array.from(toNumbers(a))).toEqual(c.values);
      const b = decodeTensorProto(proto({ dataType: c.code, dims: c.dims, rawData: Uint8Array.from(c.int32) }));
      expect(Array.from<number | bigint>(b.data)).toEqual(c.int32);
    });
  }

  it('checks packed lengths against the dims', () => {
    expect(() => decodeTensorProto(proto({ dataType: 26, dims: [5], rawData: Uint8Array.of(1) }))).toThrow(/raw_data has 1 bytes/);
    expect(() => decodeTensorProto(proto({ dataType: 21, dims: [3], int32Data: [1] }))).toThrow(/needs 2/);
  });

  it('names the types Kiln does not store', () => {
    expect(() => decodeTensorProto(proto({ dataType: 27, dims: [1], rawData: Uint8Array.of(1) }))).toThrow(/FLOAT6E2M3/);
  });
});

describe('.kiln round trip of every dtype', () => {
  it('keeps the bytes and dims of each', () => {
    const g = emptyGraph('dtypes');
    for (const d of DTYPES) {
      // Seven elements: odd counts exercise the partly used last byte of packed dtypes.
      const n = 7;
      const t = Tensor.zeros(d, [n]);
      const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 53 + 11) & 0xff;
      g.initializers.set(d, t);
    }
    const back = loadKiln(saveKiln(g));
    for (const d of DTYPES) {
      const a = g.initializers.get(d)!;
      const b = back.initializers.get(d)!;
      expect(b.type, d).toBe(d);
      expect(b.dims, d).toEqual([7]);
      expect(Array.from(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength)), d)
        .toEqual(Array.from(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength)));
    }
  });
});
