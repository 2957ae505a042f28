// Calibration observers: from the values an activation took over a calibration set to the real
// range [min, max] its int8 parameters should cover.
//  - minmax: the extremes seen (no clipping; one outlier widens every step);
//  - percentile: the p-th and (100-p)-th percentiles of the values (clips the rarest outliers);
//  - entropy: TensorRT's KL-divergence calibration: the |x| threshold whose 128-level quantized
//    histogram loses the least information against the 2048-bin reference histogram;
//  - mse: the clipping range that minimizes the expected squared quantization error (clipping
//    error of the values outside plus step^2/12 rounding noise inside), over the histogram.
// Histogram methods need the extremes first (to place the bins): calibration runs the data twice.

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy' | 'mse';

export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy', 'mse'];

export interface Range {
  min: number;
  max: number;
}

export const HISTOGRAM_BINS = 2048;

/** Running extremes. */
export class MinMaxObserver {
  min = Infinity;
  max = -Infinity;
  observe(data: ArrayLike<number>): void {
    let lo = this.min;
    let hi = this.max;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.min = lo;
    this.max = hi;
  }
  range(name: string): Range {
    if (!(this.min <= this.max)) throw new Error(`calibration: activation '${name}' saw no finite values`);
    return { min: this.min, max: this.max };
  }
}

/**
 * A fixed-range histogram; `abs` bins |x| over [0, hi]. Values beyond the ends land in the end
 * bins. `skipZeros` leaves exact zeros out: they quantize exactly under any range (0 is always on
 * the grid), and after a ReLU their mass would otherwise drag the entropy threshold to a small
 * fraction of the real range (mnist-8: 97.3% instead of 98.9%).
 */
export class Histogram {
  readonly counts: Float64Array;
  constructor(readonly lo: number, readonly hi: number, readonly abs: boolean, bins = HISTOGRAM_BINS, readonly skipZeros = false) {
    this.counts = new Float64Array(bins);
  }
  get width(): number {
    return (this.hi - this.lo) / this.counts.length || 1;
  }
  observe(data: ArrayLike<number>): void {
    const n = this.counts.length;
    const inv = 1 / this.width;
    for (let i = 0; i < data.length; i++) {
      const v = this.abs ? Math.abs(data[i]!) : data[i]!;
      if (v === 0 && this.skipZeros) continue;
      let b = Math.floor((v - this.lo) * inv);
      b = b < 0 ? 0 : b >= n ? n - 1 : b;
      this.counts[b]!++;
    }
  }
}

/** The range between the (100-p)-th and p-th percentiles. */
export function percentileRange(h: Histogram, percentile: number): Range {
  if (!(percentile > 50 && percentile <= 100)) throw new Error(`calibration: percentile must be in (50, 100], got ${percentile}`);
  const total = h.counts.reduce((a, b) => a + b, 0);
  const tail = (total * (100 - percentile)) / 100;
  let acc = 0;
  let loBin = 0;
  for (; loBin < h.counts.length - 1; loBin++) {
    acc += h.counts[loBin]!;
    if (acc > tail) break;
  }
  acc = 0;
  let hiBin = h.counts.length - 1;
  for (; hiBin > 0; hiBin--) {
    acc += h.counts[hiBin]!;
    if (acc > tail) break;
  }
  return { min: h.lo + loBin * h.width, max: h.lo + (hiBin + 1) * h.width };
}

/**
 * TensorRT's entropy calibration on a histogram of |x|: for each candidate threshold bin i, the
 * reference distribution P is the first i bins with everything beyond folded into the last; Q is
 * P merged into `levels` bins and spread back over the bins that were non-zero. The threshold with
 * the smallest KL(P || Q) wins.
 */
export function entropyThreshold(h: Histogram, levels = 128): number {
  const n = h.counts.length;
  const c = h.counts;
  const suffix = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! + c[i]!;
  if (suffix[0] === 0) return h.hi;
  let best = n;
  let bestKl = Infinity;
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  for (let i = levels; i <= n; i++) {
    for (let k = 0; k < i; k++) p[k] = c[k]!;
    p[i - 1]! += suffix[i]!;
    // Merge the (unfolded) bins into `levels` groups, then spread each group over its non-zero bins.
    const per = i / levels;
    for (let j = 0; j < levels; j++) {
      const start = Math.floor(j * per);
      const end = j === levels - 1 ? i : Math.floor((j + 1) * per);
      let sum = 0;
      let nonzero = 0;
      for (let k = start; k < end; k++) {
        sum += c[k]!;
        if (c[k]! > 0) nonzero++;
      }
      for (let k = start; k < end; k++) q[k] = c[k]! > 0 ? sum / nonzero : 0;
    }
    let pSum = 0;
    let qSum = 0;
    for (let k = 0; k < i; k++) { pSum += p[k]!; qSum += q[k]!; }
    if (qSum === 0) continue;
    let kl = 0;
    for (let k = 0; k < i; k++) {
      const pk = p[k]! / pSum;
      if (pk === 0) continue;
      // The folded outliers can sit in a bin Q left empty: smooth with a tiny mass instead of +inf.
      const qk = Math.max(q[k]! / qSum, 1e-12);
      kl += pk * Math.log(pk / qk);
    }
    if (kl < bestKl) { bestKl = kl; best = i; }
  }
  return Math.min(h.hi, (best + 0.5) * h.width);
}

/**
 * The clipping range [lo*a, hi*a] (a in (0, 1]) whose quantization to `levels` steps has the least
 * expected squared error over the histogram (a signed histogram over [h.lo, h.hi]).
 */
export function mseRange(h: Histogram, levels = 255): Range {
  const lo0 = Math.min(h.lo, 0);
  const hi0 = Math.max(h.hi, 0);
  let best: Range = { min: h.lo, max: h.hi };
  let bestErr = Infinity;
  const w = h.width;
  for (let s = 100; s >= 10; s--) {
    const a = s / 100;
    const lo = lo0 * a;
    const hi = hi0 * a;
    const step = (hi - lo) / levels;
    if (step <= 0) break;
    const inside = (step * step) / 12;
    let err = 0;
    for (let b = 0; b < h.counts.length; b++) {
      const n = h.counts[b]!;
      if (n === 0) continue;
      const v = h.lo + (b + 0.5) * w;
      const d = v < lo ? lo - v : v > hi ? v - hi : 0;
      err += n * (d > 0 ? d * d : inside);
    }
    if (err < bestErr) { bestErr = err; best = { min: Math.max(h.lo, lo), max: Math.min(h.hi, hi) }; }
  }
  return best;
}
