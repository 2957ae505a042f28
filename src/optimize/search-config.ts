// Per-layer compression settings for searchCompression (search.ts), the ladders the search walks
// for each layer, and the function that builds the model a configuration describes.
//
// A setting is a pruning amount and one storage precision. Clustering and quantization are
// exclusive on one layer (quantizing a clustered weight would store it as dense int8 again), so
// they share the `precision` slot. Layers are the prunable Conv / MatMul / Gemm nodes of the
// graph after prepareForQuantization, named by node.
//
// Building a configuration (applyConfig): prune (each amount's layers together, with one global
// magnitude threshold among them; 2:4 along the reduction) -> cluster (k = 16 / 32) -> quantize.
// Every quantizer re-runs prepareForQuantization, which would fold an already quantized weight
// (DequantizeLinear of a constant) back into a float initializer; so the static int8 graph is
// the base, and the weight-only and fp16 layers are made from the same float graph separately
// and their new weight producers (a DequantizeLinear or a Cast) moved into the base.
import { UseDefIndex } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { clusterWeights } from '../passes/cluster/cluster-weights.js';
import { findPrunableLayers } from '../passes/prune/layers.js';
import { pruneMagnitude } from '../passes/prune/magnitude.js';
import { quantizeFp16 } from '../passes/quantize/fp16-weights.js';
import { quantizeWeights } from '../passes/quantize/weight-only.js';
import { sparsify } from '../passes/sparsify.js';
import { Tensor } from '../tensor/tensor.js';
import type { Dataset } from './dataset.js';
import { quantizeStatic } from './quantize-static.js';

/** Fraction of the layer's weights set to 0 (global magnitude within the layers sharing it), or 2:4. */
export type PruneSetting = 0 | 0.5 | 0.75 | 0.9 | '2:4';
/** How the layer's weight is stored: float32, float16, int8 (static, activations too), int8 / int4 weight-only, or clustered to 16 / 32 values. */
export type PrecisionSetting = 'float' | 'fp16' | 'int8' | 'int8-weight' | 'int4-weight' | 'k16' | 'k32';

export interface LayerSetting {
  prune: PruneSetting;
  precision: PrecisionSetting;
}

/** Layer (node) name -> its setting; layers left out are float and dense. */
export type SearchConfig = Record<string, LayerSetting>;

export const FLOAT_SETTING: LayerSetting = { prune: 0, precision: 'float' };

/** A layer the search may compress. */
export interface SearchLayer {
  name: string;
  op: string;
  /** Every node reading the weight (a shared weight is one layer). */
  nodes: string[];
  weight: string;
  size: number;
  reduction: number;
  /** MatMul / Gemm with a 2-D weight: the weight-only quantizers apply. */
  weightOnly: boolean;
  /** 1x1 Conv, MatMul or Gemm: the WASM backend has sparse kernels for it. */
  sparseKernel: boolean;
}

export function searchLayers(prepared: Graph): SearchLayer[] {
  return findPrunableLayers(prepared).filter((l) => l.isInitializer && l.tensor.type === 'float32').map((l) => {
    const node = l.nodes[0]!;
    const twoD = l.tensor.dims.length === 2 && (node.op === 'MatMul' || (node.op === 'Gemm' && (node.attrs.transA ?? 0) === 0));
    const pointwise = node.op === 'Conv' && l.tensor.dims.slice(2).every((d) => d === 1) && (node.attrs.group ?? 1) === 1;
    return {
      name: l.name, op: l.op, nodes: l.nodes.map((n) => n.name), weight: l.weight, size: l.tensor.size, reduction: l.reduction,
      weightOnly: twoD, sparseKernel: twoD || pointwise,
    };
  });
}

export function settingLabel(s: LayerSetting): string {
  const p = s.prune === 0 ? '' : s.prune === '2:4' ? '2:4' : `p${Math.round(s.prune * 100)}`;
  return s.precision === 'float' ? (p || 'float') : p ? `${p}+${s.precision}` : s.precision;
}

const sameSetting = (a: LayerSetting, b: LayerSetting) => a.prune === b.prune && a.precision === b.precision;

