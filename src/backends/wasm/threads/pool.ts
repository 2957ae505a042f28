// A pool of Web Workers sharing one WebAssembly.Memory with the main thread. Each run() splits one
// kernel call along an output dimension: the main thread writes the job into the shared control
// block, bumps the generation and notifies, then claims and runs chunks itself until none are left
// and waits for the rest. The hot path allocates nothing and posts no messages.
import { compileVariant, isSharedMemory, type WasmVariant } from '../loader.js';
import {
  CHUNK_BITS, CONTROL_WORDS, CTL, ERROR_TEXT, ERROR_TEXT_WORDS, GEN_MASK, MAX_ARGS, MAX_CHUNKS,
  type KernelTable, type ThreadKernel, type WorkerReply,
} from './protocol.js';
import { spawnWorker, type PoolWorker } from './spawn.js';
import { DEFAULT_KERNELS } from './kernels.js';

export interface ThreadPoolOptions {
  /** Kernels the pool can run (default: DEFAULT_KERNELS); add entries to split new kernels. */
  kernels?: KernelTable;
  /**
   * Microseconds an idle worker busy-waits for the next job before sleeping (default 100): jobs
   * that follow within this window skip the wake-up latency of Atomics.wait/notify.
   */
  spinMicros?: number;
  /** Microseconds the calling thread busy-waits for the workers before sleeping (default 200). */
  waitSpinMicros?: number;
}

export interface RunOptions {
  /** Per-thread scratch: thread t gets base + t * stride in the kernel's scratch argument. */
  scratch?: { base: number; stride: number };
  /** Chunk granularity; default the kernel's align for this split dimension, else 1. */
  align?: number;
  /** Chunks per thread (default 1). More chunks balance load when cores are busy elsewhere. */
  chunksPerThread?: number;
  /** Use at most this many threads for this call (small problems do not pay for waking workers). */
  maxThreads?: number;
}

/** Most threads a pool uses by default: GEMM and conv stop scaling well past this on laptops. */
export const DEFAULT_MAX_THREADS = 4;

/**
 * The number of threads a pool uses by default: min(hardware concurrency, 4). Browsers, Deno and
 * Node >= 21 expose navigator.hardwareConcurrency; Node 20 only has os.availableParallelism.
 */
export async function defaultThreadCount(): Promise<number> {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; process?: { versions?: { node?: string } } };
  let hc = g.navigator?.hardwareConcurrency;
  if (typeof hc !== 'number' && g.process?.versions?.node) {
    // A computed specifier keeps bundlers from resolving Node's os module in browser builds.
    const spec = 'node:os';
    const os = (await import(/* @vite-ignore */ spec)) as { availableParallelism?: () => number; cpus(): unknown[] };
    hc = os.availableParallelism?.() ?? os.cpus().length;
  }
  return Math.max(1, Math.min(typeof hc === 'number' && hc > 0 ? hc : 1, DEFAULT_MAX_THREADS));
}

type KernelFn = (...args: number[]) => void;

