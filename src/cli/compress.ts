// The pruning and clustering half of `kiln optimize`: flag checks (all before anything is read or
// written), then magnitude or channel pruning, clustering and the sparse layouts the target
// backend's kernels run fastest, each through the pass pipeline so the .kiln provenance records
// what was done (per-layer sparsity, channels kept, layouts and their measured times).
import type { BackendName } from '../backends/backend.js';
import type { Graph } from '../graph/ir.js';
import { clusterWeightsPass, MAX_CLUSTER_K_PASS, MIN_CLUSTER_K } from '../passes/cluster/cluster-weights.js';
import { optimize } from '../passes/pipeline.js';
import { describeLayer, findPrunableLayers } from '../passes/prune/layers.js';
import { pruneMagnitudePass, type MagnitudePruneKind, type MagnitudePruneRecord } from '../passes/prune/magnitude.js';
import { pruneStructuredPass, type ChannelNorm, type StructuredPruneRecord } from '../passes/prune/structured.js';
import { sparsifyPass, type SparsifiedLayer } from '../passes/sparsify.js';
import type { Pass, PassOptions } from '../passes/pass.js';

export const COMPRESS_USAGE = `  --prune P                  prune: the fraction of weights set to 0 (global, layer), or of each layer's
                             output channels removed (channel)
  --prune-kind global|layer|channel|N:M   (default global; N:M such as 2:4 along the reduction axis)
  --prune-norm l1|l2         how channels are scored (--prune-kind channel; default l1)
  --keep-dense a,b           layers left unpruned and unclustered
  --cluster K                share K values (2..256) per layer's weight (k-means)
  --cluster-per-channel      one codebook per output channel`;

export interface CompressSetup {
  prune?: { kind: 'global' | 'layer' | 'channel' | `${number}:${number}`; amount?: number; norm?: ChannelNorm };
  cluster?: { k: number; perChannel: boolean };
  keepDense: string[];
}

export interface CompressFlags {
  prune?: string | undefined;
  'prune-kind'?: string | undefined;
  'prune-norm'?: string | undefined;
  'keep-dense'?: string | undefined;
  cluster?: string | undefined;
  'cluster-per-channel'?: boolean | undefined;
}

/** Checks the pruning and clustering flags (no model needed); undefined when none is given. */
export function parseCompressFlags(o: CompressFlags): CompressSetup | undefined {
  const kind = o['prune-kind'];
  const keepDense = o['keep-dense'] ? o['keep-dense'].split(',').map((s) => s.trim()).filter(Boolean) : [];
  if (o['prune-norm'] !== undefined && kind !== 'channel') {
    throw new Error(`--prune-norm scores whole channels: it applies to --prune-kind channel only${kind ? `, not ${kind}` : ' (add --prune-kind channel)'}`);
  }
  if (o['prune-norm'] !== undefined && o['prune-norm'] !== 'l1' && o['prune-norm'] !== 'l2') throw new Error(`--prune-norm must be l1 or l2, got '${o['prune-norm']}'`);
  if (o['cluster-per-channel'] && o.cluster === undefined) throw new Error('--cluster-per-channel needs --cluster K');
  if (o['keep-dense'] !== undefined && o.prune === undefined && kind === undefined && o.cluster === undefined) throw new Error('--keep-dense applies to --prune and --cluster');
  if (o['keep-dense'] !== undefined && keepDense.length === 0) throw new Error('--keep-dense needs layer names: --keep-dense a,b');

  let prune: CompressSetup['prune'];
  if (o.prune !== undefined || kind !== undefined) {
    const k = kind ?? 'global';
    const nm = /^(\d+):(\d+)$/.exec(k);
    if (k !== 'global' && k !== 'layer' && k !== 'channel' && !nm) throw new Error(`--prune-kind must be global, layer, channel or an N:M pattern such as 2:4, got '${k}'`);
    if (nm && !(Number(nm[1]) >= 1 && Number(nm[1]) < Number(nm[2]) && Number(nm[2]) <= 256)) throw new Error(`--prune-kind ${k}: an N:M pattern needs 1 <= N < M <= 256`);
    let amount: number | undefined;
    if (o.prune !== undefined) {
      amount = Number(o.prune);
      if (o.prune.trim() === '' || !Number.isFinite(amount) || amount < 0 || amount > 1) {
        throw new Error(`--prune must be a fraction from 0 to 1 (the share of ${k === 'channel' ? "each layer's channels removed" : 'weights set to zero'}), got '${o.prune}'`);
      }
      if (k === 'channel' && amount === 1) throw new Error("--prune 1 with --prune-kind channel would remove every output channel of each layer, leaving nothing to compute; give a fraction below 1");
      if (nm && Math.abs(amount - (1 - Number(nm[1]) / Number(nm[2]))) > 1e-9) {
        throw new Error(`--prune-kind ${k} sets ${1 - Number(nm[1]) / Number(nm[2])} of the weights to zero by construction; --prune ${o.prune} does not apply (leave --prune out)`);
      }
    } else if (!nm) {
      throw new Error(`--prune-kind ${k} needs --prune P, the fraction to remove`);
    }
    prune = {
      kind: k as NonNullable<CompressSetup['prune']>['kind'],
      ...(amount !== undefined ? { amount } : {}),
      ...(o['prune-norm'] ? { norm: o['prune-norm'] as ChannelNorm } : {}),
    };
  }

  let cluster: CompressSetup['cluster'];
  if (o.cluster !== undefined) {
    const k = Number(o.cluster);
    if (!Number.isInteger(k) || k < MIN_CLUSTER_K || k > MAX_CLUSTER_K_PASS) {
      throw new Error(`--cluster must be a whole number of shared values from ${MIN_CLUSTER_K} to ${MAX_CLUSTER_K_PASS} (stored as ${Math.log2(MIN_CLUSTER_K)} to ${Math.log2(MAX_CLUSTER_K_PASS)}-bit indices), got '${o.cluster}'`);
    }
    cluster = { k, perChannel: !!o['cluster-per-channel'] };
  }
  if (!prune && !cluster) return undefined;
  return { ...(prune ? { prune } : {}), ...(cluster ? { cluster } : {}), keepDense };
}

