// Model-level fields onnxruntime refuses and Kiln used to run: each must be a clear Error naming
// the field, never a TypeError from a prototype lookup or a silently chosen value.
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/io/onnx/import.js';
import { verifyGraph } from '../../src/graph/verify.js';
import { ModelProtoType } from '../../src/io/onnx/schema.js';
import '../../src/ops/index.js';
import protobuf from 'protobufjs/light.js';
import { expectClearError } from '../helpers/clear-error.js';

type Obj = Record<string, unknown>;

/** A float32 [2] x -> op -> y model as a plain object, for tests to edit before encoding. */
function model(op = 'Relu', attrs: Obj[] = []): Obj {
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } });
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [{ name: 'n0', opType: op, domain: '', input: ['x'], output: ['y'], attribute: attrs }],
      input: [vi('x')],
      output: [vi('y')],
      initializer: [] as Obj[],
    },
  };
}

const encode = (m: Obj) => ModelProtoType.encode(ModelProtoType.fromObject(m)).finish();
const load = (m: Obj) => verifyGraph(importOnnx(encode(m)));

describe('ONNX import refuses what onnxruntime refuses', () => {
  it('accepts the unmodified model', () => {
    expect(() => load(model())).not.toThrow();
  });

  it('duplicate initializer names', () => {
    const m = model('Add');
    const g = m.graph as Obj;
    (g.node as Obj[])[0]!.input = ['x', 'w'];
    g.initializer = [
      { name: 'w', dataType: 1, dims: [2], floatData: [1, 2] },
      { name: 'w', dataType: 1, dims: [2], floatData: [3, 4] },
    ];
    expectClearError(() => load(m), /initializer 'w' appears twice/);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('op_type %s is an unsupported op, not a prototype lookup', (op) => {
    expectClearError(() => load(model(op)), new RegExp(`unsupported op '${op}'`));
  });

  it.each(['__proto__', 'constructor', 'valueOf'])('attribute name %s is an unknown attribute', (name) => {
    expectClearError(() => load(model('Relu', [{ name, type: 2, i: 1 }])), new RegExp(`unknown attribute '${name}'`));
  });

  it.each(['__proto__', 'constructor'])('domain %s is an unknown domain, not a prototype lookup', (domain) => {
    const m = model();
    ((m.graph as Obj).node as Obj[])[0]!.domain = domain;
    expectClearError(() => load(m), new RegExp(`domain '${domain}' which the model does not import`));
    (m.opsetImport as Obj[]).push({ domain, version: 1 });
    expectClearError(() => load(m), /unsupported op 'Relu'/);
  });

  it('a node with the same attribute twice', () => {
    expectClearError(() => load(model('LeakyRelu', [{ name: 'alpha', type: 1, f: 0.1 }, { name: 'alpha', type: 1, f: 0.2 }])), /attribute 'alpha' twice/);
  });

  it.each([0, -1, 1001, 2 ** 40])('opset version %d', (version) => {
    const m = model();
    m.opsetImport = [{ domain: '', version }];
    expectClearError(() => load(m), /opset_import for domain 'ai.onnx'.*(version|safe range)/);
  });

  it('no opset_import, or one domain twice', () => {
    const m = model();
    m.opsetImport = [];
    expectClearError(() => load(m), /imports no opset/);
    m.opsetImport = [{ domain: '', version: 17 }, { domain: 'ai.onnx', version: 13 }];
    expectClearError(() => load(m), /domain 'ai.onnx' appears twice/);
  });

  it.each([0, -3, 101])('ir_version %d', (irVersion) => {
    const m = model();
    m.irVersion = irVersion;
    expectClearError(() => load(m), /ir_version/);
  });

  it('a missing ir_version', () => {
    const m = model();
    delete m.irVersion;
    expectClearError(() => load(m), /has no ir_version/);
  });

  it('an attribute whose declared type disagrees with the field holding its value', () => {
    expectClearError(() => load(model('LeakyRelu', [{ name: 'alpha', type: 2, f: 0.5 }])), /alpha'.*declared INT but holds a FLOAT value/);
    expectClearError(() => load(model('LeakyRelu', [{ name: 'alpha', type: 1, ints: [1, 2] }])), /declared FLOAT but holds a INTS value/);
    // Untyped attributes (old exporters) still infer their type from the field set.
    expect(() => load(model('LeakyRelu', [{ name: 'alpha', f: 0.5 }]))).not.toThrow();
  });
});

describe('ONNX subgraph nesting', () => {
  it('refuses subgraphs nested deeper than 64 levels with an Error, not a stack overflow', () => {
    const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } });
    let body: Obj = { name: 'leaf', node: [], output: [vi('x')] };
    for (let i = 0; i < 100; i++) {
      body = { name: `b${i}`, output: [vi(`y${i}`)], node: [{ name: `if${i}`, opType: 'If', input: ['c'], output: [`y${i}`], attribute: [
        { name: 'then_branch', type: 5, g: body }, { name: 'else_branch', type: 5, g: { name: `e${i}`, node: [], output: [vi('x')] } },
      ] }] };
    }
    const m = model();
    ((m.graph as Obj).node as Obj[]).push(...((body.node as Obj[])));
    // protobufjs bounds message nesting at 100 both ways; raise it to write the file.
    const limit = protobuf.util.recursionLimit;
    protobuf.util.recursionLimit = 10_000;
    let bytes: Uint8Array;
    try {
      bytes = encode(m);
    } finally {
      protobuf.util.recursionLimit = limit;
    }
    expectClearError(() => importOnnx(bytes), /ONNX import: malformed or truncated model file \(max depth exceeded\)|subgraphs nest more than 64/);
  });
});
