// Seed models for the fuzzer: mnist-8 from assets, the small conformance models when the shared
// folder is present (with their recorded inputs), and a few hand-made graphs whose weights are
// initializers, so that reshaping an initializer reaches the op's shape rule (Conv and QLinearConv
// biases, Gemm's C, BatchNormalization's statistics).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelProtoType } from '../../src/io/onnx/schema.js';

export interface Seed {
  name: string;
  onnx: Uint8Array;
  /** Serialized TensorProtos of the recorded inputs, in graph input order, when there are any. */
  inputs?: Uint8Array[];
}

const ROOT = new URL('../../', import.meta.url).pathname;
const CONFORMANCE = join(ROOT, '../shared/conformance');
/** Larger models cost more per case than they add. */
const MAX_SEED_BYTES = 300_000;

type Obj = Record<string, unknown>;
const f32 = (name: string, dims: number[], values?: number[]): Obj => {
  const n = dims.reduce((a, b) => a * b, 1);
  return { name, dataType: 1, dims, floatData: values ?? Array.from({ length: n }, (_, i) => ((i * 37) % 11) / 10 - 0.5) };
};
const scalar = (name: string, dataType: number, v: number): Obj =>
  dataType === 1 ? { name, dataType, dims: [], floatData: [v] } : { name, dataType, dims: [], int32Data: [v] };
const vi = (name: string, elemType: number, dims: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

function model(nodes: Obj[], inputs: Obj[], outputs: Obj[], initializer: Obj[], opset = 17): Uint8Array {
  const msg = ModelProtoType.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: 'seed', node: nodes.map((n, i) => ({ name: `n${i}`, domain: '', ...n })), input: inputs, output: outputs, initializer },
  });
  return ModelProtoType.encode(msg).finish();
}

