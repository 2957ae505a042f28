// `kiln eval MODEL --data X [--labels Y] [--baseline OTHER]`: top-1 accuracy against labels,
// and/or agreement of the outputs with a baseline model (max abs error, PSNR, cosine, top-1).
import { parseArgs } from 'node:util';
import type { BackendName } from '../backends/backend.js';
import { agreement, evaluate } from '../optimize/evaluate.js';
import { loadData, loadLabels } from './data.js';
import { readModel } from './optimize.js';
import { progressBars } from './progress.js';

export const EVAL_USAGE = `kiln eval <model> --data X.npy|X.npz|mnist-test[:N] [--labels Y.npy|mnist-test[:N]] [--baseline OTHER_MODEL]
  [--output NAME] [--backend wasm|reference]`;

export async function evalCommand(argv: readonly string[], log = console.log): Promise<number> {
  const { values: o, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      data: { type: 'string' }, labels: { type: 'string' }, baseline: { type: 'string' }, output: { type: 'string' },
      backend: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (o.help) { log(EVAL_USAGE); return 0; }
  const [path, ...extra] = positionals;
  if (!path) throw new Error(`kiln eval needs a model path\n\n${EVAL_USAGE}`);
  if (extra.length) throw new Error(`kiln eval: unexpected argument '${extra[0]}'`);
  if (!o.data) throw new Error('kiln eval needs --data');
  if (!o.labels && !o.baseline) throw new Error('kiln eval needs --labels (accuracy) or --baseline OTHER_MODEL (agreement)');
  const backend = (o.backend ?? 'wasm') as BackendName;
  if (backend !== 'wasm' && backend !== 'reference') throw new Error(`--backend must be wasm or reference, got '${o.backend}'`);
  const graph = readModel(path);
  const data = await loadData(o.data, graph);
  const progress = progressBars(process.stderr, !!o.quiet);
  const opts = { backend, ...(o.output ? { output: o.output } : {}) };
  if (o.labels) {
    const labels = loadLabels(o.labels);
    if (labels.length !== data.length) throw new Error(`--labels ${o.labels} has ${labels.length} labels but --data ${o.data} has ${data.length} samples`);
    const a = await evaluate(graph, data, labels, { ...opts, onProgress: progress.task('evaluate') });
    progress.clear();
    log(`top-1 accuracy: ${(100 * a.accuracy).toFixed(2)}% (${a.correct}/${a.count}), ${a.meanMs.toFixed(3)} ms per sample (${backend})`);
  }
  if (o.baseline) {
    const base = readModel(o.baseline);
    const g = await agreement(graph, base, data, { ...opts, onProgress: progress.task('agreement') });
    progress.clear();
    log(`agreement with ${o.baseline} over ${g.count} samples: max abs error ${g.maxAbsError.toPrecision(4)}, PSNR ${Number.isFinite(g.psnr) ? g.psnr.toFixed(2) : 'inf'} dB, cosine ${g.cosine.toFixed(6)}, top-1 agreement ${(100 * g.top1Agreement).toFixed(2)}%`);
  }
  return 0;
}
