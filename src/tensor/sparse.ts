// Sparse layouts a tensor may carry next to its dense data. Passes produce them (pruning,
// sparsify), the .kiln format stores only the compressed arrays, and kernels that understand a
// layout skip the zeros; every other kernel keeps reading the dense `data`.
import { bsrToDense, validateBsr, type BsrLayout } from './sparse-bsr.js';
import { csrToDense, validateCsr, type CsrLayout } from './sparse-csr.js';
import { nmToDense, validateNm, type NmLayout } from './sparse-nm.js';
import { rawEqual } from './sparse-raw.js';
import type { Tensor } from './tensor.js';

export * from './sparse-csr.js';
export * from './sparse-bsr.js';
export * from './sparse-nm.js';

export type SparseLayout = CsrLayout | BsrLayout | NmLayout;
export type SparseKind = SparseLayout['kind'];

export const SPARSE_KINDS: readonly SparseKind[] = ['csr', 'bsr', 'nm'];

/** Throws a descriptive Error unless the layout's arrays are consistent with its dims. */
export function validateSparse(l: SparseLayout): void {
  switch (l.kind) {
    case 'csr': return validateCsr(l);
    case 'bsr': return validateBsr(l);
    case 'nm': return validateNm(l);
    default: throw new Error(`sparse layout: unknown kind '${String((l as { kind?: unknown }).kind)}'`);
  }
}

/** The dense tensor a layout stands for (validates first, so bad indices never write out of range). */
export function sparseToDense(l: SparseLayout): Tensor {
  switch (l.kind) {
    case 'csr': return csrToDense(l);
    case 'bsr': return bsrToDense(l);
    case 'nm': return nmToDense(l);
    default: throw new Error(`sparse layout: unknown kind '${String((l as { kind?: unknown }).kind)}'`);
  }
}

/**
 * Attaches `l` to `t` as `t.sparse` after checking that it has t's dtype and dims and expands to
 * exactly t's bits, so kernels may use either form. Returns `t`.
 */
export function attachSparse<T extends Tensor>(t: T, l: SparseLayout): T {
  checkSparseMatches(t, l);
  t.sparse = l;
  return t;
}

/** Throws unless `l` is a valid layout whose dense form is bit-identical to `t`. */
export function checkSparseMatches(t: Tensor, l: SparseLayout): void {
  if (l.dtype !== t.type) throw new Error(`sparse layout: dtype ${l.dtype} does not match tensor dtype ${t.type}`);
  const same = l.dims.length === t.dims.length && l.dims.every((d, i) => d === t.dims[i]);
  if (!same) throw new Error(`sparse layout: dims [${l.dims.join(', ')}] do not match tensor dims [${t.dims.join(', ')}]`);
  const dense = sparseToDense(l);
  if (!rawEqual(t.type, dense.data, t.data, t.size)) {
    throw new Error(`sparse ${l.kind} layout does not expand to the tensor's data`);
  }
}
