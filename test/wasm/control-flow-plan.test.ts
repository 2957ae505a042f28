// Control flow, constants and data-dependent shapes on the WASM backend: If branches and Loop/Scan
// bodies are planned and run on WASM kernels (no reference fallback), Constant nodes are folded
// when planning, and a node whose output shape depends on data runs alone on the reference kernel
// while the rest of the graph stays on WASM. Every case is checked against the reference backend.
import { describe, expect, it } from 'vitest';
import { emptyGraph, type Graph, type Node } from '../../src/graph/ir.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';

const node = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node =>
  ({ name: `${op}_${outputs[0]}`, op, domain: '', inputs, outputs, attrs });
const graph = (name: string, parts: Partial<Graph>): Graph => ({ ...emptyGraph(name), ...parts });
const f32 = (values: number[], dims: number[]) => new Tensor('float32', Float32Array.from(values), dims);
const i64 = (values: number[], dims: number[]) => new Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
const bool = (v: boolean) => new Tensor('bool', Uint8Array.of(v ? 1 : 0), []);

let seed = 11;
const rand = (dims: number[]) => f32(Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5), dims);

/** Runs `g` on both backends; returns the wasm session (for its fallback list) and checks every output. */
async function compare(g: Graph, feedsList: Record<string, Tensor>[], tol = 1e-6): Promise<InferenceSession> {
  const ref = await InferenceSession.create(g, { backend: 'reference' });
  const wasm = await InferenceSession.create(g, { backend: 'wasm', threads: 1 });
  for (const feeds of feedsList) {
    const want = await ref.run(feeds);
    const got = await wasm.run(feeds);
    for (const name of ref.outputNames) {
      expect(got[name]!.dims, name).toEqual(want[name]!.dims);
      const w = Array.from(want[name]!.data as ArrayLike<number>, Number);
      const a = Array.from(got[name]!.data as ArrayLike<number>, Number);
      const scale = Math.max(1, ...w.map(Math.abs));
      a.forEach((v, i) => expect(Math.abs(v - w[i]!), `${name}[${i}]: ${v} vs ${w[i]}`).toBeLessThanOrEqual(tol * scale));
    }
  }
  return wasm;
}

/** y = If(x.sum > 0) then MatMul(x, w) + x2 (x2 an outer value) else Relu(x) - one (a branch initializer). */
function ifModel(nested = false): Graph {
  const inner = graph('inner', {
    outputs: [{ name: 'inner_y', dtype: 'float32', untyped: true }],
    nodes: [node('Sub', ['x2', 'x'], ['inner_y'])],
  });
  const innerElse = graph('inner_else', {
    outputs: [{ name: 'inner_e', dtype: 'float32', untyped: true }],
    nodes: [node('Mul', ['x2', 'x2'], ['inner_e'])],
  });
  const thenG = graph('then', {
    outputs: [{ name: 'then_y', dtype: 'float32', untyped: true }],
    nodes: nested
      ? [node('MatMul', ['x', 'w'], ['mm']), node('If', ['c2'], ['nested_y'], { then_branch: inner, else_branch: innerElse }), node('Add', ['mm', 'nested_y'], ['then_y'])]
      : [node('MatMul', ['x', 'w'], ['mm']), node('Add', ['mm', 'x2'], ['then_y'])],
  });
  const elseG = graph('else', {
    initializers: new Map([['one', f32([1], [])]]),
    outputs: [{ name: 'else_y', dtype: 'float32', untyped: true }],
    nodes: [node('Relu', ['x'], ['r']), node('Sub', ['r', 'one'], ['else_y'])],
  });
  return graph('if', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [4, 8] }, ...(nested ? [{ name: 'c2', dtype: 'bool' as const, shape: [] }] : [])],
    outputs: [{ name: 'y', dtype: 'float32', shape: [4, 8] }],
    initializers: new Map([['w', rand([8, 8])], ['two', f32([2], [])], ['zero', f32([0], [])]]),
    nodes: [
      node('Mul', ['x', 'two'], ['x2']),
      node('ReduceSum', ['x'], ['s'], { keepdims: 0 }),
      node('Greater', ['s', 'zero'], ['cond']),
      node('If', ['cond'], ['y'], { then_branch: thenG, else_branch: elseG }),
    ],
  });
}

