// Dispatching the f32 GEMM family (shaders/matmul.ts): pipelines cached per specialisation, one
// uniform buffer per dispatch, workgroup counts checked against the adapter's limits.
import type { GpuContext } from './device.js';
import { GEMM_ACTIVATION, GEMM_PARAMS_BYTES, GEMM_TILE, MATMUL_WGSL, type GemmActivation } from './shaders/matmul.js';

/** One (batched) GEMM: C[b] (M x N, row-major) = act(alpha * op(A[b]) op(B[b]) + beta * bias). */
export interface GemmDesc {
  M: number;
  N: number;
  K: number;
  /** Independent GEMMs; A, B, C advance by their stride per batch (0 broadcasts one matrix). */
  batch: number;
  strideA: number;
  strideB: number;
  strideC: number;
  /** A is stored K x M. */
  transA: boolean;
  /** B is stored N x K. */
  transB: boolean;
  alpha: number;
  beta: number;
  /** bias[i * strideM + j * strideN] is added to C[i][j] (strides of 0 broadcast). */
  bias?: { strideM: number; strideN: number };
  activation: GemmActivation;
}

export interface GemmBuffers {
  a: GPUBuffer;
  b: GPUBuffer;
  bias?: GPUBuffer;
  c: GPUBuffer;
}

/** What selects a GEMM pipeline: the override constants. */
export interface GemmSpec {
  transA: boolean;
  transB: boolean;
  bias: boolean;
  activation: GemmActivation;
}

export const gemmSpec = (d: GemmDesc): GemmSpec => ({ transA: d.transA, transB: d.transB, bias: !!d.bias, activation: d.activation });

const specKey = (s: GemmSpec): string => `gemm:${+s.transA}${+s.transB}${+s.bias}:${s.activation}`;

/** Pipelines of one device, by specialisation. */
export class PipelineCache {
  private module: GPUShaderModule | undefined;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Asynchronous compilations in flight, so two nodes with one specialisation compile it once. */
  private readonly pending = new Map<string, Promise<void>>();
  /**
   * One explicit layout for every specialisation: with layout 'auto', hosts disagree on whether a
   * binding read only under a false override (the bias) is part of the layout.
   */
  private layout: GPUBindGroupLayout | undefined;
  /** Bound in place of an absent bias (HAS_BIAS=false never reads it). */
  private dummy: GPUBuffer | undefined;

  constructor(private readonly ctx: GpuContext) {}

  /** Number of compiled pipelines. */
  get size(): number {
    return this.pipelines.size;
  }

  gemm(d: GemmDesc): GPUComputePipeline {
    const spec = gemmSpec(d);
    const key = specKey(spec);
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.ctx.device.createComputePipeline(this.descriptor(spec));
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Compiles the pipeline for `spec` without blocking (createComputePipelineAsync), so a session
   * can build its pipelines at compile time instead of stalling its first run.
   */
  async prepare(spec: GemmSpec): Promise<void> {
    const key = specKey(spec);
    if (this.pipelines.has(key)) return;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.ctx.device.createComputePipelineAsync(this.descriptor(spec)).then((p) => { this.pipelines.set(key, p); });
      this.pending.set(key, pending);
    }
    try {
      await pending;
    } finally {
      this.pending.delete(key);
    }
  }

  private descriptor(spec: GemmSpec): GPUComputePipelineDescriptor {
    this.module ??= this.ctx.device.createShaderModule({ label: 'kiln matmul', code: MATMUL_WGSL });
    return {
      label: `kiln ${specKey(spec)}`,
      layout: this.ctx.device.createPipelineLayout({ bindGroupLayouts: [this.bindGroupLayout()] }),
      compute: {
        module: this.module,
        entryPoint: 'main',
        constants: {
          TRANS_A: spec.transA ? 1 : 0,
          TRANS_B: spec.transB ? 1 : 0,
          HAS_BIAS: spec.bias ? 1 : 0,
          ACTIVATION: GEMM_ACTIVATION[spec.activation],
        },
      },
    };
  }

  bindGroupLayout(): GPUBindGroupLayout {
    const storage = (type: GPUBufferBindingType): GPUBufferBindingLayout => ({ type });
    this.layout ??= this.ctx.device.createBindGroupLayout({
      label: 'kiln gemm',
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: storage('read-only-storage') },
        { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: storage('read-only-storage') },
        { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: storage('read-only-storage') },
        { binding: 3, visibility: GPUShaderStage.COMPUTE, buffer: storage('storage') },
        { binding: 4, visibility: GPUShaderStage.COMPUTE, buffer: storage('uniform') },
      ],
    });
    return this.layout;
  }

  dummyBuffer(): GPUBuffer {
    this.dummy ??= this.ctx.device.createBuffer({ label: 'kiln no-bias', size: 16, usage: GPUBufferUsage.STORAGE });
    return this.dummy;
  }

  dispose(): void {
    this.dummy?.destroy();
    this.dummy = undefined;
    this.pipelines.clear();
  }
}

/** Why `d` cannot be dispatched on this device, or undefined when it can. */
export function gemmDispatchProblem(ctx: GpuContext, d: GemmDesc): string | undefined {
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const x = Math.ceil(d.N / GEMM_TILE.n);
  const y = Math.ceil(d.M / GEMM_TILE.m);
  if (x > max || y > max || d.batch > max) {
    return `GEMM ${d.M}x${d.N} (batch ${d.batch}) needs ${x}x${y}x${d.batch} workgroups, above maxComputeWorkgroupsPerDimension (${max})`;
  }
  // Indices are u32 in the shader.
  if (Math.max(d.batch * d.M * d.N, d.batch * Math.max(d.strideA, d.strideB, d.M * d.K, d.K * d.N)) >= 2 ** 32) {
    return 'GEMM operands above 2^32 elements';
  }
  return undefined;
}

/**
 * Records the GEMM in `encoder` (with `timestampWrites`, its pass is timed). Returns the uniform buffer it created, which the caller destroys
 * once the encoder has been submitted.
 */
export function encodeGemm(
  ctx: GpuContext, cache: PipelineCache, encoder: GPUCommandEncoder, d: GemmDesc, bufs: GemmBuffers,
  timestampWrites?: GPUComputePassTimestampWrites,
): GPUBuffer {
  const problem = gemmDispatchProblem(ctx, d);
  if (problem) throw new Error(problem);
  if (d.bias && !bufs.bias) throw new Error('encodeGemm: the descriptor has a bias but no bias buffer was given');
  const params = ctx.device.createBuffer({
    size: GEMM_PARAMS_BYTES,
    usage: GPUBufferUsage.UNIFORM,
    mappedAtCreation: true,
  });
  const range = params.getMappedRange();
  new Uint32Array(range, 0, 8).set([
    d.M, d.N, d.K, d.strideA, d.strideB, d.strideC, d.bias?.strideM ?? 0, d.bias?.strideN ?? 0,
  ]);
  new Float32Array(range, 32, 2).set([d.alpha, d.beta]);
  params.unmap();
  const pipeline = cache.gemm(d);
  const bindGroup = ctx.device.createBindGroup({
    layout: cache.bindGroupLayout(),
    entries: [
      { binding: 0, resource: { buffer: bufs.a } },
      { binding: 1, resource: { buffer: bufs.b } },
      { binding: 2, resource: { buffer: bufs.bias ?? cache.dummyBuffer() } },
      { binding: 3, resource: { buffer: bufs.c } },
      { binding: 4, resource: { buffer: params } },
    ],
  });
  const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(d.N / GEMM_TILE.n), Math.ceil(d.M / GEMM_TILE.m), d.batch);
  pass.end();
  return params;
}
