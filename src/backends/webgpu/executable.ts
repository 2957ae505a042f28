// Runs a graph with its GEMMs on the GPU and every other node on its reference kernel.
//
// Values live on the host (Tensor, sequences, optionals), on the GPU (an f32 storage buffer), or
// both once read back. GPU nodes are recorded into one command encoder; the encoder is submitted
// only when a host node needs a GPU value (its inputs are copied out then) and at the end, where
// the copies of the fetched GPU values ride in the same submission. A graph whose nodes all run
// on the GPU therefore costs one encoder, one submit and one wait per run, and reads back only its
// outputs. Weights are uploaded once per executable; everything else is per run (a buffer pool
// and liveness-planned reuse come later).
import { topoSort } from '../../graph/topo.js';
import { nodeLabel, nodeReads, subgraphsOf, type Graph, type Node } from '../../graph/ir.js';
import { evalNodeValues } from '../../ops/invoke.js';
import { Tensor } from '../../tensor/tensor.js';
import { valueKind, type Value } from '../../tensor/value.js';
import type { Executable } from '../backend.js';
import { subgraphRunner } from '../reference/index.js';
import { checkStorageSize, createStorageF32, encodeReadback, finishReadbacks, uploadF32, type Readback } from './buffers.js';
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

/** The state of one run: its slots, its open encoder, and the buffers to free at its end. */
class RunState {
  readonly slots = new Map<string, Slot>();
  encoder: GPUCommandEncoder | undefined;
  readonly transient: GPUBuffer[] = [];

  constructor(private readonly ctx: GpuContext) {}

  openEncoder(): GPUCommandEncoder {
    this.encoder ??= this.ctx.device.createCommandEncoder({ label: 'kiln run' });
    return this.encoder;
  }

  submit(): void {
    if (!this.encoder) return;
    this.ctx.device.queue.submit([this.encoder.finish()]);
    this.encoder = undefined;
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

  dispose(): void {
    for (const b of this.transient) b.destroy();
  }
}

export class WebGpuExecutable implements Executable {
  private readonly order: Node[];
  private readonly releases: string[][];
  private readonly pipelines: PipelineCache;
  /** Initializers uploaded for GPU nodes, by name (kept for the executable's life). */
  private readonly weights = new Map<string, GPUBuffer>();
  private lastFallbacks: string[] = [];
  private lastReasons = new Map<string, string>();
  private lastGpuNodes: string[] = [];

  constructor(private readonly ctx: GpuContext, private readonly graph: Graph) {
    this.order = topoSort(graph);
    const lastUse = new Map<string, number>();
    this.order.forEach((n, i) => { for (const v of nodeReads(n)) lastUse.set(v, i); });
    this.releases = this.order.map(() => []);
    for (const [v, i] of lastUse) this.releases[i]!.push(v);
    this.pipelines = new PipelineCache(ctx);
  }

  /**
   * Compiles, without blocking, the pipelines the graph's GEMM nodes will use, so the first run
   * does not stall on shader compilation. The backend's compile() awaits it.
   */
  async prepare(): Promise<void> {
    const specs = this.order.map(predictGemmSpec).filter((s) => s !== undefined);
    await Promise.all(specs.map((s) => this.pipelines.prepare(s)));
  }

  /** Pipelines compiled so far (prepare() and runs). */
  pipelineCount(): number {
    return this.pipelines.size;
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
    const state = new RunState(this.ctx);
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
        if (!keep.has(v) && !this.graph.initializers.has(v)) slots.delete(v);
      }
    }
    const missing = fetches.find((f) => !slots.has(f));
    if (missing !== undefined) throw new Error(`output '${missing}' was not computed`);
    // The output copies go into the encoder that holds the last dispatches: one submit, one wait.
    await state.toHost(fetches);
    this.lastFallbacks = [...fallbacks];
    this.lastReasons = reasons;
    this.lastGpuNodes = gpuNodes;
    return new Map(fetches.map((f) => [f, slots.get(f)!.host!]));
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
    const c = createStorageF32(this.ctx, size(low.outDims), node.outputs[0]);
    state.transient.push(c);
    const bufs = { a: input(0), b: input(1), c, ...(low.biasInput !== undefined ? { bias: input(low.biasInput) } : {}) };
    state.transient.push(encodeGemm(this.ctx, this.pipelines, state.openEncoder(), low.desc, bufs));
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
      buffer = uploadF32(this.ctx, t.data, name);
      if (isWeight) this.weights.set(name, buffer);
      else state.transient.push(buffer);
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
    const outs = evalNodeValues(node, inputs, subgraphsOf(node).length ? subgraphRunner(lookup) : undefined);
    node.outputs.forEach((o, i) => { if (o && outs[i]) state.slots.set(o, { host: outs[i]! }); });
  }

  dispose(): void {
    for (const b of this.weights.values()) b.destroy();
    this.weights.clear();
    this.pipelines.dispose();
  }
}
