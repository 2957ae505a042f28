// The thread pool's shared control block and kernel table. The main thread and the workers talk
// through one small SharedArrayBuffer (separate from the wasm memory, so growing that memory never
// moves it): a job descriptor plus a few atomic words. Nothing is allocated or posted per call.
//
// One job = one kernel call whose output range [0, extent) along one split dimension is cut into
// `chunks` pieces (multiples of `align`). Threads, the main thread included, claim chunks with a
// compare-exchange on CLAIM and count finished ones in DONE; the main thread returns when
// DONE == chunks. CLAIM carries the job's generation in its high bits so a worker that woke late
// for an old job can never claim a chunk of a newer one with the old job's arguments.
// A broadcast job instead has every worker call the kernel once (for kernels that keep per-instance
// state set by a setter export: each worker's instance has its own globals).

/** Int32 word indices in the control block. */
export const CTL = {
  /** Job generation; workers Atomics.wait on it. */
  GEN: 0,
  /** (gen & GEN_MASK) << CHUNK_BITS | next chunk to claim. */
  CLAIM: 1,
  /** Chunks finished in the current job; the last one notifies. */
  DONE: 2,
  /** Set (1 + thread index) when a kernel threw in a worker. */
  ERROR: 3,
  /** Set once by dispose(); workers leave their loop. */
  SHUTDOWN: 4,
  KERNEL: 5,
  CHUNKS: 6,
  EXTENT: 7,
  ALIGN: 8,
  /** Argument indices that receive the chunk's [lo, hi); -1 for none. */
  LO_ARG: 9,
  HI_ARG: 10,
  /** Argument index that receives the thread's scratch pointer; -1 for none. */
  SCRATCH_ARG: 11,
  SCRATCH_BASE: 12,
  SCRATCH_STRIDE: 13,
  NARGS: 14,
  /** 0: split the range over chunks; 1: broadcast, every worker calls the kernel once. */
  MODE: 15,
  /** First argument word; arguments are i32 or f32 bit patterns per the kernel's signature. */
  ARGS: 16,
} as const;

/** Most arguments a pooled kernel may take. */
export const MAX_ARGS = 32;
/** A worker's error message, one UTF-16 code unit per word, read by run() when ERROR is set. */
export const ERROR_TEXT = CTL.ARGS + MAX_ARGS;
export const ERROR_TEXT_WORDS = 96;
export const CONTROL_WORDS = ERROR_TEXT + ERROR_TEXT_WORDS;
export const CHUNK_BITS = 8;
/** Most chunks per job (CLAIM's low bits hold a count up to this). */
export const MAX_CHUNKS = (1 << CHUNK_BITS) - 1;
export const GEN_MASK = (1 << (31 - CHUNK_BITS)) - 1;

/**
 * A kernel the pool can split. `args` is the export's signature, one letter per parameter:
 * 'i' for i32/usize, 'f' for f32. `splits` names the split dimensions and the argument indices of
 * the [lo, hi) range the kernel takes for each; `align` is the granularity chunks are rounded to
 * (the kernel's register or cache block, so chunks do not cut a block in two).
 */
export interface ThreadKernel {
  export: string;
  args: string;
  splits: Readonly<Record<string, { lo: number; hi: number; align?: number }>>;
  /** Argument index of the per-thread scratch pointer, if the kernel takes scratch. */
  scratchArg?: number;
}

export type KernelTable = Readonly<Record<string, ThreadKernel>>;

/** What a worker needs of a kernel: the export to call and how to decode its arguments. */
export interface WorkerKernel {
  export: string;
  args: string;
}

/** The one message a worker receives; it answers { type: 'ready' } or { type: 'error', message }. */
export interface InitMessage {
  type: 'init';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  kernels: WorkerKernel[];
  /** This worker's thread index (the main thread is 0); selects its scratch slice. */
  thread: number;
  /** Milliseconds a worker busy-waits for the next job before it sleeps in Atomics.wait. */
  spin: number;
}

export type WorkerReply = { type: 'ready'; thread: number } | { type: 'error'; thread: number; message: string };
