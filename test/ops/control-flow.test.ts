import { describe, expect, it } from 'vitest';
import { inferGraph } from '../../src/graph/infer.js';
import { emptyGraph, type Graph, type Node, type ValueInfo } from '../../src/graph/ir.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { f32, i64 } from '../helpers/op.js';

const BACKENDS = ['reference', 'wasm'] as const;

const node = (op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node =>
  ({ name: `${op}_${outputs[0]}`, op, domain: '', inputs, outputs, attrs });

function graph(name: string, parts: Partial<Graph>): Graph {
  return { ...emptyGraph(name), ...parts };
}

const scalarBool = (v: boolean) => new Tensor('bool', Uint8Array.of(v ? 1 : 0), []);
const vals = (t: Tensor | undefined) => Array.from(t!.data as ArrayLike<number>);

async function run(g: Graph, feeds: Record<string, Tensor>, backend: (typeof BACKENDS)[number]): Promise<Record<string, Tensor>> {
  const s = await InferenceSession.create(g, { backend });
  return s.run(feeds);
}

/** y = If(cond) then x + one (one: a branch initializer) else -(x * two) (x2: an outer value only the branch reads). */
function ifModel(): Graph {
  const thenG = graph('then', {
    initializers: new Map([['one', f32([1], [])]]),
    outputs: [{ name: 'then_y', dtype: 'float32' }],
    nodes: [node('Add', ['x', 'one'], ['then_y'])],
  });
  const elseG = graph('else', {
    outputs: [{ name: 'else_y', dtype: 'float32', untyped: true }],
    nodes: [node('Neg', ['x2'], ['else_y'])],
  });
  return graph('if', {
    inputs: [{ name: 'cond', dtype: 'bool', shape: [] }, { name: 'x', dtype: 'float32', shape: [3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [3] }],
    initializers: new Map([['two', f32([2], [])]]),
    nodes: [
      node('Mul', ['x', 'two'], ['x2']),
      node('If', ['cond'], ['y'], { then_branch: thenG, else_branch: elseG }),
    ],
  });
}

/**
 * Loop(M, cond, y0): y += x each trip (x read from the outer scope); the scan output is y * i; the
 * body's condition i < 2 stops it after three trips whatever M is.
 */
function loopModel(): Graph {
  const body = graph('body', {
    inputs: [{ name: 'i', dtype: 'int64', shape: [] }, { name: 'c', dtype: 'bool', shape: [] }, { name: 'y_in', dtype: 'float32', untyped: true }],
    outputs: [
      { name: 'c_out', dtype: 'bool', untyped: true },
      { name: 'y_out', dtype: 'float32', shape: [2] },
      { name: 'scan', dtype: 'float32', untyped: true },
    ],
    initializers: new Map([['limit', i64([2], [])]]),
    nodes: [
      node('Less', ['i', 'limit'], ['c_out']),
      node('Add', ['y_in', 'x'], ['y_out']),
      node('Cast', ['i'], ['fi'], { to: 1 }),
      node('Mul', ['y_out', 'fi'], ['scan']),
    ],
  });
  return graph('loop', {
    inputs: [
      { name: 'M', dtype: 'int64', shape: [] }, { name: 'cond', dtype: 'bool', shape: [] },
      { name: 'y0', dtype: 'float32', shape: [2] }, { name: 'x', dtype: 'float32', shape: [2] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2] }, { name: 'ys', dtype: 'float32', shape: ['T', 2] }],
    nodes: [node('Loop', ['M', 'cond', 'y0'], ['y', 'ys'], { body })],
  });
}

/** Scan with one state (a running sum) and one scan input; the attributes pick axes and directions. */
function scanModel(xShape: number[], outShape: (number | string)[], attrs: Node['attrs']): Graph {
  const body = graph('body', {
    inputs: [{ name: 'sum_in', dtype: 'float32', shape: [2] }, { name: 'row', dtype: 'float32', shape: [2] }],
    outputs: [{ name: 'sum_out', dtype: 'float32', shape: [2] }, { name: 'scan_out', dtype: 'float32', shape: [2] }],
    nodes: [node('Add', ['sum_in', 'row'], ['sum_out']), node('Identity', ['sum_out'], ['scan_out'])],
  });
  return graph('scan', {
    inputs: [{ name: 's0', dtype: 'float32', shape: [2] }, { name: 'x', dtype: 'float32', shape: xShape }],
    outputs: [{ name: 's', dtype: 'float32', shape: [2] }, { name: 'z', dtype: 'float32', shape: outShape }],
    nodes: [node('Scan', ['s0', 'x'], ['s', 'z'], { body, num_scan_inputs: 1, ...attrs })],
  });
}

describe('If', () => {
  for (const backend of BACKENDS) {
    it(`takes the branch the condition names and reads outer values (${backend})`, async () => {
      const g = ifModel();
      const x = f32([1, -2, 3], [3]);
      expect(vals((await run(g, { cond: scalarBool(true), x }, backend)).y)).toEqual([2, -1, 4]);
      expect(vals((await run(g, { cond: scalarBool(false), x }, backend)).y)).toEqual([-2, 4, -6]);
    });
  }

  it('types only the taken branch when the condition is constant, and merges both otherwise', () => {
    const grow = (n: number, name: string) => graph(name, {
      outputs: [{ name: `${name}_y`, dtype: 'float32', untyped: true }],
      initializers: new Map([[`${name}_c`, f32(new Array<number>(n).fill(0), [n])]]),
      nodes: [node('Identity', [`${name}_c`], [`${name}_y`])],
    });
    const g = graph('if', {
      inputs: [{ name: 'cond', dtype: 'bool', shape: [] }],
      outputs: [{ name: 'y', dtype: 'float32' }],
      nodes: [node('If', ['cond'], ['y'], { then_branch: grow(2, 'a'), else_branch: grow(3, 'b') })],
    });
    const merged = inferGraph(g).types.get('y')!;
    expect(merged.shape?.length).toBe(1);
    expect(typeof merged.shape![0]).toBe('string');
    g.initializers.set('cond', scalarBool(false));
    g.inputs = [];
    expect(inferGraph(g).types.get('y')!.shape).toEqual([3]);
  });

  it('rejects branches whose output counts differ from the node', () => {
    const g = ifModel();
    g.nodes[1]!.outputs = ['y', 'extra'];
    expect(() => inferGraph(g)).toThrow(/must have 2 outputs/);
  });
});

describe('Loop', () => {
  for (const backend of BACKENDS) {
    it(`carries values, stacks scan outputs and stops on the body condition (${backend})`, async () => {
      const g = loopModel();
      const feeds = { M: i64([10], []), cond: scalarBool(true), y0: f32([0, 1], [2]), x: f32([1, 2], [2]) };
      const out = await run(g, feeds, backend);
      // Trips i = 0, 1, 2: y = [1,3], [2,5], [3,7]; scan = y * i.
      expect(vals(out.y)).toEqual([3, 7]);
      expect(out.ys!.dims).toEqual([3, 2]);
      expect(vals(out.ys)).toEqual([0, 0, 2, 5, 6, 14]);
      const short = await run(g, { ...feeds, M: i64([2], []) }, backend);
      expect(vals(short.y)).toEqual([2, 5]);
      expect(vals(short.ys)).toEqual([0, 0, 2, 5]);
      const none = await run(g, { ...feeds, cond: scalarBool(false) }, backend);
      expect(vals(none.y)).toEqual([0, 1]);
      expect(none.ys!.dims).toEqual([0]);
    });
  }

  it('infers an unknown trip dimension for scan outputs', () => {
    const t = inferGraph(loopModel()).types;
    expect(t.get('y')!.shape).toEqual([2]);
    const ys = t.get('ys')!.shape!;
    expect(ys.length).toBe(2);
    expect(typeof ys[0]).toBe('string');
    expect(ys[1]).toBe(2);
  });

  it('runs with the trip count or the condition omitted', async () => {
    const g = loopModel();
    g.nodes[0]!.inputs = ['', 'cond', 'y0'];
    g.inputs = g.inputs.filter((v) => v.name !== 'M');
    const out = await run(g, { cond: scalarBool(true), y0: f32([0, 0], [2]), x: f32([1, 1], [2]) }, 'reference');
    expect(vals(out.y)).toEqual([3, 3]);
    const h = loopModel();
    h.nodes[0]!.inputs = ['M', '', 'y0'];
    h.inputs = h.inputs.filter((v) => v.name !== 'cond');
    const out2 = await run(h, { M: i64([1], []), y0: f32([0, 0], [2]), x: f32([1, 1], [2]) }, 'reference');
    expect(vals(out2.y)).toEqual([1, 1]);
  });
});

describe('Scan', () => {
  const x = f32([1, 2, 3, 4, 5, 6], [3, 2]);
  const s0 = f32([0, 0], [2]);
  for (const backend of BACKENDS) {
    it(`scans forward and backward (${backend})`, async () => {
      const fwd = await run(scanModel([3, 2], [3, 2], {}), { s0, x }, backend);
      expect(vals(fwd.s)).toEqual([9, 12]);
      expect(vals(fwd.z)).toEqual([1, 2, 4, 6, 9, 12]);
      // Reverse input: rows 3, 2, 1 in turn; the reverse output stacks them back to front.
      const rev = await run(scanModel([3, 2], [3, 2], { scan_input_directions: [1] }), { s0, x }, backend);
      expect(vals(rev.z)).toEqual([5, 6, 8, 10, 9, 12]);
      const both = await run(scanModel([3, 2], [3, 2], { scan_input_directions: [1], scan_output_directions: [1] }), { s0, x }, backend);
      expect(vals(both.z)).toEqual([9, 12, 8, 10, 5, 6]);
    });
  }

  it('scans along other input and output axes', async () => {
    // x^T is [2, 3]: scanning axis 1 sees the same rows; stacking on axis 1 gives z^T.
    const xt = f32([1, 3, 5, 2, 4, 6], [2, 3]);
    const out = await run(scanModel([2, 3], [2, 3], { scan_input_axes: [1], scan_output_axes: [-1] }), { s0, x: xt }, 'reference');
    expect(out.z!.dims).toEqual([2, 3]);
    expect(vals(out.z)).toEqual([1, 4, 9, 2, 6, 12]);
    expect(inferGraph(scanModel([2, 3], [2, 3], { scan_input_axes: [1], scan_output_axes: [1] })).types.get('z')!.shape).toEqual([2, 3]);
  });

  it('checks its attributes', () => {
    expect(() => inferGraph(scanModel([3, 2], [3, 2], { scan_input_directions: [2] }))).toThrow(/must be 0 \(forward\) or 1/);
    expect(() => inferGraph(scanModel([3, 2], [3, 2], { scan_output_axes: [0, 1] }))).toThrow(/scan_output_axes has 2 entries/);
    expect(() => inferGraph(scanModel([3, 2], [3, 2], { scan_input_axes: [2] }))).toThrow(/out of range/);
  });
});

describe('subgraphs in the graph tools', () => {
  it('fails verification when a subgraph reads a name no scope defines', async () => {
    const g = ifModel();
    const elseG = g.nodes[1]!.attrs.else_branch as Graph;
    elseG.nodes[0]!.inputs = ['nowhere'];
    await expect(InferenceSession.create(g, { backend: 'reference' })).rejects.toThrow(/'nowhere' is not produced/);
  });

  it('round-trips through .kiln with branch initializers and untyped outputs', async () => {
    const g = ifModel();
    const back = loadKiln(saveKiln(g));
    const thenG = back.nodes[1]!.attrs.then_branch as Graph;
    expect(thenG.initializers.get('one')!.data).toEqual(Float32Array.of(1));
    expect(back.initializers.has('one')).toBe(false);
    expect(((back.nodes[1]!.attrs.else_branch as Graph).outputs[0] as ValueInfo).untyped).toBe(true);
    const x = f32([1, -2, 3], [3]);
    for (const cond of [true, false]) {
      expect(vals((await run(back, { cond: scalarBool(cond), x }, 'reference')).y)).toEqual(vals((await run(g, { cond: scalarBool(cond), x }, 'reference')).y));
    }
    const loop = loadKiln(saveKiln(loopModel()));
    const out = await run(loop, { M: i64([10], []), cond: scalarBool(true), y0: f32([0, 1], [2]), x: f32([1, 2], [2]) }, 'reference');
    expect(vals(out.ys)).toEqual([0, 0, 2, 5, 6, 14]);
  });
});

describe('FlexAttention mods', () => {
  /** score_mod adds an outer constant (softmax ignores it); prob_mod scales by a branch initializer. */
  function flexModel(mods: { score?: boolean; prob?: boolean }): Graph {
    const attrs: Node['attrs'] = {};
    if (mods.score) {
      attrs.score_mod = graph('score_mod', {
        inputs: [{ name: 's', dtype: 'float32', shape: ['B', 'H', 'L', 'S'] }],
        outputs: [{ name: 's_out', dtype: 'float32', untyped: true }],
        nodes: [node('Add', ['s', 'shift'], ['s_out'])],
      });
    }
    if (mods.prob) {
      attrs.prob_mod = graph('prob_mod', {
        inputs: [{ name: 'p', dtype: 'float32', untyped: true }],
        outputs: [{ name: 'p_out', dtype: 'float32', untyped: true }],
        initializers: new Map([['twice', f32([2], [])]]),
        nodes: [node('Mul', ['p', 'twice'], ['p_out'])],
      });
    }
    const qkv = { dtype: 'float32' as const, shape: [1, 2, 3, 4] };
    return {
      ...graph('flex', {
        inputs: [{ name: 'Q', ...qkv }, { name: 'K', ...qkv }, { name: 'V', ...qkv }],
        outputs: [{ name: 'Y', ...qkv }],
        initializers: new Map([['shift', f32([5], [])]]),
        nodes: [{ ...node('FlexAttention', ['Q', 'K', 'V'], ['Y'], attrs), domain: 'ai.onnx.preview' }],
      }),
      opsets: { '': 21, 'ai.onnx.preview': 1 },
    };
  }

  it('runs score_mod before the softmax and prob_mod after it', async () => {
    const t = (seed: number) => f32(Array.from({ length: 24 }, (_, i) => Math.sin(i * seed)), [1, 2, 3, 4]);
    const feeds = { Q: t(1), K: t(2), V: t(3) };
    const plain = vals((await run(flexModel({}), feeds, 'reference')).Y);
    const shifted = vals((await run(flexModel({ score: true }), feeds, 'reference')).Y);
    const scaled = vals((await run(flexModel({ score: true, prob: true }), feeds, 'wasm')).Y);
    shifted.forEach((v, i) => expect(v).toBeCloseTo(plain[i]!, 5));
    scaled.forEach((v, i) => expect(v).toBeCloseTo(2 * plain[i]!, 5));
  });
});