/** Whether `s` can be applied to `layer` (int8 static needs calibration data; pruned int8 a MatMul / Gemm). */
export function eligible(layer: SearchLayer, s: LayerSetting, staticInt8: boolean): boolean {
  if (s.prune === '2:4' && layer.reduction % 4 !== 0) return false;
  if (s.precision === 'int8' && !staticInt8) return false;
  // sparsify gives int8 weights sparse layouts on MatMul / Gemm only (the sparse int8 kernels).
  if (s.precision === 'int8' && s.prune !== 0 && !layer.weightOnly) return false;
  if ((s.precision === 'int8-weight' || s.precision === 'int4-weight') && !layer.weightOnly) return false;
  return true;
}

const dens = (p: PruneSetting) => (p === '2:4' ? 0.5 : 1 - p);

/**
 * A rough cost of one setting, relative units, for ordering a layer's ladder (the candidates'
 * real bytes and latencies are measured). Size: stored bits per weight, clustered nonzeros paying
 * about 3 bits of gap-coded position each. Latency: time relative to the dense float layer on
 * WASM, from the kernel speed-ups measured in this repository (int8 ~2x, int4 GEMV ~1.7x, 90% CSR
 * ~3x, 2:4 ~1.4x; a pruned int8 layer multiplies both); pruning gains nothing without a sparse kernel.
 */
export function estimatedCost(layer: SearchLayer, s: LayerSetting, target: 'size' | 'latency'): number {
  const d = dens(s.prune);
  if (target === 'size') {
    const k = s.precision === 'k16' ? 4 : s.precision === 'k32' ? 5 : 0;
    if (k) return d < 0.75 + 1e-9 && s.prune !== 0 ? d * (k + 3) : k;
    const bits: Record<PrecisionSetting, number> = { float: 32, fp16: 16, int8: 8, 'int8-weight': 9, 'int4-weight': 5, k16: 4, k32: 5 };
    return bits[s.precision];
  }
  const q = s.precision === 'int8' ? 0.5 : s.precision === 'int4-weight' ? 0.6 : 1;
  if (!layer.sparseKernel || s.prune === 0) return q;
  return q * (s.prune === '2:4' ? 0.7 : s.prune === 0.9 ? 0.3 : s.prune === 0.75 ? 0.6 : 0.95);
}

/** Every setting the search may give a layer for `target` (settings that cannot help it left out). */
function settingsFor(target: 'size' | 'latency'): LayerSetting[] {
  if (target === 'size') {
    return [
      ...([0.9, 0.75, 0.5, 0] as const).map((prune) => ({ prune, precision: 'k16' as const })),
      { prune: 0, precision: 'k32' }, { prune: 0, precision: 'int4-weight' }, { prune: 0, precision: 'int8' },
      { prune: 0, precision: 'int8-weight' }, { prune: 0, precision: 'fp16' },
    ];
  }
  // Clustering and fp16 decode to float at load: no faster than float. Pruning pays through
  // sparsify's layouts: float, or static int8 on the sparse int8 kernels (MatMul / Gemm).
  return [
    ...([0.9, 0.75, '2:4'] as const).map((prune) => ({ prune, precision: 'int8' as const })),
    ...([0.9, 0.75, '2:4', 0.5] as const).map((prune) => ({ prune, precision: 'float' as const })),
    { prune: 0, precision: 'int8' }, { prune: 0, precision: 'int4-weight' },
  ];
}

/**
 * The settings of one layer, most compressed first, ending with float: the eligible settings
 * whose estimated cost is below float's, cheapest first (ties keep the list order).
 */
export function ladder(layer: SearchLayer, target: 'size' | 'latency', staticInt8: boolean): LayerSetting[] {
  const float = estimatedCost(layer, FLOAT_SETTING, target);
  const ok = settingsFor(target).filter((s) => eligible(layer, s, staticInt8) && estimatedCost(layer, s, target) < float);
  const ranked = ok.map((s, i) => ({ s, i, c: estimatedCost(layer, s, target) })).sort((a, b) => a.c - b.c || a.i - b.i);
  return [...ranked.map((r) => r.s), FLOAT_SETTING];
}

