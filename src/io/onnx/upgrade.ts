// Rewrites nodes from older ai.onnx opsets into the latest form Kiln's ops implement.
// Attributes that later opsets turned into inputs become initializers; changed semantics become
// equivalent subgraphs. Nodes of other domains pass through unchanged.
import { emptyGraph, isGraphAttr, ONNX_DOMAIN, type AttrValue, type Graph, type Node } from '../../graph/ir.js';
import { Tensor } from '../../tensor/tensor.js';

type Upgrade = (node: Node, opset: number, graph: Graph) => Node[];

function int64Const(graph: Graph, node: Node, label: string, values: readonly number[]): string {
  const name = uniqueName(graph, `${node.name}__${label}`);
  graph.initializers.set(name, new Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]));
  return name;
}

function int64Scalar(graph: Graph, node: Node, label: string, value: number): string {
  const name = uniqueName(graph, `${node.name}__${label}`);
  graph.initializers.set(name, new Tensor('int64', BigInt64Array.of(BigInt(value)), []));
  return name;
}

function float32Scalar(graph: Graph, node: Node, label: string, value: number): string {
  const name = uniqueName(graph, `${node.name}__${label}`);
  graph.initializers.set(name, new Tensor('float32', Float32Array.of(value), []));
  return name;
}

function uniqueName(graph: Graph, base: string): string {
  let name = base;
  for (let i = 1; graph.initializers.has(name); i++) name = `${base}_${i}`;
  return name;
}

/** Moves an ints attribute to input slot `slot` (padding skipped optional slots with ''). */
function attrToInput(node: Node, graph: Graph, attr: string, slot: number, single = false): void {
  const v = node.attrs[attr];
  if (v === undefined) return;
  const list = single && typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list)) throw new Error(`node '${node.name}' (${node.op}): attribute '${attr}' must be a list of ints`);
  delete node.attrs[attr];
  while (node.inputs.length < slot) node.inputs.push('');
  node.inputs[slot] = int64Const(graph, node, attr, list as number[]);
}

function drop(node: Node, ...attrs: string[]): void {
  for (const a of attrs) delete node.attrs[a];
}

/** Opset < 7 arithmetic carried numpy-incompatible `broadcast`/`axis` attributes. */
const legacyBroadcast: Upgrade = (node, opset) => {
  if (opset < 7) {
    if (node.attrs.axis !== undefined && node.attrs.broadcast === 1) {
      throw new Error(`node '${node.name}' (ai.onnx::${node.op}, opset ${opset}): legacy broadcasting with an explicit axis is not supported`);
    }
    drop(node, 'broadcast', 'axis', 'consumed_inputs');
  }
  return [node];
};

const reduceAxes = (lastAttrOpset: number): Upgrade => (node, opset, graph) => {
  if (opset < lastAttrOpset) attrToInput(node, graph, 'axes', 1);
  return [node];
};

/** Softmax-family before opset 13: coerce to 2-D at `axis` (default 1), normalize each row. */
const legacySoftmax: Upgrade = (node, opset) => {
  if (opset >= 13) return [node];
  const axis = (node.attrs.axis as number | undefined) ?? 1;
  const x = node.inputs[0]!;
  const y = node.outputs[0]!;
  const flat = `${node.name}__flat`;
  const shape = `${node.name}__shape`;
  const inner = `${node.name}__inner`;
  return [
    { name: `${node.name}__shape_of`, op: 'Shape', domain: ONNX_DOMAIN, inputs: [x], outputs: [shape], attrs: {} },
    { name: `${node.name}__flatten`, op: 'Flatten', domain: ONNX_DOMAIN, inputs: [x], outputs: [flat], attrs: { axis } },
    { ...node, name: node.name, inputs: [flat], outputs: [inner], attrs: { axis: 1 } },
    { name: `${node.name}__reshape`, op: 'Reshape', domain: ONNX_DOMAIN, inputs: [inner, shape], outputs: [y], attrs: {} },
  ];
};

/**
 * PRelu before opset 7 applied a 1-D slope of C values per channel (axis 1), not numpy-style to the
 * last axis. Reshape such a slope to [C, 1, ..., 1] with rank(X) - 1 dims, computed in the graph so
 * that it works for any rank; shape inference folds it to a constant.
 */
