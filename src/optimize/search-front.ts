// Pareto fronts of the compression search: the candidates no other candidate beats on both
// accuracy (higher is better) and a cost (bytes or latency, lower is better).

export interface FrontPoint {
  accuracy: number;
  cost: number;
}

/**
 * Indices of the points on the accuracy-vs-cost front, cheapest first. A point is on the front
 * when no other point has cost <= its cost and accuracy >= its accuracy with one of them strictly
 * better; of exact duplicates the first (lowest index) is kept. Points with a NaN are left out.
 */
export function paretoFront(points: readonly FrontPoint[]): number[] {
  const order = points.map((p, i) => ({ ...p, i }))
    .filter((p) => !Number.isNaN(p.accuracy) && !Number.isNaN(p.cost))
    .sort((a, b) => a.cost - b.cost || b.accuracy - a.accuracy || a.i - b.i);
  const front: number[] = [];
  let best = -Infinity;
  // Sweep by increasing cost: a point is on the front exactly when it beats the best accuracy of
  // every cheaper (or equally cheap and listed-before) point.
  for (const p of order) {
    if (p.accuracy > best) {
      front.push(p.i);
      best = p.accuracy;
    }
  }
  return front;
}
