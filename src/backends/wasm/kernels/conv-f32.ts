// Typed wrapper over assembly/conv_f32.ts: ONNX Conv attributes -> output geometry (auto_pad
// included) -> a 64-byte descriptor the kernel reads, weight pre-packing, scratch sizing, the call.
import type { KilnWasmExports } from '../loader.js';
import { EPILOGUE_F32_BYTES, writeEpilogueF32, type ActivationF32, type WasmArena } from './gemm-f32.js';

/** ONNX Conv attributes for a 2-D convolution. */
export interface ConvF32Attrs {
  kernelShape: readonly [number, number];
  strides?: readonly [number, number];
  dilations?: readonly [number, number];
  /** [top, left, bottom, right] (ONNX order x1_begin, x2_begin, x1_end, x2_end). */
  pads?: readonly [number, number, number, number];
  autoPad?: 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
  group?: number;
}

/** Input and weight sizes: X[N, Cin, H, W], W[Cout, Cin / group, kh, kw]. */
export interface ConvF32Input {
  N: number;
  Cin: number;
  H: number;
  W: number;
  Cout: number;
}

/** Everything the kernel needs, resolved: the values of the 16-int descriptor. */
export interface ConvF32Geometry extends ConvF32Input {
  group: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padT: number;
  padL: number;
  padB: number;
  padR: number;
  Ho: number;
  Wo: number;
}

export const CONV_F32_DESC_BYTES = 64;

function padsFor(auto: ConvF32Attrs['autoPad'], inSize: number, k: number, s: number, d: number, explicit: readonly [number, number]): [number, number, number] {
  const extent = (k - 1) * d + 1;
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const out = Math.ceil(inSize / s);
    const total = Math.max(0, (out - 1) * s + extent - inSize);
    const small = Math.floor(total / 2);
    // SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the beginning.
    return auto === 'SAME_UPPER' ? [small, total - small, out] : [total - small, small, out];
  }
  const [b, e] = auto === 'VALID' ? [0, 0] : explicit;
  return [b, e, Math.floor((inSize + b + e - extent) / s) + 1];
}

/** Resolves strides, dilations, pads and auto_pad into the kernel's geometry; throws on bad shapes. */
export function convF32Geometry(input: ConvF32Input, attrs: ConvF32Attrs): ConvF32Geometry {
  const [kh, kw] = attrs.kernelShape;
  const [sh, sw] = attrs.strides ?? [1, 1];
  const [dh, dw] = attrs.dilations ?? [1, 1];
  const p = attrs.pads ?? [0, 0, 0, 0];
  const group = attrs.group ?? 1;
  if (input.Cin % group !== 0 || input.Cout % group !== 0) {
    throw new Error(`Conv: group ${group} does not divide Cin ${input.Cin} and Cout ${input.Cout}`);
  }
  const [padT, padB, Ho] = padsFor(attrs.autoPad, input.H, kh, sh, dh, [p[0], p[2]]);
  const [padL, padR, Wo] = padsFor(attrs.autoPad, input.W, kw, sw, dw, [p[1], p[3]]);
  if (Ho < 1 || Wo < 1) throw new Error(`Conv: output would be ${Ho}x${Wo} for input ${input.H}x${input.W}`);
  return { ...input, group, kh, kw, sh, sw, dh, dw, padT, padL, padB, padR, Ho, Wo };
}

/** Writes the descriptor at ptr (field order fixed by assembly/conv_f32.ts). */
export function writeConvF32Desc(buffer: ArrayBufferLike, ptr: number, g: ConvF32Geometry): void {
  new Int32Array(buffer, ptr, 16).set([g.N, g.Cin, g.H, g.W, g.Cout, g.group, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.padT, g.padL, g.Ho, g.Wo]);
}

export interface ConvF32Exports {
  convF32(desc: number, x: number, wPacked: number, y: number, epi: number, scratch: number, co0: number, co1: number, p0: number, p1: number): void;
  convF32Method(desc: number): number;
  convF32PackedWeightBytes(desc: number): number;
  convF32PackWeights(desc: number, w: number, dst: number): void;
  convF32ScratchBytes(desc: number): number;
}

export function convF32Exports(exports: KilnWasmExports): ConvF32Exports {
  for (const name of ['convF32', 'convF32Method', 'convF32PackedWeightBytes', 'convF32PackWeights', 'convF32ScratchBytes']) {
    if (typeof exports[name] !== 'function') throw new Error(`Kiln WASM module lacks ${name}: rebuild with scripts/build-wasm.mjs`);
  }
  return exports as unknown as ConvF32Exports;
}

/**
 * im2col: im2col panels + GEMM; pointwise: GEMM on the input (1x1); depthwise: direct kernel;
 * shifted: stride-1 convs on narrow rows, GEMM over a zero-padded copy with contiguous k-runs.
 */
