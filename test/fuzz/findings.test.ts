// Regression tests for the classes of findings of the input fuzzer (test/fuzz). Each class is
// shown on the ops the fuzzer hit, with the sizes coming from run-time values (feeds) and, where
// the op has a shape rule, from constants at plan time; both backends must refuse with a plain
// Error naming the node, never a RangeError from a typed-array allocation or a hang.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import { verifyGraph } from '../../src/graph/verify.js';
import type { Graph } from '../../src/graph/ir.js';
import { ModelProtoType } from '../../src/io/onnx/schema.js';
import { parseModel } from '../../src/runtime/load.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { DType } from '../../src/tensor/dtype.js';
import '../../src/ops/index.js';

const BACKENDS = ['reference', 'wasm'] as const;
const i64 = (values: readonly (number | bigint)[], dims = [values.length]) => new Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
const f32 = (values: readonly number[], dims = [values.length]) => new Tensor('float32', Float32Array.from(values), dims);
const BIG = 2n ** 62n;

async function expectRunRefused(graph: Graph, feeds: Record<string, Tensor>, message: RegExp): Promise<void> {
  for (const backend of BACKENDS) {
    const session = await InferenceSession.create(graph, { backend, threads: 1 });
    try {
      let caught: unknown;
      try {
        await session.run(feeds);
      } catch (e) {
        caught = e;
      }
      expect(caught, `${backend}: expected an Error`).toBeInstanceOf(Error);
      expect((caught as Error).constructor, `${backend}: ${String(caught)}`).toBe(Error);
      expect((caught as Error).message).toMatch(message);
    } finally {
      await session.release();
    }
  }
}

