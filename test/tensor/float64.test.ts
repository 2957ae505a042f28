// float64, bfloat16 and the wider integer dtypes (int16, uint16, uint32, uint64) through every layer that
// stores or moves tensors: dtype helpers, Tensor, convert, ONNX import, Cast and the .kiln format.
import { describe, expect, it } from 'vitest';
import { emptyGraph } from '../../src/graph/ir.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { decodeTensorProto } from '../../src/io/onnx/tensor.js';
import { TensorProtoType } from '../../src/io/onnx/schema.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { alignmentOf, allocData, byteLengthOf, DTYPES, isFloatDType, isIntegerDType, viewData } from '../../src/tensor/dtype.js';
import { fromNumbers, toNumbers } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { encodeModel } from '../helpers/onnx-build.js';
import { runOp } from '../helpers/op.js';

const DOUBLE = 11;

describe('dtype plumbing', () => {
  it('knows the new dtypes', () => {
    for (const d of ['float64', 'int16', 'uint16', 'uint32', 'uint64'] as const) expect(DTYPES).toContain(d);
    expect(isFloatDType('float64')).toBe(true);
    expect(isIntegerDType('uint64')).toBe(true);
    expect(byteLengthOf('float64', 3)).toBe(24);
    expect(byteLengthOf('int16', 3)).toBe(6);
    expect(byteLengthOf('uint32', 3)).toBe(12);
    expect(alignmentOf('float64')).toBe(8);
    expect(allocData('float64', 2)).toBeInstanceOf(Float64Array);
    expect(allocData('uint64', 2)).toBeInstanceOf(BigUint64Array);
    expect(allocData('uint16', 2)).toBeInstanceOf(Uint16Array);
    const buf = new ArrayBuffer(32);
    expect(viewData('float64', buf, 8, 3)).toBeInstanceOf(Float64Array);
  });

  it('checks the backing array', () => {
    // @ts-expect-error -- the wrong backing array on purpose: the constructor's runtime check must catch what the types forbid.
    expect(() => new Tensor('float64', new Float32Array(2), [2])).toThrow(/Float64Array/);
    expect(new Tensor('float64', [1.5, 2], [2]).data).toBeInstanceOf(Float64Array);
    expect(new Tensor('uint64', [1n, 2n ** 64n - 1n], [2]).data[1]).toBe(2n ** 64n - 1n);
    expect(Array.from(new Tensor('uint64', [1, 2 ** 53], [2]).data)).toEqual([1n, 2n ** 53n]);
  });

  it('keeps float64 values exact through toNumbers/fromNumbers', () => {
    const v = [0.1, 1 / 3, 1e300, -5e-324];
    const t = fromNumbers('float64', v, [4]);
    expect(Array.from(toNumbers(t))).toEqual(v);
    const u = fromNumbers('uint64', [5, -1], [2]);
    expect(Array.from(u.data as BigUint64Array)).toEqual([5n, 2n ** 64n - 1n]);
  });
});

describe('ONNX import', () => {
  it('reads double initializers from double_data and raw_data', () => {
    const bytes = encodeModel({
      opset: 17,
      inputs: [{ name: 'x', elemType: DOUBLE, dims: [3] }],
      outputs: [{ name: 'y', elemType: DOUBLE, dims: [3] }],
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['s'] }, { op: 'Add', inputs: ['s', 'r'], outputs: ['y'] }],
      initializers: [
        { name: 'w', dataType: DOUBLE, dims: [3], doubleData: [0.1, 1 / 3, -2] },
        { name: 'r', dataType: DOUBLE, dims: [3], rawData: new Uint8Array(Float64Array.of(1e-17, 0, 1e300).buffer) },
      ],
    });
    const g = importOnnx(bytes);
    const w = g.initializers.get('w')!;
    expect(w.type).toBe('float64');
    expect(Array.from(w.data as Float64Array)).toEqual([0.1, 1 / 3, -2]);
    expect(Array.from(g.initializers.get('r')!.data as Float64Array)).toEqual([1e-17, 0, 1e300]);
    expect(g.inputs[0]!.dtype).toBe('float64');
  });

  it('runs a float64 graph without rounding to float32', async () => {
    const bytes = encodeModel({
      inputs: [{ name: 'x', elemType: DOUBLE, dims: [2] }],
      outputs: [{ name: 'y', elemType: DOUBLE, dims: [2] }],
      nodes: [{ op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [{ name: 'w', dataType: DOUBLE, dims: [2], doubleData: [1 / 3, 3] }],
    });
    const session = await InferenceSession.create(importOnnx(bytes), { backend: 'reference' });
    const out = await session.run({ x: new Tensor('float64', Float64Array.of(0.1, 1 + 2 ** -40), [2]) });
    expect(out.y!.type).toBe('float64');
    expect(Array.from(out.y!.data as Float64Array)).toEqual([0.1 / 3, (1 + 2 ** -40) * 3]);
  });

  it('decodes int16/uint16 (int32_data), uint32/uint64 (uint64_data) and double TensorProtos', () => {
    const enc = (o: Record<string, unknown>) => TensorProtoType.encode(TensorProtoType.fromObject(o)).finish();
    const i16 = decodeTensorProto(enc({ dataType: 5, dims: [2], int32Data: [-32768, 7] }));
    expect(i16.type).toBe('int16');
    expect(Array.from(i16.data as Int16Array)).toEqual([-32768, 7]);
    const u16 = decodeTensorProto(enc({ dataType: 4, dims: [1], int32Data: [65535] }));
    expect(Array.from(u16.data as Uint16Array)).toEqual([65535]);
    const u32 = decodeTensorProto(enc({ dataType: 12, dims: [2], uint64Data: [4294967295, 3] }));
    expect(u32.type).toBe('uint32');
    expect(Array.from(u32.data as Uint32Array)).toEqual([4294967295, 3]);
    const u64 = decodeTensorProto(enc({ dataType: 13, dims: [1], uint64Data: ['18446744073709551615'] }));
    expect(Array.from(u64.data as BigUint64Array)).toEqual([2n ** 64n - 1n]);
    const f64 = decodeTensorProto(enc({ dataType: 11, dims: [1], doubleData: [0.1] }));
    expect(Array.from(f64.data as Float64Array)).toEqual([0.1]);
  });
});

