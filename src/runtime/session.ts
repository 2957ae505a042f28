// The public entry point, shaped like onnxruntime-web's InferenceSession so that switching engines
// is a change of import.
import '../ops/index.js';
import '../backends/reference/index.js';
import '../backends/wasm/index.js';
import { AUTO_ORDER, findBackend, type Backend, type BackendName, type Executable, type ProfileRow } from '../backends/backend.js';
import type { Graph, ValueInfo } from '../graph/ir.js';
import { verifyGraph } from '../graph/verify.js';
import { optimize } from '../passes/pipeline.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, type Value } from '../tensor/value.js';
import { checkFeeds, type TensorLike } from './feeds.js';
import { parseModel, readModelBytes, type ModelSource } from './load.js';

export interface SessionOptions {
  /** Which backend runs the model; 'auto' picks the fastest available. Default 'auto'. */
  backend?: BackendName | 'auto';
  /** Time every op (backends that support it; see profileReport()). */
  profile?: boolean;
  /**
   * Threads for the wasm backend (default min(hardware threads, 4)); 1 runs single-threaded.
   * More than one needs SharedArrayBuffer: Node and Deno, or a cross-origin isolated page.
   */
  threads?: number;
  /**
   * Let MatMul/Gemm with int4 weight-only weights (blocks of 32) quantize their activations to
   * int8 per block on backends that can (wasm): 2-3x faster at batch 1, at the cost of one int8
   * rounding of each activation (error ~1/254 of the block's largest magnitude per term). The
   * model file is unchanged; onnxruntime's equivalent is MatMulNBits accuracy_level 4
   * (session.qdq_matmulnbits_accuracy_level). Default false: float32 activations.
   */
  int8Activations?: boolean;
}

export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  private constructor(
    readonly graph: Graph,
    readonly backend: BackendName,
    private readonly exec: Executable,
  ) {
    this.inputNames = graph.inputs.map((v) => v.name);
    this.outputNames = graph.outputs.map((v) => v.name);
  }

  /** Loads an ONNX or .kiln model from bytes, a file path (Node, Deno), a URL, or an in-memory Graph. */
  static async create(source: ModelSource | Graph, options: SessionOptions = {}): Promise<InferenceSession> {
    const graph = isGraph(source) ? source : parseModel(await readModelBytes(source));
    const inferred = verifyGraph(graph);
    const backend = await pickBackend(options.backend ?? 'auto');
    // Each backend names the lowering passes it wants (fusion, ...); the reference backend has
    // none and runs the graph as written (it is the oracle).
    const lowering = backend.loweringPasses?.(options.int8Activations ? { int8Activations: true } : {}) ?? [];
    const lowered = lowering.length ? await optimize(graph, lowering, { verify: 'end', record: false, inferred }) : undefined;
    const prepared = lowered?.graph ?? graph;
    if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
      throw new Error(`threads must be a positive integer, got ${String(options.threads)}`);
    }
    const exec = await backend.compile(prepared, lowered?.inferred ?? inferred, options.threads !== undefined ? { threads: options.threads } : {});
    if (options.profile) {
      if (!exec.enableProfiling) throw new Error(`backend '${backend.name}' does not support profiling`);
      exec.enableProfiling(true);
    }
    return new InferenceSession(graph, backend.name, exec);
  }

  get inputMetadata(): readonly ValueInfo[] {
    return this.graph.inputs;
  }

  get outputMetadata(): readonly ValueInfo[] {
    return this.graph.outputs;
  }

  /** Runs the model. `fetches` limits the outputs computed and returned (default: all). */
  async run(feeds: Record<string, TensorLike>, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    const outs = await this.runValues(feeds, fetches);
    for (const [name, v] of Object.entries(outs)) {
      if (!(v instanceof Tensor)) throw new Error(`run(): output '${name}' is a ${describeValue(v)}; use runValues() for it`);
    }
    return outs as Record<string, Tensor>;
  }

  /** run() for models whose inputs or outputs may be sequences or optionals (ONNX sequence and optional types). */
  async runValues(feeds: Record<string, TensorLike | Value>, fetches?: readonly string[]): Promise<Record<string, Value>> {
    const checked = checkFeeds(this.graph.inputs, feeds);
    const wanted = fetches ?? this.outputNames;
    for (const f of wanted) {
      if (!this.outputNames.includes(f)) throw new Error(`run(): unknown output '${f}'; the model's outputs are ${this.outputNames.join(', ')}`);
    }
    const outs = await this.exec.run(checked, wanted);
    return Object.fromEntries(wanted.map((name) => [name, outs.get(name)!]));
  }

  /** Nodes that ran on the reference kernel in the last run because the backend lacks a kernel. */
  fallbackNodes(): string[] {
    return this.exec.fallbackNodes?.() ?? [];
  }

  /** Per-op time since the session was created with { profile: true }, slowest first. */
  profileReport(): ProfileRow[] {
    return this.exec.profileReport?.() ?? [];
  }

  async release(): Promise<void> {
    this.exec.dispose();
  }
}

function isGraph(x: unknown): x is Graph {
  return typeof x === 'object' && x !== null && 'nodes' in x && 'initializers' in x;
}

async function pickBackend(name: BackendName | 'auto'): Promise<Backend> {
  if (name !== 'auto') {
    const b = findBackend(name);
    if (!b) throw new Error(`backend '${name}' is not available in this build of Kiln`);
    if (!(await b.isAvailable())) throw new Error(`backend '${name}' is not supported on this host`);
    return b;
  }
  for (const n of AUTO_ORDER) {
    const b = findBackend(n);
    if (b && (await b.isAvailable())) return b;
  }
  throw new Error('no backend is available');
}
