// Runs a graph with its GEMMs on the GPU and every other node on its reference kernel.
//
// Values live on the host (Tensor, sequences, optionals), on the GPU (an f32 storage buffer), or
// both once read back. GPU nodes are recorded into one command encoder; the encoder is submitted
// only when a host node needs a GPU value (its inputs are copied out then) and at the end, where
// the copies of the fetched GPU values ride in the same submission. A graph whose nodes all run
// on the GPU therefore costs one encoder, one submit and one wait per run, and reads back only its
// outputs. Weights are uploaded once per executable. Activations and uploaded feeds come from a
// buffer pool and go back to it after the last node that reads them has been recorded, so a run
// reuses buffers within itself and across runs. With profiling on, GPU nodes are timed by timestamp
// queries written at the start and end of their compute pass (resolved in the run's last
// submission), host nodes by the clock around their kernel.
import { topoSort } from '../../graph/topo.js';
import { nodeLabel, nodeReads, subgraphsOf, type Graph, type Node } from '../../graph/ir.js';
import { evalNodeValues } from '../../ops/invoke.js';
import { Tensor } from '../../tensor/tensor.js';
import { valueKind, type Value } from '../../tensor/value.js';
import type { Executable, ProfileRow } from '../backend.js';
import { subgraphRunner } from '../reference/index.js';
import { BufferPool, checkStorageSize, encodeReadback, finishReadbacks, uploadF32, type Readback } from './buffers.js';
import type { GpuContext } from './device.js';
import { encodeGemm, gemmDispatchProblem, PipelineCache } from './gemm.js';
import { isGemmNode, lowerGemmNode, predictGemmSpec, type GemmLowering } from './lower-gemm.js';

interface GpuValue {
  buffer: GPUBuffer;
  dims: readonly number[];
}

/** Where a value lives; both fields are set once a GPU value has been read back. */
interface Slot {
  host?: Value;
  gpu?: GpuValue;
}

const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** How fallbackNodes() names a node (as the WASM backend does). */
const fallbackLabel = (node: Node): string => `${node.op}(${node.name})`;

/** WebGPU caps a query set at 4096 queries: two per timed pass. */
const MAX_TIMED_PASSES = 2048;

/** The state of one run: its slots, its open encoder, and the buffers to free at its end. */
class RunState {
  readonly slots = new Map<string, Slot>();
  encoder: GPUCommandEncoder | undefined;
  readonly transient: GPUBuffer[] = [];
  /** Pool buffers this run holds (returned at their value's last use, or at the end of the run). */
  readonly pooled = new Set<GPUBuffer>();
  /** Profiling: the run's timestamp queries and the op each pair of them times. */
  querySet: GPUQuerySet | undefined;
  readonly timedOps: string[] = [];

  /** `onSubmit` runs after each submission (the pool learns which buffers may take writes). */
  constructor(private readonly ctx: GpuContext, private readonly onSubmit: () => void) {}

  openEncoder(): GPUCommandEncoder {
    this.encoder ??= this.ctx.device.createCommandEncoder({ label: 'kiln run' });
    return this.encoder;
  }

  submit(): void {
    if (!this.encoder) return;
    this.ctx.device.queue.submit([this.encoder.finish()]);
    this.encoder = undefined;
    this.onSubmit();
  }

  /** Copies the named GPU-only values to the host (one submission, one wait). */
  async toHost(names: Iterable<string>): Promise<void> {
    const pending: { slot: Slot; gpu: GpuValue; rb: Readback }[] = [];
    for (const name of new Set(names)) {
      const slot = this.slots.get(name);
      if (!slot?.gpu || slot.host) continue;
      pending.push({ slot, gpu: slot.gpu, rb: encodeReadback(this.ctx, this.openEncoder(), slot.gpu.buffer, size(slot.gpu.dims)) });
    }
    this.submit();
    if (!pending.length) return;
    const data = await finishReadbacks(pending.map((p) => p.rb));
    pending.forEach((p, i) => { p.slot.host = new Tensor('float32', data[i]!, p.gpu.dims); });
  }