describe('Cast', () => {
  const cast = (x: Tensor, to: number) => runOp('Cast', [x], { to })[0]!;

  it('casts to and from DOUBLE (to=11)', () => {
    const d = cast(new Tensor('float32', Float32Array.of(0.1, -2), [2]), DOUBLE);
    expect(d.type).toBe('float64');
    expect(Array.from(d.data as Float64Array)).toEqual([Math.fround(0.1), -2]);
    const f = cast(new Tensor('float64', Float64Array.of(0.1, 1e300), [2]), 1);
    expect(Array.from(f.data as Float32Array)).toEqual([Math.fround(0.1), Infinity]);
    const h = cast(new Tensor('float64', Float64Array.of(1 / 3), [1]), 10);
    expect(h.type).toBe('float16');
  });

  it('casts to the wider integers, wrapping integers and saturating floats', () => {
    expect(Array.from(cast(new Tensor('int32', Int32Array.of(70000, -1), [2]), 5).data as Int16Array)).toEqual([4464, -1]);
    expect(Array.from(cast(new Tensor('int32', Int32Array.of(-1), [1]), 4).data as Uint16Array)).toEqual([65535]);
    expect(Array.from(cast(new Tensor('float32', Float32Array.of(1e10, -5, 3.7), [3]), 12).data as Uint32Array))
      .toEqual([4294967295, 0, 3]);
    expect(Array.from(cast(new Tensor('int64', BigInt64Array.of(-1n), [1]), 13).data as BigUint64Array)).toEqual([2n ** 64n - 1n]);
    expect(Array.from(cast(new Tensor('uint64', BigUint64Array.of(2n ** 64n - 1n), [1]), 7).data as BigInt64Array)).toEqual([-1n]);
    expect(Array.from(cast(new Tensor('uint16', Uint16Array.of(65535), [1]), DOUBLE).data as Float64Array)).toEqual([65535]);
  });
});

describe('bfloat16', () => {
  it('rounds to nearest even and keeps NaN and infinities', () => {
    const t = fromNumbers('bfloat16', [1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -Infinity, NaN, 3e38 * 10], [6]);
    expect(Array.from(t.data as Uint16Array).slice(0, 4)).toEqual([0x3f80, 0x3f80, 0x3f82, 0xff80]);
    const back = Array.from(toNumbers(t));
    expect(back.slice(0, 4)).toEqual([1, 1, 1 + 2 ** -6, -Infinity]);
    expect(Number.isNaN(back[4])).toBe(true);
    expect(back[5]).toBe(Infinity);
  });
  it('imports from int32_data and casts to and from float32 (to=16)', () => {
    const enc = (o: Record<string, unknown>) => TensorProtoType.encode(TensorProtoType.fromObject(o)).finish();
    const b = decodeTensorProto(enc({ dataType: 16, dims: [2], int32Data: [0x3f80, 0xc000] }));
    expect(b.type).toBe('bfloat16');
    expect(Array.from(toNumbers(b))).toEqual([1, -2]);
    const c = runOp('Cast', [new Tensor('float32', Float32Array.of(0.1), [1])], { to: 16 })[0]!;
    expect(c.type).toBe('bfloat16');
    expect(Array.from(toNumbers(c))).toEqual([0.10009765625]);
  });
});

describe('.kiln format', () => {
  it('round-trips float64 and the wider integers bit-exactly', () => {
    const g = emptyGraph('wide');
    g.initializers.set('d', new Tensor('float64', Float64Array.of(0.1, -0, NaN, 1e-310), [2, 2]));
    g.initializers.set('i16', new Tensor('int16', Int16Array.of(-32768, 32767, 5), [3]));
    g.initializers.set('u16', new Tensor('uint16', Uint16Array.of(65535), [1]));
    g.initializers.set('u32', new Tensor('uint32', Uint32Array.of(4294967295, 1), [2]));
    g.initializers.set('u64', new Tensor('uint64', BigUint64Array.of(2n ** 64n - 1n, 0n), [2]));
    g.initializers.set('bf16', new Tensor('bfloat16', Uint16Array.of(0x3f80, 0x7fc1), [2]));
    g.inputs = [{ name: 'x', dtype: 'float64', shape: [2] }];
    g.outputs = [{ name: 'x', dtype: 'float64', shape: [2] }];
    const back = loadKiln(saveKiln(g));
    for (const [name, t] of g.initializers) {
      const b = back.initializers.get(name)!;
      expect(b.type).toBe(t.type);
      expect(b.dims).toEqual(t.dims);
      expect(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength))
        .toEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    expect(back.inputs[0]!.dtype).toBe('float64');
  });
});
