// `kiln optimize IN -o OUT.kiln`: clean-up passes, then quantization (static int8 with a
// calibration method, dynamic int8, weight-only int4/int8), keep-float layers, per-layer
// sensitivity and automatic mixed precision (--max-drop), pruning and clustering (compress.ts:
// clean-up, prune, cluster, quantize, then the sparse layouts the target backend runs fastest),
// a closing table and an HTML report. Nothing is written to OUT unless every step succeeded.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BackendName } from '../backends/backend.js';
import { missingKernels, missingKernelsMessage } from '../optimize/kernel-check.js';
import { searchCompression, type SearchCompressionResult, type SearchTarget } from '../optimize/search.js';
import { formatSearch } from '../optimize/search-format.js';
import type { Graph } from '../graph/ir.js';
import { verifyGraph } from '../graph/verify.js';
import { saveKiln } from '../io/kiln-format/index.js';
import { saveOnnx } from '../io/onnx/export.js';
import { take, toDataset, type Dataset } from '../optimize/dataset.js';
import { agreement, evaluate } from '../optimize/evaluate.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../optimize/observers.js';
import { calibrateForStatic, quantizeStatic } from '../optimize/quantize-static.js';
import { layerSensitivity, mixedPrecision, type LabeledData, type Quantizer, type SensitivityResult } from '../optimize/sensitivity.js';
import { cleanupPasses } from '../passes/cleanup.js';
import { optimize } from '../passes/pipeline.js';
import { quantizeDynamic } from '../passes/quantize/dynamic.js';
import { quantizeFp16 } from '../passes/quantize/fp16-weights.js';
import { quantizableLayers } from '../passes/quantize/layers.js';
import { prepareForQuantization } from '../passes/quantize/prepare.js';
import { quantizeWeights } from '../passes/quantize/weight-only.js';
import { parseModel } from '../runtime/load.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadData, loadLabels } from './data.js';
import { formatTable, measureVariant, type VariantMetrics } from './measure.js';
import { progressBars, type Progress } from './progress.js';
import { writeReport } from './report.js';
import { generatedInput } from './run.js';
import { checkCompressAgainst, compress, compressName, COMPRESS_USAGE, parseCompressFlags, sparsifyFor } from './compress.js';
import { overallSparsity, storedParameterBytes, weightLayers } from './weight-layout.js';

export const QUANTIZE_MODES = ['int8', 'int8-dynamic', 'int4', 'int8-weights', 'fp16'] as const;
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'reference', 'webgpu'];

export const OPTIMIZE_USAGE = `kiln optimize <model> -o <out.kiln|out.onnx> [options]
  --quantize int8|int8-dynamic|int4|int8-weights|fp16   (default: clean-up passes only)
  --calibrate FILE.npy|FILE.npz|mnist-train[:N]|random:N  calibration data (int8 static)
  --calibration minmax|percentile|entropy|mse          observer (default minmax)
  --no-equalize              int8 static without cross-layer equalization (on by default)
  --bias-correction          int8 static: subtract each conv's expected weight-rounding shift from its bias
  --weight-bits 8|7          int8 weight range (7: exact relaxed-SIMD dot, faster)
  --block 16|32|64|128       weight-only block length (default 32); --asymmetric for zero points
  --keep-float a,b           layers left in float
  --max-drop P               keep the fewest layers float so accuracy drops at most P points
  --target size|latency      with --max-drop: search pruning, quantization and clustering per layer
                             for the smallest (or fastest) model within P points (no --quantize,
                             --prune, --cluster: the search picks them); prints every candidate
                             and the Pareto fronts
  --eval-data X --eval-labels Y   evaluation data (.npy/.npz or mnist-test[:N]); labels .npy
  --sensitivity              print the per-layer sensitivity ranking
  --report report.html       write an HTML report with the table and plots
${COMPRESS_USAGE}
  --no-cleanup               skip the clean-up passes
  --backend wasm|reference   the backend the result must run on with its own kernels (default wasm)`;