function expectPlanRefused(build: (b: GraphBuilder) => void, message: RegExp): void {
  const b = new GraphBuilder('g', 18);
  let caught: unknown;
  try {
    build(b);
    verifyGraph(b.build());
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an Error').toBeInstanceOf(Error);
  expect((caught as Error).constructor, String(caught)).toBe(Error);
  expect((caught as Error).message).toMatch(message);
}

/** One op whose size operand is a graph input (so only its run-time value decides the size). */
function withSizeInput(op: string, dataType: DType, dataShape: number[], sizeName: string, sizeShape: number[], extra: string[] = []): Graph {
  const b = new GraphBuilder('g', 18);
  const x = b.input('x', dataType, dataShape);
  const s = b.input(sizeName, 'int64', sizeShape);
  b.output(b.op(op, [x, s, ...extra]));
  return b.build();
}

describe('fuzz finding: output sizes computed from tensor values are bounded', () => {
  const x = f32([1, 2, 3, 4], [2, 2]);

  it('Tile with huge repeats', async () => {
    await expectRunRefused(withSizeInput('Tile', 'float32', [2, 2], 'repeats', [2]), { x, repeats: i64([BIG, 1]) }, /Tile.*(invalid dimension|exceeds the limit)/);
    expectPlanRefused((b) => b.output(b.op('Tile', [b.input('x', 'float32', [2, 2]), b.constant('r', i64([1 << 20, 1 << 20]))])), /Tile.*exceeds the limit/);
  });

  it('Expand to a huge shape', async () => {
    await expectRunRefused(withSizeInput('Expand', 'float32', [2, 2], 'shape', [3]), { x, shape: i64([BIG, 2, 2]) }, /Expand.*invalid dimension/);
    expectPlanRefused((b) => b.output(b.op('Expand', [b.input('x', 'float32', [1, 1]), b.constant('s', i64([1 << 20, 1 << 20]))])), /Expand.*exceeds the limit/);
  });

  it('Pad with huge pads', async () => {
    await expectRunRefused(withSizeInput('Pad', 'float32', [2, 2], 'pads', [4]), { x, pads: i64([0, BIG, 0, 0]) }, /Pad.*invalid dimension/);
    expectPlanRefused((b) => b.output(b.op('Pad', [b.input('x', 'float32', [2, 2]), b.constant('p', i64([1 << 20, 1 << 20, 1 << 20, 1 << 20]))])), /Pad.*exceeds the limit/);
  });

  it('ConstantOfShape with a huge shape', async () => {
    const b = new GraphBuilder('g', 18);
    b.output(b.op('ConstantOfShape', [b.input('shape', 'int64', [2])]));
    await expectRunRefused(b.build(), { shape: i64([BIG, 3]) }, /ConstantOfShape.*invalid dimension/);
    expectPlanRefused((g) => g.output(g.op('ConstantOfShape', [g.constant('s', i64([1 << 20, 1 << 20]))])), /ConstantOfShape.*exceeds the limit/);
  });

  it('Range over a huge span, and over non-finite bounds', async () => {
    const b = new GraphBuilder('g', 18);
    b.output(b.op('Range', [b.input('start', 'float32', []), b.input('limit', 'float32', []), b.input('delta', 'float32', [])]));
    const g = b.build();
    const s = (v: number) => f32([v], []);
    await expectRunRefused(g, { start: s(0), limit: s(1e30), delta: s(1) }, /Range.*exceeds the limit/);
    await expectRunRefused(g, { start: s(0), limit: s(Infinity), delta: s(1) }, /Range.*must be finite/);
    await expectRunRefused(g, { start: s(NaN), limit: s(1), delta: s(1) }, /Range.*must be finite/);
  });

  it('OneHot with a huge depth', async () => {
    const b = new GraphBuilder('g', 18);
    b.output(b.op('OneHot', [b.input('i', 'int64', [2]), b.input('depth', 'int64', []), b.constant('v', f32([0, 1]))]));
    await expectRunRefused(b.build(), { i: i64([0, 1]), depth: i64([BIG], []) }, /OneHot.*exceeds the limit/);
  });
});

describe('fuzz finding: a declared operand length becomes a rank only within bounds', () => {
  it('Unsqueeze whose axes input is declared with 10^9 entries is refused at plan time, not built', () => {
    // This used to build a shape array of 10^9 unknown dims (a hang, then out of memory).
    expectPlanRefused((b) => b.output(b.op('Unsqueeze', [b.input('x', 'float32', [3]), b.input('axes', 'int64', [960_629_322])])), /Unsqueeze.*more axes than/);
  });

  it('Reshape whose shape input is declared with 10^9 entries', () => {
    expectPlanRefused((b) => b.output(b.op('Reshape', [b.input('x', 'float32', [3]), b.input('shape', 'int64', [1e9])])), /Reshape.*more axes than/);
  });
});

describe('fuzz finding: WASM agrees with the reference on special values', () => {
  it('Pow follows C pow (1^NaN = 1, 1^±inf = 1, (-1)^±inf = 1), not JavaScript Math.pow', async () => {
    // The WASM kernel used AssemblyScript's Math.pow, which gives NaN for these (a silent wrong
    // answer against the reference and onnxruntime's std::pow).
    const b = new GraphBuilder('g', 18);
    b.output(b.op('Pow', [b.input('x', 'float32', [9]), b.input('y', 'float32', [9])]));
    const graph = b.build();
    const x = f32([1, 1, 1, -1, -1, NaN, NaN, 2, -1]);
    const y = f32([NaN, Infinity, -Infinity, Infinity, -Infinity, 0, -0, NaN, 3]);
    const expected = [1, 1, 1, 1, 1, 1, 1, NaN, -1];
    for (const backend of BACKENDS) {
      const session = await InferenceSession.create(graph, { backend, threads: 1 });
      const out = Object.values(await session.run({ x, y }))[0]!;
      expect(Array.from(out.data as Float32Array), backend).toEqual(expected);
      await session.release();
    }
  });
});

describe('fuzz finding: shape-only checks of the reference kernel also run at plan time', () => {
  // Each of these verified, then failed inside the reference kernel at run time only; a backend
  // kernel that trusted the shapes would have read past the statistics or the bounds.
  it('BatchNormalization statistics of the wrong size', () => {
    expectPlanRefused((b) => {
      const x = b.input('x', 'float32', [1, 3, 2, 2]);
      const p = (n: string, len: number) => b.constant(n, f32(new Array<number>(len).fill(1)));
      b.output(b.op('BatchNormalization', [x, p('s', 3), p('bias', 3), p('mean', 4), p('var', 3)]));
    }, /BatchNormalization.*input_mean has shape \[4\], expected 3 elements/);
  });

  it('Slice whose starts and ends are declared with different lengths', () => {
    expectPlanRefused((b) => {
      const x = b.input('x', 'float32', [4, 4, 4]);
      b.output(b.op('Slice', [x, b.input('starts', 'int64', [3]), b.input('ends', 'int64', [1])]));
    }, /Slice.*starts has 3 entries but ends has 1/);
  });

  it('Pad whose pads input is declared with the wrong length', () => {
    expectPlanRefused((b) => {
      b.output(b.op('Pad', [b.input('x', 'float32', [1, 2, 3, 4]), b.input('pads', 'int64', [2])]));
    }, /Pad.*pads has 2 entries, expected 8 for 4 axes/);
  });

  it('QuantizeLinear/DequantizeLinear scales and zero points that cannot fit x', () => {
    expectPlanRefused((b) => {
      const x = b.input('x', 'float32', [2, 3]);
      b.output(b.op('QuantizeLinear', [x, b.constant('s', f32([0.1, 0.2])), b.constant('z', new Tensor('uint8', Uint8Array.of(1, 2, 3), [3]))]));
    }, /QuantizeLinear.*zero point \[3\] must have the scale's shape \[2\]/);
    expectPlanRefused((b) => {
      const x = b.input('x', 'uint8', [2, 3]);
      b.output(b.op('DequantizeLinear', [x, b.constant('s', f32([0.1, 0.2]))], { axis: 1 }));
    }, /DequantizeLinear.*x_scale \[2\] must be a scalar or a 1-D tensor of 3 values/);
    expectPlanRefused((b) => {
      const x = b.input('x', 'float32', [4, 6]);
      b.output(b.op('QuantizeLinear', [x, b.constant('s', f32(new Array<number>(4).fill(0.1), [4, 1]))], { axis: 1, block_size: 4 }));
    }, /QuantizeLinear.*y_scale \[4, 1\] must be \[4, 2\] for block_size 4/);
  });

  it('Min/Max/Sum/Mean with an empty operand name', () => {
    for (const op of ['Min', 'Max', 'Sum', 'Mean']) {
      expectPlanRefused((b) => b.output(b.op(op, [b.input('x', 'float32', [2]), ''])), new RegExp(`${op}.*input 1 is missing`));
    }
  });

  it('Tile whose repeats input is declared with the wrong length', () => {
    expectPlanRefused((b) => b.output(b.op('Tile', [b.input('x', 'float32', [2, 2]), b.input('r', 'int64', [3])])), /Tile.*repeats has 3 entries for rank 2/);
  });

  it('Resize with neither or both of scales and sizes', () => {
    expectPlanRefused((b) => b.output(b.op('Resize', [b.input('x', 'float32', [1, 1, 2, 2])])), /Resize.*exactly one of scales and sizes/);
    expectPlanRefused((b) => {
      const x = b.input('x', 'float32', [1, 1, 2, 2]);
      b.output(b.op('Resize', [x, '', b.constant('s', f32([1, 1, 2, 2])), b.constant('z', i64([1, 1, 4, 4]))]));
    }, /Resize.*exactly one of scales and sizes/);
  });

  it('Resize with infinite scales or a huge sizes', async () => {
    expectPlanRefused((b) => {
      b.output(b.op('Resize', [b.input('x', 'float32', [1, 1, 2, 2]), '', b.constant('s', f32([1, 1, Infinity, 1]))]));
    }, /Resize.*must be positive and finite/);
    const b = new GraphBuilder('g', 18);
    b.output(b.op('Resize', [b.input('x', 'float32', [1, 1, 2, 2]), '', '', b.input('sizes', 'int64', [4])]));
    await expectRunRefused(b.build(), { x: f32([1, 2, 3, 4], [1, 1, 2, 2]), sizes: i64([1, 1, 1 << 20, 1 << 20]) }, /Resize.*exceeds the limit/);
  });
});

describe('fuzz finding: NaN weights reaching zero padding (Conv)', () => {
  // Conv is defined on the zero-padded input (the ONNX reference pads with np.pad, onnxruntime's
  // im2col writes zeros), so a NaN weight over a padded position gives 0 * NaN = NaN. The WASM
  // kernel does that; the reference kernel skipped padded taps and returned a finite number until
  // it learned to add w * 0 for non-finite weights (poisonPaddedTaps in src/ops/conv.ts).
  const model = () => {
    const b = new GraphBuilder('g', 18);
    const y = b.op('Conv', [b.input('x', 'float32', [1, 1, 3, 1]), b.input('w', 'float32', [1, 1, 3, 1])], { pads: [1, 0, 1, 0] });
    b.output(y);
    return b.build();
  };
  const feeds = { x: f32([1, 2, 3], [1, 1, 3, 1]), w: f32([NaN, 1, 1], [1, 1, 3, 1]) };
  const run = async (backend: 'reference' | 'wasm') => {
    const session = await InferenceSession.create(model(), { backend, threads: 1 });
    const out = Object.values(await session.run(feeds))[0]!;
    await session.release();
    return Array.from(out.data as Float32Array);
  };

  it('WASM: every output whose window holds the NaN tap is NaN, padded or not', async () => {
    expect(await run('wasm')).toEqual([NaN, NaN, NaN]);
  });

  it('reference: the same (padded taps of non-finite weights count as w * 0)', async () => {
    expect(await run('reference')).toEqual([NaN, NaN, NaN]);
  });

  it('reference and WASM agree on NaN/Inf weights over 2-D padding with groups, strides and batch 2', async () => {
    const b = new GraphBuilder('g', 18);
    b.output(b.op('Conv', [b.input('x', 'float32', [2, 4, 5, 6]), b.input('w', 'float32', [6, 2, 3, 3])], { pads: [1, 2, 1, 0], strides: [2, 1], group: 2 }));
    const g = b.build();
    const x = f32(Array.from({ length: 2 * 4 * 5 * 6 }, (_, i) => ((i * 37) % 11) - 5), [2, 4, 5, 6]);
    const wv = Array.from({ length: 6 * 2 * 9 }, (_, i) => ((i * 13) % 7) / 7 - 0.5);
    wv[4] = NaN; // channel 0, centre tap: never over padding
    wv[18 + 0] = Infinity; // channel 1, top-left tap: over padding on the border rows/columns
    wv[5 * 18 + 9 + 8] = -Infinity; // channel 5, bottom-right tap
    const feeds = { x, w: f32(wv, [6, 2, 3, 3]) };
    const outs: number[][] = [];
    for (const backend of ['reference', 'wasm'] as const) {
      const session = await InferenceSession.create(g, { backend, threads: 1 });
      outs.push(Array.from(Object.values(await session.run(feeds))[0]!.data as Float32Array));
      await session.release();
    }
    const nanAt = (o: number[]) => o.map((v, i) => (Number.isNaN(v) ? i : -1)).filter((i) => i >= 0);
    expect(nanAt(outs[0]!).length).toBeGreaterThan(0);
    expect(nanAt(outs[0]!)).toEqual(nanAt(outs[1]!));
  });
});

describe('fuzz finding: a malformed node inside an If branch is refused at load', () => {
  // If keeps one branch's types when the other fails to type, so an unknown attribute, a missing
  // required attribute or an unknown op in a branch used to surface only when that branch ran.
  const vi = (name: string, elemType: number, dims: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const ifModel = (elseNode: Record<string, unknown>) => ModelProtoType.encode(ModelProtoType.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [{
        name: 'if', opType: 'If', domain: '', input: ['c'], output: ['y'], attribute: [
          { name: 'then_branch', type: 5, g: { name: 't', node: [{ name: 't0', opType: 'Relu', domain: '', input: ['x'], output: ['t'] }], output: [vi('t', 1, [2])] } },
          { name: 'else_branch', type: 5, g: { name: 'e', node: [{ name: 'e0', domain: '', input: ['x'], output: ['e'], ...elseNode }], output: [vi('e', 1, [2])] } },
        ],
      }],
      input: [vi('x', 1, [2]), vi('c', 9, [])],
      output: [vi('y', 1, [2])],
    },
  })).finish();

  it.each([
    ['an unknown attribute', { opType: 'Relu', attribute: [{ name: 'bogus', type: 2, i: 1 }] }, /'e0'.*unknown attribute 'bogus'/],
    ['a missing required attribute', { opType: 'Concat' }, /'e0'.*required attribute 'axis' is missing/],
    ['an unknown op', { opType: 'NotAnOp' }, /'e0'.*NotAnOp/],
  ])('%s', (_what, elseNode, message) => {
    let caught: unknown;
    try {
      verifyGraph(parseModel(ifModel(elseNode)));
    } catch (e) {
      caught = e;
    }
    expect(caught, 'expected an Error').toBeInstanceOf(Error);
    expect((caught as Error).constructor).toBe(Error);
    expect((caught as Error).message).toMatch(message);
  });

  it('a well-formed If still loads and runs both ways', async () => {
    const session = await InferenceSession.create(parseModel(ifModel({ opType: 'Neg' })), { backend: 'reference' });
    const x = f32([1, -2]);
    const run = async (c: boolean) => Array.from((await session.run({ x, c: new Tensor('bool', Uint8Array.of(c ? 1 : 0), []) })).y!.data as Float32Array);
    expect(await run(true)).toEqual([1, 0]);
    expect(await run(false)).toEqual([-1, 2]);
    await session.release();
  });
});

