// Sparse conversion by measurement: each MatMul / Gemm weight that holds zeros (after pruning) gets
// the layout whose kernel runs that layer fastest on the target backend (today 'wasm'): dense, CSR,
// BSR (4x1 blocks) or 2:4, for the layer's shape, sparsity and batch; a pointwise Conv's weight
// (1x1, stride 1, no padding, group 1) dense or CSR (ops/sparse-conv.ts runs it as a sparse GEMM
// over the image's pixels, which are its batch).
//
//   const { graph, layers } = sparsify(pruned, { backend: 'wasm', batch: 1 });
//   for (const l of layers) console.log(l.name, l.layout, l.timesUs);
//
// The times come from src/backends/wasm/sparse-cost.ts: a small cost model whose coefficients are
// measured by micro-benchmarks of the kernels on this host, once per shape class, and cached; pass
// `costTable` for a reproducible choice (tests, or a table measured on the deployment machine).
// Candidates the backend would not run sparse (CSR above MAX_CSR_DENSITY, 4x1 blocks above
// MAX_BSR4_FILL, 2:4 where some group of 4 along K keeps more than 2) are left out, so the
// layout chosen is the kernel that runs. Ties keep the simpler layout (dense, 2:4, CSR, BSR).
// Weights: float32 initializers of top-level ONNX-domain MatMul (B 2-D), Gemm (transA = 0) and
// pointwise Conv, read by nothing else; int8 / uint8 ones read through DequantizeLinear (zero point
// 0) by such MatMul / Gemm (a pruned and quantized layer, run by the sparse int8 kernels: dense, CSR
// or 2:4, costed as their float32 forms). Quantization parameters and clustered layouts are kept. The batch is options.batch, else the activation rows when the
// graph's shapes fix them, else 1; for a Conv, images (options.batch, else the input's) times pixels,
// and a Conv whose pixel count the shapes do not fix is left as it is.
// Error: none. Layouts only describe the same values (the dense data is kept bit for bit); kernels
// sum in another order than the dense product, within float32 rounding of it.
import { editInitializers, UseDefIndex } from '../graph/edit.js';
import { inferGraph } from '../graph/infer.js';
import type { Graph, Node } from '../graph/ir.js';
import { MAX_BSR4_FILL, MAX_CSR_DENSITY, SPMV_MAX_ROWS } from '../backends/wasm/ops/sparse.js';
import { calibratedCosts, predictCosts, shapeClass, type SparseCostTable, type WeightLayout, type WeightStats } from '../backends/wasm/sparse-cost.js';
import { bsrFromDense } from '../tensor/sparse-bsr.js';
import { csrFromDense } from '../tensor/sparse-csr.js';
import { nmFromDense } from '../tensor/sparse-nm.js';
import { attachSparse } from '../tensor/sparse.js';
import { Tensor } from '../tensor/tensor.js';
import { recordingPass, type Pass } from './pass.js';

export type { SparseCostTable, WeightLayout } from '../backends/wasm/sparse-cost.js';

export const WEIGHT_LAYOUTS: readonly WeightLayout[] = ['dense', '2:4', 'csr', 'bsr'];

export interface SparsifyOptions {
  /** The backend whose kernels decide; only 'wasm' has sparse kernels today (default 'wasm'). */
  backend?: 'wasm';
  /** Activation rows per call (a positive integer); default: from the graph's static shapes, else 1. */
  batch?: number;
  /** The layouts that may be chosen (default all four; 'dense' is always a candidate). */
  layouts?: readonly WeightLayout[];
  /** Fixed cost coefficients instead of measuring this host: the choice is then reproducible. */
  costTable?: SparseCostTable;
}

/** The choice made for one weight. */
export interface SparsifiedLayer {
  /** The first reading node's name (the weight's when the node has none). */
  name: string;
  op: string;
  weight: string;
  /** The weight as output rows N by reduction K. */
  N: number;
  K: number;
  batch: number;
  /** Zeros / size. */
  sparsity: number;
  layout: WeightLayout;
  /** Predicted microseconds per call of every candidate layout. */
  timesUs: Partial<Record<WeightLayout, number>>;
  /** 'measured': the coefficients of this shape class were measured on this host; 'table': given. */
  source: 'measured' | 'table';
  /** The measured shape class (source 'measured' only). */
  shapeClass?: string;
}

export interface SparsifyResult {
  /** The graph with the chosen layouts attached; the input graph itself when nothing changed. */
  graph: Graph;
  layers: SparsifiedLayer[];
}

function fail(message: string): never {
  throw new Error(`sparsify: ${message}`);
}

