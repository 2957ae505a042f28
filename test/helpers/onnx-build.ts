// Writes small ONNX models in tests (protobufjs encoding of hand-written ModelProto objects).
import { ModelProtoType } from '../../src/io/onnx/schema.js';

export interface TinyNode { op: string; inputs: string[]; outputs: string[]; domain?: string; attrs?: Record<string, unknown>[] }
export interface TinyModel {
  opset?: number;
  inputs: { name: string; elemType: number; dims: (number | string)[] }[];
  outputs: { name: string; elemType: number; dims?: (number | string)[] }[];
  nodes: TinyNode[];
  initializers?: Record<string, unknown>[];
  extraOpsets?: { domain: string; version: number }[];
}

function valueInfo(v: { name: string; elemType: number; dims?: (number | string)[] }) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        ...(v.dims ? { shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  };
}

export function encodeModel(m: TinyModel): Uint8Array {
  const msg = ModelProtoType.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: m.opset ?? 17 }, ...(m.extraOpsets ?? [])],
    graph: {
      name: 'tiny',
      node: m.nodes.map((n, i) => ({ name: `n${i}`, opType: n.op, domain: n.domain ?? '', input: n.inputs, output: n.outputs, attribute: n.attrs ?? [] })),
      input: m.inputs.map(valueInfo),
      output: m.outputs.map(valueInfo),
      initializer: m.initializers ?? [],
    },
  });
  return ModelProtoType.encode(msg).finish();
}

/** x[dims] float32 -> Relu -> y: the smallest useful model. */
export function reluModel(dims: (number | string)[] = ['N', 4]): Uint8Array {
  return encodeModel({
    inputs: [{ name: 'x', elemType: 1, dims }],
    outputs: [{ name: 'y', elemType: 1, dims }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  });
}