describe('If on WASM', () => {
  it('runs both branches on WASM kernels, the condition read at run time', async () => {
    const pos = rand([4, 8]), neg = rand([4, 8]);
    (pos.data as Float32Array)[0] = 100;
    (neg.data as Float32Array)[0] = -100;
    const s = await compare(ifModel(), [{ x: pos }, { x: neg }, { x: pos }]);
    expect(s.fallbackNodes()).toEqual([]);
  });

  it('runs an If nested in a branch, reading values two scopes out', async () => {
    const pos = rand([4, 8]);
    (pos.data as Float32Array)[0] = 100;
    const s = await compare(ifModel(true), [{ x: pos, c2: bool(true) }, { x: pos, c2: bool(false) }]);
    expect(s.fallbackNodes()).toEqual([]);
  });
});

/**
 * Loop(M, cond, y0, k0): y += x (x outer) and k = k * 2 each trip; scan outputs y * 0.5 and the trip
 * number; the body's condition (trip < limit) stops it early.
 */
function loopModel(swap = false): Graph {
  const body = graph('body', {
    inputs: [
      { name: 'i', dtype: 'int64', shape: [] }, { name: 'c', dtype: 'bool', shape: [] },
      { name: 'y_in', dtype: 'float32', untyped: true }, { name: 'k_in', dtype: 'float32', untyped: true },
    ],
    outputs: [
      { name: 'c_out', dtype: 'bool', untyped: true },
      // swap: the carried values trade places (an output that is another input's slot).
      { name: swap ? 'k_in' : 'y_out', dtype: 'float32', untyped: true },
      { name: swap ? 'y_in' : 'k_out', dtype: 'float32', untyped: true },
      { name: 'half', dtype: 'float32', untyped: true },
      { name: 'i_copy', dtype: 'int64', untyped: true },
    ],
    initializers: new Map<string, Tensor>([['limit', i64([3], [])], ['h', f32([0.5], [])], ['two', f32([2], [])]]),
    nodes: [
      node('Less', ['i', 'limit'], ['c_out']),
      node('Add', ['y_in', 'x'], ['y_out']),
      node('Mul', ['k_in', 'two'], ['k_out']),
      node('Mul', ['y_out', 'h'], ['half']),
      node('Identity', ['i'], ['i_copy']),
    ],
  });
  return graph('loop', {
    inputs: [
      { name: 'M', dtype: 'int64', shape: [] }, { name: 'cond', dtype: 'bool', shape: [] },
      { name: 'y0', dtype: 'float32', shape: [2, 3] }, { name: 'k0', dtype: 'float32', shape: [2, 3] }, { name: 'x', dtype: 'float32', shape: [2, 3] },
    ],
    outputs: [
      { name: 'y', dtype: 'float32', shape: [2, 3] }, { name: 'k', dtype: 'float32', shape: [2, 3] },
      { name: 'ys', dtype: 'float32', shape: ['T', 2, 3] }, { name: 'is', dtype: 'int64', shape: ['T'] },
      { name: 'after', dtype: 'float32', shape: ['T', 2, 3] },
    ],
    initializers: new Map([['three', f32([3], [])]]),
    nodes: [
      node('Loop', ['M', 'cond', 'y0', 'k0'], ['y', 'k', 'ys', 'is'], { body }),
      // After the Loop (whose scan outputs have a run-time length): planned for the actual shapes.
      node('Mul', ['ys', 'three'], ['after']),
    ],
  });
}

/** An If whose branches give different shapes: x (4x8) or its first two rows (2x8), then Relu. */
function ragged(cond: 'input' | 'constant-true'): Graph {
  const thenG = graph('then', {
    outputs: [{ name: 't', dtype: 'float32', untyped: true }],
    nodes: [node('Identity', ['x'], ['t'])],
  });
  const elseG = graph('else', {
    initializers: new Map([['s0', i64([0], [1])], ['s1', i64([2], [1])]]),
    outputs: [{ name: 'e', dtype: 'float32', untyped: true }],
    nodes: [node('Slice', ['x', 's0', 's1'], ['e'])],
  });
  return graph('ragged', {
    inputs: [{ name: 'x', dtype: 'float32', shape: [4, 8] }, ...(cond === 'input' ? [{ name: 'c', dtype: 'bool' as const, shape: [] }] : [])],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['R', 8] }],
    initializers: cond === 'input' ? new Map() : new Map([['c', bool(true)]]),
    nodes: [node('If', ['c'], ['b'], { then_branch: thenG, else_branch: elseG }), node('Relu', ['b'], ['y'])],
  });
}

