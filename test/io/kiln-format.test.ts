import { describe, expect, it } from 'vitest';
import { emptyGraph, type AttrValue, type Graph } from '../../src/graph/ir.js';
import { loadKiln, saveKiln, type KilnHeader } from '../../src/io/kiln-format/index.js';
import { writeInt4 } from '../../src/tensor/convert.js';
import { perTensorQuant } from '../../src/tensor/quant.js';
import { attachSparse, bsrFromDense, csrFromDense, nmFromDense } from '../../src/tensor/sparse.js';
import { Tensor } from '../../src/tensor/tensor.js';

const bytesOf = (a: ArrayBufferView) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const f32Bits = (bits: number[], dims: number[]) => new Tensor('float32', new Float32Array(Uint32Array.from(bits).buffer), dims);

function sampleGraph(): Graph {
  const g = emptyGraph('sample');
  const init = (name: string, t: Tensor) => g.initializers.set(name, t);
  init('f32', f32Bits([0x3f800000, 0x80000000, 0x7f800001, 0x7fc01234, 0xff800000, 0], [2, 3]));
  init('f16', new Tensor('float16', Uint16Array.from([0x3c00, 0x8000, 0x7c01, 0xfc00]), [4]));
  init('i64', new Tensor('int64', BigInt64Array.from([2n ** 63n - 1n, -(2n ** 63n), 0n]), [3]));
  init('q8', new Tensor('int8', Int8Array.from([1, -2, 3, -128, 127, 0, 5, 6]), [2, 4])
    .withQuant({ scale: Float32Array.of(0.1, 0.25), zeroPoint: Int32Array.of(0, -3), axis: 0 }));
  const packed = Uint8Array.from({ length: 8 }, (_, i) => (i * 37) & 0xff);
  init('q4', new Tensor('int4', packed, [2, 8])
    .withQuant({ scale: Float32Array.of(1, 2, 3, 4), zeroPoint: Int32Array.of(0, 1, -1, 0), axis: 1, blockSize: 4 }));
  const odd = new Uint8Array(2);
  writeInt4(odd, 2, -5);
  init('int4odd', new Tensor('int4', odd, [3]));
  init('b', new Tensor('bool', Uint8Array.from([1, 0, 1]), [3]));
  init('scalar', new Tensor('int32', Int32Array.of(-7), []));
  init('empty', new Tensor('float32', new Float32Array(0), [0, 3]));
  const csr = f32Bits([0, 0x40000000, 0, 0, 0, 0, 0, 0, 0x80000000, 0, 0, 0x7fa00001], [3, 4]);
  init('csr', attachSparse(csr, csrFromDense(csr)));
  const qcsr = new Tensor('int8', Int8Array.from([0, 0, 9, 0, -4, 0]), [2, 3]).withQuant(perTensorQuant(0.5, 0));
  init('qcsr', attachSparse(qcsr, csrFromDense(qcsr)));
  const nm = new Tensor('float32', Float32Array.from([0, 1, 0, 2, 3, 0, 0, -0, 0, 0, 0, 0, 4, 0, 5, 0]), [2, 8]);
  init('nm24', attachSparse(nm, nmFromDense(nm, 2, 4)));
  const bsr = new Tensor('float16', Uint16Array.from({ length: 16 }, (_, i) => (i < 2 || i === 4 || i === 5 ? 0x3c00 + i : 0)), [4, 4]);
  init('bsr', attachSparse(bsr, bsrFromDense(bsr, [2, 2])));

  g.inputs = [{ name: 'x', dtype: 'float32', shape: ['N', 3, 'seq'] }, { name: 'anyrank', dtype: 'int64' }];
  g.outputs = [{ name: 'y', dtype: 'float32', shape: ['N', 'unk_1'] }];
  g.valueInfo.set('h', { name: 'h', dtype: 'float16', shape: [1, 'N'] });
  const attrs: Record<string, AttrValue> = {
    int: 3, big: 2 ** 53 - 1, neg: -12, float: 0.1, f32: Math.fround(0.1), tiny: 5e-324, huge: 1.7976931348623157e308,
    nan: NaN, inf: Infinity, ninf: -Infinity, negzero: -0,
    str: 'héllo "quoted" \u{1F600}', ints: [1, -2, 3], floats: [0.5, NaN, -0, -Infinity], strs: ['a', ''], none: [],
    '__proto__': 'own key',
  };
  g.nodes = [
    { name: 'n0', op: 'Custom', domain: 'com.example', inputs: ['x', '', 'f32'], outputs: ['h'], attrs },
    { name: 'c', op: 'Constant', domain: '', inputs: [], outputs: ['k'],
      attrs: { value: new Tensor('int64', BigInt64Array.of(5n, -1n), [2]) } },
    { name: 'cq', op: 'Constant', domain: '', inputs: [], outputs: ['kq'],
      attrs: { value: new Tensor('uint8', Uint8Array.of(200), [1]).withQuant(perTensorQuant(0.02, 128)) } },
  ];
  g.opsets = { '': 21, 'com.microsoft': 1 };
  g.provenance = [{ pass: 'quantize', options: { bits: 8, scheme: 'static', layers: ['a'] }, at: '2026-01-01T00:00:00Z' }];
  return g;
}

