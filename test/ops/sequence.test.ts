import { describe, expect, it } from 'vitest';
import { emptyGraph, type Graph, type Node } from '../../src/graph/ir.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { ModelProtoType, OptionalProtoType, SequenceProtoType } from '../../src/io/onnx/schema.js';
import { decodeValueProto } from '../../src/io/onnx/value-proto.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { OptionalValue, TensorSequence, type Value } from '../../src/tensor/value.js';
import { f32, i64 } from '../helpers/op.js';

const node = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node =>
  ({ name: `${op}_${outputs[0]}`, op, domain: '', inputs, outputs, attrs });

const vals = (v: Value | undefined) => Array.from((v as Tensor).data as ArrayLike<number | bigint>);
const seqVals = (v: Value | undefined) => (v as TensorSequence).tensors.map((t) => ({ dims: [...t.dims], data: vals(t) }));

async function run(g: Graph, feeds: Record<string, Value>, backend: 'reference' | 'wasm' = 'reference'): Promise<Record<string, Value>> {
  return (await InferenceSession.create(g, { backend })).runValues(feeds);
}

describe('sequence ops', () => {
  it('construct, insert, erase, read and count', async () => {
    const g: Graph = {
      ...emptyGraph('seq'),
      inputs: [{ name: 'a', dtype: 'float32', shape: [2] }, { name: 'b', dtype: 'float32', shape: [3] }],
      outputs: [
        { name: 's3', dtype: 'float32', kind: 'sequence' }, { name: 'at', dtype: 'float32' }, { name: 'n', dtype: 'int64', shape: [] },
      ],
      initializers: new Map([['front', i64([-2], [])], ['last', i64([-1], [])]]),
      nodes: [
        node('SequenceConstruct', ['a', 'b'], ['s1']),
        node('SequenceInsert', ['s1', 'b', 'front'], ['s2']), // position -2 of 2 is the front: [b, a, b]
        node('SequenceErase', ['s2'], ['s3']), // drops the last: [b, a]
        node('SequenceAt', ['s3', 'last'], ['at']),
        node('SequenceLength', ['s3'], ['n']),
      ],
    };
    const out = await run(g, { a: f32([1, 2], [2]), b: f32([3, 4, 5], [3]) });
    expect(seqVals(out.s3)).toEqual([{ dims: [3], data: [3, 4, 5] }, { dims: [2], data: [1, 2] }]);
    expect(vals(out.at)).toEqual([1, 2]);
    expect(vals(out.n)).toEqual([2n]);
  });

  it('splits to a sequence and concatenates or stacks back', async () => {
    const x = f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]);
    const g: Graph = {
      ...emptyGraph('split'),
      inputs: [{ name: 'x', dtype: 'float32', shape: [5, 2] }],
      outputs: ['parts', 'whole', 'rows', 'stacked'].map((name) => ({ name, dtype: 'float32', ...(name === 'parts' || name === 'rows' ? { kind: 'sequence' as const } : {}) })),
      initializers: new Map([['two', i64([2], [])]]),
      nodes: [
        node('SplitToSequence', ['x', 'two'], ['parts']), // pieces of 2, 2, 1 rows
        node('ConcatFromSequence', ['parts'], ['whole'], { axis: 0 }),
        node('SplitToSequence', ['x'], ['rows'], { axis: 1, keepdims: 0 }), // two columns of 5
        node('ConcatFromSequence', ['rows'], ['stacked'], { axis: -1, new_axis: 1 }),
      ],
    };
    const out = await run(g, { x });
    expect(seqVals(out.parts).map((p) => p.dims)).toEqual([[2, 2], [2, 2], [1, 2]]);
    expect(vals(out.whole)).toEqual(vals(x));
    expect(seqVals(out.rows)).toEqual([{ dims: [5], data: [1, 3, 5, 7, 9] }, { dims: [5], data: [2, 4, 6, 8, 10] }]);
    expect((out.stacked as Tensor).dims).toEqual([5, 2]);
    expect(vals(out.stacked)).toEqual(vals(x));
  });

  it('maps a body over sequence elements with a tensor alongside', async () => {
    const body: Graph = {
      ...emptyGraph('body'),
      inputs: [{ name: 'e', dtype: 'float32', untyped: true }, { name: 'k', dtype: 'float32', untyped: true }],
      outputs: [{ name: 'y', dtype: 'float32', untyped: true }],
      nodes: [node('Mul', ['e', 'k'], ['y'])],
    };
    const g: Graph = {
      ...emptyGraph('map'),
      inputs: [{ name: 's', dtype: 'float32', kind: 'sequence' }, { name: 'k', dtype: 'float32', shape: [] }],
      outputs: [{ name: 'out', dtype: 'float32', kind: 'sequence' }],
      nodes: [node('SequenceMap', ['s', 'k'], ['out'], { body })],
    };
    const s = new TensorSequence('float32', [f32([1, 2], [2]), f32([3], [1])]);
    const out = await run(g, { s, k: f32([10], []) }, 'wasm');
    expect(seqVals(out.out)).toEqual([{ dims: [2], data: [10, 20] }, { dims: [1], data: [30] }]);
  });

  it('rejects bad positions and element dtypes', async () => {
    const g: Graph = {
      ...emptyGraph('bad'),
      inputs: [{ name: 's', dtype: 'float32', kind: 'sequence' }, { name: 'p', dtype: 'int64', shape: [] }],
      outputs: [{ name: 't', dtype: 'float32' }],
      nodes: [node('SequenceAt', ['s', 'p'], ['t'])],
    };
    const s = new TensorSequence('float32', [f32([1], [1])]);
    await expect(run(g, { s, p: i64([1], []) })).rejects.toThrow(/position 1 is out of range \[-1, 0\]/);
    await expect(run(g, { s: new TensorSequence('int64', []), p: i64([0], []) })).rejects.toThrow(/must be a sequence of float32/);
    const session = await InferenceSession.create(g, { backend: 'reference' });
    await expect(session.run({ s: f32([1], [1]) as never, p: i64([0], []) })).rejects.toThrow(/must be a sequence of float32/);
  });
});

