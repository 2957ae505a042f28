// `kiln inspect <model>`: what is in a model file.
import type { Graph } from '../graph/ir.js';
import { graphStats } from '../graph/stats.js';

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
  if (graph.provenance.length) log(`passes applied: ${graph.provenance.map((p) => p.pass).join(' -> ')}`);
}
