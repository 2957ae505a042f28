// The WebGPU backend, first stage: float32 MatMul / Gemm (with a fused bias and Relu) run as GPU
// GEMMs; every other node runs on its reference kernel and is reported by fallbackNodes().
// Importing this module registers the backend; src/index.ts does not import it yet, so 'auto'
// keeps choosing WASM until the backend covers the models.
import { fuseActivationsPass } from '../../passes/fuse-activations.js';
import { registerBackend, type Backend } from '../backend.js';
import { acquireDevice, type GpuContext, type GpuSource } from './device.js';
import { WebGpuExecutable } from './executable.js';

export { acquireDevice, GpuContext, WebGpuDeviceLostError, WebGpuUnavailableError, type GpuSource } from './device.js';
export { WebGpuExecutable } from './executable.js';

let source: GpuSource | undefined;
let shared: Promise<GpuContext> | undefined;

/**
 * Makes the backend use `s` (navigator.gpu, an adapter or a device) for sessions created from now
 * on; without it, the host's WebGPU is used.
 */
export function useWebGpuDevice(s: GpuSource | undefined): void {
  source = s;
  shared = undefined;
}

/** The backend's device, acquired on first use and again after a loss. */
export async function webGpuContext(): Promise<GpuContext> {
  let ctx = shared ? await shared.catch(() => undefined) : undefined;
  if (!ctx || ctx.lost) {
    // A handed-in device that was lost cannot be replaced from here: fall back to the host's WebGPU.
    if (ctx?.lost && source && typeof (source as GPUDevice).createBuffer === 'function') source = undefined;
    shared = acquireDevice(source);
    ctx = await shared;
  }
  return ctx;
}

export const webgpuBackend: Backend = {
  name: 'webgpu',
  isAvailable: async () => webGpuContext().then(() => true, () => false),
  // Fusion first: MatMul + bias Add and Gemm/MatMul + Relu become one GEMM with an epilogue.
  loweringPasses: () => [fuseActivationsPass()],
  compile: async (graph) => {
    const exec = new WebGpuExecutable(await webGpuContext(), graph);
    await exec.prepare();
    return exec;
  },
};

registerBackend(webgpuBackend);