describe('optionals', () => {
  it('wraps, tests and unwraps, and an empty optional has no element', async () => {
    const g: Graph = {
      ...emptyGraph('opt'),
      inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
      outputs: [
        { name: 'has', dtype: 'bool', shape: [] }, { name: 'hasNot', dtype: 'bool', shape: [] },
        { name: 'back', dtype: 'float32', shape: [1] }, { name: 'none', dtype: 'int64', kind: 'optional-sequence' },
      ],
      nodes: [
        node('Optional', ['x'], ['ox']),
        node('OptionalHasElement', ['ox'], ['has']),
        node('Optional', [], ['none'], { type: 'seq(tensor(int64))' }),
        node('OptionalHasElement', ['none'], ['hasNot']),
        node('OptionalGetElement', ['ox'], ['back']),
      ],
    };
    const out = await run(g, { x: f32([7], [1]) });
    expect(vals(out.has)).toEqual([1]);
    expect(vals(out.hasNot)).toEqual([0]);
    expect(vals(out.back)).toEqual([7]);
    const none = out.none as OptionalValue;
    expect(none.value).toBeUndefined();
    expect([none.elemType, none.holdsSequence]).toEqual(['int64', true]);
    // run() is for tensors only and says where sequences and optionals go.
    const session = await InferenceSession.create(g, { backend: 'wasm' });
    await expect(session.run({ x: f32([7], [1]) })).rejects.toThrow(/'none' is a optional sequence\(int64\); use runValues/);
  });

  it('fails to unwrap an empty optional', async () => {
    const g: Graph = {
      ...emptyGraph('empty'),
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [node('Optional', [], ['o'], { type: 'tensor(float32)' }), node('OptionalGetElement', ['o'], ['y'])],
    };
    await expect(run(g, {})).rejects.toThrow(/the optional is empty/);
  });
});

describe('sequence values in the formats', () => {
  it('decodes SequenceProto and OptionalProto test data', () => {
    const tensor = (v: number) => ({ dims: [1], dataType: 1, floatData: [v] });
    const seqBytes = SequenceProtoType.encode(SequenceProtoType.fromObject({ elemType: 1, tensorValues: [tensor(1), tensor(2)] })).finish();
    expect(seqVals(decodeValueProto(seqBytes, { dtype: 'float32', kind: 'sequence' }))).toEqual([{ dims: [1], data: [1] }, { dims: [1], data: [2] }]);
    const optBytes = OptionalProtoType.encode(OptionalProtoType.fromObject({ elemType: 1, tensorValue: tensor(3) })).finish();
    expect(vals((decodeValueProto(optBytes, { dtype: 'float32', kind: 'optional' }) as OptionalValue).value)).toEqual([3]);
    const empty = OptionalProtoType.encode(OptionalProtoType.fromObject({})).finish();
    expect((decodeValueProto(empty, { dtype: 'float32', kind: 'optional-sequence' }) as OptionalValue).value).toBeUndefined();
  });

  it('imports sequence types, untyped subgraph inputs and type attributes from ONNX', async () => {
    const seqType = { sequenceType: { elemType: { tensorType: { elemType: 1 } } } };
    const scalar = (elemType: number) => ({ tensorType: { elemType, shape: { dim: [] } } });
    const body = {
      name: 'body',
      input: [{ name: 'i', type: scalar(7) }, { name: 'c', type: scalar(9) }, { name: 'acc' }],
      output: [{ name: 'c_out' }, { name: 'acc_out' }],
      node: [
        { opType: 'Identity', input: ['c'], output: ['c_out'] },
        { opType: 'Cast', input: ['i'], output: ['fi'], attribute: [{ name: 'to', type: 2, i: 1 }] },
        { opType: 'SequenceInsert', input: ['acc', 'fi'], output: ['acc_out'] },
      ],
    };
    const model = ModelProtoType.encode(ModelProtoType.fromObject({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 18 }],
      graph: {
        name: 'g',
        input: [{ name: 'M', type: scalar(7) }, { name: 'start', type: seqType }],
        output: [{ name: 'res', type: seqType }, { name: 'empty', type: { optionalType: { elemType: scalar(1) } } }],
        node: [
          { opType: 'Loop', input: ['M', '', 'start'], output: ['res'], attribute: [{ name: 'body', type: 5, g: body }] },
          { opType: 'Optional', input: [], output: ['empty'], attribute: [{ name: 'type', type: 13, tp: scalar(1) }] },
        ],
      },
    })).finish();
    const g = importOnnx(model);
    expect(g.inputs[1]).toEqual({ name: 'start', dtype: 'float32', kind: 'sequence' });
    expect(g.nodes[1]!.attrs.type).toBe('tensor(float32)');
    const loop = g.nodes[0]!.attrs.body as Graph;
    expect(loop.inputs[2]!.untyped).toBe(true);
    for (const graph of [g, loadKiln(saveKiln(g))]) {
      const out = await run(graph, { M: i64([3], []), start: new TensorSequence('float32', [f32([9], [])]) }, 'wasm');
      expect(seqVals(out.res).map((e) => e.data[0])).toEqual([9, 0, 1, 2]);
      expect((out.empty as OptionalValue).value).toBeUndefined();
    }
  });
});
