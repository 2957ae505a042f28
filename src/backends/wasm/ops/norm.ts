// WASM kernels for Softmax/LogSoftmax (any axis), LayerNormalization, RMSNormalization, inference-mode
// BatchNormalization (folded into a per-channel affine) and the reductions ReduceSum/Mean/Max/Min/
// SumSquare/L1/L2 (axes from a constant input), f32. Other configurations fall back.
import { toIntList, toNumbers } from '../../../tensor/convert.js';
import { registerWasmKernel, type PreparedKernel, type WasmKernelFactory, type WasmMemory, type WasmPlanContext } from '../kernel.js';
import { channelAffineF32, layerNormF32, reduceF32, rmsNormF32, softmaxF32, type ReduceOpF32 } from '../kernels/norm.js';
import { elementCount } from '../kernels/strided.js';

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Normalized axis, or undefined when out of range (the reference reports that error). */
function axisOf(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < Math.max(rank, 1) ? a : undefined;
}

// ---- Softmax / LogSoftmax ---------------------------------------------------------------------

function softmaxFactory(log: boolean): WasmKernelFactory {
  return (ctx) => {
    const x = ctx.inputs[0];
    if (x?.dtype !== 'float32') return undefined;
    const axis = axisOf(ctx.attrs.int('axis'), x.dims.length);
    if (axis === undefined) return undefined;
    const len = x.dims[axis] ?? 1;
    const inner = elementCount(x.dims.slice(axis + 1));
    const outer = elementCount(x.dims.slice(0, axis));
    const empty = elementCount(x.dims) === 0;
    return {
      run(mem, [xv], [y]) {
        if (!empty) softmaxF32(mem.exports, log, xv!.ptr, y!.ptr, len, inner, 0, outer);
      },
    };
  };
}

registerWasmKernel('Softmax', softmaxFactory(false));
registerWasmKernel('LogSoftmax', softmaxFactory(true));

// ---- LayerNormalization -----------------------------------------------------------------------

/** True when a parameter of `dims` holds exactly one value per position of X's trailing `row` dims. */
function perRowParam(dims: readonly number[], xDims: readonly number[], axis: number): boolean {
  let k = 0;
  while (k < dims.length && dims[k] === 1) k++;
  const own = dims.slice(k);
  const tail = xDims.slice(xDims.length - own.length);
  return own.length <= xDims.length - axis && own.every((d, i) => d === tail[i]) && elementCount(own) === elementCount(xDims.slice(axis));
}

registerWasmKernel('LayerNormalization', (ctx) => {
  const [x, scale, bias] = ctx.inputs;
  if (x?.dtype !== 'float32' || scale?.dtype !== 'float32' || (bias && bias.dtype !== 'float32')) return undefined;
  if (ctx.attrs.int('stash_type') !== 1) return undefined;
  const axis = axisOf(ctx.attrs.int('axis'), x.dims.length);
  if (axis === undefined || x.dims.length === 0) return undefined;
  if (!perRowParam(scale.dims, x.dims, axis) || (bias && !perRowParam(bias.dims, x.dims, axis))) return undefined;
  const n = elementCount(x.dims.slice(axis));
  const rows = n === 0 ? 0 : elementCount(x.dims) / n;
  const eps = ctx.attrs.float('epsilon');
  const wantMean = (ctx.node.outputs[1] ?? '') !== '';
  const wantInv = (ctx.node.outputs[2] ?? '') !== '';
  return {
    run(mem, [xv, sv, bv], outs) {
      if (rows === 0) return;
      layerNormF32(mem.exports, xv!.ptr, outs[0]!.ptr, sv!.ptr, bv?.ptr ?? 0,
        wantMean ? outs[1]!.ptr : 0, wantInv ? outs[2]!.ptr : 0, n, eps, 0, rows);
    },
  };
});