/** The row name of the compressed model in the closing table, e.g. 'pruned 50% global + k16'. */
export function compressName(s: CompressSetup): string {
  const parts: string[] = [];
  const p = s.prune;
  if (p) {
    if (p.kind === 'channel') parts.push(`channel-pruned ${Math.round(100 * p.amount!)}% ${p.norm ?? 'l1'}`);
    else if (/:/.test(p.kind)) parts.push(`pruned ${p.kind}`);
    else parts.push(`pruned ${+(100 * p.amount!).toFixed(1)}% ${p.kind}`);
  }
  if (s.cluster) parts.push(`k${s.cluster.k}${s.cluster.perChannel ? '/ch' : ''}`);
  return parts.join(' + ');
}

/** Checks --keep-dense names against the layers pruning and clustering act on, and N:M divisibility. */
export function checkCompressAgainst(graph: Graph, s: CompressSetup, input: string): void {
  const layers = findPrunableLayers(graph);
  const list = layers.map((l) => l.name).join(', ') || 'none';
  const kept = new Set<string>();
  for (const name of s.keepDense) {
    const l = layers.find((x) => x.name === name || x.weight === name || x.nodes.some((n) => n.name === name));
    if (!l) throw new Error(`--keep-dense: no Conv, ConvTranspose, Gemm or MatMul layer named '${name}' in ${input} (layers: ${list})`);
    kept.add(l.name);
  }
  const nm = s.prune ? /^(\d+):(\d+)$/.exec(s.prune.kind) : null;
  if (nm) {
    const m = Number(nm[2]);
    const bad = layers.filter((l) => !kept.has(l.name) && l.reduction % m !== 0);
    if (bad.length) {
      throw new Error(`--prune-kind ${s.prune!.kind} groups ${m} consecutive weights along each layer's reduction dimension, which must be a multiple of ${m}: `
        + bad.map((l) => `${describeLayer(l)} has ${l.reductionLabel}`).join('; ')
        + `. Leave ${bad.length === 1 ? 'it' : 'them'} dense with --keep-dense ${bad.map((l) => l.name).join(',')}`);
    }
  }
}

export interface CompressResult {
  graph: Graph;
  /** Lines describing what pruning and clustering did, for the log. */
  lines: string[];
}