const legacyPRelu: Upgrade = (node, opset, graph) => {
  const slope = graph.initializers.get(node.inputs[1] ?? '');
  if (opset >= 7 || !slope || slope.dims.length !== 1 || slope.size === 1) return [node];
  const p = (s: string) => `${node.name}__${s}`;
  const n = (op: string, inputs: string[], out: string, attrs: Record<string, AttrValue> = {}): Node =>
    ({ name: p(`${out}_node`), op, domain: ONNX_DOMAIN, inputs, outputs: [p(out)], attrs });
  const two = int64Const(graph, node, 'two', [2]);
  const channels = int64Const(graph, node, 'channels', [slope.size]);
  const one = new Tensor('int64', BigInt64Array.of(1n), [1]);
  return [
    n('Shape', [node.inputs[0]!], 'xshape'),
    n('Shape', [p('xshape')], 'xrank'),
    n('Sub', [p('xrank'), two], 'nones'),
    n('ConstantOfShape', [p('nones')], 'ones', { value: one }),
    n('Concat', [channels, p('ones')], 'slopeshape', { axis: 0 }),
    n('Reshape', [node.inputs[1]!, p('slopeshape')], 'slope'),
    { ...node, inputs: [node.inputs[0]!, p('slope')] },
  ];
};

/**
 * Scan before opset 9 had a leading batch axis on every input and output and an optional
 * sequence_lens. Without sequence_lens it is a Scan over the batch whose body is the opset-9 Scan
 * of one batch entry: states and scan inputs become the outer scan's inputs, sliced along axis 0.
 */
const legacyScan: Upgrade = (node, opset) => {
  if (opset >= 9) return [node];
  const where = `node '${node.name}' (ai.onnx::Scan, opset ${opset})`;
  if ((node.inputs[0] ?? '') !== '') throw new Error(`${where}: sequence_lens is not supported`);
  const body = node.attrs.body;
  const M = node.attrs.num_scan_inputs;
  if (!isGraphAttr(body) || typeof M !== 'number') throw new Error(`${where}: needs a body graph and num_scan_inputs`);
  const values = node.inputs.slice(1);
  const N = values.length - M;
  const p = (s: string) => `${node.name}__batch_${s}`;
  const slices = values.map((_, i) => (i < N ? p(`state${i}`) : p(`scan${i - N}`)));
  const results = body.outputs.map((_, i) => (i < N ? p(`final${i}`) : p(`out${i - N}`)));
  const inner: Node = {
    name: p('scan'), op: 'Scan', domain: ONNX_DOMAIN, inputs: slices, outputs: results,
    attrs: { body, num_scan_inputs: M, ...(node.attrs.directions !== undefined ? { scan_input_directions: node.attrs.directions } : {}) },
  };
  const perBatch: Graph = {
    ...emptyGraph(p('body')),
    opsets: { ...body.opsets },
    inputs: slices.map((name) => ({ name, dtype: 'float32', untyped: true })),
    outputs: results.map((name) => ({ name, dtype: 'float32', untyped: true })),
    nodes: [inner],
  };
  return [{ ...node, inputs: values, attrs: { body: perBatch, num_scan_inputs: values.length } }];
};

