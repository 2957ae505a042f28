// Static memory planning: every runtime value gets an offset in one arena, reusing bytes between
// values whose lifetimes do not overlap (greedy by size, first fit).

export interface Lifetime {
  /** Step that writes the value (-1 for feeds). */
  start: number;
  /** Last step that reads it (Infinity for graph outputs). */
  end: number;
  bytes: number;
}

export const ALIGN = 64;
export const align = (n: number, a = ALIGN): number => Math.ceil(n / a) * a;

/** Offsets within the arena for each value, plus the arena size. */
export function planArena(values: ReadonlyMap<string, Lifetime>): { offsets: Map<string, number>; size: number } {
  const order = [...values.entries()].sort((a, b) => b[1].bytes - a[1].bytes || a[1].start - b[1].start);
  const placed: { start: number; end: number; lo: number; hi: number }[] = [];
  const offsets = new Map<string, number>();
  let size = 0;
  for (const [name, life] of order) {
    const bytes = align(Math.max(life.bytes, 1));
    // Intervals of memory taken by values alive at the same time, sorted by address.
    const busy = placed
      .filter((p) => p.start <= life.end && life.start <= p.end)
      .sort((a, b) => a.lo - b.lo);
    let lo = 0;
    for (const b of busy) {
      if (lo + bytes <= b.lo) break;
      lo = Math.max(lo, b.hi);
    }
    placed.push({ start: life.start, end: life.end, lo, hi: lo + bytes });
    offsets.set(name, lo);
    size = Math.max(size, lo + bytes);
  }
  return { offsets, size };
}
