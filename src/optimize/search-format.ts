// Plain-text tables of a compression search (for `kiln optimize --max-drop` and logs): every
// candidate tried, and the candidates on each Pareto front.
import type { SearchCandidate, SearchCompressionResult } from './search.js';

function table(head: readonly string[], rows: readonly string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function row(c: SearchCandidate, mark: string): string[] {
  return [`${c.index}${mark}`, c.phase, (100 * c.accuracy).toFixed(2), c.drop.toFixed(2), String(c.bytes), c.latencyMs.toFixed(4), c.withinBudget ? 'yes' : 'no', c.label];
}

const HEAD = ['#', 'phase', 'acc %', 'drop', 'bytes', 'ms @1', 'ok', 'layers'];

/** The candidates in order ('*' marks the pick), then the accuracy-vs-bytes and accuracy-vs-latency fronts. */
export function formatSearch(r: SearchCompressionResult): string {
  const what = r.metric === 'accuracy' ? 'top-1 accuracy' : 'top-1 agreement with the float model';
  const mark = (c: SearchCandidate) => (c.index === r.pick.index ? '*' : '');
  const front = (ix: readonly number[]) => table(HEAD, ix.map((i) => row(r.candidates[i]!, mark(r.candidates[i]!))));
  return [
    `${r.candidates.length} candidates (${what}, budget ${r.maxDrop} points, target ${r.target}); pick #${r.pick.index}: ${r.pick.label}`,
    table(HEAD, r.candidates.map((c) => row(c, mark(c)))),
    '',
    'Pareto front, accuracy vs file bytes:',
    front(r.front.size),
    '',
    'Pareto front, accuracy vs latency (WASM, 1 thread):',
    front(r.front.latency),
  ].join('\n');
}