describe('fuzz finding: pooling work is bounded by the input, not by kernel_shape', () => {
  // kernel_shape comes from the file: a window 888,049,004 wide over a 4-wide input used to visit
  // every (padded) tap, about 10^10 skipped iterations (a hang). Only in-input taps are visited now.
  const graph = (op: string) => {
    const b = new GraphBuilder('g', 18);
    b.output(b.op(op, [b.input('x', 'float32', [1, 1, 4, 4])], { kernel_shape: [2, 888_049_004], auto_pad: 'SAME_UPPER' }));
    return b.build();
  };
  const x = f32(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);

  it.each([
    // Every window spans all 4 columns of rows h and min(h + 1, 3).
    ['MaxPool', [7, 7, 7, 7, 11, 11, 11, 11, 15, 15, 15, 15, 15, 15, 15, 15]],
    ['AveragePool', [3.5, 3.5, 3.5, 3.5, 7.5, 7.5, 7.5, 7.5, 11.5, 11.5, 11.5, 11.5, 13.5, 13.5, 13.5, 13.5]],
  ])('%s with a huge kernel_shape', async (op, expected) => {
    for (const backend of BACKENDS) {
      const started = Date.now();
      const session = await InferenceSession.create(graph(op as string), { backend, threads: 1 });
      const y = Object.values(await session.run({ x }))[0]!;
      await session.release();
      expect(Array.from(y.data as Float32Array), backend).toEqual(expected);
      expect(Date.now() - started, backend).toBeLessThan(10_000);
    }
  });
});

