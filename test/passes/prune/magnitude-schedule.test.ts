// Sparsity schedules (TF-MOT semantics): the target sparsity per step, which steps prune, the
// values a polynomial decay takes, pruneAtStep against pruneMagnitude, invalid schedules, and the
// masks that keep pruned weights at zero between pruning steps.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../../src/graph/ir.js';
import { applyPruningMasks, isPruningStep, pruneAtStep, pruneMagnitude, pruningMasks, sparsityAt, validateSchedule, type SparsitySchedule } from '../../../src/passes/prune/index.js';
import { f32, graph, node, randT } from '../helpers.js';

describe('constant schedule', () => {
  const s: SparsitySchedule = { kind: 'constant', sparsity: 0.8, beginStep: 10, endStep: 30, frequency: 10 };

  it('has the same sparsity at every step and prunes every frequency steps in [begin, end]', () => {
    expect([0, 10, 25, 1000].map((t) => sparsityAt(s, t))).toEqual([0.8, 0.8, 0.8, 0.8]);
    const steps = Array.from({ length: 45 }, (_, t) => t).filter((t) => isPruningStep(s, t));
    expect(steps).toEqual([10, 20, 30]);
  });

  it('defaults: from step 0, no end, every 100 steps', () => {
    const d: SparsitySchedule = { kind: 'constant', sparsity: 0.5 };
    expect([0, 50, 100, 200, 100_000].map((t) => isPruningStep(d, t))).toEqual([true, false, true, true, true]);
  });
});

describe('polynomial decay schedule', () => {
  const s: SparsitySchedule = { kind: 'polynomialDecay', initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 100, endStep: 500, frequency: 100 };

  it('s(t) = final + (initial - final) * (1 - (t - begin) / (end - begin))^3, clamped outside [begin, end]', () => {
    expect(sparsityAt(s, 0)).toBe(0.5);
    expect(sparsityAt(s, 100)).toBe(0.5);
    expect(sparsityAt(s, 200)).toBeCloseTo(0.9 - 0.4 * 0.75 ** 3, 15); // 0.73125
    expect(sparsityAt(s, 300)).toBeCloseTo(0.85, 15);
    expect(sparsityAt(s, 400)).toBeCloseTo(0.9 - 0.4 / 64, 15);
    expect(sparsityAt(s, 500)).toBe(0.9);
    expect(sparsityAt(s, 9999)).toBe(0.9);
    expect(sparsityAt({ ...s, power: 1 }, 300)).toBeCloseTo(0.7, 15);
  });

  it('prunes at begin, every frequency steps, and at end, not after', () => {
    const steps = Array.from({ length: 700 }, (_, t) => t).filter((t) => isPruningStep(s, t));
    expect(steps).toEqual([100, 200, 300, 400, 500]);
  });

  it('rises monotonically from initial to final', () => {
    let last = -1;
    for (let t = 100; t <= 500; t += 7) {
      const v = sparsityAt(s, t);
      expect(v).toBeGreaterThanOrEqual(last);
      last = v;
    }
  });
});

describe('pruneAtStep', () => {
  const mlp = (): Graph => graph('mlp', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4] }],
    initializers: new Map([['W1', randT([8, 8], 1)], ['W2', randT([8, 4], 2)]]),
    nodes: [node('MatMul', ['x', 'W1'], ['h'], {}, 'fc1'), node('MatMul', ['h', 'W2'], ['y'], {}, 'fc2')],
  });
  const s: SparsitySchedule = { kind: 'polynomialDecay', initialSparsity: 0, finalSparsity: 0.75, beginStep: 0, endStep: 4, frequency: 2 };

  it('prunes to the schedule sparsity on pruning steps, and does nothing on others', () => {
    const g = mlp();
    expect(pruneAtStep(g, s, 1)).toBeUndefined();
    const at2 = pruneAtStep(g, s, 2, { kind: 'layer' })!;
    // 0.75 - 0.75 * 0.5^3 = 0.65625 of each layer: round(42) of 64, round(21) of 32.
    expect(at2.layers.map((l) => l.zeros)).toEqual([42, 21]);
    expect(at2.graph.initializers).toEqual(pruneMagnitude(g, { amount: 0.65625, kind: 'layer' }).graph.initializers);
    // Step 0 prunes to 0%: nothing changes.
    expect(pruneAtStep(g, s, 0)!.graph).toBe(g);
    // Steps compose: the step-4 pruning of the step-2 result is 75%.
    const at4 = pruneAtStep(at2.graph, s, 4)!;
    expect(at4.zeros).toBe(72);
  });

  it('refuses N:M (its sparsity is fixed) and invalid schedules or steps', () => {
    expect(() => pruneAtStep(mlp(), s, 2, { kind: '2:4' })).toThrow("sparsity schedule: a schedule sets the amount, so kind must be 'global' or 'layer', not '2:4'");
    expect(() => sparsityAt(s, -1)).toThrow('sparsity schedule: step must be an integer >= 0, got -1');
    expect(() => isPruningStep(s, 1.5)).toThrow('step must be an integer >= 0, got 1.5');
  });
});

