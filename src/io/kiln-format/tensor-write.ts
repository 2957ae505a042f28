// Tensor table entries for the writer: dense data, quant arrays and sparse arrays all become
// 64-byte-aligned blobs in the data section.
import { checkClusterMatches, validateCluster, type ClusterLayout } from '../../tensor/clustered.js';
import type { TensorData } from '../../tensor/dtype.js';
import { validateQuantParams, type QuantParams } from '../../tensor/quant.js';
import { checkSparseMatches, validateSparse, type SparseLayout } from '../../tensor/sparse.js';
import type { Tensor } from '../../tensor/tensor.js';
import { alignUp, type BlobRef, type ClusterJson, type QuantJson, type SparseHintJson, type SparseJson, type TensorJson } from './header.js';

/** Lays blobs out relative to the data section; `place` turns them into file offsets once the header size is known. */
export class BlobPlan {
  readonly parts: { ref: BlobRef; rel: number; bytes: Uint8Array }[] = [];
  byteLength = 0;

  add(a: ArrayBufferView): BlobRef {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const ref: BlobRef = { offset: 0, byteLength: bytes.length };
    const rel = alignUp(this.byteLength);
    this.parts.push({ ref, rel, bytes });
    this.byteLength = rel + bytes.length;
    return ref;
  }

  place(dataStart: number): void {
    for (const p of this.parts) p.ref.offset = dataStart + p.rel;
  }
}

export function encodeTensor(t: Tensor, name: string, role: TensorJson['role'], plan: BlobPlan, verifySparse: boolean): TensorJson {
  const e: TensorJson = { name, role, dtype: t.type, dims: [...t.dims] };
  if (t.clustered) {
    // The codebook and indices replace the dense data; a sparse layout is only named, since
    // the reader rebuilds it from the decoded data (the positions are already in the file).
    if (t.quant) throw new Error(`saveKiln: tensor '${name}' is both clustered and quantized`);
    if (verifySparse) {
      checkClusterMatches(t, t.clustered);
      if (t.sparse) checkSparseMatches(t, t.sparse);
    } else validateCluster(t.clustered);
    e.clustered = encodeCluster(t.clustered, t.sparse, plan);
    return e;
  }
  if (t.sparse) {
    if (verifySparse) checkSparseMatches(t, t.sparse);
    else validateSparse(t.sparse);
    e.sparse = encodeSparse(t.sparse, plan);
  } else {
    e.data = plan.add(t.data as TensorData);
  }
  if (t.quant) e.quant = encodeQuant(t.quant, t.dims, name, plan);
  return e;
}

function encodeQuant(q: QuantParams, dims: readonly number[], name: string, plan: BlobPlan): QuantJson {
  if (!(q.scale instanceof Float32Array) || !(q.zeroPoint instanceof Int32Array)) {
    throw new Error(`saveKiln: tensor '${name}': quant scale must be a Float32Array and zeroPoint an Int32Array`);
  }
  validateQuantParams(q, dims);
  const j: QuantJson = { scale: plan.add(q.scale), zeroPoint: plan.add(q.zeroPoint) };
  if (q.axis !== undefined) j.axis = q.axis;
  if (q.blockSize !== undefined) j.blockSize = q.blockSize;
  return j;
}

function encodeSparse(l: SparseLayout, plan: BlobPlan): SparseJson {
  switch (l.kind) {
    case 'csr':
      return { kind: 'csr', rowPtr: plan.add(l.rowPtr), colIdx: plan.add(l.colIdx), values: plan.add(l.values) };
    case 'bsr':
      return {
        kind: 'bsr', blockDims: [l.blockDims[0], l.blockDims[1]],
        blockPtr: plan.add(l.blockPtr), blockCol: plan.add(l.blockCol), values: plan.add(l.values),
      };
    case 'nm':
      return { kind: 'nm', n: l.n, m: l.m, axis: l.axis, values: plan.add(l.values), indices: plan.add(l.indices) };
  }
}

function encodeCluster(l: ClusterLayout, sparse: SparseLayout | undefined, plan: BlobPlan): ClusterJson {
  const j: ClusterJson = { k: l.k, bits: l.bits, codebook: plan.add(l.codebook), indices: plan.add(l.indices) };
  if (l.axis !== undefined) j.axis = l.axis;
  if (l.positions) {
    j.nnz = l.nnz!;
    j.positions = { bits: l.positions.bits, count: l.positions.count, codes: plan.add(l.positions.codes) };
  }
  if (sparse) j.sparse = sparseHint(sparse);
  return j;
}

function sparseHint(l: SparseLayout): SparseHintJson {
  switch (l.kind) {
    case 'csr': return { kind: 'csr' };
    case 'bsr': return { kind: 'bsr', blockDims: [l.blockDims[0], l.blockDims[1]] };
    case 'nm': return { kind: 'nm', n: l.n, m: l.m, axis: l.axis };
  }
}