describe('If with data-dependent or constant conditions', () => {
  it('runs an If whose branches differ in shape on WASM, planning what follows per shape', async () => {
    const s = await compare(ragged('input'), [{ x: rand([4, 8]), c: bool(true) }, { x: rand([4, 8]), c: bool(false) }, { x: rand([4, 8]), c: bool(true) }]);
    expect(s.fallbackNodes()).toEqual([]);
    expect((await s.run({ x: rand([4, 8]), c: bool(false) }))['y']!.dims).toEqual([2, 8]);
  });

  it('plans only the taken branch when the condition is a constant', async () => {
    // The else branch would Reshape 32 values into 5: planning it would fail.
    const g = ragged('constant-true');
    const elseG = graph('else', {
      initializers: new Map([['five', i64([5], [1])]]),
      outputs: [{ name: 'e', dtype: 'float32', untyped: true }],
      nodes: [node('Reshape', ['x', 'five'], ['e'])],
    });
    g.nodes[0]!.attrs['else_branch'] = elseG;
    const s = await compare(g, [{ x: rand([4, 8]) }]);
    expect(s.fallbackNodes()).toEqual([]);
  });
});

describe('Loop on WASM', () => {
  it('runs the body on WASM kernels with loop-carried values and scan outputs', async () => {
    const feeds = (m: number, cond: boolean) => ({ M: i64([m], []), cond: bool(cond), y0: rand([2, 3]), k0: rand([2, 3]), x: rand([2, 3]) });
    // 4 trips (the body stops after trip 3), 2 trips (M), none (cond false).
    const s = await compare(loopModel(), [feeds(10, true), feeds(2, true), feeds(5, false), feeds(10, true)]);
    expect(s.fallbackNodes()).toEqual([]);
    const out = await s.run(feeds(10, true));
    expect(out['ys']!.dims).toEqual([4, 2, 3]);
    expect(Array.from(out['is']!.data as BigInt64Array, Number)).toEqual([0, 1, 2, 3]);
  });

  it('swaps loop-carried values between iterations without mixing them', async () => {
    const s = await compare(loopModel(true), [{ M: i64([3], []), cond: bool(true), y0: rand([2, 3]), k0: rand([2, 3]), x: rand([2, 3]) }]);
    expect(s.fallbackNodes()).toEqual([]);
  });
});

/** Scan: state = state + slice (a running sum) and a scan output state * slice, on chosen axes. */
function scanModel(xDims: number[], attrs: Node['attrs']): Graph {
  const body = graph('body', {
    inputs: [{ name: 's_in', dtype: 'float32', untyped: true }, { name: 'xi', dtype: 'float32', untyped: true }],
    outputs: [{ name: 's_out', dtype: 'float32', untyped: true }, { name: 'prod', dtype: 'float32', untyped: true }],
    nodes: [node('Add', ['s_in', 'xi'], ['s_out']), node('Mul', ['s_out', 'xi'], ['prod'])],
  });
  const axis = (attrs['scan_input_axes'] as number[] | undefined)?.[0] ?? 0;
  const slice = xDims.filter((_, i) => i !== axis);
  return graph('scan', {
    inputs: [{ name: 's0', dtype: 'float32', shape: slice }, { name: 'x', dtype: 'float32', shape: xDims }],
    outputs: [{ name: 's', dtype: 'float32', shape: slice }, { name: 'ys', dtype: 'float32' }],
    nodes: [node('Scan', ['s0', 'x'], ['s', 'ys'], { body, num_scan_inputs: 1, ...attrs })],
  });
}

