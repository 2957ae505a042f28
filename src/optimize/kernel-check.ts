// Does the target backend run what an optimization produced on its own kernels? A backend without
// a kernel for an op runs that node on the reference interpreter (correct, but it throws the speed
// away: int4 weights decoded in a scalar loop are slower than the float model). So after a pass
// the model is run once on the target, and every op that falls back there now but did not before
// the pass is reported: the optimization asked for a kernel the backend lacks.
import { findBackend, type BackendName } from '../backends/backend.js';
import type { Graph } from '../graph/ir.js';
import { optimize } from '../passes/pipeline.js';
import { InferenceSession } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';

export interface MissingKernel {
  /** The node as the backend reports it after its lowering: `Op(name)`. */
  node: string;
  op: string;
  domain: string;
  /** The graph's opset for that domain. */
  opset: number | undefined;
}

/** Labels of the nodes that ran on the reference fallback in one run of `graph` on `backend`. */
async function fallbacks(graph: Graph, backend: BackendName, feeds: Record<string, Tensor>): Promise<string[]> {
  const session = await InferenceSession.create(graph, { backend, threads: 1 });
  try {
    await session.run(feeds);
    return session.fallbackNodes();
  } finally {
    await session.release();
  }
}

/** Op and domain of a fallback label `Op(name)`, looked up in the graph as the backend lowered it. */
function describe(label: string, lowered: Graph): MissingKernel {
  const op = label.slice(0, label.indexOf('('));
  const name = label.slice(op.length + 1, -1);
  const node = lowered.nodes.find((n) => n.op === op && n.name === name) ?? lowered.nodes.find((n) => n.op === op);
  const domain = node?.domain ?? '';
  return { node: label, op, domain, opset: lowered.opsets[domain] };
}

/**
 * The ops of `optimized` that `backend` runs on its reference fallback while it ran every op of that
 * kind in `original` on its own kernels (or `original` had none): one entry per op kind. Throws
 * when the backend is not registered or not available on this host.
 */
export async function missingKernels(
  original: Graph, optimized: Graph, backend: BackendName, feeds: Record<string, Tensor>,
): Promise<MissingKernel[]> {
  const b = findBackend(backend);
  if (!b) throw new Error(`backend '${backend}' is not part of this build of Kiln`);
  if (!(await b.isAvailable())) throw new Error(`backend '${backend}' is not available on this host`);
  const opOf = (label: string) => label.slice(0, label.indexOf('('));
  const before = new Set((await fallbacks(original, backend, feeds)).map(opOf));
  const lowered = (await optimize(optimized, b.loweringPasses?.() ?? [], { record: false })).graph;
  const seen = new Set<string>();
  const missing: MissingKernel[] = [];
  for (const label of await fallbacks(optimized, backend, feeds)) {
    const op = opOf(label);
    if (before.has(op) || seen.has(op)) continue;
    seen.add(op);
    missing.push(describe(label, lowered));
  }
  return missing;
}

/** The error message for missingKernels' result (what was asked, what is missing, what to do). */
export function missingKernelsMessage(what: string, backend: BackendName, missing: readonly MissingKernel[]): string {
  const list = missing.map((m) => `${m.op} (domain ${m.domain || 'ai.onnx'}, opset ${m.opset ?? '?'}) at ${m.node}`).join('; ');
  return `${what}: backend '${backend}' has no kernel for ${list}; it would run on the reference interpreter, slower than the original model. Choose another --quantize mode or backend.`;
}