function expectSameTensor(a: Tensor, b: Tensor, what: string): void {
  expect(b.type, what).toBe(a.type);
  expect(b.dims, what).toEqual(a.dims);
  expect(bytesOf(b.data), what).toEqual(bytesOf(a.data));
  expect(b.quant === undefined, `${what} quant`).toBe(a.quant === undefined);
  if (a.quant && b.quant) {
    expect(bytesOf(b.quant.scale)).toEqual(bytesOf(a.quant.scale));
    expect(bytesOf(b.quant.zeroPoint)).toEqual(bytesOf(a.quant.zeroPoint));
    expect([b.quant.axis, b.quant.blockSize]).toEqual([a.quant.axis, a.quant.blockSize]);
  }
  expect(b.sparse?.kind, `${what} sparse`).toBe(a.sparse?.kind);
  if (a.sparse && b.sparse) {
    for (const [k, v] of Object.entries(a.sparse)) {
      const w = (b.sparse as unknown as Record<string, unknown>)[k];
      if (ArrayBuffer.isView(v)) expect(bytesOf(w as ArrayBufferView), `${what}.sparse.${k}`).toEqual(bytesOf(v));
      else expect(w, `${what}.sparse.${k}`).toEqual(v);
    }
  }
}

function expectSameGraph(a: Graph, b: Graph): void {
  expect([b.name, b.inputs, b.outputs, b.opsets, b.provenance]).toEqual([a.name, a.inputs, a.outputs, a.opsets, a.provenance]);
  expect([...b.valueInfo]).toEqual([...a.valueInfo]);
  expect([...b.initializers.keys()]).toEqual([...a.initializers.keys()]);
  for (const [name, t] of a.initializers) expectSameTensor(t, b.initializers.get(name)!, name);
  expect(b.nodes.length).toBe(a.nodes.length);
  a.nodes.forEach((n, i) => {
    const m = b.nodes[i]!;
    expect([m.name, m.op, m.domain, m.inputs, m.outputs]).toEqual([n.name, n.op, n.domain, n.inputs, n.outputs]);
    expect(Object.keys(m.attrs)).toEqual(Object.keys(n.attrs));
    for (const [k, v] of Object.entries(n.attrs)) {
      const w = Object.getOwnPropertyDescriptor(m.attrs, k)?.value as AttrValue;
      if (v instanceof Tensor) expectSameTensor(v, w as Tensor, `${n.name}.${k}`);
      else if (typeof v === 'number') expect(Object.is(w, v), `${n.name}.${k}: ${String(w)} vs ${v}`).toBe(true);
      else expect(w, `${n.name}.${k}`).toEqual(v);
    }
  });
}

/** Rewrites the JSON header, keeping the data section where it is when the new header fits. */
function rewriteHeader(bytes: Uint8Array, edit: (h: KilnHeader) => unknown): Uint8Array {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as KilnHeader;
  const replaced = edit(header);
  let json = new TextEncoder().encode(JSON.stringify(replaced === undefined ? header : replaced));
  if (json.length <= len) json = new TextEncoder().encode(new TextDecoder().decode(json).padEnd(len, ' '));
  const out = new Uint8Array(Math.max(bytes.length, 12 + json.length));
  out.set(bytes);
  out.fill(0, 12, 12 + len);
  out.set(json, 12);
  new DataView(out.buffer).setUint32(8, json.length, true);
  return out;
}

/** Loading must either succeed or throw a plain Error that names the format. */
function loadOrCleanError(bytes: Uint8Array): 'ok' | 'error' {
  try {
    loadKiln(bytes);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(/kiln/i);
    return 'error';
  }
}

