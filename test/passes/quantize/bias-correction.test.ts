// Bias correction: each Conv's bias loses the expected shift of its int8-rounded weights,
// sum_i (W_q - W)[o, i] * E[x_i], computed from the per-channel input means, with exact numbers.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../src/graph/ir.js';
import { biasCorrectionTargets, correctBiases } from '../../../src/passes/quantize/bias-correction.js';
import { f32, graph, node } from '../helpers.js';

// Row 0: [1, 0.3], scale 1/127: 0.3 = 38.1/127 rounds to 38/127 (error -0.1/127 = -0.000787...).
// Row 1: [-0.5, 0.2], scale 0.5/127: 0.2 = 50.8 steps rounds to 51 (error +0.2 * 0.5/127 = +0.000787...).
const W = [1, 0.3, -0.5, 0.2];
const MEANS = new Map([['x', Float64Array.of(2, 5)]]);
const rowShift = (w: number[], mean: number[]) => {
  const scale = Math.fround(Math.max(...w.map(Math.abs)) / 127);
  return w.reduce((e, v, i) => e + (Math.round(Math.fround(v) / scale) * scale - Math.fround(v)) * mean[i]!, 0);
};

function convGraph(withBias: boolean): Graph {
  return graph('bc', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2, 3, 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2, 3, 3] }],
    nodes: [node('Conv', withBias ? ['x', 'w', 'b'] : ['x', 'w'], ['y'], { kernel_shape: [1, 1] }, 'conv')],
    initializers: new Map([['w', f32(W, [2, 2, 1, 1])], ...(withBias ? [['b', f32([0.25, -1], [2])] as const] : [])]),
  });
}

describe('correctBiases', () => {
  it('subtracts each output channel\'s expected rounding shift from the bias', () => {
    const g = convGraph(true);
    const out = correctBiases(g, MEANS);
    const s0 = rowShift([1, 0.3], [2, 5]);
    const s1 = rowShift([-0.5, 0.2], [2, 5]);
    expect(s0).toBeLessThan(0);
    expect(s1).toBeGreaterThan(0);
    const b = out.initializers.get('b')!.data as Float32Array;
    expect(Array.from(b)).toEqual([Math.fround(0.25 - s0), Math.fround(-1 - s1)]);
    // Pure: the input graph and its tensors are unchanged; the weights are the same tensor.
    expect(Array.from(g.initializers.get('b')!.data as Float32Array)).toEqual([0.25, -1]);
    expect(out.initializers.get('w')).toBe(g.initializers.get('w'));
    expect(out.nodes).toBe(g.nodes);
  });

  it('gives a Conv without a bias one, and leaves keepFloat layers and unmeasured inputs alone', () => {
    const out = correctBiases(convGraph(false), MEANS);
    const conv = out.nodes[0]!;
    expect(conv.inputs.length).toBe(3);
    const b = out.initializers.get(conv.inputs[2]!)!.data as Float32Array;
    expect(Array.from(b)).toEqual([Math.fround(-rowShift([1, 0.3], [2, 5])), Math.fround(-rowShift([-0.5, 0.2], [2, 5]))]);
    const kept = correctBiases(convGraph(true), MEANS, { keepFloat: ['conv'] });
    expect(Array.from(kept.initializers.get('b')!.data as Float32Array)).toEqual([0.25, -1]);
    const unmeasured = correctBiases(convGraph(true), new Map());
    expect(Array.from(unmeasured.initializers.get('b')!.data as Float32Array)).toEqual([0.25, -1]);
  });

  it('targets Convs with a float32 initializer weight and a bias of their own; refuses a wrong mean count', () => {
    expect(biasCorrectionTargets(convGraph(true)).map((t) => [t.node.name, t.input])).toEqual([['conv', 'x']]);
    const shared = convGraph(true);
    const two: Graph = { ...shared, nodes: [...shared.nodes, node('Conv', ['x', 'w', 'b'], ['y2'], { kernel_shape: [1, 1] }, 'conv2')] };
    expect(biasCorrectionTargets(two)).toEqual([]); // the bias is read by two convs
    expect(() => correctBiases(convGraph(true), new Map([['x', Float64Array.of(1, 2, 3)]])))
      .toThrow(/correctBiases: Conv 'conv' reads 2 channels but 3 means were given for 'x'/);
  });
});