describe('Loop with a carried value the body never reads', () => {
  it('keeps that value on the host and the rest on WASM', async () => {
    const body = graph('body', {
      inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c', dtype: 'bool', shape: [] }, { name: 'a_in', dtype: 'float32', untyped: true }, { name: 'z_in', dtype: 'float32', untyped: true }],
      outputs: [{ name: 'c', dtype: 'bool', untyped: true }, { name: 'a_out', dtype: 'float32', untyped: true }, { name: 'z_out', dtype: 'float32', untyped: true }],
      nodes: [node('Add', ['a_in', 'x'], ['a_out']), node('Mul', ['x', 'a_out'], ['z_out'])],
    });
    const g = graph('unread', {
      inputs: [{ name: 'M', dtype: 'int64', shape: [] }, { name: 'x', dtype: 'float32', shape: [2, 3] }, { name: 'a0', dtype: 'float32', shape: [2, 3] }, { name: 'z0', dtype: 'float32', shape: [2, 3] }],
      outputs: [{ name: 'a', dtype: 'float32', shape: [2, 3] }, { name: 'z', dtype: 'float32', shape: [2, 3] }],
      initializers: new Map([['t', bool(true)]]),
      nodes: [node('Loop', ['M', 't', 'a0', 'z0'], ['a', 'z'], { body })],
    });
    const feeds = (m: number) => ({ M: i64([m], []), x: rand([2, 3]), a0: rand([2, 3]), z0: rand([2, 3]) });
    const s = await compare(g, [feeds(3), feeds(0), feeds(1)]);
    expect(s.fallbackNodes()).toEqual([]);
  });
});

describe('Loop whose carried value grows every iteration', () => {
  it('plans a few shapes, then leaves the node to its reference kernel', async () => {
    const body = graph('body', {
      inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c', dtype: 'bool', shape: [] }, { name: 'y_in', dtype: 'float32', untyped: true }],
      outputs: [{ name: 'c', dtype: 'bool', untyped: true }, { name: 'y_out', dtype: 'float32', untyped: true }],
      nodes: [node('Concat', ['y_in', 'x'], ['y_out'], { axis: 0 })],
    });
    const g = graph('grow', {
      inputs: [{ name: 'M', dtype: 'int64', shape: [] }, { name: 'x', dtype: 'float32', shape: [1, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
      initializers: new Map<string, Tensor>([['t', bool(true)], ['y0', f32([0, 0, 0], [1, 3])]]),
      nodes: [node('Loop', ['M', 't', 'y0'], ['y'], { body })],
    });
    const ref = await InferenceSession.create(g, { backend: 'reference' });
    const wasm = await InferenceSession.create(g, { backend: 'wasm', threads: 1 });
    for (const [m, fallbacks] of [[5, []], [20, ['Loop(Loop_y)']], [3, ['Loop(Loop_y)']]] as const) {
      const feeds = { M: i64([m], []), x: rand([1, 3]) };
      const want = await ref.run(feeds), got = await wasm.run(feeds);
      expect(got['y']!.dims).toEqual([m + 1, 3]);
      expect(Array.from(got['y']!.data as Float32Array)).toEqual(Array.from(want['y']!.data as Float32Array));
      expect(wasm.fallbackNodes(), `M = ${m}`).toEqual(fallbacks);
    }
  });
});

describe('Scan on WASM', () => {
  for (const [label, xDims, attrs] of [
    ['forward on axis 0', [5, 2, 3], {}],
    ['reverse input on axis 1, output on axis 1 reversed', [2, 4, 3], { scan_input_axes: [1], scan_input_directions: [1], scan_output_axes: [1], scan_output_directions: [1] }],
  ] as const) {
    it(`runs the body on WASM kernels (${label})`, async () => {
      const g = scanModel([...xDims], attrs);
      const slice = xDims.filter((_, i) => i !== ((attrs as { scan_input_axes?: number[] }).scan_input_axes?.[0] ?? 0));
      const s = await compare(g, [{ s0: rand(slice), x: rand([...xDims]) }]);
      expect(s.fallbackNodes()).toEqual([]);
    });
  }
});

describe('data-dependent shapes on WASM', () => {
  /** y = Relu(x) -> NonZero -> Transpose -> Cast -> * 2, plus a branch that never depends on data. */
  function nonZeroModel(): Graph {
    return graph('nz', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3, 4] }],
      outputs: [{ name: 'idx2', dtype: 'float32', shape: ['K', 2] }, { name: 'z', dtype: 'float32', shape: [3, 4] }, { name: 'late', dtype: 'float32', shape: [3, 4] }],
      initializers: new Map([['two', f32([2], [])]]),
      nodes: [
        node('Relu', ['x'], ['r']),
        node('Mul', ['x', 'two'], ['z']),
        node('NonZero', ['r'], ['nz']),
        node('Transpose', ['nz'], ['nzt'], { perm: [1, 0] }),
        node('Cast', ['nzt'], ['nzf'], { to: 1 }),
        node('Mul', ['nzf', 'two'], ['idx2']),
        // Topologically after the cut although it does not depend on it: planned with the rest.
        node('Sigmoid', ['z'], ['late']),
      ],
    });
  }

  it('plans a node whose shapes follow from small computed integers on WASM, per value', async () => {
    // reps = [1, floor(|max x|) + 1] computed from data: Tile's output width depends on it (x is
    // too large to be planned as a constant feed).
    const g = graph('tile', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [3, 40] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [3, 'W'] }],
      initializers: new Map<string, Tensor>([['one_f', f32([1], [])], ['one_i', i64([1], [1])], ['ax0', i64([0], [1])]]),
      nodes: [
        node('ReduceMax', ['x'], ['m'], { keepdims: 0 }),
        node('Abs', ['m'], ['am']),
        node('Floor', ['am'], ['fm']),
        node('Add', ['fm', 'one_f'], ['r']),
        node('Cast', ['r'], ['ri'], { to: 7 }),
        node('Unsqueeze', ['ri', 'ax0'], ['r1']),
        node('Concat', ['one_i', 'r1'], ['reps'], { axis: 0 }),
        node('Tile', ['x', 'reps'], ['t']),
        node('Relu', ['t'], ['y']),
      ],
    });
    const scaled = (k: number) => { const t = rand([3, 40]); (t.data as Float32Array)[5] = k; return t; };
    const s = await compare(g, [{ x: scaled(0.4) }, { x: scaled(2.5) }, { x: scaled(0.3) }, { x: scaled(3.9) }]);
    expect(s.fallbackNodes()).toEqual([]);
    expect((await s.run({ x: scaled(2.5) }))['y']!.dims).toEqual([3, 120]);
  });

  it('runs only the NonZero on the reference kernel and replans the rest per shape', async () => {
    const a = rand([3, 4]), b = rand([3, 4]);
    (b.data as Float32Array).fill(1, 0, 10);
    const s = await compare(nonZeroModel(), [{ x: a }, { x: b }, { x: a }]);
    expect(s.fallbackNodes()).toEqual(['NonZero(NonZero_nz)']);
  });
});