export interface BuildContext {
  /** Calibration samples for static int8 (required when a layer is int8). */
  calibration?: Dataset;
  /** Apply sparsify (WASM layouts by measurement) to the pruned float weights. */
  sparsify: boolean;
}

/** Node names of the layers whose setting satisfies `pick`. */
function nodesWhere(layers: readonly SearchLayer[], config: SearchConfig, pick: (s: LayerSetting) => boolean): { in: string[]; out: string[] } {
  const r = { in: [] as string[], out: [] as string[] };
  for (const l of layers) (pick(config[l.name] ?? FLOAT_SETTING) ? r.in : r.out).push(...l.nodes);
  return r;
}

function prune(g: Graph, layers: readonly SearchLayer[], config: SearchConfig): Graph {
  for (const p of [0.9, 0.75, 0.5, '2:4'] as const) {
    const group = layers.filter((l) => config[l.name]?.prune === p);
    if (group.length === 0) continue;
    const keepDense = layers.filter((l) => !group.includes(l)).map((l) => l.name);
    g = pruneMagnitude(g, p === '2:4' ? { kind: '2:4', keepDense } : { kind: 'global', amount: p, keepDense }).graph;
  }
  return g;
}

/**
 * Moves into `base` the producers that `made` (a quantizer's output from the same float graph)
 * gives the weight inputs (slot >= 1) of `nodes`: new nodes (a DequantizeLinear, a Cast) and
 * the initializers they read; a float initializer they now compute is dropped from `base`.
 */
function transplant(base: Graph, made: Graph, nodes: readonly string[]): Graph {
  const baseNames = new Set(base.nodes.map((n) => n.name));
  const madeIdx = new UseDefIndex(made);
  const byName = new Map(made.nodes.map((n) => [n.name, n]));
  const added: Node[] = [];
  const initializers = new Map(base.initializers);
  const rewired = new Map<string, string[]>();
  const addProducer = (value: string): void => {
    const p = madeIdx.producer(value);
    if (!p) {
      const t = made.initializers.get(value);
      if (t && initializers.get(value) !== t) {
        // A name both quantizers made for different tensors: refuse rather than mix them up.
        const had = initializers.get(value);
        if (had && sameTensor(had, t)) return;
        if (had) throw new Error(`searchCompression: internal error, initializer '${value}' means two tensors`);
        initializers.set(value, t);
      }
      return;
    }
    if (added.includes(p)) return;
    if (baseNames.has(p.name)) throw new Error(`searchCompression: internal error, node '${p.name}' already in the base graph`);
    p.inputs.forEach((v) => v && addProducer(v));
    for (const o of p.outputs) if (o) initializers.delete(o);
    added.push(p);
  };
  for (const name of nodes) {
    const n = byName.get(name);
    if (!n) throw new Error(`searchCompression: internal error, layer '${name}' missing after quantization`);
    n.inputs.forEach((v, i) => { if (i >= 1 && v) addProducer(v); });
    rewired.set(name, n.inputs);
  }
  // The new producers read only initializers and each other (added producers first): all go
  // right before the first layer that reads them.
  const out: Node[] = [];
  for (const n of base.nodes) {
    const inputs = rewired.get(n.name);
    if (!inputs) { out.push(n); continue; }
    if (!out.includes(added[0]!)) out.push(...added);
    out.push({ ...n, inputs: [n.inputs[0] ?? '', ...inputs.slice(1)] });
  }
  // Drop the float weights nothing reads any more (and nothing else).
  const used = new UseDefIndex({ ...base, nodes: out, initializers });
  const wasUsed = new UseDefIndex(base);
  for (const k of [...initializers.keys()]) if (!used.isUsed(k) && base.initializers.has(k) && wasUsed.isUsed(k)) initializers.delete(k);
  const opsets = { ...base.opsets };
  for (const [d, v] of Object.entries(made.opsets)) opsets[d] = Math.max(opsets[d] ?? 0, v);
  return { ...base, nodes: out, initializers, opsets };
}

