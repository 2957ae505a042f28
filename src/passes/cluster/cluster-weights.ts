// Weight clustering (weight sharing, Han et al.): the constant float32 weight of every Conv, Gemm
// and MatMul is replaced by k shared values (per layer, or per output channel), found by 1-D
// k-means with k-means++ seeding from a seeded generator, so the result is deterministic. The
// tensor keeps dense data (every backend's kernels run it unchanged) and carries the codebook
// and bit-packed indices (tensor.clustered), which is all the .kiln file stores.
//
// Pruned weights (Deep Compression): when at least PRUNED_ZERO_FRACTION of a weight is exactly
// zero, or it carries a sparse layout, only the nonzeros are clustered, the zeros stay exactly
// zero, and the file stores the nonzeros' positions as gap codes instead of an index per zero.
//
// Error: each weight moves to the nearest of its group's k centroids (no bound beyond that; the
// accuracy cost is measured, e.g. mnist-8 in test/passes/cluster). Before clustering the graph is
// prepared as for quantization (weights computed from constants become initializers, a Conv's
// bias Add folds into the Conv: exact up to float32 rounding of the bias). Subgraphs are left as
// they are.
import { UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node } from '../../graph/ir.js';
import { clusterToDense, encodePositions, indexBits, packBits, type ClusterLayout } from '../../tensor/clustered.js';
import { bsrFromDense, csrFromDense, nmFromDense, type SparseLayout } from '../../tensor/sparse.js';
import type { Tensor } from '../../tensor/tensor.js';
import { definePass } from '../pass.js';
import { prepareForQuantization } from '../quantize/prepare.js';
import { kmeans1d, seededRandom } from './kmeans.js';

export interface ClusterOptions {
  /** Shared values per layer (or per channel): 2 to 256. */
  k: number;
  /**
   * One codebook per output channel instead of one per layer (Conv axis 0, Gemm B axis 1 or 0
   * with transB, MatMul B's last axis). A weight read in ways that disagree on the axis, or a
   * 1-D one, keeps one codebook.
   */
  perChannel?: boolean;
  /** Node names whose weights stay dense float. */
  keepDense?: readonly string[];
  /** Seed of the k-means++ generator (default 0x4b494c4e). */
  seed?: number;
  /** Lloyd iterations at most per codebook (default 100). */
  maxIterations?: number;
}

export const MIN_CLUSTER_K = 2;
export const MAX_CLUSTER_K_PASS = 256;
/** From this fraction of exact zeros on, a weight counts as pruned and only its nonzeros are clustered. */
export const PRUNED_ZERO_FRACTION = 0.25;
const DEFAULT_SEED = 0x4b494c4e; // 'KILN'

const WEIGHT_OPS = new Set(['Conv', 'Gemm', 'MatMul']);

export function clusterWeights(input: Graph, options: ClusterOptions): Graph {
  const k = options?.k;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < MIN_CLUSTER_K || k > MAX_CLUSTER_K_PASS) {
    throw new Error(`clusterWeights: k must be an integer from ${MIN_CLUSTER_K} to ${MAX_CLUSTER_K_PASS} shared values, got ${String(k)}`);
  }
  const maxIterations = options.maxIterations ?? 100;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new Error(`clusterWeights: maxIterations must be a positive integer, got ${maxIterations}`);
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new Error(`clusterWeights: seed must be an integer, got ${seed}`);
  const graph = prepareForQuantization(input);
  const keep = new Set(options.keepDense ?? []);
  const names = new Set(graph.nodes.map((n) => n.name));
  for (const name of keep) if (!names.has(name)) throw new Error(`clusterWeights: keepDense names '${name}', which is not a node of graph '${graph.name}'`);

  const idx = new UseDefIndex(graph);
  const initializers = new Map(graph.initializers);
  let changed = false;
  for (const wName of weightNames(graph)) {
    const w = graph.initializers.get(wName)!;
    if (w.type !== 'float32' || w.quant || w.size === 0 || idx.isGraphOutput(wName)) continue;
    const users = idx.consumers(wName);
    if (users.some((n) => keep.has(n.name))) continue;
    const axis = options.perChannel ? channelAxis(users, wName, w) : undefined;
    const t = clusterTensor(w, k, axis, seededRandom(seed), maxIterations, wName);
    if (!t) continue;
    initializers.set(wName, t);
    changed = true;
  }
  return changed ? { ...graph, initializers } : input;
}

export const clusterWeightsPass = definePass<ClusterOptions>('clusterWeights', (graph, options) => clusterWeights(graph, options));

/** Initializers read as the weight (input 1) of a Conv, Gemm or MatMul, in node order. */
function weightNames(graph: Graph): string[] {
  const out = new Set<string>();
  for (const n of graph.nodes) {
    const w = n.inputs[1];
    if (n.domain === '' && WEIGHT_OPS.has(n.op) && w && graph.initializers.has(w)) out.add(w);
  }
  return [...out];
}

/**
 * The output-channel axis of the weight for every consumer that reads it as a weight: Conv's
 * [O, I, ...] axis 0, Gemm's B axis 1 (axis 0 with transB), MatMul's last. Consumers that
 * disagree (or read it otherwise) leave one codebook per tensor.
 */
