// Evaluation: top-1 accuracy against labels, and agreement of a model's outputs with a baseline
// model's (max abs error, PSNR, cosine similarity, top-1 agreement) when there are no labels.
import type { BackendName } from '../backends/backend.js';
import type { Graph } from '../graph/ir.js';
import { InferenceSession } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ProgressCallback } from './calibrate.js';
import { toDataset, type Dataset } from './dataset.js';

export interface EvaluateOptions {
  /** Backend for graphs (sessions keep theirs); default 'wasm'. */
  backend?: BackendName;
  threads?: number;
  /** Which output holds the scores (default the first). */
  output?: string;
  onProgress?: ProgressCallback;
}

export interface Accuracy {
  accuracy: number;
  correct: number;
  count: number;
  /** Mean time per sample run (ms). */
  meanMs: number;
}

/** A session for a graph (or the session itself). */
export async function sessionFor(model: InferenceSession | Graph, options: { backend?: BackendName; threads?: number } = {}): Promise<{ session: InferenceSession; owned: boolean }> {
  if (model instanceof InferenceSession) return { session: model, owned: false };
  const backend = options.backend ?? 'wasm';
  // Backends lower QDQ patterns to their int8 kernels themselves (loweringPasses).
  const session = await InferenceSession.create(model, { backend, ...(options.threads ? { threads: options.threads } : {}) });
  return { session, owned: true };
}

function argmaxRows(t: Tensor): number[] {
  const d = t.data as Float32Array;
  const cols = t.dims[t.dims.length - 1] ?? 1;
  const rows = t.size / cols;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < cols; k++) if (d[r * cols + k]! > d[r * cols + best]!) best = k;
    out.push(best);
  }
  return out;
}

/** Top-1 accuracy of `model` on `data` (one label per row of the score output, in sample order). */
export async function evaluate(model: InferenceSession | Graph, data: Dataset | readonly Record<string, Tensor>[], labels: ArrayLike<number>, options: EvaluateOptions = {}): Promise<Accuracy> {
  const ds = toDataset(data);
  const { session, owned } = await sessionFor(model, options);
  try {
    const out = options.output ?? session.outputNames[0]!;
    if (!session.outputNames.includes(out)) throw new Error(`evaluate: the model has no output '${out}' (outputs: ${session.outputNames.join(', ')})`);
    let correct = 0;
    let count = 0;
    let ms = 0;
    for (let i = 0; i < ds.length; i++) {
      const feeds = ds.sample(i);
      const t0 = performance.now();
      const r = await session.run(feeds, [out]);
      ms += performance.now() - t0;
      for (const p of argmaxRows(r[out]!)) {
        if (count >= labels.length) throw new Error(`evaluate: the data has more samples than the ${labels.length} labels`);
        if (p === Number(labels[count])) correct++;
        count++;
      }
      if (options.onProgress && ((i + 1) % 100 === 0 || i + 1 === ds.length)) options.onProgress(i + 1, ds.length, 'evaluate');
    }
    if (count !== labels.length) throw new Error(`evaluate: ${labels.length} labels but the data gave ${count} predictions`);
    return { accuracy: count ? correct / count : 0, correct, count, meanMs: ds.length ? ms / ds.length : 0 };
  } finally {
    if (owned) await session.release();
  }
}

export interface Agreement {
  maxAbsError: number;
  /** 10 log10(peak^2 / MSE), peak = the baseline's largest |value|; Infinity when identical. */
  psnr: number;
  cosine: number;
  /** Fraction of rows whose argmax matches (for score outputs). */
  top1Agreement: number;
  count: number;
}

/** How closely `model` reproduces `baseline`'s output over `data`. */
export async function agreement(model: InferenceSession | Graph, baseline: InferenceSession | Graph, data: Dataset | readonly Record<string, Tensor>[], options: EvaluateOptions = {}): Promise<Agreement> {
  const ds = toDataset(data);
  const a = await sessionFor(model, options);
  const b = await sessionFor(baseline, options);
  try {
    const out = options.output ?? b.session.outputNames[0]!;
    let maxAbs = 0;
    let se = 0;
    let n = 0;
    let peak = 0;
    let dot = 0;
    let na = 0;
    let nb = 0;
    let agree = 0;
    let rows = 0;
    for (let i = 0; i < ds.length; i++) {
      const feeds = ds.sample(i);
      const ya = (await a.session.run(feeds, [out]))[out]!;
      const yb = (await b.session.run(feeds, [out]))[out]!;
      if (ya.size !== yb.size) throw new Error(`agreement: output '${out}' has ${ya.size} values but the baseline's has ${yb.size}`);
      const da = ya.data as Float32Array;
      const db = yb.data as Float32Array;
      for (let k = 0; k < da.length; k++) {
        const d = da[k]! - db[k]!;
        maxAbs = Math.max(maxAbs, Math.abs(d));
        se += d * d;
        peak = Math.max(peak, Math.abs(db[k]!));
        dot += da[k]! * db[k]!;
        na += da[k]! * da[k]!;
        nb += db[k]! * db[k]!;
      }
      n += da.length;
      const pa = argmaxRows(ya);
      const pb = argmaxRows(yb);
      pa.forEach((p, k) => { if (p === pb[k]) agree++; });
      rows += pa.length;
      if (options.onProgress && ((i + 1) % 100 === 0 || i + 1 === ds.length)) options.onProgress(i + 1, ds.length, 'agreement');
    }
    const mse = n ? se / n : 0;
    return {
      maxAbsError: maxAbs,
      psnr: mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse),
      cosine: na && nb ? dot / Math.sqrt(na * nb) : na === nb ? 1 : 0,
      top1Agreement: rows ? agree / rows : 1,
      count: ds.length,
    };
  } finally {
    if (a.owned) await a.session.release();
    if (b.owned) await b.session.release();
  }
}