  /** Timestamp writes for the next GPU pass, while the query set has room. */
  nextTimestampWrites(op: string): GPUComputePassTimestampWrites | undefined {
    if (!this.querySet || this.timedOps.length >= MAX_TIMED_PASSES) return undefined;
    const i = this.timedOps.push(op) - 1;
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  dispose(): void {
    for (const b of this.transient) b.destroy();
    this.querySet?.destroy();
  }
}

export class WebGpuExecutable implements Executable {
  private readonly order: Node[];
  private readonly releases: string[][];
  private readonly pipelines: PipelineCache;
  /** Initializers uploaded for GPU nodes, by name (kept for the executable's life). */
  private readonly weights = new Map<string, GPUBuffer>();
  private readonly pool: BufferPool;
  private lastFallbacks: string[] = [];
  private lastReasons = new Map<string, string>();
  private lastGpuNodes: string[] = [];
  private profiling = false;
  private readonly profile = new Map<string, { ms: number; calls: number }>();

  constructor(private readonly ctx: GpuContext, private readonly graph: Graph) {
    this.order = topoSort(graph);
    const lastUse = new Map<string, number>();
    this.order.forEach((n, i) => { for (const v of nodeReads(n)) lastUse.set(v, i); });
    this.releases = this.order.map(() => []);
    for (const [v, i] of lastUse) this.releases[i]!.push(v);
    this.pipelines = new PipelineCache(ctx);
    this.pool = new BufferPool(ctx);
  }

  /**
   * Compiles, without blocking, the pipelines the graph's GEMM nodes will use, so the first run
   * does not stall on shader compilation. The backend's compile() awaits it.
   */
  async prepare(): Promise<void> {
    const specs = this.order.map(predictGemmSpec).filter((s) => s !== undefined);
    await Promise.all(specs.map((s) => this.pipelines.prepare(s)));
  }

  /** Bytes of free buffers the executable keeps for its next runs. */
  pooledBytes(): number {
    return this.pool.heldBytes;
  }

  /** Pipelines compiled so far (prepare() and runs). */
  pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Per-op timing: GPU passes by timestamp-query where the device has it (otherwise GPU ops are
   * not reported), host nodes by the clock.
   */
  enableProfiling(on: boolean): void {
    this.profiling = on;
    if (on) this.profile.clear();
  }

  profileReport(): ProfileRow[] {
    return [...this.profile].map(([op, r]) => ({ op, ms: r.ms, calls: r.calls })).sort((a, b) => b.ms - a.ms);
  }

  private record(op: string, ms: number): void {
    const row = this.profile.get(op) ?? { ms: 0, calls: 0 };
    row.ms += ms;
    row.calls++;
    this.profile.set(op, row);
  }

  /** Nodes the last run executed on the reference kernel. */
  fallbackNodes(): string[] {
    return this.lastFallbacks;
  }

  /** Why each fallback node of the last run did not run on the GPU (GEMM nodes only). */
  fallbackReasons(): ReadonlyMap<string, string> {
    return this.lastReasons;
  }

  /** Nodes the last run executed on the GPU. */
  gpuNodes(): string[] {
    return this.lastGpuNodes;
  }

