// Reads the activation that the activation-fusion pass attached to an ai.kiln Fused*/Dequant* node.
// Kept apart from the factory files: importing a factory file registers its kernels, and the
// registration order decides which factory is tried first.
import type { WasmPlanContext } from '../kernel.js';
import type { ActivationF32 } from '../kernels/gemm-f32.js';

/** The node's fused activation ({ kind: 'none' } when there is none); undefined for one the kernels lack. */
export function fusedActivation(ctx: WasmPlanContext): ActivationF32 | undefined {
  if (!ctx.attrs.has('activation')) return { kind: 'none' };
  const params = ctx.attrs.has('activation_params') ? ctx.attrs.floats('activation_params') : [];
  switch (ctx.attrs.string('activation')) {
    case 'Relu': return { kind: 'relu' };
    case 'Clip': return { kind: 'clip', min: params[0] ?? -Infinity, max: params[1] ?? Infinity };
    case 'LeakyRelu': return { kind: 'leakyRelu', alpha: params[0] ?? 0.01 };
    case 'Sigmoid': return { kind: 'sigmoid' };
    case 'Gelu': return { kind: 'gelu', approximate: params[0] === 1 ? 'tanh' : 'none' };
    default: return undefined;
  }
}
