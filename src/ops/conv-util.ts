// Sliding-window geometry shared by Conv, ConvTranspose, ConvInteger, QLinearConv and the pools:
// reading strides/dilations/pads/auto_pad, resolving SAME/VALID padding and output sizes per the
// ONNX spec, and lifting 1-D/2-D problems to 3-D so that one loop nest serves every rank.
import type { AttrValue } from '../graph/ir.js';
import { validateDims, type Dim } from '../tensor/shape.js';
import type { AttrSpec, Attrs } from './attrs.js';

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';
const AUTO_PADS: readonly string[] = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/** Kernels are written for up to three spatial axes (ONNX allows more, no model we meet uses them). */
export const MAX_SPATIAL = 3;

const positiveInts = (v: AttrValue): string | undefined =>
  Array.isArray(v) && v.some((x) => typeof x !== 'number' || x < 1) ? 'every value must be >= 1' : undefined;
const nonNegativeInts = (v: AttrValue): string | undefined =>
  Array.isArray(v) && v.some((x) => typeof x !== 'number' || x < 0) ? 'every value must be >= 0' : undefined;

/** Attribute schema common to every windowed op. */
export const WINDOW_ATTRS = {
  auto_pad: {
    type: 'string',
    default: 'NOTSET',
    validate: (v) => (AUTO_PADS.includes(v as string) ? undefined : `must be one of ${AUTO_PADS.join(', ')}`),
  },
  dilations: { type: 'ints', validate: positiveInts },
  kernel_shape: { type: 'ints', validate: positiveInts },
  pads: { type: 'ints', validate: nonNegativeInts },
  strides: { type: 'ints', validate: positiveInts },
} satisfies Record<string, AttrSpec>;

/** Conv-family attributes: the window plus `group`. */
export const CONV_ATTRS = {
  ...WINDOW_ATTRS,
  group: { type: 'int', default: 1, validate: (v) => ((v as number) >= 1 ? undefined : 'must be >= 1') },
} satisfies Record<string, AttrSpec>;

/** The per-axis window parameters of one node, validated against the spatial rank. */
export interface WindowParams {
  kernel: number[];
  strides: number[];
  dilations: number[];
  autoPad: AutoPad;
  /** Explicit pads [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; zeros when absent. */
  pads: number[];
}

function listOf(attrs: Attrs, name: string, rank: number, fill: number, where: string): number[] {
  const v = attrs.optInts(name);
  if (v === undefined) return new Array<number>(rank).fill(fill);
  if (v.length !== rank) throw new Error(`${where}: '${name}' has ${v.length} values, expected ${rank} (one per spatial axis)`);
  return v;
}

/**
 * Reads the window attributes for `spatialRank` axes. `kernel` comes from kernel_shape or, for
 * convolutions, from the weight's spatial dims (passed as `kernelFromWeight`).
 */
export function readWindow(attrs: Attrs, spatialRank: number, where: string, kernelFromWeight?: readonly Dim[]): WindowParams {
  if (spatialRank < 1) throw new Error(`${where}: input needs at least one spatial axis (rank >= 3)`);
  if (spatialRank > MAX_SPATIAL) throw new Error(`${where}: ${spatialRank} spatial axes are not supported (at most ${MAX_SPATIAL})`);
  let kernel = attrs.optInts('kernel_shape');
  if (kernel !== undefined) {
    if (kernel.length !== spatialRank) {
      throw new Error(`${where}: 'kernel_shape' has ${kernel.length} values, expected ${spatialRank}`);
    }
    if (kernelFromWeight) {
      kernelFromWeight.forEach((d, i) => {
        if (typeof d === 'number' && d !== kernel![i]) {
          throw new Error(`${where}: kernel_shape [${kernel!.join(', ')}] does not match the weight's spatial dims [${kernelFromWeight.join(', ')}]`);
        }
      });
    }
  } else if (kernelFromWeight) {
    kernel = kernelFromWeight.map((d) => (typeof d === 'number' ? d : NaN));
  } else {
    throw new Error(`${where}: required attribute 'kernel_shape' is missing`);
  }
  const strides = listOf(attrs, 'strides', spatialRank, 1, where);
  const dilations = listOf(attrs, 'dilations', spatialRank, 1, where);
  const pads = listOf(attrs, 'pads', 2 * spatialRank, 0, where);
  const autoPad = attrs.string('auto_pad') as AutoPad;
  if (autoPad !== 'NOTSET' && attrs.has('pads') && pads.some((p) => p !== 0)) {
    throw new Error(`${where}: 'pads' cannot be used together with auto_pad=${autoPad}`);
  }
  return { kernel, strides, dilations, autoPad, pads };
}

