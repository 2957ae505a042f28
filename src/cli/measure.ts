// What the closing table and the report show for one model variant: file size, parameters and
// their dtypes, operation counts split into float and integer work (as the WASM backend runs it,
// after its lowering passes), accuracy or agreement, and latency on WASM at 1 thread and at the
// default thread count.
import { wasmBackend } from '../backends/wasm/index.js';
import { defaultThreadCount } from '../backends/wasm/threads/pool.js';
import type { Graph, Node, ValueType } from '../graph/ir.js';
import { graphStats, nodeFlops } from '../graph/stats.js';
import { verifyGraph } from '../graph/verify.js';
import { saveKiln } from '../io/kiln-format/index.js';
import { medianLatency } from '../optimize/latency.js';
import type { Accuracy, Agreement } from '../optimize/evaluate.js';
import { optimize } from '../passes/pipeline.js';
import type { Tensor } from '../tensor/tensor.js';

export interface VariantMetrics {
  name: string;
  /** Size of the .kiln file. */
  bytes: number;
  /** Bytes of the parameters alone (the file adds names, graph and alignment). */
  weightBytes: number;
  parameters: number;
  /** Parameter count per dtype. */
  dtypes: Record<string, number>;
  /** Operations per run done in float and in integer arithmetic (a multiply-add counts 2). */
  floatOps: number;
  intOps: number;
  accuracy?: Accuracy;
  agreement?: Agreement;
  /** Median latency per run (ms), batch as in the sample feeds. */
  latency1: number;
  latencyN: number;
  threadsN: number;
  /** Layers left in float (mixed precision / keep-float). */
  keepFloat?: string[];
  note?: string;
}

/** Integer kernels after lowering (QDQ -> QLinear*, dynamic -> MatMulInteger, int4 with int8 activations). */
function isIntNode(n: Node): boolean {
  if (/^(QLinear|ConvInteger|MatMulInteger)/.test(n.op)) return true;
  return n.domain !== '' && n.attrs.accuracy_level === 4;
}

function opsOf(n: Node, types: Map<string, ValueType>): number {
  // Kiln's fused ops (FusedConv, FusedMatMul, DequantMatMul) count as the op they fuse.
  if (n.domain !== '' && /Conv/.test(n.op)) return nodeFlops({ ...n, domain: '', op: 'Conv' }, types) ?? 0;
  const f = nodeFlops(n, types);
  if (n.domain !== '' && /MatMul|Gemm/.test(n.op)) {
    const a = types.get(n.inputs[0] ?? '')?.shape;
    const out = types.get(n.outputs[0] ?? '')?.shape;
    const k = a?.[a.length - 1];
    if (typeof k === 'number' && out?.every((d) => typeof d === 'number')) return 2 * k * (out as number[]).reduce((x, y) => x * y, 1);
  }
  return f ?? 0;
}

export async function operationCounts(graph: Graph): Promise<{ floatOps: number; intOps: number }> {
  const concrete: Graph = { ...graph, inputs: graph.inputs.map((v) => (v.shape ? { ...v, shape: v.shape.map((d) => (typeof d === 'number' ? d : 1)) } : v)) };
  const { graph: lowered } = await optimize(concrete, wasmBackend.loweringPasses!(), { record: false, verify: 'end' });
  const { types } = verifyGraph(lowered);
  let floatOps = 0;
  let intOps = 0;
  for (const n of lowered.nodes) {
    // Quantize/dequantize steps are bookkeeping around the real work: counted as float elementwise.
    const ops = opsOf(n, types);
    if (isIntNode(n)) intOps += ops;
    else floatOps += ops;
  }
  return { floatOps, intOps };
}

/** Median ms per run over about `budgetMs` (at least 5 runs, at most 300), after warm-up. */
export function latency(graph: Graph, feeds: Record<string, Tensor>, threads: number | undefined, budgetMs = 600): Promise<number> {
  return medianLatency(graph, feeds, { ...(threads ? { threads } : {}), budgetMs });
}

export async function measureVariant(name: string, graph: Graph, feeds: Record<string, Tensor>, extra: Partial<VariantMetrics> = {}): Promise<VariantMetrics> {
  const s = graphStats(graph);
  const threadsN = await defaultThreadCount();
  const { floatOps, intOps } = await operationCounts(graph);
  return {
    name,
    bytes: saveKiln(graph, { compressHeader: true }).length,
    weightBytes: s.parameterBytes,
    parameters: s.parameters,
    dtypes: s.dtypes,
    floatOps,
    intOps,
    latency1: await latency(graph, feeds, 1),
    latencyN: await latency(graph, feeds, threadsN),
    threadsN,
    ...extra,
  };
}

// ---- the closing table -------------------------------------------------------------------------

const human = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${n}`);

export function dtypeSummary(d: Record<string, number>): string {
  const total = Object.values(d).reduce((a, b) => a + b, 0) || 1;
  return Object.entries(d).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${Math.round((100 * v) / total)}%`).join(' ');
}

export function quality(m: VariantMetrics): string {
  if (m.accuracy) return `${(100 * m.accuracy.accuracy).toFixed(2)}%`;
  if (m.agreement) return `top1 ${(100 * m.agreement.top1Agreement).toFixed(2)}% PSNR ${Number.isFinite(m.agreement.psnr) ? m.agreement.psnr.toFixed(1) : 'inf'}`;
  return '-';
}

export function formatTable(rows: readonly VariantMetrics[]): string {
  const t = rows[0]?.threadsN ?? 1;
  const head = ['variant', 'file bytes', 'weight bytes', 'params', 'dtypes', 'float ops', 'int ops', 'accuracy', 'ms @1', `ms @${t}`];
  const body = rows.map((m) => [
    m.name, String(m.bytes), String(m.weightBytes), human(m.parameters), dtypeSummary(m.dtypes), human(m.floatOps), human(m.intOps), quality(m),
    m.latency1.toFixed(3), m.latencyN.toFixed(3),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
