// Starts one pool worker on whatever this host offers, from the same source text everywhere:
// node:worker_threads in eval mode (Node and Deno; loaded by a dynamic import so bundles for
// browsers never see it), or a Web Worker from a Blob URL (browsers).
import type { InitMessage, WorkerReply } from './protocol.js';
import { WORKER_SOURCE } from './worker-source.js';

export interface PoolWorker {
  post(msg: InitMessage): void;
  /** Called for every reply and for worker errors (as { type: 'error' }). */
  listen(cb: (reply: WorkerReply) => void): void;
  /** The worker answered 'ready': from now on it must not keep the host's process alive. */
  started(): void;
  terminate(): void;
}

interface NodeWorker {
  postMessage(m: unknown): void;
  on(ev: 'message' | 'error', cb: (x: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}
interface NodeWorkerModule {
  Worker: new (code: string, opts: { eval: true; name?: string }) => NodeWorker;
}

function hasNodeWorkers(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string } }; Deno?: unknown };
  return Boolean(g.process?.versions?.node) || g.Deno !== undefined;
}

/**
 * Node and Deno use node:worker_threads (Deno implements it too): unlike a Web Worker there, its
 * workers can be unref'd, so a pool that is never disposed does not keep the process alive.
 * Deno falls back to a Web Worker where its node:worker_threads is unavailable.
 */
export async function spawnWorker(thread: number): Promise<PoolWorker> {
  if (hasNodeWorkers()) {
    try {
      return await spawnNode(thread);
    } catch (e) {
      if ((globalThis as { Deno?: unknown }).Deno === undefined) throw e;
    }
  }
  return spawnWeb(thread);
}

async function spawnNode(thread: number): Promise<PoolWorker> {
  // A computed specifier keeps bundlers from resolving Node's worker_threads in browser builds.
  const spec = 'node:worker_threads';
  const { Worker } = (await import(/* @vite-ignore */ spec)) as NodeWorkerModule;
  const w = new Worker(WORKER_SOURCE, { eval: true, name: `kiln-wasm-${thread}` });
  const listeners: ((r: WorkerReply) => void)[] = [];
  const emit = (r: WorkerReply) => listeners.forEach((cb) => cb(r));
  w.on('message', (m) => emit(m as WorkerReply));
  w.on('error', (e) => emit({ type: 'error', thread, message: String((e as Error)?.message ?? e) }));
  return {
    post: (m) => w.postMessage(m),
    listen: (cb) => void listeners.push(cb),
    // Idle pool workers must never keep the process alive, but a starting one must (the caller
    // awaits its 'ready'). Node re-refs a worker when a 'message' listener is added, hence the
    // single listener attached above and the callback list.
    started: () => w.unref(),
    terminate: () => void w.terminate(),
  };
}

let blobUrl: string | undefined;

function spawnWeb(thread: number): PoolWorker {
  if (typeof Worker !== 'function') throw new Error('this host has no Web Workers');
  blobUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  // Deno runs module workers only; browsers run the (import-free) script either way, classic
  // being the older and wider-supported form.
  const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  const w = new Worker(blobUrl, { type: isDeno ? 'module' : 'classic', name: `kiln-wasm-${thread}` });
  const listeners: ((r: WorkerReply) => void)[] = [];
  w.onmessage = (e: MessageEvent<WorkerReply>) => listeners.forEach((cb) => cb(e.data));
  w.onerror = (e: ErrorEvent) => listeners.forEach((cb) => cb({ type: 'error', thread, message: e.message }));
  return {
    post: (m) => w.postMessage(m),
    listen: (cb) => void listeners.push(cb),
    started: () => {},
    terminate: () => w.terminate(),
  };
}
