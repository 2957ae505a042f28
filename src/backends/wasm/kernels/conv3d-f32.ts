// Typed wrapper over assembly/conv3d_f32.ts: the reference's resolved Conv geometry (three
// spatial axes) -> the kernel's descriptor, weight packing, scratch sizing.
import type { ConvProblem } from '../../../ops/conv.js';
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';

/** i32 words of the descriptor (assembly/conv3d_f32.ts C_* order). */
export const CONV3D_F32_DESC_WORDS = 22;
export const CONV3D_F32_DESC_BYTES = CONV3D_F32_DESC_WORDS * 4;

export interface Conv3dF32Exports {
  conv3dF32(desc: number, x: number, wPacked: number, y: number, epi: number, scratch: number, co0: number, co1: number, p0: number, p1: number): void;
  conv3dF32PackedWeightBytes(desc: number): number;
  conv3dF32PackWeights(desc: number, w: number, dst: number): void;
  conv3dF32ScratchBytes(desc: number): number;
}

export function conv3dF32Exports(ex: KilnWasmExports): Conv3dF32Exports {
  return familyExports<Conv3dF32Exports>(ex, 'conv3dF32', ['conv3dF32', 'conv3dF32PackedWeightBytes', 'conv3dF32PackWeights', 'conv3dF32ScratchBytes']);
}

export function conv3dF32Desc(p: ConvProblem): Int32Array {
  const g = p.geo;
  return Int32Array.from([p.batch, p.inChannels, p.outChannels, p.group, ...g.inSize, ...g.outSize, ...g.kernel, ...g.strides, ...g.dilations, ...g.padBegin]);
}