function sameTensor(a: Tensor, b: Tensor): boolean {
  if (a.type !== b.type || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The model `config` describes, built from `prepared` (a graph after prepareForQuantization). */
export async function applyConfig(prepared: Graph, layers: readonly SearchLayer[], config: SearchConfig, ctx: BuildContext): Promise<Graph> {
  let g = prune(prepared, layers, config);
  for (const k of [16, 32] as const) {
    const group = nodesWhere(layers, config, (s) => s.precision === `k${k}`);
    if (group.in.length) g = clusterWeights(g, { k, keepDense: g.nodes.map((n) => n.name).filter((n) => !group.in.includes(n)) });
  }
  const float = g;
  const int8 = nodesWhere(layers, config, (s) => s.precision === 'int8');
  if (int8.in.length) {
    if (!ctx.calibration) throw new Error('searchCompression: int8 (static) layers need calibration data');
    // No cross-layer equalization: it would rescale the float, pruned or clustered neighbours too.
    g = await quantizeStatic(float, ctx.calibration, { keepFloat: int8.out, equalize: false });
  }
  for (const bits of [4, 8] as const) {
    const group = nodesWhere(layers, config, (s) => s.precision === `int${bits}-weight`);
    if (group.in.length) g = transplant(g, quantizeWeights(float, { bits, keepFloat: group.out }), group.in);
  }
  const half = nodesWhere(layers, config, (s) => s.precision === 'fp16');
  if (half.in.length) g = transplant(g, quantizeFp16(float, { keepFloat: float.nodes.map((n) => n.name).filter((n) => !half.in.includes(n)) }), half.in);
  if (ctx.sparsify && layers.some((l) => (config[l.name]?.prune ?? 0) !== 0)) g = sparsify(g, { backend: 'wasm', batch: 1 }).graph; // clustered weights are left as they are
  return g;
}

/**
 * Settings applied to every layer at once, most compressed first: each setting of the target that
 * some layer's ladder holds, ordered by the estimated cost of the whole model built with
 * uniformConfig, only those estimated below the float model.
 */
export function uniformSettings(layers: readonly SearchLayer[], ladders: ReadonlyMap<string, readonly LayerSetting[]>, target: 'size' | 'latency'): LayerSetting[] {
  const total = (s: LayerSetting) => {
    const c = uniformConfig(layers, s, ladders);
    return layers.reduce((sum, l) => sum + l.size * estimatedCost(l, c[l.name]!, target), 0);
  };
  const float = total(FLOAT_SETTING);
  return settingsFor(target).map((s, i) => ({ s, i, c: total(s) })).filter((x) => x.c < float).sort((a, b) => a.c - b.c || a.i - b.i).map((x) => x.s);
}

/**
 * `s` for every layer whose ladder holds it; else the same precision unpruned where the ladder
 * holds that (a Conv without sparse kernels gets int8 where a MatMul gets p90+int8); else float.
 */
export function uniformConfig(layers: readonly SearchLayer[], s: LayerSetting, ladders: ReadonlyMap<string, readonly LayerSetting[]>): SearchConfig {
  const unpruned: LayerSetting = { prune: 0, precision: s.precision };
  return Object.fromEntries(layers.map((l) => {
    const steps = ladders.get(l.name)!;
    return [l.name, steps.find((x) => sameSetting(x, s)) ?? steps.find((x) => sameSetting(x, unpruned)) ?? FLOAT_SETTING];
  }));
}

/** "all k16"; else the layers that are not float ("conv1:int8 fc:p90+k16"), or counts per setting when there are more than six. */
export function configLabel(layers: readonly SearchLayer[], config: SearchConfig): string {
  const settings = layers.map((l) => config[l.name] ?? FLOAT_SETTING);
  if (settings.every((s) => sameSetting(s, settings[0]!))) return `all ${settingLabel(settings[0]!)}`;
  const changed = layers.map((l, i) => [l.name, settingLabel(settings[i]!)] as const).filter(([, s]) => s !== 'float');
  if (changed.length <= 6) return changed.map(([n, s]) => `${n}:${s}`).join(' ');
  const counts = new Map<string, number>();
  for (const s of settings) counts.set(settingLabel(s), (counts.get(settingLabel(s)) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s} x${n}`).join(', ');
}
