// The WASM backend lowers DequantizeLinear -> MaxPool -> QuantizeLinear (same scale and zero point)
// to MaxPool on the int8 values, now that it has int8 / uint8 max kernels: the quantized mnist-8
// keeps int8 from its first QuantizeLinear to its last DequantizeLinear, and its outputs are the
// ones of the graph that pools in float between the two casts.
import { describe, expect, it } from 'vitest';
import { wasmBackend } from '../../src/backends/wasm/index.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/ir.js';
import { take } from '../../src/optimize/dataset.js';
import { quantizeStatic } from '../../src/optimize/quantize-static.js';
import { optimize } from '../../src/passes/pipeline.js';
import { lowerQdq } from '../../src/passes/quantize/lower-qdq.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { mnist8, mnistSet } from '../optimize/mnist-data.js';

const ops = (g: Graph) => g.nodes.map((n) => n.op);

describe('QDQ lowering of MaxPool on WASM', () => {
  it('mnist-8 int8: MaxPool runs on the int8 values, outputs as with a float MaxPool', { timeout: 120_000 }, async () => {
    const q = await quantizeStatic(mnist8(), take(mnistSet('train').data, 100), { method: 'minmax' });
    const { graph: lowered } = await optimize(q, wasmBackend.loweringPasses!(), { record: false });
    expect(ops(lowered)).toEqual([
      'QuantizeLinear', 'QLinearConv', 'MaxPool', 'QLinearConv', 'MaxPool', 'Reshape', 'QLinearMatMul', 'DequantizeLinear', 'Add',
    ]);
    // Each MaxPool reads a QLinearConv's output and feeds int8 on.
    for (const pool of lowered.nodes.filter((n) => n.op === 'MaxPool')) {
      expect(lowered.nodes.find((n) => n.outputs.includes(pool.inputs[0]!))?.op).toBe('QLinearConv');
      expect(lowered.nodes.filter((n) => n.inputs.includes(pool.outputs[0]!)).map((n) => n.op)).not.toContain('QuantizeLinear');
    }

    // The same graph with MaxPool left in float between DQ and Q, run on the reference backend
    // (which runs graphs as written), gives the same bytes as the WASM session on the QDQ graph.
    const floatPool = lowerQdq(q, { floatOps: ['MaxPool'] });
    expect(ops(floatPool).filter((o) => o === 'DequantizeLinear')).toHaveLength(3);
    const ref = await InferenceSession.create(floatPool, { backend: 'reference' });
    const wasm = await InferenceSession.create(q, { backend: 'wasm', threads: 1 });
    expect(wasm.fallbackNodes()).toEqual([]);
    const test = mnistSet('test', 0, 40);
    for (let i = 0; i < 40; i++) {
      const feeds = test.data.sample(i);
      const [want] = Object.values(await ref.run(feeds));
      const [got] = Object.values(await wasm.run(feeds));
      expect(Array.from(got!.data as Float32Array)).toEqual(Array.from(want!.data as Float32Array));
    }
    await wasm.release();
  });

  it('keeps the float MaxPool when the scale is negative (the max of the codes is then the min of the values)', () => {
    const b = new GraphBuilder('negscale', 21);
    const s = b.constant('s', new Tensor('float32', Float32Array.of(-0.5), []));
    const z = b.constant('z', new Tensor('uint8', Uint8Array.of(10), []));
    const x = b.op('DequantizeLinear', [b.input('x', 'uint8', [1, 1, 4, 4]), s, z]);
    b.output(b.op('QuantizeLinear', [b.op('MaxPool', [x], { kernel_shape: [2, 2] }), s, z]));
    const g = b.build();
    expect(ops(lowerQdq(g))).toEqual(['DequantizeLinear', 'MaxPool', 'QuantizeLinear']);
    // With a positive scale the same graph becomes one int8 MaxPool.
    g.initializers.set('s', new Tensor('float32', Float32Array.of(0.5), []));
    expect(ops(lowerQdq(g))).toEqual(['MaxPool']);
  });
});
