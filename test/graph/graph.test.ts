import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import { emptyGraph } from '../../src/graph/ir.js';
import { topoSort } from '../../src/graph/topo.js';
import { verifyGraph } from '../../src/graph/verify.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import '../../src/ops/index.js';

const w = (rows: number, cols: number, f = (i: number) => ((i % 7) - 3) / 10) =>
  new Tensor('float32', Float32Array.from({ length: rows * cols }, (_, i) => f(i)), [rows, cols]);

describe('GraphBuilder', () => {
  it('builds an MLP with a symbolic batch dimension and runs it', async () => {
    const b = new GraphBuilder('mlp');
    const x = b.input('x', 'float32', ['N', 4]);
    const h = b.op('Relu', [b.op('Gemm', [x, b.constant('w1', w(3, 4)), b.constant('b1', w(1, 3))], { transB: 1 })]);
    const y = b.op('Softmax', [b.op('MatMul', [h, b.constant('w2', w(3, 2))])], { axis: -1 });
    b.output(y);
    const g = b.build();
    expect(g.outputs[0]).toMatchObject({ dtype: 'float32', shape: ['N', 2] });
    const s = await InferenceSession.create(g, { backend: 'reference' });
    const out = await s.run({ x: new Tensor('float32', Float32Array.from({ length: 12 }, (_, i) => i / 4), [3, 4]) });
    const p = out[y]!.data as Float32Array;
    expect(out[y]!.dims).toEqual([3, 2]);
    for (let r = 0; r < 3; r++) expect(p[2 * r]! + p[2 * r + 1]!).toBeCloseTo(1, 6);
  });

  it('rejects a node with the wrong dtype and an unknown attribute', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'int32', [2]);
    b.output(b.op('Sigmoid', [x]));
    expect(() => b.build()).toThrow(/input 'X' has dtype int32/);
    const c = new GraphBuilder();
    c.output(c.op('Relu', [c.input('x', 'float32', [2])], { alpha: 1 }));
    expect(() => c.build()).toThrow(/unknown attribute 'alpha'/);
  });

  it('rejects shape mismatches during inference', () => {
    const b = new GraphBuilder();
    b.output(b.op('MatMul', [b.input('a', 'float32', [2, 3]), b.input('b', 'float32', [4, 5])]));
    expect(() => b.build()).toThrow(/MatMul/);
  });
});

describe('verifyGraph and topoSort', () => {
  it('finds double definitions, dangling inputs, cycles and missing outputs', () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'x', dtype: 'float32', shape: [2] }];
    g.nodes = [
      { name: 'a', op: 'Relu', domain: '', inputs: ['x'], outputs: ['y'], attrs: {} },
      { name: 'b', op: 'Relu', domain: '', inputs: ['x'], outputs: ['y'], attrs: {} },
    ];
    g.outputs = [{ name: 'y', dtype: 'float32' }];
    expect(() => verifyGraph(g)).toThrow(/value 'y' is defined twice/);
    g.nodes = [{ name: 'a', op: 'Relu', domain: '', inputs: ['ghost'], outputs: ['y'], attrs: {} }];
    expect(() => verifyGraph(g)).toThrow(/input 'ghost' is not produced/);
    g.nodes = [
      { name: 'a', op: 'Add', domain: '', inputs: ['x', 'z'], outputs: ['y'], attrs: {} },
      { name: 'b', op: 'Relu', domain: '', inputs: ['y'], outputs: ['z'], attrs: {} },
    ];
    expect(() => topoSort(g)).toThrow(/cycle/);
    g.nodes = [];
    expect(() => verifyGraph(g)).toThrow(/graph output 'y' is not produced/);
  });

  it('orders nodes so producers come first', () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'x', dtype: 'float32', shape: [2] }];
    g.nodes = [
      { name: 'second', op: 'Relu', domain: '', inputs: ['t'], outputs: ['y'], attrs: {} },
      { name: 'first', op: 'Neg', domain: '', inputs: ['x'], outputs: ['t'], attrs: {} },
    ];
    expect(topoSort(g).map((n) => n.name)).toEqual(['first', 'second']);
  });

  it('checks declared output types against inference', () => {
    const g = emptyGraph();
    g.inputs = [{ name: 'x', dtype: 'float32', shape: ['N', 3] }];
    g.nodes = [{ name: 'a', op: 'Relu', domain: '', inputs: ['x'], outputs: ['y'], attrs: {} }];
    g.outputs = [{ name: 'y', dtype: 'int32' }];
    expect(() => verifyGraph(g)).toThrow(/declared int32 but computes float32/);
    g.outputs = [{ name: 'y', dtype: 'float32', shape: ['N', 4] }];
    expect(() => verifyGraph(g)).toThrow(/declared \[N, 4\] but computes \[N, 3\]/);
  });

  it('folds shape computations to concrete dims (Shape -> Gather -> Reshape)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3, 4]);
    const shape = b.op('Shape', [x]);
    const first = b.op('Gather', [shape, b.constant('idx', new Tensor('int64', BigInt64Array.of(0n), [1]))], { axis: 0 });
    const target = b.op('Concat', [first, b.constant('rest', new Tensor('int64', BigInt64Array.of(-1n), [1]))], { axis: 0 });
    b.output(b.op('Reshape', [x, target]));
    expect(b.build().outputs[0]!.shape).toEqual([2, 12]);
  });
});