describe('fuzz finding: outputs sized by window attributes are bounded before allocation', () => {
  // pads of 888,049,004 made a [1, 1, 3, 888049007] output (2.7e9 elements): the reference
  // allocated ~21 GB and the process was killed. Known shapes are refused when the model is
  // verified, symbolic ones when the run knows the input size.
  const BIG = 888_049_004;
  const w = f32([1, 1, 1, 1], [1, 1, 2, 2]);
  const build = (op: string, dims: (number | string)[]) => (b: GraphBuilder) => {
    const x = b.input('x', 'float32', dims);
    b.output(op === 'Conv' ? b.op('Conv', [x, b.constant('w', w)], { pads: [0, 0, 0, BIG] }) : b.op(op, [x], { kernel_shape: [2, 2], pads: [0, 0, 0, BIG] }));
  };

  it.each(['Conv', 'MaxPool', 'AveragePool'])('%s with huge pads', async (op) => {
    expectPlanRefused(build(op, [1, 1, 4, 4]), new RegExp(`${op}.*2664147021 elements.*more than the limit`));
    const b = new GraphBuilder('g', 18);
    build(op, [1, 1, 'H', 'W'])(b);
    await expectRunRefused(b.build(), { x: f32(new Array<number>(16).fill(1), [1, 1, 4, 4]) }, new RegExp(`${op}.*2664147021 elements`));
  });
});

