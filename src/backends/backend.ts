// A backend compiles a verified graph into an executable plan. Backends know ops only through the
// registry; the reference backend is the oracle every other backend is tested against.
import type { InferResult } from '../graph/infer.js';
import type { Graph } from '../graph/ir.js';
import type { Pass } from '../passes/pass.js';
import type { Value } from '../tensor/value.js';

export type BackendName = 'reference' | 'wasm' | 'webgpu';

export interface Executable {
  /** Runs the plan; `fetches` names the values to return (tensors, or sequences and optionals). */
  run(feeds: ReadonlyMap<string, Value>, fetches: readonly string[]): Promise<Map<string, Value>>;
  dispose(): void;
  /** Nodes the last run executed on the reference kernel because this backend has none for them. */
  fallbackNodes?(): string[];
  /** Turns per-op timing on or off (backends that support profiling). */
  enableProfiling?(on: boolean): void;
  /** Time per op kind since profiling was turned on, slowest first. */
  profileReport?(): ProfileRow[];
}

export interface ProfileRow {
  op: string;
  ms: number;
  calls: number;
}

/** Session choices that change how a backend lowers a graph (see SessionOptions). */
export interface LoweringOptions {
  /** int4 weight-only MatMul/Gemm may quantize their activations to int8 (SessionOptions.int8Activations). */
  int8Activations?: boolean;
}

export interface Backend {
  readonly name: BackendName;
  /** Cheap feature probe; false when the host lacks what the backend needs. */
  isAvailable(): Promise<boolean>;
  /**
   * Passes that turn a verified graph into the form this backend compiles (activation fusion,
   * weight-dequantizing matmuls, QDQ lowering, float16 -> float32, ...), in order. The session
   * runs them before compile(). Absent or empty: the graph runs as written (the reference backend,
   * which is the oracle, keeps it that way).
   */
  loweringPasses?(options?: LoweringOptions): Pass[];
  compile(graph: Graph, inferred: InferResult, options?: CompileOptions): Promise<Executable>;
}

export interface CompileOptions {
  /** Threads for backends that split kernels over workers (default: the backend's choice). */
  threads?: number;
}

const backends = new Map<BackendName, Backend>();

export function registerBackend(b: Backend): void {
  backends.set(b.name, b);
}

export function findBackend(name: BackendName): Backend | undefined {
  return backends.get(name);
}

export function registeredBackends(): Backend[] {
  return [...backends.values()];
}

/** Preference order for backend 'auto': fastest first. */
export const AUTO_ORDER: readonly BackendName[] = ['webgpu', 'wasm', 'reference'];
