// The WASM SIMD backend: AssemblyScript kernels in one linear memory per session.
import { fuseActivationsPass } from '../../passes/fuse-activations.js';
import { fuseDequantMatMulPass } from '../../passes/fuse-dequant-matmul.js';
import { fp16ToF32Pass } from '../../passes/fp16-to-f32.js';
import { lowerQdqPass } from '../../passes/quantize/lower-qdq.js';
import { registerBackend, type Backend } from '../backend.js';
import { bestVariant } from './loader.js';
import { WasmExecutable } from './executable.js';
import { defaultThreadCount } from './threads/pool.js';
import './ops/index.js';
// After ops/index.js: float16 <-> float32 casts at the boundaries that fp16ToF32 leaves.
import './ops/cast-float16.js';
import './ops/instance-norm.js';

export const wasmBackend: Backend = {
  name: 'wasm',
  isAvailable: async () => bestVariant() !== undefined,
  // float16 models computed in float32 first (the kernels are float32; fp16-to-f32.ts documents
  // the numerics), then QDQ patterns to int8 kernels (MaxPool included: ops/pool.ts has int8 and
  // uint8 max kernels, so no DequantizeLinear / QuantizeLinear pair is left around it), then
  // activation epilogues, then weight-dequantizing matmuls (int4 blocks, sparse int8), which keep
  // the fused activation.
  loweringPasses: (options) => [
    fp16ToF32Pass(), lowerQdqPass(), fuseActivationsPass(),
    fuseDequantMatMulPass(options?.int8Activations ? { int8Activations: true } : {}),
  ],
  compile: async (graph, _inferred, options) => {
    const variant = bestVariant();
    if (!variant) throw new Error('this host has no WebAssembly SIMD support');
    return new WasmExecutable(graph, variant, options?.threads ?? (await defaultThreadCount()));
  },
};

registerBackend(wasmBackend);