function checkOptions(o: SparsifyOptions): void {
  if (o.backend !== undefined && o.backend !== 'wasm') fail(`backend must be 'wasm' (the backend with sparse kernels), got '${String(o.backend)}'`);
  if (o.batch !== undefined && !(Number.isSafeInteger(o.batch) && o.batch >= 1)) fail(`batch must be a positive integer, got ${String(o.batch)}`);
  for (const l of o.layouts ?? []) if (!WEIGHT_LAYOUTS.includes(l)) fail(`unknown layout '${String(l)}' (expected ${WEIGHT_LAYOUTS.join(', ')})`);
  const t = o.costTable;
  if (t) {
    const values = [t.dense?.d1, t.dense?.d4, t.csr?.cNnz, t.csr?.cRow, t.csr?.sNnz, t.bsr?.bBlock, t.bsr?.bGroup, t.nm24?.n24];
    if (!values.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      fail('costTable needs finite non-negative numbers dense.{d1,d4}, csr.{cNnz,cRow,sNnz}, bsr.{bBlock,bGroup}, nm24.n24');
    }
  }
}

interface Candidate {
  weight: string;
  nodes: Node[];
  tensor: Tensor;
  /** True when B is [N, K] (Gemm transB = 1, and every Conv weight), false for [K, N]. */
  transB: boolean;
  conv: boolean;
  /** An int8 / uint8 weight read through DequantizeLinear (zero point 0) by MatMul / Gemm. */
  quantized: boolean;
}

const ints = (v: unknown): readonly number[] | undefined => (Array.isArray(v) ? (v as number[]) : undefined);

/** A Conv reading `w` as a 1x1 kernel with stride 1, no padding and one group (ops/sparse-conv.ts). */
function isPointwiseConv(node: Node, w: Tensor): boolean {
  if (node.domain !== '' || node.op !== 'Conv' || w.type !== 'float32' || w.dims.length < 3 || w.size === 0) return false;
  if (w.dims.slice(2).some((d) => d !== 1)) return false;
  const a = node.attrs;
  const pad = a.auto_pad;
  return (a.group ?? 1) === 1 && (ints(a.strides) ?? []).every((v) => v === 1) && (ints(a.pads) ?? []).every((v) => v === 0)
    && (pad === undefined || pad === 'NOTSET' || pad === 'VALID' || pad === 'SAME_UPPER' || pad === 'SAME_LOWER');
}

/** Whether `node` reads its B as a weight the WASM sparse kernels take, and how B is oriented. */
function orientation(node: Node, b: Tensor, quantized = false): boolean | undefined {
  if (node.domain !== '' || (!quantized && b.type !== 'float32') || b.dims.length !== 2 || b.size === 0) return undefined;
  if (node.op === 'MatMul') return false;
  if (node.op === 'Gemm' && (node.attrs.transA ?? 0) === 0) return node.attrs.transB === 1;
  return undefined;
}

function candidates(graph: Graph): Candidate[] {
  const idx = new UseDefIndex(graph);
  const inputs = new Set(graph.inputs.map((v) => v.name));
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    const w = node.inputs[1];
    if (!w || seen.has(w) || (node.op !== 'MatMul' && node.op !== 'Gemm' && node.op !== 'Conv')) continue;
    seen.add(w);
    const tensor = graph.initializers.get(w);
    if (!tensor || inputs.has(w) || idx.isGraphOutput(w)) continue;
    const uses = idx.usesOf(w);
    const nodes = [...new Set(uses.map((u) => u.node))];
    if (nodes.every((n) => isPointwiseConv(n, tensor))) {
      if (uses.every((u) => u.input === 1)) out.push({ weight: w, nodes, tensor, transB: true, conv: true, quantized: false });
      continue;
    }
    const orient = nodes.map((n) => orientation(n, tensor));
    if (uses.some((u) => u.input !== 1) || orient.some((o) => o === undefined || o !== orient[0])) continue;
    out.push({ weight: w, nodes, tensor, transB: orient[0]!, conv: false, quantized: false });
  }
  out.push(...quantizedCandidates(graph, idx, inputs));
  return out;
}

const isZeroConstant = (graph: Graph, name: string | undefined): boolean => {
  if (!name) return true;
  const z = graph.initializers.get(name);
  return z !== undefined && Array.from(z.data as ArrayLike<number | bigint>).every((v) => Number(v) === 0);
};

/**
 * int8 / uint8 initializers that only DequantizeLinear nodes read (zero point absent or all 0, no
 * blocks), whose outputs only MatMul / Gemm read as B: the WASM backend fuses those into
 * DequantMatMul / DequantGemm and runs a sparse layout on its int8 CSR (or 2:4) kernels.
 */