describe('validateSchedule', () => {
  it.each<[SparsitySchedule, string]>([
    [{ kind: 'constant', sparsity: 1.5 }, 'sparsity must be a number in [0, 1], got 1.5'],
    [{ kind: 'constant', sparsity: Number.NaN }, 'sparsity must be a number in [0, 1], got NaN'],
    [{ kind: 'constant', sparsity: 0.5, beginStep: 10, endStep: 5 }, 'endStep 5 is before beginStep 10'],
    [{ kind: 'constant', sparsity: 0.5, frequency: 0 }, 'frequency must be an integer >= 1, got 0'],
    [{ kind: 'polynomialDecay', initialSparsity: -0.1, finalSparsity: 0.9, beginStep: 0, endStep: 10 }, 'initialSparsity must be a number in [0, 1], got -0.1'],
    [{ kind: 'polynomialDecay', initialSparsity: 0, finalSparsity: 0.9, beginStep: 10, endStep: 10 }, 'endStep 10 must be after beginStep 10'],
    [{ kind: 'polynomialDecay', initialSparsity: 0, finalSparsity: 0.9, beginStep: 0, endStep: 10, power: 0 }, 'power must be a positive number, got 0'],
    [{ kind: 'cubic' } as unknown as SparsitySchedule, "kind must be 'constant' or 'polynomialDecay', got 'cubic'"],
  ])('%j', (schedule, message) => {
    expect(() => validateSchedule(schedule)).toThrow(`sparsity schedule: ${message}`);
  });
});

describe('pruning masks between pruning steps', () => {
  const g = graph('two', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
    initializers: new Map([['W1', f32([0.1, -2, 3, -0.4], [2, 2])], ['W2', f32([5, 6, 7, 0.01], [2, 2])]]),
    nodes: [node('MatMul', ['x', 'W1'], ['h'], {}, 'fc1'), node('MatMul', ['h', 'W2'], ['y'], {}, 'fc2')],
  });

  it('masks mark the zeros of the pruned (not kept-dense) weights; applying them re-zeroes updated weights', () => {
    const r = pruneMagnitude(g, { amount: 0.5, keepDense: ['fc2'] });
    const masks = pruningMasks(r);
    expect([...masks.keys()]).toEqual(['W1']);
    expect(Array.from(masks.get('W1')!)).toEqual([0, 1, 1, 0]);
    // A training step moved every weight (the pruned ones too).
    const stepped = { ...r.graph, initializers: new Map([['W1', f32([0.05, -1.9, 3.1, 0.02], [2, 2])], ['W2', f32([5, 6, 7, 0.02], [2, 2])]]) };
    const masked = applyPruningMasks(stepped, masks);
    expect(Array.from(masked.initializers.get('W1')!.data as Float32Array)).toEqual(Array.from(Float32Array.from([0, -1.9, 3.1, 0])));
    expect(masked.initializers.get('W2')).toBe(stepped.initializers.get('W2'));
    expect(Array.from(stepped.initializers.get('W1')!.data as Float32Array)[0]).toBeCloseTo(0.05, 7); // pure
    // Nothing to re-zero: the graph itself.
    expect(applyPruningMasks(masked, masks)).toBe(masked);
  });

  it('refuses a mask for a missing weight or of the wrong size', () => {
    expect(() => applyPruningMasks(g, new Map([['W3', new Uint8Array(4)]]))).toThrow("applyPruningMasks: graph 'two' has no initializer 'W3'");
    expect(() => applyPruningMasks(g, new Map([['W1', new Uint8Array(3)]]))).toThrow("applyPruningMasks: the mask of 'W1' has 3 entries, the weight [2, 2] 4");
  });
});