const UPGRADES: Record<string, Upgrade> = {
  Scan: legacyScan,
  PRelu: legacyPRelu,
  Add: legacyBroadcast, Sub: legacyBroadcast, Mul: legacyBroadcast, Div: legacyBroadcast, Pow: legacyBroadcast,
  And: legacyBroadcast, Or: legacyBroadcast, Xor: legacyBroadcast, Equal: legacyBroadcast, Greater: legacyBroadcast, Less: legacyBroadcast,
  Gemm: (node, opset) => { if (opset < 7) drop(node, 'broadcast'); return [node]; },
  Reshape: (node, opset, graph) => { if (opset < 5) { drop(node, 'consumed_inputs'); attrToInput(node, graph, 'shape', 1); } return [node]; },
  Squeeze: (node, opset, graph) => { if (opset < 13) attrToInput(node, graph, 'axes', 1); return [node]; },
  Unsqueeze: (node, opset, graph) => { if (opset < 13) attrToInput(node, graph, 'axes', 1); return [node]; },
  Slice: (node, opset, graph) => {
    if (opset < 10) {
      const axes = node.attrs.axes;
      attrToInput(node, graph, 'starts', 1);
      attrToInput(node, graph, 'ends', 2);
      if (axes !== undefined) attrToInput(node, graph, 'axes', 3);
    }
    return [node];
  },
  Split: (node, opset, graph) => {
    if (opset < 13) attrToInput(node, graph, 'split', 1);
    // Before opset 18 an absent `split` meant equal parts over the node's outputs.
    if (opset < 18 && (node.inputs[1] ?? '') === '' && node.attrs.num_outputs === undefined) node.attrs.num_outputs = node.outputs.length;
    return [node];
  },
  Clip: (node, opset, graph) => {
    if (opset < 11) {
      const min = node.attrs.min as number | undefined;
      const max = node.attrs.max as number | undefined;
      drop(node, 'min', 'max', 'consumed_inputs');
      node.inputs = [node.inputs[0]!, min !== undefined ? float32Scalar(graph, node, 'min', min) : '', max !== undefined ? float32Scalar(graph, node, 'max', max) : ''];
      while (node.inputs.length > 1 && node.inputs[node.inputs.length - 1] === '') node.inputs.pop();
    }
    return [node];
  },
  Pad: (node, opset, graph) => {
    if (opset < 11) {
      const value = (node.attrs.value as number | undefined) ?? 0;
      const pads = node.attrs.pads ?? node.attrs.paddings;
      drop(node, 'value', 'paddings');
      if (pads !== undefined) node.attrs.pads = pads;
      attrToInput(node, graph, 'pads', 1);
      node.inputs[2] = float32Scalar(graph, node, 'value', value);
    }
    return [node];
  },
  ReduceSum: reduceAxes(13),
  ReduceMean: reduceAxes(18), ReduceMax: reduceAxes(18), ReduceMin: reduceAxes(18), ReduceProd: reduceAxes(18),
  ReduceL1: reduceAxes(18), ReduceL2: reduceAxes(18), ReduceSumSquare: reduceAxes(18), ReduceLogSumExp: reduceAxes(18), ReduceLogSum: reduceAxes(18),
  Softmax: legacySoftmax, LogSoftmax: legacySoftmax,
  BatchNormalization: (node, opset) => {
    if (opset < 9) {
      if (node.attrs.spatial === 0) throw new Error(`node '${node.name}' (ai.onnx::BatchNormalization, opset ${opset}): spatial=0 is not supported`);
      drop(node, 'spatial', 'is_test', 'consumed_inputs');
    }
    return [node];
  },
  Concat: (node, opset) => { if (opset < 4 && node.attrs.axis === undefined) node.attrs.axis = 1; return [node]; },
  Dropout: (node, opset, graph) => {
    // Before opset 12 ratio was an attribute and is_test chose inference; Kiln runs inference.
    if (opset < 12) {
      const ratio = node.attrs.ratio as number | undefined;
      drop(node, 'ratio', 'is_test');
      if (ratio !== undefined) node.inputs[1] = float32Scalar(graph, node, 'ratio', ratio);
    }
    return [node];
  },
  TopK: (node, opset, graph) => {
    if (opset < 10) attrToInput(node, graph, 'k', 1, true);
    return [node];
  },
  DFT: (node, opset, graph) => {
    // Opset 20 made `axis` (default 1) an optional input.
    if (opset < 20) {
      const axis = (node.attrs.axis as number | undefined) ?? 1;
      drop(node, 'axis');
      while (node.inputs.length < 2) node.inputs.push('');
      node.inputs[2] = int64Scalar(graph, node, 'axis', axis);
    }
    return [node];
  },
  Cast: (node, opset) => {
    if (opset < 6 && typeof node.attrs.to === 'string') node.attrs.to = castNameToCode(node, node.attrs.to);
    return [node];
  },
};

const CAST_NAMES: Record<string, number> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
};
function castNameToCode(node: Node, name: string): AttrValue {
  const key = name.toUpperCase();
  const code = Object.hasOwn(CAST_NAMES, key) ? CAST_NAMES[key] : undefined;
  if (code === undefined) throw new Error(`node '${node.name}' (ai.onnx::Cast): unsupported target type ${name}`);
  return code;
}

/** Attributes that earlier opsets carried everywhere and that no longer mean anything. */
const OBSOLETE = ['consumed_inputs'];

export function upgradeNode(node: Node, opset: number, graph: Graph): Node[] {
  if (node.domain !== ONNX_DOMAIN) return [node];
  if (opset < 6) drop(node, ...OBSOLETE);
  // op_type comes from the file: `__proto__` or `constructor` must not reach Object.prototype.
  const up = Object.hasOwn(UPGRADES, node.op) ? UPGRADES[node.op] : undefined;
  return up ? up(node, opset, graph) : [node];
}
