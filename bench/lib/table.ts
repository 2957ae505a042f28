// Rendering rows as a Markdown table: readable in a terminal and pasted as is into docs/BENCHMARKS.md.
import type { Row } from './types.js';

function fmtMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

function fmtRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

function cells(r: Row): string[] {
  let time: string;
  if (r.status === 'ok') time = `${fmtMs(r.medianMs!)} ±${fmtMs(r.madMs!)}`;
  else time = `${r.status} (${r.reason ?? '?'})`;
  const rate = r.rate !== undefined ? `${fmtRate(r.rate)} ${r.unit}` : '';
  const vs = r.vsBestPeer !== undefined ? `${r.vsBestPeer.toFixed(2)}x` : '';
  const notes = [r.wrong ? `WRONG RESULT (err ${r.error!.toExponential(1)})` : '', r.note ?? ''].filter(Boolean).join('; ');
  return [r.label, r.engine, String(r.threads), time, rate, vs, notes];
}

export const HEADER = ['case', 'engine', 'thr', 'median ms', 'throughput', 'vs best peer', 'note'];

export function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cs: string[]) => `| ${cs.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

export function rowsTable(rows: Row[]): string {
  return markdownTable(HEADER, rows.map(cells));
}