export function readModel(path: string): Graph {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read model file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const g = parseModel(bytes);
  verifyGraph(g);
  return g;
}

/** Writes through a temporary file so a failure never leaves a partial OUT. */
export function writeAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

export function parseMode(v: string | undefined): QuantizeMode | undefined {
  if (v === undefined) return undefined;
  if (!(QUANTIZE_MODES as readonly string[]).includes(v)) throw new Error(`--quantize: unknown mode '${v}' (${QUANTIZE_MODES.join(', ')})`);
  return v as QuantizeMode;
}

export interface QuantizeSetup {
  mode: QuantizeMode;
  method?: CalibrationMethod;
  weightBits?: 7 | 8;
  block?: 16 | 32 | 64 | 128;
  symmetric?: boolean;
  /** int8 static: cross-layer equalization (default on) and bias correction (default off). */
  equalize?: boolean;
  biasCorrection?: boolean;
  calibration?: Dataset;
  progress?: Progress;
}

/** The quantizer for a mode, as a function of the layers kept float (calibrating once up front). */
export async function makeQuantizer(graph: Graph, s: QuantizeSetup): Promise<{ quantize: Quantizer; layers: string[] }> {
  const prepared = prepareForQuantization(graph);
  const weighted = quantizableLayers(prepared);
  const matmuls = weighted.filter((n) => prepared.nodes.find((x) => x.name === n)!.op !== 'Conv');
  switch (s.mode) {
    case 'int8': {
      if (!s.calibration) throw new Error('--quantize int8 needs calibration data: --calibrate FILE.npy|FILE.npz|mnist-train[:N]|random:N');
      const method = s.method ?? 'minmax';
      const bits = s.weightBits ?? 8;
      const prep = { equalize: s.equalize ?? true, biasCorrection: s.biasCorrection ?? false, weightBits: bits };
      const ranges = await calibrateForStatic(graph, s.calibration, { method, ...prep, ...(s.progress ? { onProgress: s.progress.task(`calibrate (${method})`) } : {}) });
      return { quantize: (keepFloat) => quantizeStatic(graph, s.calibration!, { method, ranges, keepFloat, ...prep }), layers: weighted };
    }
    case 'int8-dynamic':
      return { quantize: (keepFloat) => quantizeDynamic(graph, { keepFloat, weightBits: s.weightBits ?? 8 }), layers: matmuls };
    case 'int4': case 'int8-weights': {
      const bits = s.mode === 'int4' ? 4 : 8;
      return { quantize: (keepFloat) => quantizeWeights(graph, { bits, block: s.block ?? 32, symmetric: s.symmetric ?? true, keepFloat }), layers: matmuls };
    }
    case 'fp16':
      return { quantize: (keepFloat) => quantizeFp16(graph, { keepFloat }), layers: weighted };
  }
}

function num(v: string | undefined, what: string, allowed?: readonly number[]): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (allowed && !allowed.includes(n))) throw new Error(`${what} must be ${allowed ? allowed.join(' or ') : 'a number'}, got '${v}'`);
  return n;
}