/** Resolved geometry of one spatial axis. */
export interface AxisGeometry {
  out: number;
  padBegin: number;
  padEnd: number;
}

/**
 * Output size and effective padding of one axis of a forward window op (Conv, pools).
 * `ceilMode` (pools only) rounds the window count up but drops a last window that would start in
 * the end padding, as the ONNX spec and PyTorch do.
 */
export function forwardAxis(inSize: number, p: WindowParams, axis: number, ceilMode: boolean, where: string): AxisGeometry {
  const rank = p.kernel.length;
  const k = p.kernel[axis]!;
  const s = p.strides[axis]!;
  const eff = (k - 1) * p.dilations[axis]! + 1;
  let out: number;
  let padBegin = 0;
  let padEnd = 0;
  if (p.autoPad === 'SAME_UPPER' || p.autoPad === 'SAME_LOWER') {
    out = Math.ceil(inSize / s);
    const total = Math.max(0, (out - 1) * s + eff - inSize);
    const small = Math.floor(total / 2);
    padBegin = p.autoPad === 'SAME_UPPER' ? small : total - small;
    padEnd = total - padBegin;
  } else {
    if (p.autoPad === 'NOTSET') {
      padBegin = p.pads[axis]!;
      padEnd = p.pads[axis + rank]!;
    }
    const span = inSize + padBegin + padEnd - eff;
    if (span < 0) {
      throw new Error(`${where}: window of ${eff} (kernel ${k}, dilation ${p.dilations[axis]}) does not fit spatial axis ${axis} of size ${inSize} with pads ${padBegin}+${padEnd}`);
    }
    out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceilMode && (out - 1) * s >= inSize + padBegin) out--;
  }
  return { out, padBegin, padEnd };
}

/** Output spatial dims for shape inference; symbolic inputs or kernels give fresh unknown dims. */
export function forwardSpatialDims(
  inSpatial: readonly Dim[],
  p: WindowParams,
  ceilMode: boolean,
  where: string,
  unknownDim: () => Dim,
): Dim[] {
  return inSpatial.map((d, i) => {
    if (typeof d !== 'number' || Number.isNaN(p.kernel[i]!)) return unknownDim();
    return forwardAxis(d, p, i, ceilMode, where).out;
  });
}

/** Window geometry lifted to exactly three spatial axes (leading axes of size 1). */
export interface Geometry3 {
  inSize: [number, number, number];
  outSize: [number, number, number];
  kernel: [number, number, number];
  strides: [number, number, number];
  dilations: [number, number, number];
  padBegin: [number, number, number];
}

export function lift3(values: readonly number[], fill: number): [number, number, number] {
  const out: [number, number, number] = [fill, fill, fill];
  const off = MAX_SPATIAL - values.length;
  values.forEach((v, i) => { out[off + i] = v; });
  return out;
}

/** Resolves a forward window op's geometry on concrete input spatial dims. */
export function forwardGeometry(inSpatial: readonly number[], p: WindowParams, ceilMode: boolean, where: string): Geometry3 {
  const axes = inSpatial.map((d, i) => forwardAxis(d, p, i, ceilMode, where));
  // Pads come from the file: bound the output plane before a kernel allocates it (plan-time
  // inference refuses the whole output when shapes are known; this covers symbolic inputs).
  validateDims(axes.map((a) => a.out), `${where}: output spatial dims`);
  return {
    inSize: lift3(inSpatial, 1),
    outSize: lift3(axes.map((a) => a.out), 1),
    kernel: lift3(p.kernel, 1),
    strides: lift3(p.strides, 1),
    dilations: lift3(p.dilations, 1),
    padBegin: lift3(axes.map((a) => a.padBegin), 0),
  };
}

/**
 * First and one-past-last output index o whose tap o*stride - pad + offset lands inside [0, size).
 * Lets inner loops run without bounds checks.
 */
export function validRange(outCount: number, stride: number, pad: number, offset: number, size: number): [number, number] {
  const shift = offset - pad; // input index = o*stride + shift
  const lo = Math.max(0, Math.ceil(-shift / stride));
  const hi = Math.min(outCount, Math.floor((size - 1 - shift) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}
