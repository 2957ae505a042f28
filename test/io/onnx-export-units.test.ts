// saveOnnx on small graphs: initializers of every dtype (packed int4/uint4 included), subgraphs
// (If, Loop, Scan), symbolic dims, provenance, ai.kiln ops lowered to standard ONNX, and refusals.
// Each exported file is read back by Kiln and, where onnxruntime-web has the ops, run there too.
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { Graph, Node } from '../../src/graph/ir.js';
import { saveOnnx } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { ModelProtoType } from '../../src/io/onnx/schema.js';
import { fuseActivations } from '../../src/passes/fuse-activations.js';
import { fuseDequantMatMul } from '../../src/passes/fuse-dequant-matmul.js';
import { DTYPES, storageLength, type DType } from '../../src/tensor/dtype.js';
import { toNumbers, writeInt4 } from '../../src/tensor/convert.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { graphDiff } from '../helpers/graph-equal.js';
import { expectSameOutputs, f32, graph, node, ops, randT, runRef } from '../passes/helpers.js';

ort.env.wasm.numThreads = 1;

async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const f = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.type as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.dims])]));
  try {
    return await s.run(f);
  } finally {
    await s.release();
  }
}

/** Kiln reference outputs and onnxruntime-web outputs of the exported file agree within `rtol` (0: exactly). */
async function expectOrtAgrees(g: Graph, feeds: Record<string, Tensor>, rtol = 0): Promise<void> {
  const want = await runRef(g, feeds);
  const got = await runOrt(saveOnnx(g), feeds);
  for (const [name, w] of want) {
    const o = got[name]!;
    expect([...o.dims], name).toEqual([...w.dims]);
    const x = toNumbers(new Tensor(o.type as DType, o.data as Tensor['data'], o.dims));
    const y = toNumbers(w);
    for (let i = 0; i < y.length; i++) {
      if (Object.is(x[i], y[i])) continue;
      expect(Math.abs(x[i]! - y[i]!), `${name}[${i}]: ${x[i]} vs ${y[i]}`).toBeLessThanOrEqual(rtol * Math.abs(y[i]!));
    }
  }
}

function roundTrip(g: Graph): Graph {
  const h = importOnnx(saveOnnx(g));
  expect(graphDiff(g, h, { expectOpsets: { ...g.opsets, '': Math.max(g.opsets[''] ?? 21, 21) } })).toBeUndefined();
  return h;
}

/** A tensor of `dtype` with `count` elements whose bytes are a fixed pattern (valid for bool). */
function patterned(dtype: DType, count: number): Tensor {
  const t = Tensor.zeros(dtype, [count]);
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  for (let i = 0; i < bytes.length; i++) bytes[i] = dtype === 'bool' ? i % 2 : (i * 37 + 11) & 0xff;
  if (storageLength(dtype, count) * 2 > count && (dtype === 'int4' || dtype === 'uint4' || dtype === 'float4e2m1') && count % 2 === 1) {
    bytes[bytes.length - 1]! &= 0x0f; // the unused high nibble of an odd count is zero (ONNX's padding)
  }
  if ((dtype === 'int2' || dtype === 'uint2') && count % 4 !== 0) bytes[bytes.length - 1]! &= (1 << (2 * (count % 4))) - 1;
  return t;
}

