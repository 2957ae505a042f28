// The HTML report of `kiln optimize --report` and `npm start`: one self-contained file with the
// closing table, accuracy against size and against latency for every variant (the Pareto front
// drawn through the variants no other beats on both), and the per-layer sensitivity as bars.
// Charts are Vega-Lite specs rendered to inline SVG in Node (no script in the page).
import { writeFileSync } from 'node:fs';
import type { SearchCompressionResult } from '../optimize/search.js';
import type { SensitivityResult } from '../optimize/sensitivity.js';
import { dtypeSummary, quality, type VariantMetrics } from './measure.js';

export interface ReportInput {
  title: string;
  model: string;
  data: string;
  rows: readonly VariantMetrics[];
  sensitivity?: SensitivityResult;
  /** A budget search (kiln optimize --target): every candidate plotted, the pick marked. */
  search?: SearchCompressionResult;
  /** Extra lines under the title (machine, date, notes). */
  notes?: readonly string[];
}

type Spec = Record<string, unknown>;

async function svgOf(spec: Spec): Promise<string> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const view = new vega.View(vega.parse(vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec), { renderer: 'none' });
  return view.toSVG();
}

/** Variants not beaten by another on both axes (lower x and higher y), sorted by x. */
export function paretoFront<T>(items: readonly T[], x: (t: T) => number, y: (t: T) => number): T[] {
  return items.filter((a) => !items.some((b) => b !== a && x(b) <= x(a) && y(b) >= y(a) && (x(b) < x(a) || y(b) > y(a)))).sort((a, b) => x(a) - x(b));
}

function qualityOf(m: VariantMetrics): number | undefined {
  if (m.accuracy) return 100 * m.accuracy.accuracy;
  if (m.agreement) return 100 * m.agreement.top1Agreement;
  return undefined;
}

function tradeoff(rows: readonly VariantMetrics[], xField: 'bytes' | 'ms', xTitle: string, yTitle: string): Spec {
  const points = rows.map((m) => ({ variant: m.name, bytes: m.bytes, ms: m.latency1, quality: qualityOf(m)! }));
  const front = paretoFront(points, (p) => p[xField], (p) => p.quality);
  // Variants often coincide (same file size and accuracy): one label per position, names joined;
  // only the front is labelled on the plot, every variant is in the legend.
  const labels = new Map<string, { x: number; quality: number; text: string }>();
  for (const p of front) {
    const key = `${p[xField]}|${p.quality}`;
    const l = labels.get(key);
    if (l) l.text += `, ${p.variant}`;
    else labels.set(key, { x: p[xField], quality: p.quality, text: p.variant });
  }
  const x = { field: xField, type: 'quantitative', title: xTitle, scale: { zero: false, nice: true } };
  const y = { field: 'quality', type: 'quantitative', title: yTitle, scale: { zero: false, nice: true } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 420, height: 300,
    layer: [
      { data: { values: front }, mark: { type: 'line', color: '#b0b0b0', strokeDash: [4, 3] }, encoding: { x, y } },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 80, opacity: 0.85 },
        encoding: { x, y, color: { field: 'variant', type: 'nominal', sort: null, scale: { scheme: 'category20' }, legend: { title: 'variant', labelLimit: 260 } }, shape: { field: 'variant', type: 'nominal', sort: null, legend: { title: 'variant', labelLimit: 260 } } },
      },
      { data: { values: [...labels.values()] }, mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 10 }, encoding: { x: { ...x, field: 'x' }, y, text: { field: 'text' } } },
    ],
  };
}

