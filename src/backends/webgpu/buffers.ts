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
