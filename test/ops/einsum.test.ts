import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/tensor/tensor.js';
import { expectClose, f32, runOp } from '../helpers/op.js';

const einsum = (eq: string, ...xs: Tensor[]) => runOp('Einsum', xs, { equation: eq })[0]!;
const A = f32([1, 2, 3, 4, 5, 6], [2, 3]);
const B = f32([1, 0, 2, 1, 0, 3], [3, 2]);

describe('Einsum', () => {
  it('matmul in explicit and implicit form', () => {
    for (const eq of ['ij,jk->ik', 'ij,jk']) {
      const y = einsum(eq, A, B);
      expect(y.dims).toEqual([2, 2]);
      expectClose(y.data as Float32Array, [5, 11, 14, 23]);
    }
  });
  it('implicit mode sorts the free labels', () => {
    const y = einsum('ji', A); // output 'ij': a transpose
    expect(y.dims).toEqual([3, 2]);
    expectClose(y.data as Float32Array, [1, 4, 2, 5, 3, 6]);
  });
  it('diagonals, traces, sums and outer products', () => {
    const sq = f32([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
    expectClose(einsum('ii->i', sq).data as Float32Array, [1, 5, 9]);
    expectClose(einsum('ii', sq).data as Float32Array, [15]);
    expect(einsum('ii', sq).dims).toEqual([]);
    expectClose(einsum('ij->', A).data as Float32Array, [21]);
    expectClose(einsum('i,j->ij', f32([1, 2], [2]), f32([3, 4, 5], [3])).data as Float32Array, [3, 4, 5, 6, 8, 10]);
  });
  it('broadcasts ellipsis dims', () => {
    const x = f32([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const y = einsum('...ij,...jk->...ik', x, f32([1, 0, 0, 1], [2, 2]));
    expect(y.dims).toEqual([2, 2, 2]);
    expectClose(y.data as Float32Array, [1, 2, 3, 4, 5, 6, 7, 8]);
    expectClose(einsum('...ii->...i', x).data as Float32Array, [1, 4, 5, 8]);
  });
  it('rejects malformed equations and mismatched sizes', () => {
    expect(() => einsum('ij,jk->ik', A, A)).toThrow(/label 'j' has size 3/);
    expect(() => einsum('ij->ik', A)).toThrow(/does not appear/);
    expect(() => einsum('ij', A, B)).toThrow(/names 1 inputs/);
    expect(() => einsum('ijk', A)).toThrow(/rank 2/);
    expect(() => einsum('i.j', A)).toThrow(/ellipsis/);
  });
});