describe('saveOnnx: initializers of every dtype', () => {
  it('round trips every Kiln dtype byte for byte (odd counts for the packed ones)', () => {
    const initializers = new Map(DTYPES.map((d) => [`w_${d}`, patterned(d, 7)] as [string, Tensor]));
    initializers.set('scalar', new Tensor('float32', Float32Array.of(-0), []));
    initializers.set('empty', new Tensor('int64', new BigInt64Array(0), [0, 3]));
    roundTrip(graph('dtypes', { initializers, inputs: [{ name: 'x', dtype: 'float32', shape: [1] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1] }], nodes: [node('Identity', ['x'], ['y'])] }));
  });

  it('onnxruntime-web reads float16, bfloat16, int4, uint4, int64, bool, int8, uint8 and float64 initializers as Kiln does', async () => {
    const int4 = new Uint8Array(4);
    const uint4 = new Uint8Array(4);
    for (let i = 0; i < 7; i++) { writeInt4(int4, i, i - 4); uint4[i >> 1]! |= (i * 2 + 1) << (4 * (i & 1)); }
    const initializers = new Map<string, Tensor>([
      ['h', new Tensor('float16', Uint16Array.of(0x3c00, 0xc000, 0x3555, 0x7bff), [4])],
      ['bh', new Tensor('bfloat16', Uint16Array.of(0x3f80, 0xc040, 0x3eab), [3])],
      ['q4', new Tensor('int4', int4, [7])],
      ['u4', new Tensor('uint4', uint4, [7])],
      ['one', f32([1], [])],
      ['l', new Tensor('int64', BigInt64Array.of(-(2n ** 40n), 5n, 9007199254740993n), [3])],
      ['b', new Tensor('bool', Uint8Array.of(1, 0, 1), [3])],
      ['i8', new Tensor('int8', Int8Array.of(-128, 127, 3), [3])],
      ['u8', new Tensor('uint8', Uint8Array.of(255, 0, 7), [3])],
      ['d', new Tensor('float64', Float64Array.of(Math.PI, -1e300), [2])],
    ]);
    const nodes: Node[] = [
      node('Cast', ['h'], ['h32'], { to: 1 }),
      node('Cast', ['bh'], ['bh32'], { to: 1 }),
      node('DequantizeLinear', ['q4', 'one'], ['q4f']),
      node('DequantizeLinear', ['u4', 'one'], ['u4f']),
      node('Identity', ['l'], ['lo']), node('Identity', ['b'], ['bo']), node('Identity', ['i8'], ['i8o']),
      node('Identity', ['u8'], ['u8o']), node('Identity', ['d'], ['do']),
    ];
    const outputs = nodes.map((n) => n.outputs[0]!).map((name) => ({ name, dtype: 'float32' as DType }));
    const g = graph('dtypes', { initializers, nodes, outputs, inputs: [] });
    // Output dtypes come from inference when the graph is checked; the reference needs them right.
    const types: Record<string, DType> = { lo: 'int64', bo: 'bool', i8o: 'int8', u8o: 'uint8', do: 'float64' };
    g.outputs = g.outputs.map((v) => ({ ...v, dtype: types[v.name] ?? 'float32' }));
    roundTrip(g);
    await expectOrtAgrees(g, {});
  });
});

/** Running sum over the rows of x [3, 2] three ways: Loop, Scan, and an If choosing Neg or Abs. */
function controlFlowGraph(): Graph {
  const loopBody = graph('loop_body', {
    inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c_in', dtype: 'bool', shape: [] }, { name: 'acc_in', dtype: 'float32', shape: [2] }],
    outputs: [{ name: 'c_out', dtype: 'bool', shape: [] }, { name: 'acc_out', dtype: 'float32', shape: [2] }, { name: 'row_sum', dtype: 'float32', shape: [2] }],
    nodes: [
      node('Identity', ['c_in'], ['c_out']),
      node('Gather', ['x', 'i'], ['row'], { axis: 0 }), // reads x of the outer graph
      node('Add', ['acc_in', 'row'], ['acc_out']),
      node('Identity', ['acc_out'], ['row_sum']),
    ],
  });
  const scanBody = graph('scan_body', {
    inputs: [{ name: 's_in', dtype: 'float32', shape: [2] }, { name: 'r', dtype: 'float32', shape: [2] }],
    outputs: [{ name: 's_out', dtype: 'float32', shape: [2] }, { name: 's_each', dtype: 'float32', shape: [2] }],
    nodes: [node('Add', ['s_in', 'r'], ['s_out']), node('Identity', ['s_out'], ['s_each'])],
  });
  const branch = (name: string, op: string) => graph(name, {
    outputs: [{ name: `${name}_y`, dtype: 'float32', shape: ['rows', 2] }],
    nodes: [node(op, ['x'], [`${name}_y`])],
  });
  return graph('control_flow', {
    inputs: [{ name: 'x', dtype: 'float32', shape: ['rows', 2] }, { name: 'flag', dtype: 'bool', shape: [] }],
    outputs: [
      { name: 'loop_acc', dtype: 'float32', shape: [2] }, { name: 'loop_rows', dtype: 'float32', shape: [3, 2] },
      { name: 'scan_acc', dtype: 'float32', shape: [2] }, { name: 'scan_rows', dtype: 'float32', shape: ['rows', 2] },
      { name: 'chosen', dtype: 'float32', shape: ['rows', 2] },
    ],
    initializers: new Map([['trip', new Tensor('int64', BigInt64Array.of(3n), [])], ['yes', new Tensor('bool', Uint8Array.of(1), [])], ['zero', f32([0, 0], [2])]]),
    nodes: [
      node('Loop', ['trip', 'yes', 'zero'], ['loop_acc', 'loop_rows'], { body: loopBody }),
      node('Scan', ['zero', 'x'], ['scan_acc', 'scan_rows'], { body: scanBody, num_scan_inputs: 1 }),
      node('If', ['flag'], ['chosen'], { then_branch: branch('then', 'Neg'), else_branch: branch('else', 'Abs') }),
    ],
  });
}

