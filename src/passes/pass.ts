// The shape of a pass. A pass is a named, configured Graph -> Graph function:
//
//   const p = constantFolding({ maxElements: 1 << 16 });   // a factory returns a configured Pass
//   const { graph } = await optimize(model, [p, deadCodeElimination()]);
//
// Rules every pass keeps:
//  - Pure: never mutate the input graph, its nodes, maps or tensors; build new ones with the
//    helpers in src/graph/edit.ts. Return the input graph itself when nothing changed (callers
//    use identity to skip re-verification).
//  - Do not record provenance: the pipeline (optimize, applyPass) records `{ pass, options }`.
//  - Passes that rewrite patterns recurse into subgraphs (rewriteRecursively in graph/edit.ts).
//  - Document the output error the pass may introduce (exact, float32 rounding, or a bound), in
//    the file's header comment; tests check it on the reference backend.
// Passes may be async (a calibration pass runs the model) and may report progress.
import type { Graph, Provenance } from '../graph/ir.js';
import { Tensor } from '../tensor/tensor.js';

export interface PassContext {
  /** Progress within the running pass: fraction in [0, 1], optional message. */
  progress(fraction: number, message?: string): void;
}

export type PassOptions = object;

export interface Pass<O extends PassOptions = PassOptions> {
  readonly name: string;
  /** The options the pass was configured with (what provenance records, made JSON-safe). */
  readonly options: Readonly<O>;
  run(graph: Graph, ctx: PassContext): Graph | Promise<Graph>;
}

/** A Pass factory: `definePass('dce', (g, o) => ...)` gives `(options?) => Pass`. */
export function definePass<O extends PassOptions>(
  name: string,
  run: (graph: Graph, options: O, ctx: PassContext) => Graph | Promise<Graph>,
): (options?: O) => Pass<O> {
  return (options = {} as O) => ({ name, options, run: (g, ctx) => run(g, options, ctx) });
}

/**
 * A pass whose run also says what it chose (per-layer sparsity, kept channels, layouts): once it
 * has run, its `options` carry that record as `result`, so the pipeline's provenance entry says
 * what was done, not only what was asked.
 */
export function recordingPass<O extends PassOptions, R>(
  name: string,
  options: O,
  run: (graph: Graph) => { graph: Graph; result: R },
): Pass<O & { result?: R }> {
  let result: R | undefined;
  return {
    name,
    get options(): O & { result?: R } {
      return result === undefined ? options : { ...options, result };
    },
    run(graph: Graph): Graph {
      const r = run(graph);
      result = r.result;
      return r.graph;
    },
  };
}

const silent: PassContext = { progress: () => {} };

/**
 * Applies one synchronous pass and records it in the provenance (when the graph changed).
 * Does not verify; `optimize` does. Throws if the pass is async.
 */
export function applyPass(graph: Graph, pass: Pass): Graph {
  const out = pass.run(graph, silent);
  if (out instanceof Promise) throw new Error(`pass '${pass.name}' is asynchronous; run it with optimize()`);
  return out === graph ? graph : withProvenance(out, { pass: pass.name, options: jsonSafe(pass.options) });
}

export function withProvenance(graph: Graph, entry: Provenance): Graph {
  return { ...graph, provenance: [...graph.provenance, { at: new Date().toISOString(), ...entry }] };
}

/**
 * Options as provenance can store them (JSON): numbers, strings, booleans, arrays and plain
 * objects are kept; tensors and typed arrays become a short description; functions and
 * undefined are dropped (a calibration data set is described, not copied into the file).
 */
export function jsonSafe(options: object): Record<string, unknown> {
  const conv = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'function' || v === undefined || typeof v === 'symbol') return undefined;
    if (v instanceof Tensor) return `<tensor ${v.type} [${v.dims.join(', ')}]>`;
    if (ArrayBuffer.isView(v)) return `<${v.constructor.name} of ${v.byteLength} bytes>`;
    if (depth > 6) return '<…>';
    if (Array.isArray(v)) return v.length > 64 ? `<array of ${v.length}>` : v.map((x) => conv(x, depth + 1) ?? null);
    if (v instanceof Set) return conv([...v], depth);
    if (v instanceof Map) return conv(Object.fromEntries(v), depth);
    if (typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const c = conv(x, depth + 1);
        if (c !== undefined) o[k] = c;
      }
      return o;
    }
    return undefined;
  };
  return conv(options, 0) as Record<string, unknown>;
}
