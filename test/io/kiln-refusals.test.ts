// .kiln headers that used to load (or crash while formatting the error): each must be refused
// with a plain Error naming the header path.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import { loadKiln, saveKiln } from '../../src/io/kiln-format/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import '../../src/ops/index.js';
import { expectClearError } from '../helpers/clear-error.js';

type Json = Record<string, unknown>;

function sample(): Uint8Array {
  const b = new GraphBuilder('g', 17);
  const x = b.input('x', 'float32', [16]);
  const a = b.constant('a', new Tensor('float32', new Float32Array(16).fill(1), [16]));
  const c = b.constant('c', new Tensor('float32', new Float32Array(16).fill(2), [16]));
  b.output(b.op('Add', [b.op('Mul', [x, a]), c]));
  return saveKiln(b.build());
}

/** The file with its header text replaced; the data section stays put when the new text fits. */
function withHeader(bytes: Uint8Array, edit: (h: Json) => unknown): Uint8Array {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + len))) as Json;
  const r = edit(h);
  return withHeaderText(bytes, typeof r === 'string' ? r : JSON.stringify(r ?? h));
}

function withHeaderText(bytes: Uint8Array, text: string): Uint8Array {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const json = new TextEncoder().encode(text.length <= len ? text.padEnd(len, ' ') : text);
  const out = new Uint8Array(Math.max(bytes.length, 12 + json.length));
  out.set(bytes);
  out.fill(0x20, 12, 12 + len);
  out.set(json, 12);
  new DataView(out.buffer).setUint32(8, json.length, true);
  return out;
}

const tensors = (h: Json) => h.tensors as { name: string; data: { offset: number; byteLength: number } }[];

describe('.kiln refusals', () => {
  it('loads the unmodified sample', () => {
    expect(loadKiln(sample()).initializers.size).toBe(2);
  });

  it('overlapping tensor ranges', () => {
    const bytes = withHeader(sample(), (h) => {
      const [a, c] = tensors(h);
      c!.data.offset = a!.data.offset;
    });
    expectClearError(() => loadKiln(bytes), /tensors\[1\]\.data bytes \[\d+, \d+\) overlap tensors\[0\]\.data/);
  });

  it('deeply nested JSON where an object is expected: formatting the error must not overflow the stack', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const bytes = withHeaderText(sample(), `{"graph": ${deep}, "tensors": []}`);
    expectClearError(() => loadKiln(bytes), /kiln header: graph: expected an object, got \[\[\[/);
  });

  it('deeply nested subgraphs', () => {
    // Written as text: JSON.stringify itself would overflow on thousands of levels.
    const level = (inner: string, i: number) =>
      `{"name":"s${i}","inputs":[],"outputs":[],"valueInfo":[],"opsets":{"":17},"provenance":[],"initializers":[],` +
      `"nodes":[{"name":"n${i}","op":"If","domain":"","inputs":[],"outputs":[],"attrs":{"then_branch":{"type":"graph","value":${inner}}}}]}`;
    let g = level('null', 0);
    for (let i = 1; i < 3000; i++) g = level(g, i);
    const bytes = withHeader(sample(), (h) => JSON.stringify({ ...h, tensors: [], graph: 'GRAPH' }).replace('"GRAPH"', g));
    expectClearError(() => loadKiln(bytes), /subgraphs nest more than 64 levels deep/);
  });

  it.each([0, -1, 1.5, 1e6])('opset version %d', (v) => {
    const bytes = withHeader(sample(), (h) => {
      (h.graph as Json).opsets = { '': v };
    });
    expectClearError(() => loadKiln(bytes), /graph\.opsets\.: (expected an integer >= 1|opset version 1000000 is invalid)/);
  });

  it.each(['__proto__', 'constructor'])('an attribute named %s stays a name', (name) => {
    const g = loadKiln(sample());
    g.nodes[0]!.attrs = Object.fromEntries([[name, 1]]);
    const back = loadKiln(saveKiln(g));
    expect(Object.hasOwn(back.nodes[0]!.attrs, name)).toBe(true);
    expect(Object.getPrototypeOf(back.nodes[0]!.attrs)).toBe(Object.prototype);
  });
});
