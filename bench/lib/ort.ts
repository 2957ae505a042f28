// onnxruntime-web (WASM execution provider) as a peer. Its thread count is fixed when its WASM module
// first initialises, once per process: 1-thread sessions run in this process, other counts in a
// child process per count (ort-child.ts) that times each run itself. The parent's adapter reports
// that time to tinybench (overriddenDuration), so ORT's 2-thread rows are interleaved with every
// other engine's rows like the rest, without the IPC round trip in them.
import { fork, type ChildProcess } from 'node:child_process';
import * as ort from 'onnxruntime-web';
import type { ChildReply, ChildRequest } from './ort-child.js';
import type { ModelFeed } from '../../test/models/real-models.js';
import type { Adapter, Output, Runner } from './types.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

/** A feed both engines take (the real-model set also feeds int64, int32 and float16 inputs). */
export type OrtFeed = ModelFeed;

export function ortAdapter(model: () => Uint8Array | Promise<Uint8Array>, feeds: () => Record<string, OrtFeed>, threads = 1, engine = 'onnxruntime-web'): Adapter {
  return {
    engine,
    kind: 'peer',
    threads,
    setup: async () => (threads === 1 ? localRunner(await model(), feeds()) : remoteRunner(threads, await model(), feeds())),
  };
}

async function localRunner(model: Uint8Array, feeds: Record<string, OrtFeed>): Promise<Runner> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, f] of Object.entries(feeds)) tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
  const outName = session.outputNames[0]!;
  let last: ort.InferenceSession.OnnxValueMapType | undefined;
  return {
    async run() {
      last = await session.run(tensors);
    },
    output(): Output {
      const data = last?.[outName]?.data;
      if (data instanceof Float32Array || data instanceof Int32Array) return data;
      throw new Error('onnxruntime-web output is not float32/int32');
    },
    note: 'wasm EP, numThreads=1',
    dispose: () => session.release(),
  };
}

/**
 * A request unanswered this long means the child is stuck (onnxruntime-web's thread pool has been
 * seen to hang on ISNet float16 at 2 threads): the child is killed and the row reported as an
 * error, so one case cannot stall the whole bench. Generous: a setup compiles a large model.
 */
const REPLY_TIMEOUT_MS = 180_000;

/** One child process per thread count, serving one request at a time. */
class OrtChild {
  private readonly proc: ChildProcess;
  /** Killed after a request timed out: the next case gets a fresh child. */
  dead = false;
  private queue: Promise<unknown> = Promise.resolve();
  private pending?: (r: ChildReply) => void;

  constructor(threads: number) {
    this.proc = fork(new URL('./ort-child.ts', import.meta.url), [], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      env: { ...process.env, KILN_BENCH_ORT_THREADS: String(threads) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (r: ChildReply) => this.pending?.(r));
    this.proc.on('exit', (code) => this.pending?.({ ok: false, error: `onnxruntime-web child process exited (${code})` }));
    // Kept referenced: an unreferenced channel lets Node exit while a reply is awaited. run.mjs
    // ends the process (and so this child, which exits on disconnect) when the bench is done.
  }

  request(req: ChildRequest): Promise<ChildReply & { ok: true }> {
    const next = this.queue.then(
      () =>
        new Promise<ChildReply & { ok: true }>((resolve, reject) => {
          if (this.dead) { reject(new Error('onnxruntime-web child process was stopped after a timeout')); return; }
          const timer = setTimeout(() => {
            this.dead = true;
            this.pending = undefined;
            this.proc.kill();
            reject(new Error(`onnxruntime-web child process did not answer a '${req.type}' request in ${REPLY_TIMEOUT_MS / 1000} s (stopped)`));
          }, REPLY_TIMEOUT_MS);
          this.pending = (r) => {
            clearTimeout(timer);
            this.pending = undefined;
            if (r.ok) resolve(r);
            else reject(new Error(r.error));
          };
          this.proc.send(req);
        }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }
}

const children = new Map<number, OrtChild>();
let nextId = 1;

async function remoteRunner(threads: number, model: Uint8Array, feeds: Record<string, OrtFeed>): Promise<Runner> {
  let child = children.get(threads);
  if (!child || child.dead) children.set(threads, (child = new OrtChild(threads)));
  const c = child;
  const id = nextId++;
  await c.request({ type: 'setup', id, model, feeds });
  let output: Output | undefined;
  return {
    // tinybench takes the child's own timing of session.run() as the sample.
    run: async () => ({ overriddenDuration: (await c.request({ type: 'run', id })).ms! }),
    output(): Output {
      if (!output) throw new Error('fetch the output with prepareOutput() first');
      return output;
    },
    async prepareOutput() {
      output = (await c.request({ type: 'output', id })).output;
    },
    note: `wasm EP, numThreads=${threads} (child process)`,
    dispose: async () => {
      await c.request({ type: 'dispose', id });
    },
  };
}