export type ConvF32Method = 'im2col' | 'pointwise' | 'depthwise' | 'shifted';
const METHODS: readonly ConvF32Method[] = ['im2col', 'pointwise', 'depthwise', 'shifted'];

/** A conv prepared in memory: descriptor, packed weights and epilogue placed by the caller. */
export interface ConvF32Prepared {
  geometry: ConvF32Geometry;
  method: ConvF32Method;
  descPtr: number;
  weightsPtr: number;
  /** Epilogue block pointer (0 when there is neither bias nor activation). */
  epiPtr: number;
  scratchBytes: number;
}

/** Sizes to reserve for a conv: descriptor (64), packed weights, scratch. */
export function convF32Sizes(ex: ConvF32Exports, buffer: ArrayBufferLike, tmpDescPtr: number, g: ConvF32Geometry): { weightBytes: number; scratchBytes: number; method: ConvF32Method } {
  writeConvF32Desc(buffer, tmpDescPtr, g);
  return {
    weightBytes: ex.convF32PackedWeightBytes(tmpDescPtr) >>> 0,
    scratchBytes: ex.convF32ScratchBytes(tmpDescPtr) >>> 0,
    method: METHODS[ex.convF32Method(tmpDescPtr)]!,
  };
}

/**
 * Prepares a conv once: writes the descriptor at descPtr, packs the weights (already in memory at
 * wSrcPtr, ONNX layout) to weightsPtr, and writes the epilogue (bias per output channel at biasPtr,
 * fused activation) at epiPtr when there is one.
 */
export function prepareConvF32(
  ex: ConvF32Exports, buffer: ArrayBufferLike, g: ConvF32Geometry,
  at: { descPtr: number; wSrcPtr: number; weightsPtr: number; epiPtr: number; biasPtr?: number; activation?: ActivationF32 },
): ConvF32Prepared {
  writeConvF32Desc(buffer, at.descPtr, g);
  ex.convF32PackWeights(at.descPtr, at.wSrcPtr, at.weightsPtr);
  const act = at.activation ?? { kind: 'none' };
  const needEpi = !!at.biasPtr || act.kind !== 'none';
  if (needEpi) writeEpilogueF32(buffer, at.epiPtr, { activation: act, biasPtr: at.biasPtr ?? 0, biasMode: 'row' });
  return {
    geometry: g,
    method: METHODS[ex.convF32Method(at.descPtr)]!,
    descPtr: at.descPtr,
    weightsPtr: at.weightsPtr,
    epiPtr: needEpi ? at.epiPtr : 0,
    scratchBytes: ex.convF32ScratchBytes(at.descPtr) >>> 0,
  };
}

/**
 * Runs a prepared conv: Y[N, Cout, Ho, Wo] from X[N, Cin, H, W]. `range` restricts the work to
 * output channels [co0, co1) and output pixels [p0, p1) (pixel = oy * Wo + ox) of every image.
 */
export function runConvF32(
  ex: ConvF32Exports, c: ConvF32Prepared, xPtr: number, yPtr: number, scratchPtr: number,
  range?: { co0: number; co1: number; p0: number; p1: number },
): void {
  const g = c.geometry;
  const r = range ?? { co0: 0, co1: g.Cout, p0: 0, p1: g.Ho * g.Wo };
  ex.convF32(c.descPtr, xPtr, c.weightsPtr, yPtr, c.epiPtr, scratchPtr, r.co0, r.co1, r.p0, r.p1);
}

/** Runs a conv on host arrays through the arena (allocates every call: tests and benches only). */
export function convF32OnHost(
  arena: WasmArena, ex: ConvF32Exports, g: ConvF32Geometry, X: Float32Array, Wt: Float32Array, bias?: Float32Array, activation?: ActivationF32,
  range?: { co0: number; co1: number; p0: number; p1: number },
): { y: Float32Array; method: ConvF32Method } {
  const descPtr = arena.alloc(CONV_F32_DESC_BYTES);
  writeConvF32Desc(arena.memory.buffer, descPtr, g);
  const weightsPtr = arena.alloc(ex.convF32PackedWeightBytes(descPtr) >>> 0);
  const wSrcPtr = arena.putF32(Wt);
  const biasPtr = bias ? arena.putF32(bias) : 0;
  const epiPtr = arena.alloc(EPILOGUE_F32_BYTES);
  const prepared = prepareConvF32(ex, arena.memory.buffer, g, { descPtr, wSrcPtr, weightsPtr, epiPtr, biasPtr, ...(activation ? { activation } : {}) });
  const xPtr = arena.putF32(X);
  const ySize = g.N * g.Cout * g.Ho * g.Wo;
  const yPtr = arena.alloc(ySize * 4);
  const scratch = arena.alloc(prepared.scratchBytes);
  runConvF32(ex, prepared, xPtr, yPtr, scratch, range);
  return { y: arena.f32(yPtr, ySize).slice(), method: prepared.method };
}