describe('data-dependent shapes inside a Loop body', () => {
  it('runs the NonZero of a body alone and the rest of the body on WASM', async () => {
    // Per trip: count the positive entries of (x - trip) through NonZero, accumulate the count.
    const body = graph('body', {
      inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c', dtype: 'bool', shape: [] }, { name: 'acc_in', dtype: 'float32', untyped: true }],
      outputs: [{ name: 'c', dtype: 'bool', untyped: true }, { name: 'acc_out', dtype: 'float32', untyped: true }],
      initializers: new Map([['one', i64([1], [1])], ['zero', i64([0], [])]]),
      nodes: [
        node('Cast', ['i'], ['fi'], { to: 1 }),
        node('Sub', ['x', 'fi'], ['d']),
        node('Relu', ['d'], ['r']),
        node('NonZero', ['r'], ['nz']),
        node('Shape', ['nz'], ['shp']),
        node('Gather', ['shp', 'one'], ['cnt'], { axis: 0 }),
        node('Cast', ['cnt'], ['fc'], { to: 1 }),
        node('Add', ['acc_in', 'fc'], ['acc_out']),
      ],
    });
    const g = graph('loop_nz', {
      inputs: [{ name: 'M', dtype: 'int64', shape: [] }, { name: 'x', dtype: 'float32', shape: [3, 4] }],
      outputs: [{ name: 'acc', dtype: 'float32', shape: [1] }],
      initializers: new Map<string, Tensor>([['t', bool(true)], ['acc0', f32([0], [1])]]),
      nodes: [node('Loop', ['M', 't', 'acc0'], ['acc'], { body })],
    });
    const x = f32(Array.from({ length: 12 }, (_, k) => k % 5), [3, 4]);
    const s = await compare(g, [{ M: i64([4], []), x }, { M: i64([2], []), x }]);
    expect(s.fallbackNodes()).toEqual(['NonZero(NonZero_nz)']);
    // Positive entries of x - 0..3 (x = 0 1 2 3 4 0 1 2 3 4 0 1): 9 + 6 + 4 + 2.
    expect(Array.from((await s.run({ M: i64([4], []), x }))['acc']!.data as Float32Array)).toEqual([21]);
  });
});