function quantizedCandidates(graph: Graph, idx: UseDefIndex, inputs: ReadonlySet<string>): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (const dq of graph.nodes) {
    const w = dq.inputs[0];
    if (dq.op !== 'DequantizeLinear' || dq.domain !== '' || !w || seen.has(w)) continue;
    seen.add(w);
    const tensor = graph.initializers.get(w);
    if (!tensor || (tensor.type !== 'int8' && tensor.type !== 'uint8') || inputs.has(w) || idx.isGraphOutput(w)) continue;
    const dqs = [...new Set(idx.usesOf(w).map((u) => u.node))];
    if (idx.usesOf(w).some((u) => u.input !== 0 || u.node.op !== 'DequantizeLinear')) continue;
    if (dqs.some((d) => !isZeroConstant(graph, d.inputs[2]) || ((d.attrs.block_size as number | undefined) ?? 0) !== 0)) continue;
    if (dqs.some((d) => idx.isGraphOutput(d.outputs[0]!))) continue;
    const readers = dqs.flatMap((d) => [...idx.usesOf(d.outputs[0]!)]);
    if (readers.length === 0 || readers.some((u) => u.input !== 1)) continue;
    const nodes = [...new Set(readers.map((u) => u.node))];
    const orient = nodes.map((n) => orientation(n, tensor, true));
    if (orient.some((o) => o === undefined || o !== orient[0])) continue;
    out.push({ weight: w, nodes, tensor, transB: orient[0]!, conv: false, quantized: true });
  }
  return out;
}

function stats(c: Candidate): WeightStats {
  const [R, C] = [c.tensor.dims[0]!, c.tensor.dims.slice(1).reduce((a, b) => a * b, 1)];
  const [N, K] = c.transB ? [R, C] : [C, R];
  const d = c.tensor.data as ArrayLike<number>;
  const at = (n: number, k: number): number => d[c.transB ? n * K + k : k * N + n]!;
  const nz = (n: number, k: number): boolean => !Object.is(at(n, k), 0);
  let nnz = 0;
  for (let i = 0; i < d.length; i++) if (!Object.is(d[i], 0)) nnz++;
  let blocks = 0;
  for (let g = 0; g < N; g += 4) {
    for (let k = 0; k < K; k++) {
      for (let n = g; n < Math.min(g + 4, N); n++) {
        if (nz(n, k)) {
          blocks++;
          break;
        }
      }
    }
  }
  let is24 = K % 4 === 0;
  for (let n = 0; n < N && is24; n++) {
    for (let k = 0; k < K && is24; k += 4) {
      if (Number(nz(n, k)) + Number(nz(n, k + 1)) + Number(nz(n, k + 2)) + Number(nz(n, k + 3)) > 2) is24 = false;
    }
  }
  return { N, K, nnz, blocks, is24 };
}

/** Activation rows of `node` when the graph's shapes fix them. */
function staticRows(node: Node, types: ReturnType<typeof inferGraph>['types'] | undefined): number | undefined {
  const shape = types?.get(node.inputs[0] ?? '')?.shape;
  if (!shape || shape.length < 1) return undefined;
  let rows = 1;
  for (const d of shape.slice(0, -1)) {
    if (typeof d !== 'number') return undefined;
    rows *= d;
  }
  return rows >= 1 ? rows : undefined;
}

/** Images times pixels of a Conv's input, when the shapes fix the pixels (images: `batch` if given). */
function convRows(node: Node, types: ReturnType<typeof inferGraph>['types'] | undefined, batch: number | undefined): number | undefined {
  const shape = types?.get(node.inputs[0] ?? '')?.shape;
  if (!shape || shape.length < 3 || !shape.slice(2).every((d) => typeof d === 'number')) return undefined;
  const pixels = (shape.slice(2) as number[]).reduce((a, b) => a * b, 1);
  const images = batch ?? (typeof shape[0] === 'number' ? shape[0] : 1);
  return images * pixels >= 1 ? images * pixels : undefined;
}

function withLayout(c: Candidate, layout: WeightLayout): Tensor {
  const t = new Tensor(c.tensor.type, c.tensor.data, c.tensor.dims);
  // Quantization parameters and a clustered layout (codebook + indices, which .kiln stores with the
  // sparse layout as a hint) describe the same values: they carry over.
  if (c.tensor.quant) t.quant = c.tensor.quant;
  if (c.tensor.clustered) t.clustered = c.tensor.clustered;
  if (c.conv && layout !== 'dense' && layout !== 'csr') throw new Error(`sparsify: internal error, layout ${layout} for a Conv weight`);
  switch (layout) {
    case 'dense': return t;
    case 'csr': return attachSparse(t, csrFromDense(t));
    case 'bsr': return attachSparse(t, bsrFromDense(t, c.transB ? [4, 1] : [1, 4]));
    case '2:4': return attachSparse(t, nmFromDense(t, 2, 4, c.transB ? 1 : 0));
  }
}

