// Runs one op through its reference kernel and its shape rule, checking that they agree.
import { expect } from 'vitest';
import type { AttrValue, Node } from '../../src/graph/ir.js';
import '../../src/ops/index.js';
import { evalNodeReference, inferNodeTypes } from '../../src/ops/invoke.js';
import { Tensor } from '../../src/tensor/tensor.js';

export interface RunOpOptions {
  domain?: string;
  outputs?: number;
  /** Input indices whose values shape inference may read (like initializers). Default: all. */
  constantInputs?: number[];
}

export function runOp(
  op: string,
  inputs: readonly (Tensor | undefined)[],
  attrs: Record<string, AttrValue> = {},
  opts: RunOpOptions = {},
): Tensor[] {
  const nOut = opts.outputs ?? 1;
  const node: Node = {
    name: `test_${op}`,
    op,
    domain: opts.domain ?? '',
    inputs: inputs.map((t, i) => (t ? `in${i}` : '')),
    outputs: Array.from({ length: nOut }, (_, i) => `out${i}`),
    attrs,
  };
  const outs = evalNodeReference(node, inputs);
  const constant = (i: number) => (opts.constantInputs ? (opts.constantInputs.includes(i) ? inputs[i] : undefined) : inputs[i]);
  const types = inferNodeTypes(node, inputs.map((t) => (t ? { dtype: t.type, shape: t.dims } : undefined)), constant);
  for (let i = 0; i < nOut; i++) {
    const t = types[i];
    const o = outs[i]!;
    expect(t?.dtype, `dtype of output ${i}`).toBe(o.type);
    if (t?.shape) {
      expect(t.shape.length, `rank of output ${i}`).toBe(o.dims.length);
      t.shape.forEach((d, k) => { if (typeof d === 'number') expect(d, `dim ${k} of output ${i}`).toBe(o.dims[k]); });
    }
  }
  return outs;
}

export function f32(data: readonly number[], dims: readonly number[]): Tensor<'float32'> {
  return new Tensor('float32', Float32Array.from(data), dims);
}

export function i64(data: readonly number[], dims?: readonly number[]): Tensor<'int64'> {
  return new Tensor('int64', BigInt64Array.from(data.map((x) => BigInt(x))), dims ?? [data.length]);
}

/** Expects `actual` close to `expected` elementwise: |a-e| <= atol + rtol*|e|. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) { expect(Number.isNaN(a), `element ${i}`).toBe(true); continue; }
    if (Math.abs(a - e) > atol + rtol * Math.abs(e)) expect.fail(`element ${i}: got ${a}, expected ${e}`);
  }
}
