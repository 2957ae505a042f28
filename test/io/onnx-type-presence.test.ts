// Presence of optional protobuf fields in the ONNX importer: protobufjs reads an absent `bytes`
// field as an empty array and an absent int64 as a zero Long, which must not count as "set".
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/io/onnx/import.js';
import { ModelProtoType } from '../../src/io/onnx/schema.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import '../../src/ops/index.js';

const FLOAT = 1;
const BOOL = 9;
const tensorInfo = (name: string, elemType: number, dim: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dim.map((d) => ({ dimValue: d })) } } } });

/** y = If(c) then x + 1 else x * 2, with each branch output declared by `branchOutput`. */
function ifModel(branchOutput: Record<string, unknown>, mainOutput: Record<string, unknown> = tensorInfo('y', FLOAT, [3])): Uint8Array {
  const one = { name: 'k', dataType: FLOAT, dims: [], floatData: [1] };
  const two = { name: 'k2', dataType: FLOAT, dims: [], floatData: [2] };
  const branch = (name: string, op: string, k: Record<string, unknown>) => ({
    name, node: [{ name: `${name}_op`, opType: op, input: ['x', k.name], output: ['r'] }],
    initializer: [k], output: [{ name: 'r', ...branchOutput }],
  });
  return ModelProtoType.encode(ModelProtoType.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'main',
      node: [{
        name: 'if', opType: 'If', input: ['c'], output: ['y'],
        attribute: [
          { name: 'then_branch', type: 5, g: branch('then', 'Add', one) },
          { name: 'else_branch', type: 5, g: branch('else', 'Mul', two) },
        ],
      }],
      input: [tensorInfo('c', BOOL, []), tensorInfo('x', FLOAT, [3])],
      output: [mainOutput],
    },
  })).finish();
}

describe('ONNX import: field presence', () => {
  it('an empty TypeProto on a subgraph output is untyped (as onnxruntime accepts)', async () => {
    const g = importOnnx(ifModel({ type: {} }));
    const then = g.nodes[0]!.attrs['then_branch'] as { outputs: { untyped?: boolean }[] };
    expect(then.outputs[0]!.untyped).toBe(true);
    const s = await InferenceSession.create(g, { backend: 'reference' });
    const x = new Tensor('float32', new Float32Array([1, 2, 3]), [3]);
    const yes = await s.run({ c: new Tensor('bool', new Uint8Array([1]), []), x });
    expect(Array.from(yes['y']!.data as Float32Array)).toEqual([2, 3, 4]);
    const no = await s.run({ c: new Tensor('bool', new Uint8Array([0]), []), x });
    expect(Array.from(no['y']!.data as Float32Array)).toEqual([2, 4, 6]);
  });

  it('a subgraph output with no TypeProto at all is untyped too', () => {
    const g = importOnnx(ifModel({}));
    const then = g.nodes[0]!.attrs['then_branch'] as { outputs: { untyped?: boolean }[] };
    expect(then.outputs[0]!.untyped).toBe(true);
  });

  it('a map type on a subgraph output is still refused by name', () => {
    expect(() => importOnnx(ifModel({ type: { mapType: new Uint8Array([8, 1]) } }))).toThrow(/sub.*'then' output 'r'.*map and sparse types are not/);
  });

  it('an empty TypeProto on a main graph output is a clear error', () => {
    expect(() => importOnnx(ifModel({ type: {} }, { name: 'y', type: {} }))).toThrow(/graph output 'y': has no tensor type/);
  });

  it('an untyped attribute (old exporters) holding a float is read as a float, not as the absent int', () => {
    const bytes = ModelProtoType.encode(ModelProtoType.fromObject({
      irVersion: 3,
      opsetImport: [{ domain: '', version: 6 }],
      graph: {
        name: 'main',
        node: [{ name: 'lr', opType: 'LeakyRelu', input: ['x'], output: ['y'], attribute: [{ name: 'alpha', f: 0.25 }] }],
        input: [tensorInfo('x', FLOAT, [2])],
        output: [tensorInfo('y', FLOAT, [2])],
      },
    })).finish();
    expect(importOnnx(bytes).nodes[0]!.attrs['alpha']).toBe(0.25);
  });

  const v5 = new URL('../../node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx', import.meta.url);
  it.skipIf(!existsSync(v5))('imports silero_vad_v5 (If branches with empty output types)', () => {
    const g = importOnnx(readFileSync(v5));
    expect(g.nodes.map((n) => n.op)).toContain('If');
    expect(g.outputs.map((v) => v.name)).toEqual(['output', 'stateN']);
  });
});
