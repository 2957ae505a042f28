// Plan-time readers shared by the quantized elementwise factories (quant-simd.ts, quant-elementwise.ts).
import { toNumbers } from '../../../tensor/convert.js';
import type { PlannedType, WasmPlanContext } from '../kernel.js';

export const isQ8 = (t: PlannedType | undefined): boolean => t?.dtype === 'uint8' || t?.dtype === 'int8';

/** A per-tensor constant parameter (absent optional inputs read as `dflt`). */
export function scalar(ctx: WasmPlanContext, i: number, dflt?: number): number | undefined {
  if (!ctx.node.inputs[i]) return dflt;
  const t = ctx.constant(i);
  return t && t.size === 1 ? toNumbers(t)[0] : undefined;
}
