// Writing graphs in code, e.g. a student network for distillation:
//   const b = new GraphBuilder('mlp');
//   const x = b.input('x', 'float32', ['N', 784]);
//   const h = b.op('Relu', [b.op('Gemm', [x, b.constant('w1', w1), b.constant('b1', b1)], { transB: 1 })]);
//   b.output(h);
//   const graph = b.build();
import type { DType } from '../tensor/dtype.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { emptyGraph, ONNX_DOMAIN, type AttrValue, type Graph } from './ir.js';
import { verifyGraph } from './verify.js';

export interface OpOptions {
  domain?: string;
  name?: string;
  /** Output names; default one generated name. A number asks for that many generated names. */
  outputs?: string[] | number;
}

export class GraphBuilder {
  private readonly graph: Graph;
  private counter = 0;
  private readonly outputNames: string[] = [];

  constructor(name = 'graph', opset = 21) {
    this.graph = emptyGraph(name);
    this.graph.opsets[ONNX_DOMAIN] = opset;
  }

  input(name: string, dtype: DType, shape: Shape): string {
    this.graph.inputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  constant(name: string, tensor: Tensor): string {
    if (this.graph.initializers.has(name)) throw new Error(`GraphBuilder: initializer '${name}' already exists`);
    this.graph.initializers.set(name, tensor);
    return name;
  }

  /** Adds a node and returns its first output name. */
  op(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, opts: OpOptions = {}): string {
    return this.opMulti(op, inputs, attrs, opts)[0]!;
  }

  /** Adds a node and returns all of its output names. */
  opMulti(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, opts: OpOptions = {}): string[] {
    const id = this.counter++;
    const name = opts.name ?? `${op}_${id}`;
    const outputs = Array.isArray(opts.outputs)
      ? [...opts.outputs]
      : Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${name}_out${i}`);
    if (opts.domain && this.graph.opsets[opts.domain] === undefined) this.graph.opsets[opts.domain] = 1;
    this.graph.nodes.push({ name, op, domain: opts.domain ?? ONNX_DOMAIN, inputs: [...inputs], outputs, attrs: { ...attrs } });
    return outputs;
  }

  /** Marks a value as a graph output; its type comes from inference in build(). */
  output(value: string): void {
    this.outputNames.push(value);
  }

  /** Infers every type, verifies the graph and returns it. */
  build(): Graph {
    const { types } = verifyGraph({ ...this.graph, outputs: [] });
    this.graph.outputs = this.outputNames.map((name) => {
      const t = types.get(name);
      if (!t) throw new Error(`GraphBuilder: output '${name}' is not produced by the graph`);
      return { name, dtype: t.dtype, ...(t.shape ? { shape: t.shape } : {}) };
    });
    verifyGraph(this.graph);
    return this.graph;
  }
}