export async function optimizeCommand(argv: readonly string[], log = console.log): Promise<number> {
  const { values: o, positionals } = parseArgs({
    args: joinNegativeValues(argv),
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      quantize: { type: 'string' },
      calibrate: { type: 'string' },
      calibration: { type: 'string' },
      'weight-bits': { type: 'string' },
      block: { type: 'string' },
      asymmetric: { type: 'boolean' },
      'keep-float': { type: 'string' },
      'max-drop': { type: 'string' },
      target: { type: 'string' },
      'eval-data': { type: 'string' },
      'eval-labels': { type: 'string' },
      sensitivity: { type: 'boolean' },
      report: { type: 'string' },
      'no-cleanup': { type: 'boolean' },
      'no-equalize': { type: 'boolean' },
      'bias-correction': { type: 'boolean' },
      prune: { type: 'string' },
      'prune-kind': { type: 'string' },
      'prune-norm': { type: 'string' },
      'keep-dense': { type: 'string' },
      cluster: { type: 'string' },
      'cluster-per-channel': { type: 'boolean' },
      backend: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (o.help) { log(OPTIMIZE_USAGE); return 0; }
  const [input, ...extra] = positionals;
  if (!input) throw new Error(`kiln optimize needs a model path\n\n${OPTIMIZE_USAGE}`);
  if (extra.length) throw new Error(`kiln optimize: unexpected argument '${extra[0]}'`);
  const out = o.output;
  if (!out) throw new Error('kiln optimize needs an output path: -o OUT.kiln');
  if (!out.endsWith('.kiln') && !out.endsWith('.onnx')) throw new Error(`-o ${out}: kiln optimize writes .kiln or .onnx (standard ONNX, QDQ for int8) files`);
  const mode = parseMode(o.quantize);
  const method = o.calibration as CalibrationMethod | undefined;
  if (method !== undefined && !CALIBRATION_METHODS.includes(method)) throw new Error(`--calibration: unknown method '${method}' (${CALIBRATION_METHODS.join(', ')})`);
  if (method && mode !== 'int8') throw new Error('--calibration applies to --quantize int8 only');
  if ((o['no-equalize'] || o['bias-correction']) && mode !== 'int8') throw new Error('--no-equalize and --bias-correction apply to --quantize int8 only');
  const maxDrop = num(o['max-drop'], '--max-drop');
  if (maxDrop !== undefined && maxDrop < 0) throw new Error(`--max-drop must be a non-negative number of accuracy points, got ${maxDrop}`);
  const target = o.target as SearchTarget | undefined;
  if (target !== undefined) {
    if (target !== 'size' && target !== 'latency') throw new Error(`--target: unknown target '${o.target}' (size, latency)`);
    if (maxDrop === undefined) throw new Error('--target needs --max-drop P (the accuracy budget in points)');
    if (!o['eval-data']) throw new Error('--target needs evaluation data: --eval-data X (with --eval-labels Y for accuracy; without, agreement with the float model)');
    const fixed = (['quantize', 'prune', 'prune-kind', 'cluster', 'keep-float'] as const).filter((f) => o[f] !== undefined);
    if (fixed.length) throw new Error(`--target searches quantization, pruning and clustering per layer itself: drop --${fixed.join(', --')}`);
  }
  if (maxDrop !== undefined && !target && (!o['eval-data'] || !o['eval-labels'])) throw new Error('--max-drop needs labeled evaluation data: --eval-data X --eval-labels Y');
  if (o['eval-labels'] && !o['eval-data']) throw new Error('--eval-labels needs --eval-data');
  if (((maxDrop !== undefined && !target) || o['keep-float'] || o.sensitivity) && !mode) throw new Error('--keep-float, --max-drop and --sensitivity need --quantize (or --max-drop with --target)');
  const backend = (o.backend ?? 'wasm') as BackendName;
  if (!BACKEND_NAMES.includes(backend)) throw new Error(`--backend: unknown backend '${o.backend}' (${BACKEND_NAMES.join(', ')})`);
  const comp = parseCompressFlags(o);
  const progress = progressBars(process.stderr, !!o.quiet);
  const notes: string[] = [];
  if (comp?.cluster && out.endsWith('.onnx')) notes.push(`note: ${out} is standard ONNX, which stores the clustered weights as plain float32 (the codebook and ${Math.ceil(Math.log2(comp.cluster.k))}-bit indices need a .kiln file)`);
  if (comp?.cluster && mode) {
    // Each quantized weight is stored in the quantized dtype, not as codebook indices: the
    // clustering survives only as at most k distinct values per layer (or per channel).
    notes.push(`note: --quantize ${mode} after --cluster ${comp.cluster.k} replaces the clustered weights of the quantized layers: they are stored as ${mode} values (at most ${comp.cluster.k} distinct per ${comp.cluster.perChannel ? 'channel' : 'layer'}), not as ${Math.ceil(Math.log2(comp.cluster.k))}-bit codebook indices; layers kept float keep their codebooks`);
  }

  const original = readModel(input);
  const userKeep = o['keep-float'] ? o['keep-float'].split(',').map((s) => s.trim()).filter(Boolean) : [];
  let graph = original;
  if (!o['no-cleanup']) graph = (await optimize(original, cleanupPasses())).graph;
  // Pruned and clustered: the float model that quantization (if any) starts from.
  let base = graph;
  if (comp) {
    checkCompressAgainst(graph, comp, input);
    const c = await compress(graph, comp);
    base = c.graph;
    notes.unshift(...c.lines);
  }
  if (userKeep.length) {
    const prepared = prepareForQuantization(graph);
    const names = new Set(prepared.nodes.map((n) => n.name));
    const unknown = userKeep.find((k) => !names.has(k));
    if (unknown !== undefined) {
      throw new Error(`--keep-float: no layer named '${unknown}' in ${input} (quantizable layers: ${quantizableLayers(prepared).join(', ') || 'none'})`);
    }
  }

  // Data: evaluation first (cheap to check), then calibration.
  const evalData = o['eval-data'] ? await loadData(o['eval-data'], graph) : undefined;
  const labels = o['eval-labels'] ? loadLabels(o['eval-labels']) : undefined;
  if (evalData && labels && labels.length !== evalData.length) {
    throw new Error(`--eval-labels ${o['eval-labels']} has ${labels.length} labels but --eval-data ${o['eval-data']} has ${evalData.length} samples`);
  }
  if (o.calibrate && mode !== 'int8' && !target) throw new Error('--calibrate applies to --quantize int8 (or --target) only (the other modes need no data)');
  const calibration = o.calibrate ? await loadData(o.calibrate, graph) : undefined;
  if (calibration && calibration.length === 0) throw new Error(`--calibrate ${o.calibrate}: no samples`);

  let final = base;
  let allQuantized: Graph | undefined; // when mixed precision kept layers float: the fully quantized model, for comparison
  let keepFloat: string[] = userKeep;
  let sens: SensitivityResult | undefined;
  let note: string | undefined;
  let search: SearchCompressionResult | undefined;
  if (target && maxDrop !== undefined && evalData) {
    // The budget search: its own per-layer choices (sparse layouts included), on the cleaned model.
    search = await searchCompression(graph, {
      maxDrop, target, evaluation: { data: evalData, ...(labels ? { labels } : {}) },
      ...(calibration ? { calibration } : {}), onProgress: progress.task('search'),
    });
    final = search.graph;
    note = `search (${target}, max drop ${maxDrop}): ${search.candidates.length} candidates; picked ${search.pick.label}, drop ${search.pick.drop.toFixed(2)} points`;
  }
  if (mode) {
    const setup: QuantizeSetup = {
      mode, progress,
      ...(method ? { method } : {}),
      ...(calibration ? { calibration } : {}),
      ...(o['weight-bits'] ? { weightBits: num(o['weight-bits'], '--weight-bits', [7, 8]) as 7 | 8 } : {}),
      ...(o.block ? { block: num(o.block, '--block', [16, 32, 64, 128]) as 16 | 32 | 64 | 128 } : {}),
      ...(o.asymmetric ? { symmetric: false } : {}),
      ...(o['no-equalize'] ? { equalize: false } : {}),
      ...(o['bias-correction'] ? { biasCorrection: true } : {}),
    };
    const { quantize: q, layers: all } = await makeQuantizer(base, setup);
    const quantize: Quantizer = (kf) => q([...userKeep, ...kf]);
    // Fail now (before any long evaluation) when nothing is quantizable.
    final = await quantize([]);
    const layers = all.filter((l) => !userKeep.includes(l));
    const evaluation: LabeledData | undefined = evalData && labels ? { data: evalData, labels } : undefined;
    // Per-layer accuracy costs one evaluation per layer: only when asked for (--sensitivity) or
    // needed (--max-drop). A report alone gets the cheaper output-error ranking on 16 samples.
    const full = !!o.sensitivity || maxDrop !== undefined;
    const check = take(evalData ?? calibration ?? toDataset([]), full ? 64 : 16);
    if ((full || o.report) && layers.length && check.length) {
      sens = await layerSensitivity(base, quantize, { layers, check, ...(evaluation && full ? { evaluation } : {}), onProgress: progress.task('sensitivity') });
    }
    if (maxDrop !== undefined && evaluation) {
      const mp = await mixedPrecision(base, quantize, { maxDrop, evaluation, ...(sens ? { sensitivity: sens } : {}), layers, onProgress: progress.task('mixed precision') });
      if (mp.keepFloat.length) allQuantized = final;
      final = mp.graph;
      keepFloat = [...userKeep, ...mp.keepFloat];
      note = `max drop ${maxDrop}: ${mp.keepFloat.length} layer(s) kept float, drop ${mp.drop.toFixed(2)} points${base !== graph ? ` from the ${compressName(comp!)} float model` : ''}`;
    }
  }

  // The sparse layouts the target's kernels run fastest, last (quantization rebuilds the weights).
  // When quantized, the pruned float model gets its own layouts for its row of the table. (A model
  // that was neither pruned nor clustered has no zeros to exploit.)
  const sparseFinal = comp ? await sparsifyFor(final, backend) : undefined;
  if (sparseFinal) final = sparseFinal.graph;
  const sparseBase = comp && mode ? await sparsifyFor(base, backend) : undefined;
  const compressedRow = sparseBase?.graph ?? (comp ? final : undefined);

  // The closing table: the cleaned float model and the results.
  const feeds: Record<string, Tensor> = (evalData ?? calibration)?.sample(0) ?? Object.fromEntries(graph.inputs.map((v, i) => [v.name, generatedInput(v, {}, i + 1)]));
  // The result must run on the target's own kernels (an int4 model on a backend without the int4
  // kernel would be smaller and slower): checked before anything is measured or written.
  if (final !== graph) {
    const missing = await missingKernels(graph, final, backend, feeds);
    const what = [comp ? compressName(comp) : '', mode ? `--quantize ${mode}` : ''].filter(Boolean).join(' with ') || 'the clean-up passes';
    if (missing.length) throw new Error(missingKernelsMessage(what, backend, missing));
  }
  const rows: VariantMetrics[] = [];
  const sparsity: string[] = [];
  const quality = async (g: Graph, name: string): Promise<Partial<VariantMetrics>> => {
    if (!evalData) return {};
    if (labels) return { accuracy: await evaluate(g, evalData, labels, { onProgress: progress.task(`evaluate ${name}`) }) };
    return { agreement: await agreement(g, graph, evalData, { onProgress: progress.task(`agreement ${name}`) }) };
  };
  // File bytes as kiln optimize writes a .kiln (compressed header), for every row alike; with
  // pruning or clustering, weight bytes as stored (codebooks and indices, sparse arrays).
  const measure = async (name: string, g: Graph, extra: Partial<VariantMetrics>) => {
    const stored = comp || search ? { weightBytes: storedParameterBytes(g) } : {};
    rows.push(await measureVariant(name, g, feeds, { ...extra, ...stored, bytes: saveKiln(g, { compressHeader: true }).length }));
    sparsity.push(`${(100 * overallSparsity(weightLayers(g))).toFixed(1)}%`);
  };
  await measure('float', graph, await quality(graph, 'float'));
  const cname = comp ? compressName(comp) : '';
  if (compressedRow) await measure(cname, compressedRow, await quality(compressedRow, cname));
  const qname = (m: string) => (comp ? `${cname} + ${m}` : m);
  if (allQuantized) {
    const all = comp ? (await sparsifyFor(allQuantized, backend)).graph : allQuantized;
    await measure(qname(`${mode} (all layers)`), all, { ...(await quality(all, 'all layers')), ...(userKeep.length ? { keepFloat: userKeep } : {}) });
  }
  if (mode || (!comp && final !== graph)) {
    const name = allQuantized ? qname(`${mode} mixed`) : mode ? qname(mode) : search ? `search pick (${target})` : 'cleaned';
    await measure(name, final, { ...(await quality(final, name)), ...(keepFloat.length ? { keepFloat } : {}), ...(note ? { note } : {}) });
  }
  progress.clear();
  for (const line of notes) log(line);
  if (sparseBase) for (const line of sparseBase.lines) log(line.replace(/^sparse layouts/, `sparse layouts of ${cname}`));
  if (sparseFinal) for (const line of sparseFinal.lines) log(sparseBase ? line.replace(/^sparse layouts/, `sparse layouts of ${rows[rows.length - 1]!.name}`) : line);
  // The sparsity column only when pruning could have made zeros (the quantization table stays as it was).
  log(comp ? withColumn(formatTable(rows), 'sparsity', sparsity) : formatTable(rows));
  if (note) log(note);
  if (keepFloat.length) log(`kept float: ${keepFloat.join(', ')}`);
  if (sens && o.sensitivity) log(sensitivityTable(sens));
  if (search) log(formatSearch(search));

  const bytes = out.endsWith('.onnx') ? saveOnnx(final) : saveKiln(final, { compressHeader: true });
  writeAtomic(out, bytes);
  log(`wrote ${out} (${bytes.length} bytes)`);
  if (o.report) {
    await writeReport(o.report, { title: `kiln optimize ${input}`, model: input, rows, ...(sens ? { sensitivity: sens } : {}), ...(search ? { search } : {}), data: describeData(o) });
    log(`report: ${o.report}`);
  }
  return 0;
}

/** formatTable's text with one more right-aligned column (one value per row, in order). */
function withColumn(table: string, head: string, values: readonly string[]): string {
  const w = Math.max(head.length, ...values.map((v) => v.length));
  const lines = table.split('\n');
  return lines.map((l, i) => `${l}  ${i === 0 ? head.padStart(w) : i === 1 ? '-'.repeat(w) : (values[i - 2] ?? '').padStart(w)}`).join('\n');
}

/**
 * `--prune -0.1` as `--prune=-0.1`: node's parseArgs refuses a value that starts with a dash, and
 * the range check should be what answers a negative number.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (/^--[a-z-]+$/.test(a) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function describeData(o: Record<string, unknown>): string {
  const parts = [];
  if (o.calibrate) parts.push(`calibration ${String(o.calibrate)}${o.calibration ? ` (${String(o.calibration)})` : ''}`);
  if (o['eval-data']) parts.push(`evaluation ${String(o['eval-data'])}${o['eval-labels'] ? ` with labels ${String(o['eval-labels'])}` : ' against the float model'}`);
  return parts.join('; ') || 'no data';
}

export function sensitivityTable(s: SensitivityResult): string {
  const lines = ['per-layer sensitivity (only that layer quantized), most sensitive first:'];
  for (const l of s.layers) {
    const psnr = Number.isFinite(l.error.psnr) ? l.error.psnr.toFixed(1) : 'inf';
    lines.push(`  ${l.layer.padEnd(24)} ${l.op.padEnd(8)} PSNR ${psnr.padStart(6)} dB  max err ${l.error.maxAbsError.toPrecision(3)}${l.accuracy !== undefined ? `  accuracy ${(100 * l.accuracy).toFixed(2)}% (drop ${l.drop!.toFixed(2)})` : ''}`);
  }
  return lines.join('\n');
}
