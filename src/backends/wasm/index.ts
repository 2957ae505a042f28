// The WASM SIMD backend: AssemblyScript kernels in one linear memory per session.
import { registerBackend, type Backend } from '../backend.js';
import { bestVariant } from './loader.js';
import { WasmExecutable } from './executable.js';
import { defaultThreadCount } from './threads/pool.js';
import './ops/index.js';

export const wasmBackend: Backend = {
  name: 'wasm',
  isAvailable: async () => bestVariant() !== undefined,
  compile: async (graph, _inferred, options) => {
    const variant = bestVariant();
    if (!variant) throw new Error('this host has no WebAssembly SIMD support');
    return new WasmExecutable(graph, variant, options?.threads ?? (await defaultThreadCount()));
  },
};

registerBackend(wasmBackend);
