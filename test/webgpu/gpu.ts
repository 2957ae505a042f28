// The device the WebGPU tests share, or why there is none. Without an adapter the tests skip and
// say why, unless KILN_REQUIRE_WEBGPU is set (CI): then a missing adapter fails the file.
import { acquireDevice, type GpuContext } from '../../src/backends/webgpu/device.js';

export const requireWebGpu = Boolean(process.env.KILN_REQUIRE_WEBGPU);

export interface TestGpu {
  ctx: GpuContext | undefined;
  reason: string;
}

let shared: Promise<TestGpu> | undefined;

/** A fresh device per test file (acquireDevice on the host's WebGPU: Dawn in Node). */
export function testGpu(file: string): Promise<TestGpu> {
  shared ??= acquireDevice().then(
    (ctx) => ({ ctx, reason: '' }),
    (err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      if (requireWebGpu) throw new Error(`KILN_REQUIRE_WEBGPU is set but ${reason}`);
      console.log(`${file}: WebGPU tests skipped: ${reason}`);
      return { ctx: undefined, reason };
    },
  );
  return shared;
}

/** Deterministic values in [-1, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

export function randomF32(n: number, next: () => number): Float32Array {
  return Float32Array.from({ length: n }, next);
}