describe('control flow with a worker pool', () => {
  it('splits GEMMs inside If branches and Loop bodies with the bits of one thread', async () => {
    const w = rand([256, 256]);
    const mm = (name: string, out: string) => graph(name, {
      outputs: [{ name: out, dtype: 'float32', untyped: true }],
      nodes: [node('MatMul', ['x', 'w'], [out])],
    });
    const body = graph('body', {
      inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c', dtype: 'bool', shape: [] }, { name: 'h_in', dtype: 'float32', untyped: true }],
      outputs: [{ name: 'c', dtype: 'bool', untyped: true }, { name: 'h_out', dtype: 'float32', untyped: true }],
      nodes: [node('MatMul', ['h_in', 'w'], ['hw']), node('Tanh', ['hw'], ['h_out'])],
    });
    const g = graph('threaded', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [64, 256] }, { name: 'c', dtype: 'bool', shape: [] }, { name: 'M', dtype: 'int64', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [64, 256] }, { name: 'h', dtype: 'float32', shape: [64, 256] }],
      initializers: new Map<string, Tensor>([['w', w], ['neg', f32([-1], [])], ['t', bool(true)]]),
      nodes: [
        node('If', ['c'], ['b'], { then_branch: mm('then', 'tb'), else_branch: graph('else', {
          outputs: [{ name: 'eb', dtype: 'float32', untyped: true }],
          nodes: [node('MatMul', ['x', 'w'], ['xw']), node('Mul', ['xw', 'neg'], ['eb'])],
        }) }),
        node('Relu', ['b'], ['y']),
        node('Loop', ['M', 't', 'x'], ['h'], { body }),
      ],
    });
    const feeds = [true, false, true].map((c) => ({ x: rand([64, 256]), c: bool(c), M: i64([3], []) }));
    const results: Float32Array[][] = [];
    for (const threads of [1, 2]) {
      const s = await InferenceSession.create(g, { backend: 'wasm', threads });
      const outs: Float32Array[] = [];
      for (const f of feeds) {
        const r = await s.run(f);
        outs.push(r['y']!.data as Float32Array, r['h']!.data as Float32Array);
        expect(s.fallbackNodes()).toEqual([]);
      }
      results.push(outs);
      await s.release();
    }
    results[1]!.forEach((o, k) => expect(Array.from(o), `output ${k}`).toEqual(Array.from(results[0]![k]!)));
    await compare(g, feeds.slice(0, 2), 1e-5);
  });
});

describe('profiling plans with control flow and cuts', () => {
  it('reports the ops of bodies and after cuts, each timed once', async () => {
    const pos = rand([4, 8]);
    (pos.data as Float32Array)[0] = 100;
    const s = await InferenceSession.create(ifModel(), { backend: 'wasm', threads: 1, profile: true });
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await s.run({ x: pos });
    const wall = performance.now() - t0;
    const rows = s.profileReport();
    expect(rows.map((r) => r.op).sort()).toEqual(['Add', 'Greater', 'If', 'MatMul', 'Mul', 'ReduceSum']);
    expect(rows.find((r) => r.op === 'MatMul')!.calls).toBe(5);
    // The If's row leaves out its branch's kernels, so the rows add up to at most the wall time.
    expect(rows.reduce((a, r) => a + r.ms, 0)).toBeLessThanOrEqual(wall);
    const nz = await InferenceSession.create(graph('nz', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [8, 16] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['K', 2] }],
      nodes: [node('NonZero', ['x'], ['i']), node('Transpose', ['i'], ['t'], { perm: [1, 0] }), node('Cast', ['t'], ['y'], { to: 1 })],
    }), { backend: 'wasm', threads: 1, profile: true });
    await nz.run({ x: rand([8, 16]) });
    expect(nz.profileReport().map((r) => r.op).sort()).toEqual(['Cast', 'NonZero (reference fallback)', 'Transpose']);
  });
});

