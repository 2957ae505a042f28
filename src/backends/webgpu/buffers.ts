// Moving f32 data between the host and GPU storage buffers. Readback copies into MAP_READ staging
// buffers inside the caller's encoder, so a run can submit its last dispatches and its output copies
// together and wait once.
import type { GpuContext } from './device.js';

/** WebGPU bindings and copies work in multiples of 4 bytes; empty tensors still need a binding. */
const bindableSize = (bytes: number): number => Math.max(16, Math.ceil(bytes / 4) * 4);

/** Checks that a storage buffer of `bytes` fits the device; `what` names it in the error. */
export function checkStorageSize(ctx: GpuContext, bytes: number, what: string): string | undefined {
  const { maxStorageBufferBindingSize, maxBufferSize } = ctx.limits;
  if (bytes > maxBufferSize) return `${what} needs ${bytes} bytes, above this adapter's maxBufferSize (${maxBufferSize})`;
  if (bytes > maxStorageBufferBindingSize) {
    return `${what} needs ${bytes} bytes, above this adapter's maxStorageBufferBindingSize (${maxStorageBufferBindingSize})`;
  }
  return undefined;
}

/** A storage buffer holding a copy of `data`. */
export function uploadF32(ctx: GpuContext, data: Float32Array, label?: string): GPUBuffer {
  const buffer = ctx.device.createBuffer({
    ...(label ? { label } : {}),
    size: bindableSize(data.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Float32Array(buffer.getMappedRange(0, data.byteLength)).set(data);
  buffer.unmap();
  return buffer;
}

/** An uninitialised storage buffer for `elements` f32 values. */
export function createStorageF32(ctx: GpuContext, elements: number, label?: string): GPUBuffer {
  return ctx.device.createBuffer({
    ...(label ? { label } : {}),
    size: bindableSize(elements * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
}

/** A pending readback: the staging buffer is filled when the encoder that copied into it has run. */
export interface Readback {
  staging: GPUBuffer;
  elements: number;
}

/** Records a copy of the first `elements` f32 values of `src` into a new staging buffer. */
export function encodeReadback(ctx: GpuContext, encoder: GPUCommandEncoder, src: GPUBuffer, elements: number): Readback {
  const size = bindableSize(elements * 4);
  const staging = ctx.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  encoder.copyBufferToBuffer(src, 0, staging, 0, size);
  return { staging, elements };
}

/** Waits for readbacks recorded in an already submitted encoder; destroys their staging buffers. */
export async function finishReadbacks(readbacks: readonly Readback[]): Promise<Float32Array[]> {
  try {
    await Promise.all(readbacks.map((r) => r.staging.mapAsync(GPUMapMode.READ)));
    return readbacks.map((r) => new Float32Array(r.staging.getMappedRange(0, r.elements * 4).slice(0)));
  } finally {
    for (const r of readbacks) r.staging.destroy();
  }
}

/** Pooled sizes are rounded up to this many bytes, so nearby shapes share buffers. */
const POOL_GRANULE = 256;

/**
 * Storage buffers kept for reuse, by size. A buffer may be returned as soon as the last command
 * that reads it has been *recorded*: passes run in order, so a later pass that overwrites it runs
 * after every earlier reader. Until that recording is submitted, though, it must not take a
 * queue.writeBuffer (which lands before the submission's commands run), so such buffers wait in
 * `recorded` and serve only GPU-written uses until submitted() moves them to `free`. Free buffers
 * beyond `maxFreeBytes` are destroyed.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly recorded = new Map<number, GPUBuffer[]>();
  private freeBytes = 0;

  constructor(private readonly ctx: GpuContext, private readonly maxFreeBytes = 256 * 2 ** 20) {}

  /** A storage buffer of at least `bytes` bytes for a pass to write; contents unspecified. */
  acquire(bytes: number, label?: string): GPUBuffer {
    const size = Math.ceil(bindableSize(bytes) / POOL_GRANULE) * POOL_GRANULE;
    return this.take(this.recorded, size) ?? this.take(this.free, size) ?? this.create(size, label);
  }

  /** A storage buffer holding a copy of `data` (written on the queue, before the next submit). */
  upload(data: Float32Array, label?: string): GPUBuffer {
    const size = Math.ceil(bindableSize(data.byteLength) / POOL_GRANULE) * POOL_GRANULE;
    const buffer = this.take(this.free, size) ?? this.create(size, label);
    if (data.byteLength) this.ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** Returns a buffer whose readers are recorded in a command encoder not yet submitted. */
  releaseRecorded(buffer: GPUBuffer): void {
    this.put(this.recorded, buffer);
  }

  /** Returns a buffer no pending command uses. */
  release(buffer: GPUBuffer): void {
    this.put(this.free, buffer);
  }

  /** The recordings holding `recorded` buffers have been submitted: they may take writes now. */
  submitted(): void {
    for (const [size, list] of this.recorded) {
      let dst = this.free.get(size);
      if (!dst) this.free.set(size, (dst = []));
      dst.push(...list);
    }
    this.recorded.clear();
  }

  /** Bytes held by buffers waiting for reuse. */
  get heldBytes(): number {
    return this.freeBytes;
  }

  dispose(): void {
    for (const m of [this.free, this.recorded]) {
      for (const list of m.values()) for (const b of list) b.destroy();
      m.clear();
    }
    this.freeBytes = 0;
  }

  private create(size: number, label?: string): GPUBuffer {
    return this.ctx.device.createBuffer({
      ...(label ? { label } : {}),
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  private take(m: Map<number, GPUBuffer[]>, size: number): GPUBuffer | undefined {
    const b = m.get(size)?.pop();
    if (b) this.freeBytes -= size;
    return b;
  }

  private put(m: Map<number, GPUBuffer[]>, buffer: GPUBuffer): void {
    if (this.freeBytes + buffer.size > this.maxFreeBytes) {
      buffer.destroy();
      return;
    }
    let list = m.get(buffer.size);
    if (!list) m.set(buffer.size, (list = []));
    list.push(buffer);
    this.freeBytes += buffer.size;
  }
}
