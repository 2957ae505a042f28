// `kiln inspect <model>`: what is in a model file.
import type { Graph } from '../graph/ir.js';
import { graphStats } from '../graph/stats.js';
import { overallSparsity, weightLayers, weightLayerTable } from './weight-layout.js';

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} k`;
  return `${n}`;
}

export function inspectGraph(graph: Graph, log = console.log): void {
  const s = graphStats(graph);
  const shape = (v: Graph['inputs'][number]) => `${v.dtype}[${v.shape?.join(', ') ?? '?'}]`;
  log(`graph '${graph.name}'  opsets ${Object.entries(graph.opsets).map(([d, v]) => `${d || 'ai.onnx'}:${v}`).join(' ')}`);
  for (const v of graph.inputs) log(`  input  ${v.name}: ${shape(v)}`);
  for (const v of graph.outputs) log(`  output ${v.name}: ${shape(v)}`);
  log(`nodes: ${s.nodes}`);
  for (const [op, n] of Object.entries(s.ops).sort((a, b) => b[1] - a[1])) log(`  ${op.padEnd(28)} ${n}`);
  log(`parameters: ${human(s.parameters)} (${s.parameters}) in ${human(s.parameterBytes)}B`);
  log(`parameter dtypes: ${Object.entries(s.dtypes).map(([d, n]) => `${d} ${human(n)}`).join(', ') || 'none'}`);
  const symbolic = graph.inputs.some((v) => v.shape?.some((d) => typeof d === 'string'));
  log(`FLOPs per run${symbolic ? ' (symbolic dims = 1)' : ''}: ${human(s.flops)}${s.flopsUnknown ? ` (+${s.flopsUnknown} nodes with symbolic shapes not counted)` : ''}`);
  // Per-layer storage, for a pruned, sparse or clustered model (a dense one would only repeat
  // 'dense, 0%, 32 bits' for every layer).
  const layers = weightLayers(graph);
  if (layers.some((l) => l.layout !== 'dense' || l.sparsity >= PRUNED_SPARSITY)) {
    log(`weights: ${layers.length} layers, ${(100 * overallSparsity(layers)).toFixed(1)}% zeros overall`);
    log(weightLayerTable(layers));
  }
  if (graph.provenance.length) log(`passes applied: ${graph.provenance.map((p) => p.pass).join(' -> ')}`);
}

/** From this share of zeros in some weight on, inspect lists the per-layer storage even when all is dense. */
const PRUNED_SPARSITY = 0.1;