registerWasmKernel('RMSNormalization', (ctx) => {
  const [x, scale] = ctx.inputs;
  if (x?.dtype !== 'float32' || scale?.dtype !== 'float32' || ctx.attrs.int('stash_type') !== 1) return undefined;
  const axis = axisOf(ctx.attrs.int('axis'), x.dims.length);
  if (axis === undefined || x.dims.length === 0 || !perRowParam(scale.dims, x.dims, axis)) return undefined;
  const n = elementCount(x.dims.slice(axis));
  const rows = n === 0 ? 0 : elementCount(x.dims) / n;
  const eps = ctx.attrs.float('epsilon');
  return {
    run(mem, [xv, sv], [y]) {
      if (rows > 0) rmsNormF32(mem.exports, xv!.ptr, y!.ptr, sv!.ptr, n, eps, 0, rows);
    },
  };
});

// ---- BatchNormalization (inference) -----------------------------------------------------------

/** scale' = gamma / sqrt(var + eps), bias' = beta - mean * scale', computed in float64. */
function foldBatchNorm(
  gamma: ArrayLike<number>, beta: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, eps: number, c: number,
): Float32Array {
  const out = new Float32Array(2 * c);
  for (let k = 0; k < c; k++) {
    const s = gamma[k]! / Math.sqrt(variance[k]! + eps);
    out[k] = s;
    out[c + k] = beta[k]! - mean[k]! * s;
  }
  return out;
}

registerWasmKernel('BatchNormalization', (ctx) => {
  const x = ctx.inputs[0];
  if (x?.dtype !== 'float32' || x.dims.length < 2 || ctx.attrs.int('training_mode') !== 0) return undefined;
  const c = x.dims[1]!;
  const params = [1, 2, 3, 4];
  if (!params.every((i) => ctx.inputs[i]?.dtype === 'float32' && elementCount(ctx.inputs[i]!.dims) === c)) return undefined;
  const eps = ctx.attrs.float('epsilon');
  const planes = x.dims[0]! * c;
  const inner = elementCount(x.dims.slice(2));
  const constants = params.map((i) => ctx.constant(i));
  const folded = constants.every((t) => t !== undefined)
    ? foldBatchNorm(...(constants.map((t) => toNumbers(t!)) as [Float64Array, Float64Array, Float64Array, Float64Array]), eps, c)
    : undefined;
  // Inference mode passes input_mean/input_var through as the optional running statistics.
  const copies = [1, 2].filter((i) => (ctx.node.outputs[i] ?? '') !== '');
  const copyStats = (mem: WasmMemory, inputs: Parameters<PreparedKernel['run']>[1], outs: Parameters<PreparedKernel['run']>[2]) => {
    for (const i of copies) mem.u8(outs[i]!.ptr, 4 * c).set(mem.u8(inputs[i + 2]!.ptr, 4 * c));
  };
  const apply = (mem: WasmMemory, xPtr: number, yPtr: number, sPtr: number) => {
    if (planes > 0 && inner > 0) channelAffineF32(mem.exports, xPtr, yPtr, sPtr, sPtr + 4 * c, c, inner, 0, planes);
  };
  if (folded) {
    return {
      persistentBytes: folded.byteLength,
      packedInputs: copies.length ? [1, 2] : [1, 2, 3, 4],
      init(mem, p) {
        mem.f32(p, folded.length).set(folded);
      },
      run(mem, inputs, outs, _scratch, p) {
        apply(mem, inputs[0]!.ptr, outs[0]!.ptr, p);
        copyStats(mem, inputs, outs);
      },
    };
  }
  return {
    scratchBytes: align16(8 * c),
    run(mem, inputs, outs, scratch) {
      const [g, b, m, v] = params.map((i) => mem.f32(inputs[i]!.ptr, c));
      mem.f32(scratch, 2 * c).set(foldBatchNorm(g!, b!, m!, v!, eps, c));
      apply(mem, inputs[0]!.ptr, outs[0]!.ptr, scratch);
      copyStats(mem, inputs, outs);
    },
  };
});

// ---- reductions -------------------------------------------------------------------------------

interface ReduceSpec {
  op: ReduceOpF32;
  mean?: boolean;
  root?: boolean;
}

/** One pass: x viewed as [outer, R, inner] reduced over R. */
interface ReducePass {
  outer: number;
  R: number;
  inner: number;
}