function handMade(): Seed[] {
  const conv = model(
    [{ opType: 'Conv', input: ['x', 'w', 'b'], output: ['y'], attribute: [{ name: 'pads', type: 7, ints: [1, 1, 1, 1] }, { name: 'group', type: 2, i: 1 }] }],
    [vi('x', 1, [1, 2, 5, 5])], [vi('y', 1, [1, 3, 5, 5])], [f32('w', [3, 2, 3, 3]), f32('b', [3])],
  );
  const qconv = model(
    [{ opType: 'QLinearConv', input: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', 'b'], output: ['y'] }],
    [vi('x', 2, [1, 2, 4, 4])], [vi('y', 2, [1, 3, 2, 2])],
    [
      scalar('xs', 1, 0.05), scalar('xz', 2, 128), { name: 'w', dataType: 2, dims: [3, 2, 3, 3], int32Data: Array.from({ length: 54 }, (_, i) => (i * 29) % 256) },
      scalar('ws', 1, 0.02), scalar('wz', 2, 120), scalar('ys', 1, 0.1), scalar('yz', 2, 100), { name: 'b', dataType: 6, dims: [3], int32Data: [10, -20, 30] },
    ],
  );
  const gemm = model(
    [{ opType: 'Gemm', input: ['x', 'w', 'c'], output: ['y'], attribute: [{ name: 'transB', type: 2, i: 1 }] }],
    [vi('x', 1, [2, 4])], [vi('y', 1, [2, 3])], [f32('w', [3, 4]), f32('c', [3])],
  );
  const bn = model(
    [{ opType: 'BatchNormalization', input: ['x', 's', 'bias', 'mean', 'var'], output: ['y'] }],
    [vi('x', 1, [1, 3, 2, 2])], [vi('y', 1, [1, 3, 2, 2])],
    [f32('s', [3]), f32('bias', [3]), f32('mean', [3]), f32('var', [3], [1, 2, 3])],
  );
  const convT = model(
    [{ opType: 'ConvTranspose', input: ['x', 'w', 'b'], output: ['y'], attribute: [{ name: 'strides', type: 7, ints: [2, 2] }] }],
    [vi('x', 1, [1, 2, 3, 3])], [vi('y', 1, [1, 4, 7, 7])], [f32('w', [2, 4, 3, 3]), f32('b', [4])],
  );
  const pool = model(
    [{ opType: 'MaxPool', input: ['x'], output: ['y'], attribute: [{ name: 'kernel_shape', type: 7, ints: [2, 2] }, { name: 'strides', type: 7, ints: [2, 2] }] }],
    [vi('x', 1, [1, 2, 4, 4])], [vi('y', 1, [1, 2, 2, 2])], [],
  );
  // Control flow: edits reach the branches and bodies (apply.ts walks subgraphs) and the
  // planner's handling of them; the conformance set has no If/Loop models.
  const graph = (name: string, nodes: Obj[], inputs: Obj[], outputs: Obj[], initializer: Obj[] = []): Obj => ({
    name, node: nodes.map((n, i) => ({ name: `${name}_n${i}`, domain: '', ...n })), input: inputs, output: outputs, initializer,
  });
  const ifModel = model(
    [{
      opType: 'If', input: ['c'], output: ['y'], attribute: [
        { name: 'then_branch', type: 5, g: graph('then', [{ opType: 'Add', input: ['x', 'one'], output: ['t'] }], [], [vi('t', 1, [2, 3])], [f32('one', [1], [1])]) },
        { name: 'else_branch', type: 5, g: graph('else', [{ opType: 'Mul', input: ['x', 'x'], output: ['e'] }], [], [vi('e', 1, [2, 3])]) },
      ],
    }],
    [vi('x', 1, [2, 3]), vi('c', 9, [])], [vi('y', 1, [2, 3])], [],
  );
  const body = graph(
    'body',
    // The condition also ends the loop (after 5 iterations), so dropping M alone does not make
    // an endless loop, which ONNX allows and which hangs any engine (see the fuzz report).
    [{ opType: 'Add', input: ['v', 'x'], output: ['v_out'] }, { opType: 'Less', input: ['i', 'five'], output: ['c_out'] }, { opType: 'Relu', input: ['v_out'], output: ['s'] }],
    [vi('i', 7, []), vi('c_in', 9, []), vi('v', 1, [2])], [vi('c_out', 9, []), vi('v_out', 1, [2]), vi('s', 1, [2])],
    [{ name: 'five', dataType: 7, dims: [], int64Data: [5] }],
  );
  const loop = model(
    [{ opType: 'Loop', input: ['m', 'cond', 'v0'], output: ['v_final', 'scan'], attribute: [{ name: 'body', type: 5, g: body }] }],
    [vi('x', 1, [2]), vi('v0', 1, [2])], [vi('v_final', 1, [2]), vi('scan', 1, [3, 2])],
    [{ name: 'm', dataType: 7, dims: [], int64Data: [3] }, { name: 'cond', dataType: 9, dims: [], int32Data: [1] }],
  );
  return [
    { name: 'hand/if', onnx: ifModel }, { name: 'hand/loop', onnx: loop },
    { name: 'hand/conv-bias', onnx: conv }, { name: 'hand/qlinearconv-bias', onnx: qconv }, { name: 'hand/gemm-c', onnx: gemm },
    { name: 'hand/batchnorm', onnx: bn }, { name: 'hand/convtranspose-bias', onnx: convT }, { name: 'hand/maxpool', onnx: pool },
  ];
}

function conformanceSeeds(): Seed[] {
  if (!existsSync(CONFORMANCE)) return [];
  const out: Seed[] = [];
  for (const suite of readdirSync(CONFORMANCE).sort()) {
    const dir = join(CONFORMANCE, suite);
    if (!statSync(dir).isDirectory()) continue;
    for (const test of readdirSync(dir).sort()) {
      const file = join(dir, test, 'model.onnx');
      if (!existsSync(file) || statSync(file).size > MAX_SEED_BYTES) continue;
      const data = join(dir, test, 'test_data_set_0');
      const inputs: Uint8Array[] = [];
      for (let i = 0; existsSync(data) && existsSync(join(data, `input_${i}.pb`)); i++) inputs.push(readFileSync(join(data, `input_${i}.pb`)));
      out.push({ name: `${suite}/${test}`, onnx: readFileSync(file), inputs });
    }
  }
  return out;
}

/** All seeds, in a stable order (plans pick them by index modulo the count). */
export function loadSeeds(): Seed[] {
  const mnist: Seed = { name: 'assets/mnist-8', onnx: readFileSync(join(ROOT, 'assets/mnist-8.onnx')) };
  return [mnist, ...handMade(), ...conformanceSeeds()];
}