describe('saveOnnx: subgraphs and symbolic dims', () => {
  const x = randT([3, 2], 5);
  const flag = new Tensor('bool', Uint8Array.of(1), []);

  it('writes If, Loop and Scan bodies as graph attributes; Kiln reads them back and computes the same', async () => {
    const g = controlFlowGraph();
    const h = roundTrip(g);
    await expectSameOutputs(g, h, { x, flag });
  });

  it('the control-flow model runs in onnxruntime-web with Kiln\'s outputs', async () => {
    await expectOrtAgrees(controlFlowGraph(), { x, flag });
    await expectOrtAgrees(controlFlowGraph(), { x, flag: new Tensor('bool', Uint8Array.of(0), []) });
  });

  it('symbolic dims become dim_param, fixed ones dim_value', () => {
    const model = ModelProtoType.decode(saveOnnx(controlFlowGraph())) as unknown as {
      graph: { input: { name: string; type: { tensorType: { shape: { dim: { dimParam?: string; dimValue?: unknown }[] } } } }[] };
    };
    const dims = model.graph.input[0]!.type.tensorType.shape.dim;
    expect(dims[0]!.dimParam).toBe('rows');
    expect(Number(dims[1]!.dimValue)).toBe(2);
  });

  it('records provenance in metadata_props and reads it back', () => {
    const g = { ...controlFlowGraph(), provenance: [{ pass: 'quantizeStatic', options: { method: 'minmax', samples: 8 } }, { pass: 'dce' }] };
    const model = ModelProtoType.decode(saveOnnx(g)) as unknown as { metadataProps: { key: string; value: string }[] };
    expect(model.metadataProps.map((p) => p.key)).toEqual(['kiln.provenance']);
    expect(roundTrip(g).provenance).toEqual(g.provenance);
  });
});