  async run(feeds: ReadonlyMap<string, Value>, fetches: readonly string[]): Promise<Map<string, Value>> {
    this.ctx.checkAlive();
    const device = this.ctx.device;
    const state = new RunState(this.ctx, () => this.pool.submitted());
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let result: Map<string, Value> | undefined;
    let failure: unknown;
    try {
      result = await this.execute(state, feeds, fetches);
    } catch (err) {
      failure = err;
    }
    // Pop both scopes whatever happened, so a failed run leaves the device's scope stack balanced.
    const gpuErrors = (await Promise.all([device.popErrorScope(), device.popErrorScope()]).catch(() => [])).filter((e) => e);
    // After a clean run everything it held has been read back: its buffers can serve the next run.
    // After a failure, commands that use them may never have run: drop them.
    for (const b of state.pooled) {
      if (failure === undefined && !gpuErrors.length) this.pool.release(b);
      else b.destroy();
    }
    // Released mid-run into `recorded`: every recording has been submitted (or abandoned) by now.
    this.pool.submitted();
    state.dispose();
    if (failure !== undefined) throw await this.ctx.explain(failure);
    this.ctx.checkAlive();
    if (gpuErrors.length) throw new Error(`WebGPU error during the run: ${gpuErrors.map((e) => e!.message).join('; ')}`);
    return result!;
  }

  private async execute(state: RunState, feeds: ReadonlyMap<string, Value>, fetches: readonly string[]): Promise<Map<string, Value>> {
    const { slots } = state;
    for (const [k, v] of this.graph.initializers) slots.set(k, { host: v });
    for (const [k, v] of feeds) slots.set(k, { host: v });
    const fallbacks = new Set<string>();
    const reasons = new Map<string, string>();
    const gpuNodes: string[] = [];
    const keep = new Set(fetches);
    if (this.profiling && this.ctx.features.timestampQuery) {
      const passes = Math.min(this.order.length, MAX_TIMED_PASSES);
      if (passes) state.querySet = this.ctx.device.createQuerySet({ type: 'timestamp', count: 2 * passes });
    }
    for (let step = 0; step < this.order.length; step++) {
      const node = this.order[step]!;
      const lowering = isGemmNode(node) ? this.lowerForRun(node, slots) : undefined;
      if (lowering && 'desc' in lowering) {
        this.encodeGemmNode(state, node, lowering);
        gpuNodes.push(fallbackLabel(node));
      } else {
        if (lowering) reasons.set(fallbackLabel(node), lowering.reason);
        await this.runOnHost(state, node);
        fallbacks.add(fallbackLabel(node));
      }
      for (const v of this.releases[step]!) {
        if (keep.has(v) || this.graph.initializers.has(v)) continue;
        const buffer = slots.get(v)?.gpu?.buffer;
        if (buffer && state.pooled.delete(buffer)) {
          if (state.encoder) this.pool.releaseRecorded(buffer);
          else this.pool.release(buffer);
        }
        slots.delete(v);
      }
    }
    const missing = fetches.find((f) => !slots.has(f));
    if (missing !== undefined) throw new Error(`output '${missing}' was not computed`);
    const stamps = state.timedOps.length ? this.encodeTimestampReadback(state) : undefined;
    // The output copies go into the encoder that holds the last dispatches: one submit, one wait.
    await state.toHost(fetches);
    if (stamps) {
      const [words] = await finishReadbacks([stamps]);
      const ns = new BigUint64Array(words!.buffer, 0, 2 * state.timedOps.length);
      state.timedOps.forEach((op, i) => this.record(op, ns[2 * i + 1]! > ns[2 * i]! ? Number(ns[2 * i + 1]! - ns[2 * i]!) / 1e6 : 0));
    }
    this.lastFallbacks = [...fallbacks];
    this.lastReasons = reasons;
    this.lastGpuNodes = gpuNodes;
    return new Map(fetches.map((f) => [f, slots.get(f)!.host!]));
  }

  /** Resolves the run's timestamps into a staging buffer, in the encoder of its last submission. */
  private encodeTimestampReadback(state: RunState): Readback {
    const count = 2 * state.timedOps.length;
    const resolved = this.ctx.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    state.transient.push(resolved);
    const encoder = state.openEncoder();
    encoder.resolveQuerySet(state.querySet!, 0, count, resolved, 0);
    // Each u64 timestamp is read back as two f32-sized words.
    return encodeReadback(this.ctx, encoder, resolved, 2 * count);
  }