function sensitivityChart(s: SensitivityResult): Spec {
  // Accuracy drops when they tell layers apart; when every layer alone costs nothing, the output
  // error (PSNR against the float model) still ranks them.
  const withAcc = s.layers.every((l) => l.drop !== undefined) && s.layers.some((l) => l.drop !== 0);
  const values = s.layers.map((l) => ({ layer: `${l.layer} (${l.op})`, value: withAcc ? l.drop! : Math.min(l.error.psnr, 120) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 420, height: { step: 22 },
    data: { values },
    mark: { type: 'bar', color: '#d9822b' },
    encoding: {
      y: { field: 'layer', type: 'nominal', sort: null, title: null },
      x: { field: 'value', type: 'quantitative', title: withAcc ? 'accuracy drop with only this layer quantized (points)' : 'output PSNR with only this layer quantized (dB; lower = more sensitive)' },
    },
  };
}

/** Every candidate of a budget search against one cost axis: in budget or not, the front, the pick. */
function searchChart(r: SearchCompressionResult, xField: 'bytes' | 'ms', xTitle: string): Spec {
  const frontIdx = new Set(xField === 'bytes' ? r.front.size : r.front.latency);
  const values = r.candidates.map((c) => ({
    label: c.label, bytes: c.bytes, ms: c.latencyMs, quality: 100 * c.accuracy,
    kind: c.index === r.pick.index ? 'pick' : c.withinBudget ? 'within budget' : 'over budget',
  }));
  const front = r.candidates.filter((c) => frontIdx.has(c.index)).map((c) => ({ bytes: c.bytes, ms: c.latencyMs, quality: 100 * c.accuracy })).sort((a, b) => a[xField] - b[xField]);
  const x = { field: xField, type: 'quantitative', title: xTitle, scale: { zero: false, nice: true } };
  const y = { field: 'quality', type: 'quantitative', title: r.metric === 'accuracy' ? 'top-1 accuracy (%)' : 'top-1 agreement (%)', scale: { zero: false, nice: true } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 420, height: 300,
    layer: [
      { data: { values: front }, mark: { type: 'line', color: '#b0b0b0', strokeDash: [4, 3] }, encoding: { x, y } },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 70, opacity: 0.85 },
        encoding: { x, y, color: { field: 'kind', type: 'nominal', title: 'candidate', scale: { domain: ['pick', 'within budget', 'over budget'], range: ['#d62728', '#1f77b4', '#bbbbbb'] } }, tooltip: { field: 'label' } },
      },
      { data: { values: values.filter((v) => v.kind === 'pick') }, mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 10 }, encoding: { x, y, text: { field: 'label' } } },
    ],
  };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export async function renderReport(r: ReportInput): Promise<string> {
  const t = r.rows[0]?.threadsN ?? 1;
  const head = ['variant', 'file bytes', 'weight bytes', 'parameters', 'dtypes', 'float ops', 'int ops', 'accuracy / agreement', 'ms (1 thread)', `ms (${t} threads)`, 'kept float'];
  const table = `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${r.rows.map((m) => `<tr>${[
    m.name, m.bytes.toLocaleString('en-US'), m.weightBytes.toLocaleString('en-US'), m.parameters.toLocaleString('en-US'), dtypeSummary(m.dtypes), m.floatOps.toLocaleString('en-US'), m.intOps.toLocaleString('en-US'),
    quality(m), m.latency1.toFixed(3), m.latencyN.toFixed(3), m.keepFloat?.join(', ') ?? '',
  ].map((c, i) => `<td${i > 0 && i !== 4 && i !== 10 ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const charts: string[] = [];
  const measured = r.rows.every((m) => qualityOf(m) !== undefined);
  const yTitle = r.rows[0]?.accuracy ? 'top-1 accuracy (%)' : 'top-1 agreement with the float model (%)';
  if (measured) {
    charts.push(`<figure><figcaption>Accuracy against file size (dashed: the Pareto front)</figcaption>${await svgOf(tradeoff(r.rows, 'bytes', 'file size (bytes)', yTitle))}</figure>`);
    charts.push(`<figure><figcaption>Accuracy against latency, WASM, 1 thread (dashed: the Pareto front)</figcaption>${await svgOf(tradeoff(r.rows, 'ms', 'median latency per run (ms)', yTitle))}</figure>`);
  } else {
    charts.push('<p>No evaluation data was given: accuracy plots need --eval-data.</p>');
  }
  if (r.search) {
    const n = r.search.candidates.length;
    charts.push(`<figure><figcaption>Budget search (${esc(r.search.target)}, max drop ${r.search.maxDrop} points): ${n} candidates against file size</figcaption>${await svgOf(searchChart(r.search, 'bytes', 'file size (bytes)'))}</figure>`);
    charts.push(`<figure><figcaption>The same candidates against latency, WASM, 1 thread</figcaption>${await svgOf(searchChart(r.search, 'ms', 'median latency per run (ms)'))}</figure>`);
  }
  if (r.sensitivity?.layers.length) charts.push(`<figure><figcaption>Per-layer sensitivity, most sensitive first</figcaption>${await svgOf(sensitivityChart(r.sensitivity))}</figure>`);
  const notes = [`model: ${r.model}`, `data: ${r.data}`, ...(r.notes ?? [])];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
h1 { font-size: 20px; } table { border-collapse: collapse; margin: 12px 0 20px; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; } .charts { display: flex; flex-wrap: wrap; gap: 16px; } figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
.notes { color: #555; }
</style></head><body>
<h1>${esc(r.title)}</h1>
<div class="notes">${notes.map((n) => `<div>${esc(n)}</div>`).join('')}</div>
${table}
<div class="charts">${charts.join('\n')}</div>
</body></html>
`;
}

export async function writeReport(path: string, r: ReportInput): Promise<void> {
  writeFileSync(path, await renderReport(r));
}
