// The harness's vocabulary: a suite is a list of cases, a case is one problem (a shape or a model)
// measured on several engines, each through an adapter.

export type Output = Float32Array | Int32Array;

/** A prepared engine for one case: run() is what gets timed. */
export interface Runner {
  run(): unknown;
  /** The result of the last run, compared against the case's reference to catch wrong kernels. */
  output?(): Output;
  /** Fetches what output() returns when that takes a round trip (a child process). */
  prepareOutput?(): Promise<void>;
  /** Something worth printing next to the timing (variant used, fallback nodes, ...). */
  note?: string;
  dispose?(): void | Promise<void>;
}

export type EngineKind = 'kiln' | 'peer';

export interface Adapter {
  /** Column label, e.g. 'kiln-simd', 'onnxruntime-web', 'tfjs-wasm'. */
  engine: string;
  kind: EngineKind;
  threads: number;
  setup(): Promise<Runner>;
  /** Overrides the case's reference for this engine (int4 weights give a different exact answer). */
  check?: { reference: () => Output; tolerance: number };
}

/** Thrown by setup() when an engine cannot run a case; the table shows "n/a (message)". */
export class NotAvailable extends Error {}

export interface Case {
  suite: string;
  /** Stable id used by filters and JSON, e.g. 'gemm-f32/512'. */
  id: string;
  label: string;
  /** Operations per run (2 per multiply-add) for the throughput column; undefined for none. */
  ops?: number;
  unit?: 'GFLOP/s' | 'GOP/s';
  adapters: Adapter[];
  /**
   * Which engine's output the others are checked against: an engine label, or a function computing
   * the exact answer in JS. Undefined: no check.
   */
  reference?: string | (() => Output);
  /** Largest accepted max|x - ref| / max|ref|. 0 means exact. */
  tolerance?: number;
  /** Also require the same argmax as the reference (classifiers whose logits are quantized). */
  sameTop1?: boolean;
}

export interface Suite {
  name: string;
  description: string;
  cases(opts: BenchOptions): Case[];
}

export interface BenchOptions {
  quick: boolean;
}

export interface Row {
  suite: string;
  case: string;
  label: string;
  engine: string;
  kind: EngineKind;
  threads: number;
  status: 'ok' | 'n/a' | 'error';
  reason?: string;
  medianMs?: number;
  /** Median absolute deviation of the samples, ms. */
  madMs?: number;
  minMs?: number;
  samples?: number;
  /** 1-minute load average when the case started: other processes share this machine's 2 cores. */
  load?: number;
  rate?: number;
  unit?: string;
  /** best peer median / this median: above 1 is faster than the fastest peer. */
  vsBestPeer?: number;
  /** max|x - ref| / max|ref| against the case's reference. */
  error?: number;
  wrong?: boolean;
  note?: string;
}
