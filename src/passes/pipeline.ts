// optimize(): runs passes in order, verifies the graph after each, records each in the graph's
// provenance (saved in .kiln), and optionally measures how much each pass moved the outputs on a
// check set run on the reference backend (the oracle).
//
//   const { graph, report } = await optimize(model, [...cleanupPasses(), quantizeFp16()], {
//     check: { feeds: [{ input: x }] },
//     onProgress: (e) => console.log(e.pass, e.phase, e.fraction),
//   });
//   report[i].error?.vsOriginal.maxAbs   // output error after pass i against the input model
//
// A pass that returns its input graph unchanged is neither re-verified nor recorded.
import '../ops/index.js';
import { ReferenceExecutable } from '../backends/reference/index.js';
import type { InferResult } from '../graph/infer.js';
import type { Graph } from '../graph/ir.js';
import { verifyGraph } from '../graph/verify.js';
import { checkFeeds, type TensorLike } from '../runtime/feeds.js';
import { toNumbers } from '../tensor/convert.js';
import { Tensor } from '../tensor/tensor.js';
import { OptionalValue, TensorSequence, type Value } from '../tensor/value.js';
import { jsonSafe, withProvenance, type Pass, type PassContext } from './pass.js';

export interface ProgressEvent {
  pass: string;
  /** Position of the pass in the list and the list's length. */
  index: number;
  count: number;
  phase: 'start' | 'progress' | 'done';
  /** Within the pass, for 'progress' (0..1). */
  fraction?: number;
  message?: string;
}

export interface CheckSet {
  /** One or more sets of feeds (input name -> tensor) for the model's inputs. */
  feeds: Record<string, TensorLike> | readonly Record<string, TensorLike>[];
}

export interface OptimizeOptions {
  /** Measure output error per pass on these feeds (reference backend, before and after each pass). */
  check?: CheckSet;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * 'each' (default): verify after every pass that changed the graph, so a broken rewrite is
   * named. 'end': once at the end (backends lowering a graph they will compile right away).
   */
  verify?: 'each' | 'end';
  /** Record the passes in graph.provenance (default true; backend lowering turns it off). */
  record?: boolean;
  /** The input graph's verification result, when the caller has it (skips verifying it again). */
  inferred?: InferResult;
}

/** Output error over all check feeds and all float outputs: max |a - b| and that over max |b|. */
export interface OutputError {
  maxAbs: number;
  /** maxAbs relative to the largest reference magnitude of the same output. */
  maxRel: number;
}

export interface PassReport {
  pass: string;
  options: Record<string, unknown>;
  changed: boolean;
  ms: number;
  nodesBefore: number;
  nodesAfter: number;
  /** With a check set: error against the previous graph and against the input graph. */
  error?: { vsPrevious: OutputError; vsOriginal: OutputError };
}

export interface OptimizeResult {
  graph: Graph;
  report: PassReport[];
  /** Types and constants of the final graph (from its verification). */
  inferred: InferResult;
}

export async function optimize(graph: Graph, passes: readonly Pass[], options: OptimizeOptions = {}): Promise<OptimizeResult> {
  const verifyEach = (options.verify ?? 'each') === 'each';
  let inferred = options.inferred ?? verifyGraph(graph);
  const feedSets = options.check ? normalizeFeeds(graph, options.check) : undefined;
  const original = feedSets ? await runReference(graph, feedSets) : undefined;
  let previous = original;
  const report: PassReport[] = [];
  let g = graph;
  for (const [index, pass] of passes.entries()) {
    const emit = (e: Omit<ProgressEvent, 'pass' | 'index' | 'count'>) => options.onProgress?.({ pass: pass.name, index, count: passes.length, ...e });
    emit({ phase: 'start' });
    const ctx: PassContext = { progress: (fraction, message) => emit({ phase: 'progress', fraction, ...(message !== undefined ? { message } : {}) }) };
    const t0 = performance.now();
    let out: Graph;
    try {
      out = await pass.run(g, ctx);
    } catch (e) {
      throw new Error(`pass '${pass.name}' failed: ${(e as Error).message}`, { cause: e });
    }
    const changed = out !== g;
    const opts = jsonSafe(pass.options);
    if (changed) {
      if (verifyEach) {
        try {
          inferred = verifyGraph(out);
        } catch (e) {
          throw new Error(`pass '${pass.name}' produced an invalid graph: ${(e as Error).message}`, { cause: e });
        }
      }
      if (options.record ?? true) out = withProvenance(out, { pass: pass.name, options: opts });
    }
    const entry: PassReport = { pass: pass.name, options: opts, changed, ms: performance.now() - t0, nodesBefore: g.nodes.length, nodesAfter: out.nodes.length };
    if (feedSets && original && previous) {
      const now = changed ? await runReference(out, feedSets) : previous;
      entry.error = { vsPrevious: outputError(now, previous, pass.name), vsOriginal: outputError(now, original, pass.name) };
      previous = now;
    }
    report.push(entry);
    g = out;
    emit({ phase: 'done' });
  }
  if (!verifyEach && g !== graph) inferred = verifyGraph(g);
  return { graph: g, report, inferred };
}

function normalizeFeeds(graph: Graph, check: CheckSet): Map<string, Value>[] {
  const list = Array.isArray(check.feeds) ? check.feeds : [check.feeds as Record<string, TensorLike>];
  if (list.length === 0) throw new Error('optimize(): check.feeds is empty');
  return list.map((f: Record<string, TensorLike>) => checkFeeds(graph.inputs, f));
}

type Outputs = Map<string, Value>[];

async function runReference(graph: Graph, feedSets: readonly Map<string, Value>[]): Promise<Outputs> {
  const exec = new ReferenceExecutable(graph);
  const names = graph.outputs.map((v) => v.name);
  const outs: Outputs = [];
  for (const f of feedSets) outs.push(await exec.run(f, names));
  return outs;
}

function tensorsOf(v: Value): Tensor[] {
  if (v instanceof Tensor) return [v];
  if (v instanceof TensorSequence) return [...v.tensors];
  if (v instanceof OptionalValue) return v.value ? tensorsOf(v.value) : [];
  return [];
}

function outputError(actual: Outputs, expected: Outputs, pass: string): OutputError {
  let maxAbs = 0;
  let maxRel = 0;
  expected.forEach((set, s) => {
    for (const [name, want] of set) {
      const got = actual[s]!.get(name);
      if (!got) throw new Error(`pass '${pass}': graph output '${name}' is gone`);
      const w = tensorsOf(want);
      const a = tensorsOf(got);
      if (w.length !== a.length) throw new Error(`pass '${pass}': output '${name}' changed its number of tensors`);
      w.forEach((wt, i) => {
        const at = a[i]!;
        if (at.dims.join(',') !== wt.dims.join(',')) throw new Error(`pass '${pass}': output '${name}' changed shape from [${wt.dims.join(', ')}] to [${at.dims.join(', ')}]`);
        const x = toNumbers(at);
        const y = toNumbers(wt);
        let err = 0;
        let scale = 0;
        for (let k = 0; k < y.length; k++) {
          const yk = y[k]!;
          const xk = x[k]!;
          if (Number.isFinite(yk)) scale = Math.max(scale, Math.abs(yk));
          if (Object.is(xk, yk) || (Number.isNaN(xk) && Number.isNaN(yk))) continue;
          err = Math.max(err, Number.isFinite(xk - yk) ? Math.abs(xk - yk) : Infinity);
        }
        maxAbs = Math.max(maxAbs, err);
        maxRel = Math.max(maxRel, scale > 0 ? err / scale : err);
      });
    }
  });
  return { maxAbs, maxRel };
}