describe('saveOnnx: Kiln ops written as standard ONNX', () => {
  it('FusedConv and FusedMatMul become Conv/MatMul + Add + activation with the same reference outputs', async () => {
    const g = graph('fused', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 4, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 3] }],
      initializers: new Map([['w', randT([3, 2, 3, 3], 1)], ['b', randT([3], 2)], ['m', randT([3, 3], 3)], ['mb', randT([3], 4)], ['shape', new Tensor('int64', BigInt64Array.of(1n, 3n, 4n), [3])]]),
      nodes: [
        node('Conv', ['x', 'w', 'b'], ['c'], { pads: [1, 1, 1, 1] }),
        node('Relu', ['c'], ['r']),
        node('GlobalAveragePool', ['r'], ['p']),
        node('Flatten', ['p'], ['f']),
        node('MatMul', ['f', 'm'], ['mm']),
        node('Add', ['mm', 'mb'], ['a']),
        node('LeakyRelu', ['a'], ['y'], { alpha: 0.2 }),
      ],
    });
    const fused = fuseActivations(g);
    expect(ops(fused)).toEqual(['ai.kiln::FusedConv', 'GlobalAveragePool', 'Flatten', 'ai.kiln::FusedMatMul']);
    const h = importOnnx(saveOnnx(fused));
    expect(ops(h)).toEqual(['Conv', 'Relu', 'GlobalAveragePool', 'Flatten', 'MatMul', 'Add', 'LeakyRelu']);
    expect(h.opsets['ai.kiln']).toBeUndefined();
    const feeds = { x: randT([1, 2, 4, 4], 9) };
    await expectSameOutputs(fused, h, feeds);
    await expectOrtAgrees(fused, feeds, 1e-5);
  });

  it('never imports the ai.kiln domain, even when the graph lists it without using it', () => {
    const g = graph('k', { inputs: [{ name: 'x', dtype: 'float32', shape: [2] }], outputs: [{ name: 'y', dtype: 'float32', shape: [2] }], nodes: [node('Relu', ['x'], ['y'])] });
    g.opsets = { '': 13, 'ai.kiln': 1, 'com.microsoft': 1 };
    const model = ModelProtoType.decode(saveOnnx(g)) as unknown as { opsetImport: { domain: string; version: unknown }[] };
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 21], ['com.microsoft', 1]]);
  });

  it('DequantMatMul becomes DequantizeLinear (block-wise int4) + MatMul', async () => {
    const K = 64;
    const N = 4;
    const packed = new Uint8Array((K * N) / 2);
    for (let i = 0; i < K * N; i++) writeInt4(packed, i, ((i * 5) % 16) - 8);
    const g = graph('int4', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, K] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, N] }],
      initializers: new Map<string, Tensor>([['wq', new Tensor('int4', packed, [K, N])], ['ws', new Tensor('float32', Float32Array.from({ length: 2 * N }, (_, i) => 0.02 + 0.001 * i), [2, N])]]),
      nodes: [node('DequantizeLinear', ['wq', 'ws'], ['w'], { axis: 0, block_size: 32 }), node('MatMul', ['x', 'w'], ['y'])],
    });
    const fused = fuseDequantMatMul(g);
    expect(ops(fused)).toEqual(['ai.kiln::DequantMatMul']);
    const h = importOnnx(saveOnnx(fused));
    expect(ops(h)).toEqual(['DequantizeLinear', 'MatMul']);
    expect(h.nodes[0]!.attrs).toEqual({ axis: 0, block_size: 32 });
    const feeds = { x: randT([2, K], 3) };
    await expectSameOutputs(fused, h, feeds);
    await expectOrtAgrees(fused, feeds, 1e-5);
  });
});

describe('saveOnnx refusals', () => {
  const x = { name: 'x', dtype: 'float32' as DType, shape: [2] };
  it('names a Kiln-only op it cannot lower', () => {
    const g = graph('bad', { inputs: [x], outputs: [x], nodes: [{ name: 'mystery', op: 'Mystery', domain: 'ai.kiln', inputs: ['x'], outputs: ['y'], attrs: {} }] });
    expect(() => saveOnnx(g)).toThrow(/node 'mystery' \(ai\.kiln::Mystery\) is a Kiln-only op with no ONNX equivalent/);
  });
  it('names an op of an unknown domain', () => {
    const g = graph('bad', { inputs: [x], outputs: [x], nodes: [{ name: 'n1', op: 'Frob', domain: 'com.example', inputs: ['x'], outputs: ['y'], attrs: { k: 1 } }] });
    expect(() => saveOnnx(g)).toThrow(/node 'n1' \(com\.example::Frob\) is not an op Kiln knows/);
  });
  it('the importer refuses malformed provenance metadata, naming the key', () => {
    const g = graph('p', { inputs: [x], outputs: [{ ...x, name: 'y' }], nodes: [node('Identity', ['x'], ['y'])] });
    expect(() => importOnnx(saveOnnx(g, { metadata: { 'kiln.provenance': '{oops' } }))).toThrow(/metadata_props 'kiln\.provenance' is not JSON/);
    expect(() => importOnnx(saveOnnx(g, { metadata: { 'kiln.provenance': '[{"options":{}}]' } }))).toThrow(/entry 0 has no pass name/);
    expect(importOnnx(saveOnnx(g, { metadata: { author: 'me' } })).provenance).toEqual([]);
  });
  it('names an attribute whose value does not fit its declared type', () => {
    const g = graph('bad', { inputs: [x], outputs: [x], nodes: [node('Flatten', ['x'], ['y'], { axis: 1.5 }, 'flat')] });
    expect(() => saveOnnx(g)).toThrow(/node 'flat' \(ai\.onnx::Flatten\) attribute 'axis': 1\.5 is not an integer/);
  });
});