describe('Loop body with a cut whose shapes change every iteration', () => {
  it('stops planning after a bound and runs the Loop on its reference kernel', async () => {
    // Each trip counts the entries of x above the trip number: a new NonZero shape per trip.
    const body = graph('body', {
      inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c', dtype: 'bool', shape: [] }, { name: 'acc_in', dtype: 'float32', untyped: true }],
      outputs: [{ name: 'c', dtype: 'bool', untyped: true }, { name: 'acc_out', dtype: 'float32', untyped: true }],
      initializers: new Map([['one', i64([1], [])]]),
      nodes: [
        node('Cast', ['i'], ['fi'], { to: 1 }),
        node('Sub', ['x', 'fi'], ['d']),
        node('Relu', ['d'], ['r']),
        node('NonZero', ['r'], ['nz']),
        node('Shape', ['nz'], ['shp']),
        node('Gather', ['shp', 'one'], ['cnt'], { axis: 0 }),
        node('Cast', ['cnt'], ['fc'], { to: 1 }),
        node('Add', ['acc_in', 'fc'], ['acc_out']),
      ],
    });
    const g = graph('many_cuts', {
      inputs: [{ name: 'M', dtype: 'int64', shape: [] }, { name: 'x', dtype: 'float32', shape: [100] }],
      outputs: [{ name: 'acc', dtype: 'float32', shape: [1] }],
      initializers: new Map<string, Tensor>([['t', bool(true)], ['acc0', f32([0], [1])]]),
      nodes: [node('Loop', ['M', 't', 'acc0'], ['acc'], { body })],
    });
    const x = f32(Array.from({ length: 100 }, (_, k) => k + 0.5), [100]);
    const s = await compare(g, [{ M: i64([100], []), x }]);
    expect(s.fallbackNodes()).toContain('Loop(Loop_acc)');
    // sum over trips t of #{k : k + 0.5 > t} = sum of (100 - t) for t = 0..99.
    expect(Array.from((await s.run({ M: i64([100], []), x }))['acc']!.data as Float32Array)).toEqual([5050]);
  });
});

describe('constants on WASM', () => {
  it('folds Constant nodes and what they feed when planning, whatever their size', async () => {
    const big = rand([64, 100]);
    const g = graph('consts', {
      inputs: [{ name: 'x', dtype: 'float32', shape: [64, 100] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [64, 100] }],
      nodes: [
        node('Constant', [], ['c'], { value: big }),
        node('Constant', [], ['k'], { value: f32([3], []) }),
        // 6400 elements: more than inference folds, so only the plan folds it.
        node('Mul', ['c', 'k'], ['ck']),
        node('Add', ['x', 'ck'], ['y']),
      ],
    });
    const wasm = await compare(g, [{ x: rand([64, 100]) }]);
    expect(wasm.fallbackNodes()).toEqual([]);
    const profiled = await InferenceSession.create(g, { backend: 'wasm', threads: 1, profile: true });
    await profiled.run({ x: rand([64, 100]) });
    expect(profiled.profileReport().map((r) => r.op)).toEqual(['Add']);
  });

  it('leaves a constant subexpression that fails to the run, which reports the error', async () => {
    const n = 5000;
    const g = graph('bad_const', {
      inputs: [{ name: 'x', dtype: 'int64', shape: [n] }],
      outputs: [{ name: 'y', dtype: 'int64', shape: [n] }],
      initializers: new Map([['a', i64(new Array<number>(n).fill(7), [n])], ['z', i64(new Array<number>(n).fill(0), [n])]]),
      nodes: [node('Div', ['a', 'z'], ['q']), node('Add', ['x', 'q'], ['y'])],
    });
    for (const backend of ['reference', 'wasm'] as const) {
      const s = await InferenceSession.create(g, { backend, threads: 1 });
      await expect(s.run({ x: i64(new Array<number>(n).fill(1), [n]) }), backend).rejects.toThrow(/Div_q.*integer division by zero/);
    }
  });
});
