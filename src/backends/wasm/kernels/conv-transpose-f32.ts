// Typed wrapper over assembly/conv_transpose_f32.ts: the reference's resolved ConvTranspose geometry
// (src/ops/conv.ts, lifted to three spatial axes) -> the kernel's descriptor, weight packing,
// scratch sizing and the call.
import type { ConvProblem } from '../../../ops/conv.js';
import type { KilnWasmExports } from '../loader.js';
import { familyExports } from './exports.js';
import type { ActivationF32 } from './gemm-f32.js';

/** i32 words of the descriptor (assembly/conv_transpose_f32.ts T_* order). */
export const CONV_TRANSPOSE_F32_DESC_WORDS = 27;
export const CONV_TRANSPOSE_F32_DESC_BYTES = CONV_TRANSPOSE_F32_DESC_WORDS * 4;

export interface ConvTransposeF32Exports {
  convTransposeF32(desc: number, x: number, wPacked: number, y: number, scratch: number, m0: number, m1: number, t0: number, t1: number): void;
  convTransposeF32PackedWeightBytes(desc: number): number;
  convTransposeF32PackWeights(desc: number, w: number, dst: number): void;
  convTransposeF32ScratchBytes(desc: number): number;
  convTransposeF32DescWords(): number;
}

export function convTransposeF32Exports(ex: KilnWasmExports): ConvTransposeF32Exports {
  return familyExports<ConvTransposeF32Exports>(ex, 'convTransposeF32', [
    'convTransposeF32', 'convTransposeF32PackedWeightBytes', 'convTransposeF32PackWeights', 'convTransposeF32ScratchBytes', 'convTransposeF32DescWords',
  ]);
}

const ACT_CODE: Record<ActivationF32['kind'], number> = { none: 0, relu: 1, clip: 2, leakyRelu: 3, sigmoid: 4, gelu: 5 };

/**
 * The spatial axis (of the three lifted ones) whose output range a call may be restricted to: the
 * outermost one longer than 1, so that a split cuts big slabs and re-does the fewest input rows.
 */
export function convTransposeSplitAxis(p: ConvProblem): 0 | 1 | 2 {
  const [od, oh] = p.geo.outSize;
  return od > 1 ? 0 : oh > 1 ? 1 : 2;
}

/** Descriptor words for a problem; biasPtr 0 means no bias. */
export function convTransposeF32Desc(p: ConvProblem, biasPtr: number, activation: ActivationF32 = { kind: 'none' }): Int32Array {
  const g = p.geo;
  const words = new Int32Array(CONV_TRANSPOSE_F32_DESC_WORDS);
  words.set([p.batch, p.inChannels, p.outChannels, p.group, ...g.inSize, ...g.outSize, ...g.kernel, ...g.strides, ...g.dilations, ...g.padBegin], 0);
  words[22] = convTransposeSplitAxis(p);
  let code = ACT_CODE[activation.kind];
  const params = new Float32Array(words.buffer, 24 * 4, 2);
  if (activation.kind === 'clip') params.set([activation.min, activation.max]);
  else if (activation.kind === 'leakyRelu') params[0] = activation.alpha;
  else if (activation.kind === 'gelu' && activation.approximate === 'tanh') code = 6;
  words[23] = code;
  words[26] = biasPtr;
  return words;
}

/** Sizes to reserve: packed weights and scratch, read from the kernel with the descriptor at descPtr. */
export function convTransposeF32Sizes(ex: ConvTransposeF32Exports, descPtr: number): { weightBytes: number; scratchBytes: number } {
  return {
    weightBytes: ex.convTransposeF32PackedWeightBytes(descPtr) >>> 0,
    scratchBytes: ex.convTransposeF32ScratchBytes(descPtr) >>> 0,
  };
}

/** The output extent along the split axis (the `t` range of a full call). */
export function convTransposeSplitExtent(p: ConvProblem): number {
  return p.geo.outSize[convTransposeSplitAxis(p)];
}
