// The pass layer: the Pass shape, the optimize() pipeline, and the passes themselves.
export * from './pass.js';
export * from './pipeline.js';
export { fuseActivations, fuseActivationsPass } from './fuse-activations.js';
export { fuseDequantMatMul, fuseDequantMatMulPass, type FuseDequantMatMulOptions } from './fuse-dequant-matmul.js';
export { cleanupPasses, type CleanupOptions } from './cleanup.js';
export { constantFolding, type ConstantFoldingOptions } from './constant-folding.js';
export { deadCodeElimination } from './dead-code.js';
export { commonSubexpressionElimination, type CseOptions } from './cse.js';
export { simplifyShapeOps } from './simplify-shape-ops.js';
export { foldBatchNorm } from './fold-batchnorm.js';
export { matMulAddToGemm } from './matmul-add-to-gemm.js';
export { removeIdentity } from './remove-identity.js';
export { cancelTransposeReshape } from './cancel-transpose-reshape.js';
// Pruning (magnitude, N:M, structured channels), weight clustering and sparse layouts by measurement.
export * from './prune/index.js';
export { clusterWeights, clusterWeightsPass, clusteredWeights, MAX_CLUSTER_K_PASS, MIN_CLUSTER_K, type ClusterOptions, type ClusteredWeightInfo } from './cluster/cluster-weights.js';
export { sparsify, sparsifyPass, WEIGHT_LAYOUTS, type SparseCostTable, type SparsifiedLayer, type SparsifyOptions, type SparsifyPassOptions, type SparsifyResult, type WeightLayout } from './sparsify.js';