interface Resolved {
  id: number;
  spec: ThreadKernel;
  fn: KernelFn;
}

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly ctlF: Float32Array;
  private readonly resolved = new Map<string, Resolved>();
  private readonly argv: number[] = new Array<number>(MAX_ARGS).fill(0);
  private gen = 0;
  private disposed = false;
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  private readonly canWait: boolean;

  private constructor(
    /** Threads including the main thread. */
    readonly threads: number,
    private readonly workers: PoolWorker[],
    control: ArrayBuffer | SharedArrayBuffer,
    kernels: KernelTable,
    exports: Record<string, unknown>,
    /** Milliseconds run() spins for the workers before sleeping. */
    private readonly waitSpin: number,
  ) {
    this.ctl = new Int32Array(control);
    this.ctlF = new Float32Array(control);
    let id = 0;
    for (const [name, spec] of Object.entries(kernels)) {
      const fn = exports[spec.export];
      if (typeof fn === 'function') this.resolved.set(name, { id, spec, fn: fn as KernelFn });
      id++;
    }
    this.canWait = probeCanWait(this.ctl);
  }

  /**
   * Starts threads - 1 workers (threads counts the main thread; 1 starts none; default
   * defaultThreadCount()) that instantiate `module` on `memory`. For threads > 1 the memory must be shared and the module its variant's
   * shared-memory build (loader.compileVariant(variant, true)).
   */
  static async create(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    threads?: number,
    options: ThreadPoolOptions = {},
  ): Promise<ThreadPool> {
    threads = Math.max(1, Math.floor(threads ?? (await defaultThreadCount())));
    const kernels = options.kernels ?? DEFAULT_KERNELS;
    if (threads > 1 && !isSharedMemory(memory)) throw new Error('a thread pool needs a shared WebAssembly.Memory');
    const exports = new WebAssembly.Instance(module, { env: { memory, abort: wasmAbort } }).exports as Record<string, unknown>;
    // A plain ArrayBuffer serves the single-thread pool: it never touches the atomics.
    const shared = threads > 1 ? new SharedArrayBuffer(CONTROL_WORDS * 4) : undefined;
    const control = shared ?? new ArrayBuffer(CONTROL_WORDS * 4);
    const workers: PoolWorker[] = [];
    try {
      const ready: Promise<void>[] = [];
      for (let t = 1; t < threads; t++) {
        const w = await spawnWorker(t);
        workers.push(w);
        ready.push(new Promise<void>((resolve, reject) => {
          w.listen((r: WorkerReply) => {
            if (r.type === 'ready') resolve();
            else reject(new Error(`Kiln WASM worker ${t} failed to start: ${r.message}`));
          });
        }));
        w.post({
          type: 'init', module, memory, control: shared!, thread: t, spin: (options.spinMicros ?? 100) / 1000,
          kernels: Object.values(kernels).map((k) => ({ export: k.export, args: k.args })),
        });
      }
      await Promise.all(ready);
      for (const w of workers) w.started();
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    return new ThreadPool(threads, workers, control, kernels, exports, (options.waitSpinMicros ?? 200) / 1000);
  }

  /** Creates a pool for a variant: compiles its shared-memory build (single-thread build for 1). */
  static async forVariant(variant: WasmVariant, memory: WebAssembly.Memory, threads?: number, options?: ThreadPoolOptions): Promise<ThreadPool> {
    const mod = compileVariant(variant, isSharedMemory(memory));
    if (!mod) throw new Error(`this host cannot compile Kiln's ${variant} module${isSharedMemory(memory) ? ' (shared memory)' : ''}`);
    return ThreadPool.create(mod, memory, threads, options);
  }

  /** Whether the loaded module exports the kernel (a pool may list kernels a build lacks). */
  has(kernel: string): boolean {
    return this.resolved.has(kernel);
  }

  /**
   * Runs `kernel` with `args` (its full parameter list; the split range and scratch slots are
   * overwritten per chunk) over [0, extent) of split dimension `split`, spread over the threads.
   * Returns when every chunk is done. Throws if a kernel trapped on any thread.
   */
  run(kernel: string, args: readonly number[], split: string, extent: number, opts?: RunOptions): void {
    const k = this.kernel(kernel, args);
    const s = k.spec.splits[split];
    if (!s) throw new Error(`kernel '${kernel}' cannot be split along '${split}'`);
    if (extent <= 0) return;
    const align = Math.max(1, opts?.align ?? s.align ?? 1);
    const threads = Math.min(this.threads, opts?.maxThreads ?? this.threads);
    const units = Math.ceil(extent / align);
    const chunks = Math.min(threads * Math.max(1, opts?.chunksPerThread ?? 1), units, MAX_CHUNKS);
    const argv = this.argv;
    for (let i = 0; i < args.length; i++) argv[i] = args[i]!;
    const scratchArg = k.spec.scratchArg ?? -1;
    if (scratchArg >= 0 && opts?.scratch) argv[scratchArg] = opts.scratch.base;
    if (chunks <= 1 || threads <= 1) {
      argv[s.lo] = 0;
      argv[s.hi] = extent;
      call(k.fn, argv);
      return;
    }
    const ctl = this.ctl;
    this.closeClaims();
    ctl[CTL.MODE] = 0;
    ctl[CTL.CHUNKS] = chunks;
    ctl[CTL.EXTENT] = extent;
    ctl[CTL.ALIGN] = align;
    ctl[CTL.LO_ARG] = s.lo;
    ctl[CTL.HI_ARG] = s.hi;
    this.publish(k, args, opts);

    // The calling thread works as thread 0 until no chunk is left.
    let mainError: unknown;
    for (;;) {
      const w = Atomics.load(ctl, CTL.CLAIM);
      const c = w & MAX_CHUNKS;
      if (c >= chunks) break;
      if (Atomics.compareExchange(ctl, CTL.CLAIM, w, w + 1) !== w) continue;
      // The same formula as in the worker source; inlined, so no allocation per chunk.
      argv[s.lo] = Math.floor((c * units) / chunks) * align;
      argv[s.hi] = Math.min(Math.floor(((c + 1) * units) / chunks) * align, extent);
      try {
        call(k.fn, argv);
      } catch (e) {
        mainError ??= e;
      }
      Atomics.add(ctl, CTL.DONE, 1);
    }
    this.finish(kernel, chunks, mainError);
  }

  /**
   * Calls `kernel` once on every thread with the same arguments (scratch slot per thread). For
   * setter exports whose state lives in each instance's globals, which workers do not share.
   */
  broadcast(kernel: string, args: readonly number[], opts?: Pick<RunOptions, 'scratch'>): void {
    const k = this.kernel(kernel, args);
    const argv = this.argv;
    for (let i = 0; i < args.length; i++) argv[i] = args[i]!;
    const scratchArg = k.spec.scratchArg ?? -1;
    if (scratchArg >= 0 && opts?.scratch) argv[scratchArg] = opts.scratch.base;
    let mainError: unknown;
    if (this.workers.length > 0) {
      this.closeClaims();
      this.ctl[CTL.MODE] = 1;
      this.ctl[CTL.CHUNKS] = this.workers.length;
      this.publish(k, args, opts);
    }
    try {
      call(k.fn, argv);
    } catch (e) {
      mainError = e;
    }
    if (this.workers.length > 0) this.finish(kernel, this.workers.length, mainError);
    else if (mainError !== undefined) throw mainError;
  }

  private kernel(name: string, args: readonly number[]): Resolved {
    if (this.disposed) throw new Error('the thread pool was disposed');
    const k = this.resolved.get(name);
    if (!k) throw new Error(`the thread pool has no kernel '${name}' in this module`);
    if (args.length > MAX_ARGS) throw new Error(`kernel '${name}': more than ${MAX_ARGS} arguments`);
    return k;
  }

  /**
   * Before any descriptor word changes: CLAIM gets the coming generation's tag with no chunk left,
   * so a worker still reading the previous job's descriptor fails its tag check and takes nothing.
   */
  private closeClaims(): void {
    Atomics.store(this.ctl, CTL.CLAIM, (((this.gen + 1) & GEN_MASK) << CHUNK_BITS) | MAX_CHUNKS);
  }

  /** Writes the rest of the descriptor and starts a new generation, waking the workers. */
  private publish(k: Resolved, args: readonly number[], opts: Pick<RunOptions, 'scratch'> | undefined): void {
    const ctl = this.ctl;
    ctl[CTL.KERNEL] = k.id;
    ctl[CTL.SCRATCH_ARG] = k.spec.scratchArg ?? -1;
    ctl[CTL.SCRATCH_BASE] = opts?.scratch?.base ?? 0;
    ctl[CTL.SCRATCH_STRIDE] = opts?.scratch?.stride ?? 0;
    ctl[CTL.NARGS] = args.length;
    const sig = k.spec.args;
    for (let i = 0; i < args.length; i++) {
      if (sig.charCodeAt(i) === 102 /* f */) this.ctlF[CTL.ARGS + i] = args[i]!;
      else ctl[CTL.ARGS + i] = args[i]!;
    }
    const gen = (this.gen = (this.gen + 1) & GEN_MASK);
    Atomics.store(ctl, CTL.DONE, 0);
    Atomics.store(ctl, CTL.ERROR, 0);
    Atomics.store(ctl, CTL.CLAIM, gen << CHUNK_BITS);
    // The seq-cst store publishes the descriptor written above to any worker that loads GEN.
    Atomics.store(ctl, CTL.GEN, gen);
    Atomics.notify(ctl, CTL.GEN);
  }

  /** Waits for `count` completions, then rethrows the calling thread's or a worker's failure. */
  private finish(kernel: string, count: number, mainError: unknown): void {
    this.waitDone(count);
    if (mainError !== undefined) throw mainError;
    const err = Atomics.load(this.ctl, CTL.ERROR);
    if (err !== 0) {
      let text = '';
      for (let i = ERROR_TEXT; i < ERROR_TEXT + ERROR_TEXT_WORDS && this.ctl[i] !== 0; i++) text += String.fromCharCode(this.ctl[i]!);
      throw new Error(`Kiln WASM kernel '${kernel}' failed in worker ${err - 1}: ${text}`);
    }
  }

  private waitDone(chunks: number): void {
    const ctl = this.ctl;
    let d: number;
    let spins = 0;
    let t0 = -1;
    while ((d = Atomics.load(ctl, CTL.DONE)) < chunks) {
      // Workers usually finish within microseconds of the calling thread: spin first, then sleep
      // where this thread may block (browsers forbid Atomics.wait on their main thread, which
      // therefore spins until done). The spin is bounded so that a pool with more threads than
      // free cores does not keep a worker off its core.
      if (!this.canWait || (++spins & 127) !== 0) continue;
      const now = performance.now();
      if (t0 < 0) t0 = now;
      else if (now - t0 >= this.waitSpin) Atomics.wait(ctl, CTL.DONE, d);
    }
  }

  /** Stops the workers. The pool cannot run afterwards; a single-thread pool just marks itself. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.workers.length > 0) {
      Atomics.store(this.ctl, CTL.SHUTDOWN, 1);
      Atomics.store(this.ctl, CTL.GEN, (this.gen + 1) & GEN_MASK);
      Atomics.notify(this.ctl, CTL.GEN);
    }
    for (const w of this.workers) w.terminate();
  }
}

/** Calls a kernel with the pool's fixed-size argument vector; wasm ignores the extra arguments. */
function call(fn: KernelFn, a: number[]): void {
  fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!,
    a[16]!, a[17]!, a[18]!, a[19]!, a[20]!, a[21]!, a[22]!, a[23]!, a[24]!, a[25]!, a[26]!, a[27]!, a[28]!, a[29]!, a[30]!, a[31]!);
}

/** Atomics.wait throws on threads that may not block; a mismatched value makes it return at once. */
function probeCanWait(ctl: Int32Array): boolean {
  if (typeof SharedArrayBuffer !== 'function' || !(ctl.buffer instanceof SharedArrayBuffer)) return false;
  try {
    Atomics.wait(ctl, CTL.ERROR, 1, 0);
    return true;
  } catch {
    return false;
  }
}

function wasmAbort(): never {
  throw new Error('Kiln WASM kernel aborted');
}