describe('fuzz finding: one tensor takes at most 2 GiB', () => {
  // Valid but huge requests computed from values (a Range of 7e8 int32, a ConstantOfShape of
  // 2^31 - 1 int32) reserved gigabytes and outlived the fuzzer's time limit; they are refused.
  it('Range and ConstantOfShape whose values ask for more than 2 GiB', async () => {
    const b = new GraphBuilder('g', 18);
    b.output(b.op('Range', [b.input('s', 'int32', []), b.input('l', 'int32', []), b.input('d', 'int32', [])]));
    const i32 = (v: number) => new Tensor('int32', Int32Array.of(v), []);
    await expectRunRefused(b.build(), { s: i32(10), l: i32(-(2 ** 31)), d: i32(-3) }, /Range.*2863311544 bytes, more than the 2147483647|WASM plan needs \d+ bytes, beyond WebAssembly's 4 GiB/);
    const c = new GraphBuilder('g', 18);
    c.output(c.op('ConstantOfShape', [c.input('shape', 'int64', [1])], { value: new Tensor('int32', Int32Array.of(1), [1]) }));
    await expectRunRefused(c.build(), { shape: i64([2 ** 31 - 1]) }, /ConstantOfShape.*8589934588 bytes|WASM plan needs \d+ bytes, beyond WebAssembly's 4 GiB/);
  });
});

describe('fuzz finding: an ONNX model without outputs', () => {
  // The WASM backend plans only what the outputs need (nothing), the reference ran every node and
  // refused a bad one: two different verdicts on a model that computes nothing. It is refused.
  it('is refused at import', () => {
    const vi = { name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } };
    const bytes = ModelProtoType.encode(ModelProtoType.fromObject({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'g', node: [{ name: 'n', opType: 'Relu', domain: '', input: ['x'], output: ['y'] }], input: [vi], output: [] },
    })).finish();
    expect(() => parseModel(bytes)).toThrow(/ONNX import: the main graph declares no outputs/);
  });
});