describe('.kiln round trip', () => {
  it('writes and reads every dtype, quant scheme, sparse layout and attribute kind bit-exactly', () => {
    const g = sampleGraph();
    const bytes = saveKiln(g);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('KILN');
    const back = loadKiln(bytes);
    expectSameGraph(g, back);
    expect(bytesOf(saveKiln(back))).toEqual(bytesOf(bytes));
  });

  it('aligns every blob to 64 bytes and stores sparse tensors compressed', () => {
    const bytes = saveKiln(sampleGraph());
    const len = new DataView(bytes.buffer).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as KilnHeader;
    const refs = JSON.stringify(header).match(/"offset":\d+/g)!.map((s) => Number(s.slice(9)));
    expect(refs.length).toBeGreaterThan(20);
    for (const o of refs) expect(o % 64).toBe(0);
    const csr = header.tensors.find((t) => t.name === 'csr')!;
    expect(csr.data).toBeUndefined();
    expect(csr.sparse?.kind).toBe('csr');
  });

  it('views the input without copying, and copies once when the input is misaligned', () => {
    const bytes = saveKiln(sampleGraph());
    const aligned = new Uint8Array(bytes.length + 8);
    aligned.set(bytes, 8);
    const g1 = loadKiln(aligned.subarray(8));
    expect(g1.initializers.get('f32')!.data.buffer).toBe(aligned.buffer);
    expect(g1.initializers.get('q8')!.quant!.scale.buffer).toBe(aligned.buffer);
    expect(loadKiln(bytes.buffer as ArrayBuffer).initializers.get('i64')!.data.buffer).toBe(bytes.buffer);

    const odd = new Uint8Array(bytes.length + 3);
    odd.set(bytes, 3);
    const g2 = loadKiln(odd.subarray(3));
    expect(g2.initializers.get('f32')!.data.buffer).not.toBe(odd.buffer);
    expectSameGraph(sampleGraph(), g2);
  });

  it('saves an empty graph', () => {
    const g = emptyGraph('nothing');
    expectSameGraph(g, loadKiln(saveKiln(g)));
  });

  it('refuses to save what it cannot read back', () => {
    const g = emptyGraph();
    const t = new Tensor('float32', Float32Array.of(1, 0, 0, 2), [2, 2]);
    t.sparse = csrFromDense(new Tensor('float32', Float32Array.of(1, 0, 0, 3), [2, 2]));
    g.initializers.set('w', t);
    expect(() => saveKiln(g)).toThrow(/does not expand to the tensor's data/);
    const h = emptyGraph();
    h.nodes.push({ name: 'n', op: 'X', domain: '', inputs: [], outputs: [], attrs: { bad: [1, 'a'] as unknown as number[] } });
    expect(() => saveKiln(h)).toThrow(/attribute n.bad/);
    const k = emptyGraph();
    k.inputs.push({ name: 'x', dtype: 'float32', shape: [-1] });
    expect(() => saveKiln(k)).toThrow(/invalid dim -1/);
  });
});

describe('.kiln validation', () => {
  it('rejects bad magic, newer and invalid versions, and oversized header lengths', () => {
    const bytes = saveKiln(sampleGraph());
    const patch = (at: number, v: number) => {
      const b = bytes.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return b;
    };
    expect(() => loadKiln(patch(0, 0x4e4c494a))).toThrow(/bad magic/);
    expect(() => loadKiln(patch(4, 3))).toThrow('written by a newer Kiln (format v3), this reader supports up to v2');
    expect(() => loadKiln(patch(4, 0))).toThrow(/invalid format version 0/);
    expect(() => loadKiln(patch(8, 0xffffffff))).toThrow(/runs past the end/);
    expect(() => loadKiln(patch(8, 3))).toThrow(/not valid JSON/);
    const notUtf8 = bytes.slice();
    notUtf8[12] = 0xff;
    expect(() => loadKiln(notUtf8)).toThrow(/not valid UTF-8/);
    expect(() => loadKiln('KILN' as unknown as Uint8Array)).toThrow(/expected a Uint8Array/);
  });

  it('gives a clean Error for every truncation of a file', () => {
    const g = emptyGraph('small');
    g.initializers.set('w', new Tensor('float32', Float32Array.of(1, 2, 3), [3]).withQuant(perTensorQuant(1)));
    const s = new Tensor('float32', Float32Array.of(0, 1, 0, 0), [2, 2]);
    g.initializers.set('s', attachSparse(s, csrFromDense(s)));
    g.inputs.push({ name: 'x', dtype: 'float32', shape: ['N'] });
    const bytes = saveKiln(g);
    for (let n = 0; n < bytes.length; n++) expect(loadOrCleanError(bytes.subarray(0, n)), `prefix ${n}`).toBe('error');
    expect(loadOrCleanError(bytes)).toBe('ok');
  });

  it('survives random byte corruption (load or throw an Error, never hang or crash)', () => {
    const bytes = saveKiln(sampleGraph());
    const headerEnd = 12 + new DataView(bytes.buffer).getUint32(8, true);
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const outcomes = { ok: 0, error: 0 };
    for (let trial = 0; trial < 400; trial++) {
      const b = bytes.slice();
      const flips = 1 + rand(4);
      for (let f = 0; f < flips; f++) {
        const at = trial % 2 ? 12 + rand(headerEnd - 12) : rand(b.length);
        b[at] = rand(3) === 0 ? b[at]! ^ (1 << rand(8)) : rand(256);
      }
      outcomes[loadOrCleanError(b)]++;
    }
    expect(outcomes.error).toBeGreaterThan(50);
    expect(outcomes.ok).toBeGreaterThan(10);
  });

  it('rejects wrong JSON types anywhere in the header with a clear Error', () => {
    const bytes = saveKiln(sampleGraph());
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (v && typeof v === 'object') for (const [k, w] of Object.entries(v)) walk(w, [...path, Array.isArray(v) ? Number(k) : k]);
    };
    const original = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true))));
    walk(original, []);
    let errors = 0;
    for (const path of paths) {
      for (const bad of [null, 'x', -1, 1.5, 2 ** 53, [], {}]) {
        const b = rewriteHeader(bytes, (h) => {
          if (path.length === 0) return bad;
          let o = h as unknown as Record<string | number, unknown>;
          for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
          o[path[path.length - 1]!] = bad;
          return undefined;
        });
        if (loadOrCleanError(b) === 'error') errors++;
      }
    }
    expect(errors).toBeGreaterThan(paths.length * 3);
  });

  it('checks dims, dtypes, offsets and lengths of tensors', () => {
    const bytes = saveKiln(sampleGraph());
    const edit = (f: (h: KilnHeader) => void) => () => loadKiln(rewriteHeader(bytes, (h) => { f(h); }));
    const t = (h: KilnHeader, name: string) => h.tensors.find((e) => e.name === name)!;
    expect(edit((h) => { t(h, 'f32').dims = [2 ** 20, 2 ** 20]; })).toThrow(/exceeds the limit/);
    expect(edit((h) => { t(h, 'f32').dims = [2, 4]; })).toThrow(/24 bytes, but 8 float32 elements need 32/);
    expect(edit((h) => { t(h, 'f32').dtype = 'complex64' as never; })).toThrow(/dtype: expected a Kiln dtype, got "complex64"/);
    expect(edit((h) => { t(h, 'f32').data!.offset += 64 * 1000; })).toThrow(/outside the data section/);
    expect(edit((h) => { t(h, 'f32').data!.offset = 64; })).toThrow(/outside the data section/);
    expect(edit((h) => { t(h, 'f32').data!.offset += 4; })).toThrow(/not 64-byte aligned/);
    expect(edit((h) => { t(h, 'q8').quant!.axis = 2; })).toThrow(/tensor tensors\[3\] 'q8'.*axis 2 out of range/);
    expect(edit((h) => { t(h, 'csr').sparse!.kind = 'coo' as never; })).toThrow(/unknown sparse layout "coo"/);
    expect(edit((h) => { t(h, 'csr').dims = [4, 3]; })).toThrow(/'csr': CSR: rowPtr has length 4, expected 5/);
    expect(edit((h) => { (t(h, 'nm24').sparse as { m: number }).m = 8; })).toThrow(/N:M/);
    expect(edit((h) => { h.graph.nodes[1]!.attrs.value = { type: 'tensor', value: 99 }; })).toThrow(/tensor index 99 is out of range/);
    expect(edit((h) => { h.graph.nodes[0]!.attrs.nan = { type: 'number', value: 'nan' as never }; })).toThrow(/expected a number, got "nan"/);
    expect(edit((h) => { t(h, 'f16').name = 'f32'; })).toThrow(/initializer 'f32' appears twice/);
  });
});
