// The default clean-up pipeline (`kiln optimize` applies it before any quantization). Order:
// fold constants first (so shape computations become constants), simplify shape ops and layout
// pairs, fold BatchNormalization and MatMul + Add into their producers, merge duplicates, then
// remove the Identity nodes the rewrites left and the dead nodes and initializers.
// Every pass is exact except foldBatchNorm and matMulAddToGemm (float32 rounding of the folded
// weights / of the bias addition order): the whole pipeline stays within ~1e-5 relative.
import { cancelTransposeReshape } from './cancel-transpose-reshape.js';
import { constantFolding, type ConstantFoldingOptions } from './constant-folding.js';
import { commonSubexpressionElimination } from './cse.js';
import { deadCodeElimination } from './dead-code.js';
import { foldBatchNorm } from './fold-batchnorm.js';
import { matMulAddToGemm } from './matmul-add-to-gemm.js';
import type { Pass } from './pass.js';
import { removeIdentity } from './remove-identity.js';
import { simplifyShapeOps } from './simplify-shape-ops.js';

export interface CleanupOptions {
  constantFolding?: ConstantFoldingOptions;
  /** Leave MatMul + Add alone (e.g. for a backend whose fused MatMul is faster than Gemm). */
  skipGemm?: boolean;
}

export function cleanupPasses(options: CleanupOptions = {}): Pass[] {
  return [
    constantFolding(options.constantFolding),
    simplifyShapeOps(),
    cancelTransposeReshape(),
    foldBatchNorm(),
    ...(options.skipGemm ? [] : [matMulAddToGemm()]),
    commonSubexpressionElimination(),
    removeIdentity(),
    constantFolding(options.constantFolding),
    deadCodeElimination(),
  ];
}