/** The layout a tensor carries now, in sparsify's terms (undefined: one sparsify would not write). */
function currentLayout(t: Tensor, transB: boolean): WeightLayout | undefined {
  const l = t.sparse;
  if (!l) return 'dense';
  if (l.kind === 'csr') return 'csr';
  if (l.kind === 'nm') return l.n === 2 && l.m === 4 && l.axis === (transB ? 1 : 0) ? '2:4' : undefined;
  const want = transB ? [4, 1] : [1, 4];
  return l.blockDims[0] === want[0] && l.blockDims[1] === want[1] ? 'bsr' : undefined;
}

/** Chooses and attaches a layout for every float32 MatMul / Gemm weight with zeros. */
export function sparsify(graph: Graph, options: SparsifyOptions = {}): SparsifyResult {
  checkOptions(options);
  const allowed = new Set<WeightLayout>(['dense', ...(options.layouts ?? WEIGHT_LAYOUTS)]);
  const found = candidates(graph);
  let types: ReturnType<typeof inferGraph>['types'] | undefined;
  if ((options.batch === undefined && found.length > 0) || found.some((c) => c.conv)) {
    try {
      types = inferGraph(graph).types;
    } catch {
      types = undefined;
    }
  }
  const layers: SparsifiedLayer[] = [];
  const replaced = new Map<string, Tensor>();
  for (const c of found) {
    const s = stats(c);
    if (s.nnz === s.N * s.K) continue;
    let batch: number;
    if (c.conv) {
      const rows = c.nodes.map((n) => convRows(n, types, options.batch));
      if (rows.some((r) => r === undefined)) continue;
      // The pointwise kernel always runs the SpMM (pixels are its columns), whatever their count.
      batch = Math.max(SPMV_MAX_ROWS + 1, ...(rows as number[]));
    } else {
      batch = options.batch ?? Math.max(...c.nodes.map((n) => staticRows(n, types) ?? 1));
    }
    const table = options.costTable ?? calibratedCosts(s.N, s.K, batch);
    const predicted = predictCosts(table, s, batch);
    // Pointwise convs have the CSR kernel only; quantized weights CSR and 2:4 (int8 values, f32 scales).
    if (c.quantized) delete predicted.bsr;
    if (c.conv) {
      delete predicted.bsr;
      delete predicted['2:4'];
    }
    // What the backend would not run sparse is no candidate (it would run dense).
    if (s.nnz > MAX_CSR_DENSITY * s.N * s.K) delete predicted.csr;
    if (s.N % 4 !== 0 || 4 * s.blocks > MAX_BSR4_FILL * s.N * s.K) delete predicted.bsr;
    let layout: WeightLayout = 'dense';
    for (const l of WEIGHT_LAYOUTS) {
      const t = predicted[l];
      if (allowed.has(l) && t !== undefined && t < predicted[layout]!) layout = l;
    }
    const timesUs: Partial<Record<WeightLayout, number>> = {};
    for (const l of WEIGHT_LAYOUTS) if (allowed.has(l) && predicted[l] !== undefined) timesUs[l] = predicted[l]! / 1000;
    const first = c.nodes[0]!;
    layers.push({
      name: first.name || c.weight, op: first.op, weight: c.weight, N: s.N, K: s.K, batch,
      sparsity: 1 - s.nnz / (s.N * s.K), layout, timesUs,
      ...(options.costTable ? { source: 'table' as const } : { source: 'measured' as const, shapeClass: shapeClass(s.N, s.K, batch) }),
    });
    if (currentLayout(c.tensor, c.transB) !== layout) replaced.set(c.weight, withLayout(c, layout));
  }
  return { graph: replaced.size ? editInitializers(graph, replaced) : graph, layers };
}

/** What sparsifyPass records in provenance: the options and, after a run, every layer's choice. */
export interface SparsifyPassOptions extends SparsifyOptions {
  result?: { layers: SparsifiedLayer[] };
}

/** sparsify as a Pass: provenance records each layer's layout and predicted times. */
export function sparsifyPass(options: SparsifyOptions = {}): Pass<SparsifyPassOptions> {
  checkOptions(options);
  return recordingPass('sparsify', options, (graph) => {
    const r = sparsify(graph, options);
    return { graph: r.graph, result: { layers: r.layers } };
  });
}