/**
 * Passes that reduce the given axes: dims are grouped into alternating kept/reduced runs (size-1
 * dims dropped), then each reduced run is folded away, innermost first. No reduced run (or
 * noop_with_empty_axes) is one pass with R = 1, which still applies the op's transform (x^2, |x|).
 */
function reducePasses(dims: readonly number[], axes: ReadonlySet<number>): ReducePass[] {
  const runs: { size: number; reduced: boolean }[] = [];
  dims.forEach((d, i) => {
    if (d === 1) return;
    const reduced = axes.has(i);
    const last = runs[runs.length - 1];
    if (last && last.reduced === reduced) last.size *= d;
    else runs.push({ size: d, reduced });
  });
  const passes: ReducePass[] = [];
  for (let j = runs.length - 1; j >= 0; j--) {
    if (!runs[j]!.reduced) continue;
    const outer = elementCount(runs.slice(0, j).map((r) => r.size));
    const inner = elementCount(runs.slice(j + 1).map((r) => r.size));
    passes.push({ outer, R: runs[j]!.size, inner });
    runs.splice(j, 1);
  }
  if (passes.length === 0) passes.push({ outer: elementCount(dims), R: 1, inner: 1 });
  return passes;
}

function reduceFactory(spec: ReduceSpec): WasmKernelFactory {
  return (ctx: WasmPlanContext) => {
    const x = ctx.inputs[0];
    if (x?.dtype !== 'float32') return undefined;
    const rank = x.dims.length;
    let axes: number[] = [];
    if (ctx.inputs[1]) {
      const t = ctx.constant(1);
      if (!t) return undefined;
      axes = toIntList(t);
    }
    const normalized = axes.map((a) => axisOf(a, rank));
    if (normalized.some((a) => a === undefined) || new Set(normalized).size !== normalized.length) return undefined;
    const all = axes.length === 0 && ctx.attrs.int('noop_with_empty_axes') === 0;
    const set = new Set(all ? x.dims.map((_, i) => i) : (normalized as number[]));
    const count = elementCount(x.dims.filter((_, i) => set.has(i)));
    const passes = reducePasses(x.dims, set);
    const outSize = elementCount(ctx.outputs[0]!.dims);
    // Intermediate results alternate between two scratch buffers.
    const sizes = passes.map((p) => p.outer * p.inner);
    const bufA = align16(4 * Math.max(0, ...sizes.slice(0, -1).filter((_, i) => i % 2 === 0)));
    const bufB = align16(4 * Math.max(0, ...sizes.slice(0, -1).filter((_, i) => i % 2 === 1)));
    const chain: ReduceOpF32 = spec.op === 'max' || spec.op === 'min' ? spec.op : 'sum';
    return {
      scratchBytes: bufA + bufB,
      run(mem, [xv], [y], scratch) {
        if (outSize === 0) return;
        let src = xv!.ptr;
        passes.forEach((p, i) => {
          const last = i === passes.length - 1;
          const dst = last ? y!.ptr : scratch + (i % 2 === 0 ? 0 : bufA);
          // The op's transform (x^2, |x|) applies once, on the first pass; scale and root on the last.
          const op = i === 0 ? spec.op : chain;
          const scale = last && spec.mean ? 1 / count : 1;
          reduceF32(mem.exports, op, src, dst, p.R, p.inner, scale, last && spec.root === true, 0, p.outer);
          src = dst;
        });
      },
    };
  };
}

registerWasmKernel('ReduceSum', reduceFactory({ op: 'sum' }));
registerWasmKernel('ReduceMean', reduceFactory({ op: 'sum', mean: true }));
registerWasmKernel('ReduceMax', reduceFactory({ op: 'max' }));
registerWasmKernel('ReduceMin', reduceFactory({ op: 'min' }));
registerWasmKernel('ReduceSumSquare', reduceFactory({ op: 'sumSquare' }));
registerWasmKernel('ReduceL1', reduceFactory({ op: 'sumAbs' }));
registerWasmKernel('ReduceL2', reduceFactory({ op: 'sumSquare', root: true }));