function channelAxis(users: readonly Node[], wName: string, w: Tensor): number | undefined {
  if (w.dims.length < 2) return undefined;
  const axes = new Set<number>();
  for (const n of users) {
    if (n.inputs[1] !== wName || n.inputs[0] === wName || n.inputs[2] === wName || !WEIGHT_OPS.has(n.op)) return undefined;
    if (n.op === 'Conv') axes.add(0);
    else if (n.op === 'Gemm') axes.add(n.attrs.transB === 1 ? 0 : 1);
    else axes.add(w.dims.length - 1);
  }
  const [axis] = axes;
  return axes.size === 1 && axis! < w.dims.length ? axis : undefined;
}

/** The clustered copy of `w`, or undefined when the codebook and indices would not be smaller than the dense data. */
function clusterTensor(w: Tensor, k: number, axis: number | undefined, random: () => number, maxIterations: number, name: string): Tensor | undefined {
  const data = w.data as Float32Array;
  const size = w.size;
  for (let i = 0; i < size; i++) {
    if (!Number.isFinite(data[i]!)) throw new Error(`clusterWeights: weight '${name}' holds a non-finite value (${data[i]}) at element ${i}`);
  }
  let zeros = 0;
  for (let i = 0; i < size; i++) if (data[i] === 0) zeros++;
  const pruned = w.sparse !== undefined || zeros >= PRUNED_ZERO_FRACTION * size;

  let inner = 1;
  if (axis !== undefined) for (let i = axis + 1; i < w.dims.length; i++) inner *= w.dims[i]!;
  const groups = axis === undefined ? 1 : w.dims[axis]!;
  const groupOf = (i: number) => (groups === 1 ? 0 : Math.floor(i / inner) % groups);

  // The elements that get an index, in element order: all, or the nonzeros of a pruned weight.
  let n = 0;
  const members = new Int32Array(pruned ? size - zeros : size);
  for (let i = 0; i < size; i++) if (!pruned || data[i] !== 0) members[n++] = i;
  const bits = indexBits(k);
  const positions = pruned ? encodePositions(members) : undefined;
  const bytes = 4 * groups * k + Math.ceil((n * bits) / 8) + (positions?.codes.length ?? 0);
  if (bytes >= data.byteLength) return undefined;

  // Index j (in element order) of every member, grouped by codebook with a counting sort.
  const start = new Int32Array(groups + 1);
  for (let j = 0; j < n; j++) start[groupOf(members[j]!) + 1]!++;
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  const order = new Int32Array(n);
  const fill = start.slice(0, groups);
  for (let j = 0; j < n; j++) order[fill[groupOf(members[j]!)]!++] = j;
  const codebook = new Float32Array(groups * k);
  const index = new Uint16Array(n);
  for (let g = 0; g < groups; g++) {
    const js = order.subarray(start[g]!, start[g + 1]!);
    if (js.length === 0) continue; // a fully pruned channel: its codebook stays zeros, unused
    const r = kmeans1d(Float32Array.from(js, (j) => data[members[j]!]!), k, random, maxIterations);
    codebook.set(r.codebook, g * k);
    for (let q = 0; q < js.length; q++) index[js[q]!] = r.assign[q]!;
  }
  const layout: ClusterLayout = {
    dtype: 'float32', dims: [...w.dims], k, bits, codebook, indices: packBits(index, bits),
    ...(axis !== undefined ? { axis } : {}),
    ...(positions ? { nnz: n, positions } : {}),
  };
  const t = clusterToDense(layout);
  t.clustered = layout;
  if (w.sparse) t.sparse = sameSparseKind(w.sparse, t);
  return t;
}

/** The layout of `from`'s kind for the clustered tensor (zeros stayed in place, so its structure is the same). */
function sameSparseKind(from: SparseLayout, t: Tensor): SparseLayout {
  switch (from.kind) {
    case 'csr': return csrFromDense(t);
    case 'bsr': return bsrFromDense(t, from.blockDims);
    case 'nm': return nmFromDense(t, from.n, from.m, from.axis);
  }
}

/** Per clustered initializer: shape, codebook size, bits per weight and stored bytes (for reports and inspect). */
export interface ClusteredWeightInfo {
  name: string;
  dims: readonly number[];
  k: number;
  groups: number;
  /** Stored bits per element, codebook and positions included. */
  bitsPerWeight: number;
  storedBytes: number;
  nnz: number;
}

export function clusteredWeights(graph: Graph): ClusteredWeightInfo[] {
  const out: ClusteredWeightInfo[] = [];
  for (const [name, t] of graph.initializers) {
    const l = t.clustered;
    if (!l) continue;
    const storedBytes = l.codebook.byteLength + l.indices.byteLength + (l.positions?.codes.byteLength ?? 0);
    out.push({ name, dims: t.dims, k: l.k, groups: l.codebook.length / l.k, bitsPerWeight: (8 * storedBytes) / t.size, storedBytes, nnz: l.nnz ?? t.size });
  }
  return out;
}
