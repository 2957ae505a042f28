// Per-layer weight storage for `kiln inspect` and the sparsity column of `kiln optimize`: each
// Conv / ConvTranspose / Gemm / MatMul weight (and the quantized forms' integer weights), its
// share of zeros, the layout it is stored in (dense, CSR, BSR, N:M, clustered) and the bits it
// takes per element in the file.
import { UseDefIndex } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { clusteredWeights } from '../passes/cluster/cluster-weights.js';
import { toNumbers } from '../tensor/convert.js';
import { byteLengthOf } from '../tensor/dtype.js';
import type { SparseLayout } from '../tensor/sparse.js';
import type { Tensor } from '../tensor/tensor.js';

export interface WeightLayer {
  /** The reading node's name (its weight's name when the node has none). */
  layer: string;
  op: string;
  weight: string;
  dims: readonly number[];
  dtype: string;
  size: number;
  /** Elements that stand for 0 (for integer weights: equal to the zero point). */
  zeros: number;
  sparsity: number;
  /** 'dense', 'csr', 'bsr 4x1', '2:4', 'clustered k=16', 'clustered k=16 per-channel + csr', ... */
  layout: string;
  /** Bits the file stores per element for the data (indices, codebook, positions; quantization scales excluded). */
  bitsPerWeight: number;
}

/** Where each weight-reading op takes its weight. */
const WEIGHT_INPUT: Readonly<Record<string, number>> = {
  Conv: 1, ConvTranspose: 1, Gemm: 1, MatMul: 1, ConvInteger: 1, MatMulInteger: 1, QLinearConv: 3, QLinearMatMul: 3,
};

function sparseName(l: SparseLayout): string {
  switch (l.kind) {
    case 'csr': return 'csr';
    case 'bsr': return `bsr ${l.blockDims[0]}x${l.blockDims[1]}`;
    case 'nm': return `${l.n}:${l.m}`;
  }
}

function sparseBytes(l: SparseLayout): number {
  switch (l.kind) {
    case 'csr': return l.rowPtr.byteLength + l.colIdx.byteLength + l.values.byteLength;
    case 'bsr': return l.blockPtr.byteLength + l.blockCol.byteLength + l.values.byteLength;
    case 'nm': return l.values.byteLength + l.indices.byteLength;
  }
}

/** Elements equal to 0, or to the zero point for an integer tensor with one zero point. */
function countZeros(t: Tensor, zeroPoint: number): number {
  const v = toNumbers(t);
  let z = 0;
  for (let i = 0; i < v.length; i++) if (v[i] === zeroPoint) z++;
  return z;
}

/** The constant zero point of a DequantizeLinear / QLinear input, when it is a single value (else 0). */
function scalarZeroPoint(graph: Graph, name: string | undefined, t: Tensor): number {
  const zp = t.quant?.zeroPoint;
  if (zp && zp.every((x) => x === zp[0])) return zp[0]!;
  const c = name ? graph.initializers.get(name) : undefined;
  if (!c || c.size === 0) return 0;
  const v = toNumbers(c);
  return v.every((x) => x === v[0]) ? v[0]! : 0;
}

/** Every weight layer of the top-level graph, in node order (a weight read by several layers once). */
export function weightLayers(graph: Graph): WeightLayer[] {
  const idx = new UseDefIndex(graph);
  const bits = new Map(clusteredWeights(graph).map((c) => [c.name, c]));
  const seen = new Set<string>();
  const out: WeightLayer[] = [];
  for (const node of graph.nodes) {
    const slot = WEIGHT_INPUT[node.op];
    if (slot === undefined || node.domain !== '') continue;
    let name = node.inputs[slot];
    let zpName: string | undefined = node.op === 'QLinearConv' || node.op === 'QLinearMatMul' ? node.inputs[5] : node.op.endsWith('Integer') ? node.inputs[3] : undefined;
    // A QDQ weight: the integer initializer behind its DequantizeLinear.
    const producer: Node | undefined = name && !graph.initializers.has(name) ? idx.producer(name) : undefined;
    if (producer?.op === 'DequantizeLinear' && graph.initializers.has(producer.inputs[0] ?? '')) {
      name = producer.inputs[0];
      zpName = producer.inputs[2];
    }
    const t = name ? graph.initializers.get(name) : undefined;
    if (!name || !t || seen.has(name) || t.size === 0) continue;
    seen.add(name);
    const isInt = !/^(float|bfloat)/.test(t.type);
    const zeros = countZeros(t, isInt ? scalarZeroPoint(graph, zpName, t) : 0);
    const c = bits.get(name);
    let layout = 'dense';
    let stored = byteLengthOf(t.type, t.size);
    if (c) {
      layout = `clustered k=${c.k}${t.clustered?.axis !== undefined ? ' per-channel' : ''}${t.sparse ? ` + ${sparseName(t.sparse)}` : ''}`;
      stored = c.storedBytes;
    } else if (t.sparse) {
      layout = sparseName(t.sparse);
      stored = sparseBytes(t.sparse);
    }
    out.push({
      layer: node.name || name, op: node.op, weight: name, dims: t.dims, dtype: t.type, size: t.size,
      zeros, sparsity: zeros / t.size, layout, bitsPerWeight: (8 * stored) / t.size,
    });
  }
  return out;
}

/**
 * Bytes of all initializers' data as the .kiln file stores them: a clustered tensor's codebook,
 * indices and positions, a sparse one's arrays, else the dense bytes (graphStats counts dense).
 */
export function storedParameterBytes(graph: Graph): number {
  const clustered = new Map(clusteredWeights(graph).map((c) => [c.name, c.storedBytes]));
  let bytes = 0;
  for (const [name, t] of graph.initializers) bytes += clustered.get(name) ?? (t.sparse ? sparseBytes(t.sparse) : byteLengthOf(t.type, t.size));
  return bytes;
}

/** Zeros over all weight elements of the graph (0 when it has none). */
export function overallSparsity(layers: readonly WeightLayer[]): number {
  const size = layers.reduce((s, l) => s + l.size, 0);
  return size ? layers.reduce((s, l) => s + l.zeros, 0) / size : 0;
}

export function weightLayerTable(layers: readonly WeightLayer[]): string {
  const head = ['layer', 'op', 'weight', 'dtype', 'sparsity', 'layout', 'bits/weight'];
  const body = layers.map((l) => [
    l.layer, l.op, `${l.weight} [${l.dims.join('x')}]`, l.dtype, `${(100 * l.sparsity).toFixed(1)}%`, l.layout, l.bitsPerWeight.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const numeric = new Set([4, 6]);
  const line = (r: string[]) => `  ${r.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()}`;
  return [line(head), ...body.map(line)].join('\n');
}
