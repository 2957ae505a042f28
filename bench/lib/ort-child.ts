// Child process hosting onnxruntime-web with a thread count other than the parent's (the count is
// fixed once per process when ORT's WASM module initialises). The parent drives it one request at a
// time over IPC; each run is timed here, so the IPC round trip is not part of the measurement.
import * as ort from 'onnxruntime-web';
import type { OrtFeed } from './ort.js';

export type ChildRequest =
  | { type: 'setup'; id: number; model: Uint8Array; feeds: Record<string, OrtFeed> }
  | { type: 'run'; id: number }
  | { type: 'output'; id: number }
  | { type: 'dispose'; id: number };

export type ChildReply = { ok: true; ms?: number; output?: Float32Array | Int32Array } | { ok: false; error: string };

const threads = Number(process.env.KILN_BENCH_ORT_THREADS ?? '2');
ort.env.wasm.numThreads = threads;
ort.env.logLevel = 'error';

interface Entry {
  session: ort.InferenceSession;
  feeds: Record<string, ort.Tensor>;
  last?: ort.InferenceSession.OnnxValueMapType;
}
const sessions = new Map<number, Entry>();

async function handle(req: ChildRequest): Promise<ChildReply> {
  if (req.type === 'setup') {
    const session = await ort.InferenceSession.create(req.model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(req.feeds)) feeds[name] = new ort.Tensor(f.type, f.data, f.dims);
    sessions.set(req.id, { session, feeds });
    return { ok: true };
  }
  const e = sessions.get(req.id);
  if (!e) throw new Error(`no session ${req.id}`);
  if (req.type === 'run') {
    const t0 = performance.now();
    e.last = await e.session.run(e.feeds);
    return { ok: true, ms: performance.now() - t0 };
  }
  if (req.type === 'output') {
    const data = e.last?.[e.session.outputNames[0]!]?.data;
    if (!(data instanceof Float32Array || data instanceof Int32Array)) throw new Error('output is not float32/int32');
    return { ok: true, output: data };
  }
  await e.session.release();
  sessions.delete(req.id);
  return { ok: true };
}

process.on('message', (req: ChildRequest) => {
  handle(req).then(
    (reply) => process.send!(reply),
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
