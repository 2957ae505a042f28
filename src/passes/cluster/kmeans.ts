// One-dimensional k-means for weight clustering: k-means++ seeding from a seeded generator (so
// the same weights and seed always give the same codebook), then Lloyd iterations. In one
// dimension the clusters of sorted values are contiguous runs split at the midpoints between
// neighbouring centroids, so one sweep over the sorted values assigns them all.

export { seededRandom } from '../../tensor/seeded-random.js';

export interface KMeansResult {
  /** k float32 centroids in ascending order (repeats pad it when there are fewer distinct values than k). */
  codebook: Float32Array;
  /** For each input value, the index of its nearest codebook entry. */
  assign: Uint16Array;
}

/**
 * Clusters `values` (finite) into at most k groups and returns float32 centroids and each value's
 * nearest centroid. With k or fewer distinct values the codebook is exactly those values.
 */
export function kmeans1d(values: Float32Array, k: number, random: () => number, maxIterations = 100): KMeansResult {
  const n = values.length;
  const sorted = sortFloats(values);
  const distinct: number[] = [];
  for (let i = 0; i < n && distinct.length <= k; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
  let centers: Float64Array;
  if (distinct.length <= k) {
    centers = Float64Array.from(distinct);
  } else {
    centers = seedPlusPlus(sorted, k, random).sort();
    lloyd(sorted, centers, maxIterations);
  }
  const codebook = new Float32Array(k);
  for (let c = 0; c < k; c++) codebook[c] = centers.length ? centers[Math.min(c, centers.length - 1)]! : 0;
  codebook.sort();
  const assign = new Uint16Array(n);
  for (let i = 0; i < n; i++) assign[i] = nearest(codebook, values[i]!);
  return { codebook, assign };
}

/**
 * Ascending copy of finite float32 values by a two-pass LSD radix sort on their bit patterns
 * (made order-preserving as unsigned integers): linear, where a comparison sort of a
 * million-weight layer takes a large share of the pass's time.
 */
export function sortFloats(values: Float32Array): Float32Array {
  const n = values.length;
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  // Negative floats: flip every bit (larger magnitude sorts first); others: set the sign bit.
  for (let i = 0; i < n; i++) bits[i] = bits[i]! & 0x80000000 ? ~bits[i]! >>> 0 : (bits[i]! | 0x80000000) >>> 0;
  let src = bits;
  let dst = new Uint32Array(n);
  for (const shift of [0, 16]) {
    const count = new Uint32Array(65537);
    for (let i = 0; i < n; i++) count[((src[i]! >>> shift) & 0xffff) + 1]!++;
    for (let d = 0; d < 65536; d++) count[d + 1]! += count[d]!;
    for (let i = 0; i < n; i++) dst[count[(src[i]! >>> shift) & 0xffff]!++] = src[i]!;
    [src, dst] = [dst, src];
  }
  for (let i = 0; i < n; i++) src[i] = src[i]! & 0x80000000 ? (src[i]! & 0x7fffffff) >>> 0 : ~src[i]! >>> 0;
  return new Float32Array(src.buffer, 0, n);
}

/** k-means++: each next centre is a value drawn with probability proportional to its squared distance to the nearest centre so far. */
function seedPlusPlus(sorted: Float32Array, k: number, random: () => number): Float64Array {
  const n = sorted.length;
  const centers = new Float64Array(k);
  const d2 = new Float64Array(n);
  centers[0] = sorted[Math.min(n - 1, Math.floor(random() * n))]!;
  let total = 0;
  for (let i = 0; i < n; i++) total += d2[i] = (sorted[i]! - centers[0]!) ** 2;
  for (let c = 1; c < k; c++) {
    // More distinct values than k, so some value is still at a positive distance (total > 0).
    let target = random() * total;
    let pick = -1;
    for (let i = 0; i < n; i++) {
      target -= d2[i]!;
      if (target < 0 && d2[i]! > 0) {
        pick = i;
        break;
      }
    }
    if (pick < 0) for (pick = n - 1; d2[pick] === 0; pick--); // rounding left target >= 0: the last candidate
    const x = sorted[pick]!;
    centers[c] = x;
    total = 0;
    for (let i = 0; i < n; i++) {
      const d = (sorted[i]! - x) ** 2;
      if (d < d2[i]!) d2[i] = d;
      total += d2[i]!;
    }
  }
  return centers;
}

/**
 * Lloyd iterations on sorted values with sorted centres, until the assignment stops changing.
 * Cluster j is the run sorted[bounds[j] .. bounds[j + 1]) below the midpoint to the next centre,
 * found by binary search, and prefix sums give each run's mean: O(k log n) per iteration.
 */
function lloyd(sorted: Float32Array, centers: Float64Array, maxIterations: number): void {
  const n = sorted.length;
  const k = centers.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + sorted[i]!;
  let bounds = new Int32Array(k + 1).fill(-1);
  for (let it = 0; it < maxIterations; it++) {
    const next = new Int32Array(k + 1);
    next[k] = n;
    for (let j = 1; j < k; j++) next[j] = upperBound(sorted, (centers[j - 1]! + centers[j]!) / 2);
    if (next.every((b, j) => b === bounds[j])) break;
    bounds = next;
    // Each mean stays inside its own cell, and an empty cluster keeps its centre, so the
    // centres stay sorted for the next iteration.
    for (let j = 0; j < k; j++) {
      const lo = bounds[j]!;
      const hi = bounds[j + 1]!;
      if (hi > lo) centers[j] = (prefix[hi]! - prefix[lo]!) / (hi - lo);
    }
  }
}

/** The first index whose value exceeds v (values at a midpoint go to the lower cluster). */
function upperBound(sorted: Float32Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the entry of ascending `codebook` nearest to v (the lower one on a tie). */
export function nearest(codebook: Float32Array, v: number): number {
  let lo = 0;
  let hi = codebook.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (codebook[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  if (lo === codebook.length) {
    lo--;
    while (lo > 0 && codebook[lo - 1] === codebook[lo]) lo--; // the first of repeated entries
    return lo;
  }
  if (lo > 0 && v - codebook[lo - 1]! <= codebook[lo]! - v) return lo - 1;
  return lo;
}
