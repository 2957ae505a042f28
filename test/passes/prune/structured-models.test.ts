// Structured pruning on real models. The must-show: half of ultraface-RFB-320's prunable channels
// removed gives a valid graph with at least 40% fewer FLOPs whose outputs equal the masked dense
// model's (the same channels' filters and biases zeroed in the unpruned graph) within float32
// tolerance on the reference backend; its speed on WASM is measured outside the tests. mnist-8:
// the second Conv feeds a Reshape (refused), and the first Conv's channels whose relu(bias) is
// not 0 cannot be removed before the padded second Conv (blocked).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphStats } from '../../../src/graph/stats.js';
import { verifyGraph } from '../../../src/graph/verify.js';
import { importOnnx } from '../../../src/io/onnx/import.js';
import '../../../src/ops/index.js';
import { maskChannels, pruneStructured } from '../../../src/passes/prune/index.js';
import { toNumbers } from '../../../src/tensor/convert.js';
import { applyPass } from '../../../src/passes/pass.js';
import { constantFolding } from '../../../src/passes/constant-folding.js';
import { mnist8 } from '../../optimize/mnist-data.js';
import { randT, runRef } from '../helpers.js';

const MODEL = join(import.meta.dirname, '../../../../shared/models/ultraface-RFB-320.onnx');

describe.skipIf(!existsSync(MODEL))('ultraface-RFB-320, 50% of its prunable channels', () => {
  it('is a smaller valid graph equal to the masked model', async () => {
    const g = importOnnx(new Uint8Array(readFileSync(MODEL)));
    const { graph: p, plan } = pruneStructured(g, { amount: 0.5, norm: 'l1' });
    verifyGraph(p);
    // Every prunable group lost half of its channels; the eight heads feed Transpose + Reshape.
    expect(plan.groups).toHaveLength(25);
    for (const grp of plan.groups) expect(grp.removed).toHaveLength(Math.floor(grp.channels / 2));
    expect(plan.groups.find((x) => x.layers.length > 1)!.layers).toEqual(['Conv_41', 'Conv_42']); // the RFB residual Add
    expect(plan.refused).toHaveLength(8);
    for (const r of plan.refused) expect(r.reason).toMatch(/read by Transpose_\d+ \(Transpose\)/);

    const before = graphStats(g);
    const after = graphStats(p);
    expect(after.flopsUnknown).toBe(0);
    expect(after.flops).toBeLessThanOrEqual(0.6 * before.flops);
    expect(after.parameters).toBeLessThan(before.parameters);

    const x = randT([1, 3, 240, 320], 1);
    const want = await runRef(maskChannels(g, plan), { input: x });
    const got = await runRef(p, { input: x });
    const orig = await runRef(g, { input: x });
    for (const [name, w] of want) {
      const a = toNumbers(got.get(name)!);
      const b = toNumbers(w);
      const o = toNumbers(orig.get(name)!);
      expect(got.get(name)!.dims).toEqual(w.dims);
      const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      let err = 0;
      let moved = 0;
      for (let i = 0; i < b.length; i++) {
        err = Math.max(err, Math.abs(a[i]! - b[i]!));
        moved = Math.max(moved, Math.abs(o[i]! - b[i]!));
      }
      expect(err, name).toBeLessThanOrEqual(1e-5 * scale);
      // The masking is not a no-op: the unpruned model answers differently.
      expect(moved, name).toBeGreaterThan(1e-2 * scale);
    }
  }, 120_000);
});

describe('mnist-8, 50%', () => {
  it('after constant folding (its MatMul weight is a Reshape of a constant) prunes both Convs through the Reshape', async () => {
    const g = applyPass(mnist8(), constantFolding());
    const { graph: p, plan } = pruneStructured(g, { amount: 0.5 });
    expect(plan.groups.map((x) => [x.layers, x.removed.length, x.blocked])).toEqual([[['Convolution28'], 4, 2], [['Convolution110'], 8, 0]]);
    verifyGraph(p);
    expect(graphStats(p).flops).toBeLessThan(0.35 * graphStats(g).flops);
    expect(p.initializers.get('Parameter193_reshape1')!.dims).toEqual([128, 10]);
    const x = randT([1, 1, 28, 28], 3);
    // relu(bias) of the removed second-layer channels goes through MaxPool and the Reshape into
    // the MatMul, and from there into the bias Add after it.
    const want = toNumbers((await runRef(maskChannels(g, plan), { Input3: x })).get('Plus214_Output_0')!);
    const got = toNumbers((await runRef(p, { Input3: x })).get('Plus214_Output_0')!);
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * scale);
  });

  it('prunes the first Conv among its unblocked channels and equals the masked model exactly', async () => {
    const g = mnist8();
    const { graph: p, plan } = pruneStructured(g, { amount: 0.5 });
    expect(plan.groups).toEqual([{ layers: ['Convolution28'], channels: 8, removed: expect.any(Array), blocked: 2, blockedReason: expect.stringMatching(/Convolution110 \(Conv\), which pads its input/), keptDense: false }]);
    expect(plan.groups[0]!.removed).toHaveLength(4);
    expect(plan.refused).toEqual([{
      layers: ['Convolution110'],
      reason: 'its channels are read by Times212 (MatMul), whose weight is not a constant 2-D float initializer (constant folding may make it one)',
    }]);
    verifyGraph(p);
    expect(graphStats(p).flops).toBeLessThan(0.55 * graphStats(g).flops);
    const x = randT([1, 1, 28, 28], 2);
    const want = await runRef(maskChannels(g, plan), { Input3: x });
    const got = await runRef(p, { Input3: x });
    // No constant is folded (every removed channel holds relu(0 + b) = 0), so the sums are the same.
    expect(Array.from(toNumbers(got.get('Plus214_Output_0')!))).toEqual(Array.from(toNumbers(want.get('Plus214_Output_0')!)));
  });
});