  /** The GEMM for `node` at this run's shapes, or why it stays on the host. */
  private lowerForRun(node: Node, slots: Map<string, Slot>): GemmLowering | { reason: string } {
    const descs = node.inputs.map((name) => {
      if (!name) return undefined;
      const s = slots.get(name);
      if (s?.gpu) return { dtype: 'float32', dims: s.gpu.dims };
      if (s?.host && valueKind(s.host) === 'tensor') {
        const t = s.host as Tensor;
        return { dtype: t.type, dims: t.dims };
      }
      return { dtype: 'non-tensor', dims: [] };
    });
    const low = lowerGemmNode(node, descs);
    if (!('desc' in low)) return low;
    const problem = gemmDispatchProblem(this.ctx, low.desc)
      ?? checkStorageSize(this.ctx, size(low.outDims) * 4, `${nodeLabel(node)} output`)
      ?? descs.map((d, i) => (d ? checkStorageSize(this.ctx, size(d.dims) * 4, `${nodeLabel(node)} input ${i}`) : undefined)).find((p) => p);
    return problem ? { reason: problem } : low;
  }

  private encodeGemmNode(state: RunState, node: Node, low: GemmLowering): void {
    const input = (i: number): GPUBuffer => this.gpuInput(state, node.inputs[i]!);
    const c = this.pool.acquire(size(low.outDims) * 4, node.outputs[0]);
    state.pooled.add(c);
    const bufs = { a: input(0), b: input(1), c, ...(low.biasInput !== undefined ? { bias: input(low.biasInput) } : {}) };
    state.transient.push(encodeGemm(this.ctx, this.pipelines, state.openEncoder(), low.desc, bufs, state.nextTimestampWrites(node.op)));
    state.slots.set(node.outputs[0]!, { gpu: { buffer: c, dims: low.outDims } });
  }

  /** The GPU buffer of a value, uploading host data (weights once, other values per run). */
  private gpuInput(state: RunState, name: string): GPUBuffer {
    const slot = state.slots.get(name)!;
    if (slot.gpu) return slot.gpu.buffer;
    const t = slot.host as Tensor<'float32'>;
    const isWeight = this.graph.initializers.get(name) === t;
    let buffer = isWeight ? this.weights.get(name) : undefined;
    if (!buffer) {
      if (isWeight) {
        buffer = uploadF32(this.ctx, t.data, name);
        this.weights.set(name, buffer);
      } else {
        buffer = this.pool.upload(t.data, name);
        state.pooled.add(buffer);
      }
    }
    slot.gpu = { buffer, dims: t.dims };
    return buffer;
  }

  /** Runs `node` on its reference kernel, reading back the GPU values it needs first. */
  private async runOnHost(state: RunState, node: Node): Promise<void> {
    // A node with subgraphs may read any enclosing value by name: bring every GPU value over.
    const needs = subgraphsOf(node).length ? [...state.slots.keys()] : node.inputs.filter((n) => n);
    await state.toHost(needs);
    const lookup = (name: string): Value | undefined => state.slots.get(name)?.host;
    const inputs = node.inputs.map((name) => {
      if (!name) return undefined;
      const v = lookup(name);
      if (!v) throw new Error(`${nodeLabel(node)}: input '${name}' has no value`);
      return v;
    });
    const t0 = this.profiling ? performance.now() : 0;
    const outs = evalNodeValues(node, inputs, subgraphsOf(node).length ? subgraphRunner(lookup) : undefined);
    if (this.profiling) this.record(node.op, performance.now() - t0);
    node.outputs.forEach((o, i) => { if (o && outs[i]) state.slots.set(o, { host: outs[i]! }); });
  }

  dispose(): void {
    for (const b of this.weights.values()) b.destroy();
    this.weights.clear();
    this.pool.dispose();
    this.pipelines.dispose();
  }
}