/** Prunes, then clusters, through the pass pipeline (recorded in provenance). */
export async function compress(graph: Graph, s: CompressSetup): Promise<CompressResult> {
  const lines: string[] = [];
  let g = graph;
  const p = s.prune;
  // Names given as weights become the layer (node) names the passes take.
  const layers = findPrunableLayers(graph);
  const keep = s.keepDense.map((n) => layers.find((l) => l.weight === n)?.name ?? n);
  if (p?.kind === 'channel') {
    const pass = pruneStructuredPass({ amount: p.amount!, norm: p.norm ?? 'l1', ...(keep.length ? { keepDense: keep } : {}) });
    g = await run(g, pass);
    const r: StructuredPruneRecord | undefined = pass.options.result;
    for (const grp of Object.values(r?.groups ?? {})) lines.push(`  ${grp.layers.join(' + ')}: ${grp.kept} of ${grp.channels} channels kept`);
    for (const ref of r?.refused ?? []) lines.push(`  ${ref.layers.join(' + ')}: not pruned (${ref.reason})`);
    lines.unshift(`channel pruning (${p.norm ?? 'l1'} norm, ${p.amount} of each layer's channels):`);
  } else if (p) {
    const pass = pruneMagnitudePass({ kind: p.kind as MagnitudePruneKind, ...(p.amount !== undefined && !p.kind.includes(':') ? { amount: p.amount } : {}), ...(keep.length ? { keepDense: keep } : {}) });
    g = await run(g, pass);
    const r: MagnitudePruneRecord | undefined = pass.options.result;
    lines.push(`magnitude pruning (${p.kind}): ${(100 * (r?.sparsity ?? 0)).toFixed(1)}% of the prunable weights are 0`);
    for (const [name, l] of Object.entries(r?.layers ?? {})) lines.push(`  ${name.padEnd(24)} ${(100 * l.sparsity).toFixed(1).padStart(5)}% zeros${l.keptDense ? ' (kept dense)' : ''}`);
  }
  if (s.cluster) {
    // clusterWeights takes node names; a kept layer's every reading node stays dense.
    const keepNodes = layers.filter((l) => keep.includes(l.name)).flatMap((l) => l.nodes.map((n) => n.name)).filter(Boolean);
    g = await run(g, clusterWeightsPass({ k: s.cluster.k, ...(s.cluster.perChannel ? { perChannel: true } : {}), ...(keepNodes.length ? { keepDense: keepNodes } : {}) }));
  }
  return { graph: g, lines };
}

async function run<O extends PassOptions>(g: Graph, pass: Pass<O>): Promise<Graph> {
  return (await optimize(g, [pass])).graph;
}

export interface SparsifyStep {
  graph: Graph;
  layers: SparsifiedLayer[];
  lines: string[];
}

/**
 * The layout of every weight with zeros that the backend's kernels run fastest (measured on this
 * host). Only the WASM backend has sparse kernels; other backends keep the dense weights.
 */
export async function sparsifyFor(graph: Graph, backend: BackendName): Promise<SparsifyStep> {
  if (backend !== 'wasm') return { graph, layers: [], lines: [`sparse layouts: none (the ${backend} backend has no sparse kernels; the zeros run dense)`] };
  const pass = sparsifyPass({ backend: 'wasm' });
  const out = await run(graph, pass);
  const layers = pass.options.result?.layers ?? [];
  const lines = layers.length === 0
    ? [`sparse layouts: none (no MatMul, Gemm or pointwise Conv weight with zeros${[...graph.initializers.values()].some((t) => t.clustered) ? ' besides the clustered ones, which are decoded at load and run dense' : ''})`]
    : [`sparse layouts (wasm kernels, predicted from micro-benchmarks on this host, us per call):`,
      ...layers.map((l) => `  ${l.name.padEnd(24)} ${l.op.padEnd(7)} ${`${l.N}x${l.K}`.padStart(10)} batch ${String(l.batch).padEnd(4)} ${(100 * l.sparsity).toFixed(1).padStart(5)}% zeros -> ${l.layout.padEnd(5)} (${Object.entries(l.timesUs).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`)];
  return { graph: out, layers, lines };
}
