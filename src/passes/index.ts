// The pass layer: the Pass shape, the optimize() pipeline, and the passes themselves.
export * from './pass.js';
export * from './pipeline.js';
export { fuseActivations, fuseActivationsPass } from './fuse-activations.js';
export { fuseDequantMatMul, fuseDequantMatMulPass, type FuseDequantMatMulOptions } from './fuse-dequant-matmul.js';
