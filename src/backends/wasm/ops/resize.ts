// WASM kernel for Resize, f32, every mode the reference supports (nearest with each nearest_mode,
// linear, cubic, antialias, exclude_outside, all coordinate transforms, axes, aspect-ratio policy).
// The geometry is the reference's own lowering (src/ops/layout-resize.ts lowerResize): per
// resampled axis, each output position's taps. Here they become table records (byte offsets and
// f32 weights) in persistent memory, so running is one gather-and-FMA pass per resampled axis
// (assembly/resize.ts), intermediates in scratch. roi, scales and sizes must be constants; other
// dtypes, or inputs the reference rejects, fall back to the reference kernel (which reports them).
import { nodeLabel } from '../../../graph/ir.js';
import { lowerResize, type ResizeLowering, type ResizePass } from '../../../ops/layout-resize.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { registerWasmKernel, type PreparedKernel, type WasmMemory, type WasmPlanContext } from '../kernel.js';
import { resizeExports } from '../kernels/resize.js';
import { elementCount } from '../kernels/strided.js';

/** Output elements times taps below which one more thread does not pay for itself (~20-40 us). */
const RESIZE_WORK_PER_THREAD = 2 ** 16;

/** One pass as the kernel runs it: the axis's geometry in the dims current at that point. */
interface PlannedPass {
  inLen: number;
  outLen: number;
  inner: number;
  /** Rows the kernel walks: outer * outLen. */
  rows: number;
  /** Taps per record (n) and the records' byte offset in persistent memory. */
  n: number;
  tableOffset: number;
  table: Int32Array;
  /** Output elements x taps, for the thread decision. */
  work: number;
}

/** The constant value of optional input i; null when it is present but only known at run time. */
function constantOrAbsent(ctx: WasmPlanContext, i: number): Tensor | undefined | null {
  if (!ctx.inputs[i]) return undefined;
  return ctx.constant(i) ?? null;
}

/** Records for one pass: [count, byte offsets of the non-zero taps, their weights], count -1 outside. */
function passTable(p: ResizePass, inner: number): Int32Array {
  const { n, index, weight, outside } = p.taps;
  const rec = 1 + 2 * n;
  const words = new Int32Array(p.outLen * rec);
  const weights = new Float32Array(words.buffer);
  for (let x = 0; x < p.outLen; x++) {
    const r = x * rec;
    if (outside[x]) {
      words[r] = -1;
      continue;
    }
    let count = 0;
    for (let k = 0; k < n; k++) {
      const w = weight[x * n + k]!;
      // The reference skips zero weights; so does the kernel (0 * Inf would be NaN).
      if (w === 0) continue;
      words[r + 1 + count] = index[x * n + k]! * inner * 4;
      weights[r + 1 + n + count] = w;
      count++;
    }
    words[r] = count;
  }
  return words;
}

/** Cost of running the passes in this order: elements written times taps, scalar gathers weighted up. */
function orderCost(passes: readonly ResizePass[], dims: readonly number[]): number {
  const cur = [...dims];
  let cost = 0;
  for (const p of passes) {
    cur[p.axis] = p.outLen;
    const inner = elementCount(cur.slice(p.axis + 1));
    cost += elementCount(cur) * p.taps.n * (inner < 4 ? 4 : 1);
  }
  return cost;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((it, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [it, ...rest]));
}

/**
 * The separable passes commute up to rounding (nearest is exact in any order), so run them in the
 * cheapest order: shrinking axes first, and the innermost axis (a scalar gather) while it is small.
 */
function cheapestOrder(low: ResizeLowering, dims: readonly number[]): ResizePass[] {
  if (low.passes.length < 2 || low.passes.length > 4) return low.passes;
  let best = low.passes;
  let bestCost = orderCost(best, dims);
  for (const order of permutations(low.passes)) {
    const cost = orderCost(order, dims);
    if (cost < bestCost) {
      best = order;
      bestCost = cost;
    }
  }
  return best;
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

function planPasses(order: readonly ResizePass[], dims: readonly number[]): { passes: PlannedPass[]; tableBytes: number; scratch: [number, number] } {
  const cur = [...dims];
  const passes: PlannedPass[] = [];
  const scratch: [number, number] = [0, 0];
  let tableBytes = 0;
  order.forEach((p, i) => {
    const inner = elementCount(cur.slice(p.axis + 1));
    const outer = elementCount(cur.slice(0, p.axis));
    cur[p.axis] = p.outLen;
    const table = passTable(p, inner);
    const size = elementCount(cur);
    passes.push({ inLen: p.inLen, outLen: p.outLen, inner, rows: outer * p.outLen, n: p.taps.n, tableOffset: tableBytes, table, work: size * p.taps.n });
    tableBytes += align16(table.byteLength);
    // Intermediates alternate between two scratch buffers; the last pass writes the output.
    if (i < order.length - 1) scratch[i % 2] = Math.max(scratch[i % 2]!, align16(size * 4));
  });
  return { passes, tableBytes, scratch };
}

function runPass(mem: WasmMemory, p: PlannedPass, src: number, dst: number, table: number, extrapolation: number): void {
  const pool = mem.pool;
  const threads = pool ? Math.min(pool.threads, Math.floor(p.work / RESIZE_WORK_PER_THREAD)) : 1;
  if (pool && threads > 1 && pool.has('resizeAxisF32')) {
    // Chunks of whole 64-byte lines of output keep threads off each other's cache lines.
    const align = Math.max(1, Math.ceil(16 / p.inner));
    pool.run('resizeAxisF32', [src, dst, p.inLen, p.outLen, p.inner, table, p.n, extrapolation, 0, p.rows], 'r', p.rows, { align, maxThreads: threads });
  } else {
    resizeExports(mem.exports).resizeAxisF32(src, dst, p.inLen, p.outLen, p.inner, table, p.n, extrapolation, 0, p.rows);
  }
}

const aliasKernel: PreparedKernel = {
  aliasOf: 0,
  run(mem, [x], [y]) {
    if (x!.ptr !== y!.ptr) mem.u8(y!.ptr, y!.byteLength).set(mem.u8(x!.ptr, y!.byteLength));
  },
};

registerWasmKernel('Resize', (ctx) => {
  const x = ctx.inputs[0];
  if (x?.dtype !== 'float32' || ctx.outputs[0]?.dtype !== 'float32') return undefined;
  const [roi, scales, sizes] = [1, 2, 3].map((i) => constantOrAbsent(ctx, i));
  if (roi === null || scales === null || sizes === null) return undefined;
  let low: ResizeLowering;
  try {
    low = lowerResize(x.dims, roi, scales, sizes, ctx.attrs, nodeLabel(ctx.node));
  } catch {
    return undefined; // the reference kernel raises the same error when the node runs
  }
  const outDims = ctx.outputs[0].dims;
  if (low.outDims.length !== outDims.length || low.outDims.some((d, i) => d !== outDims[i])) return undefined;
  if (low.passes.length === 0) return aliasKernel;
  if (elementCount(outDims) === 0) return { run() {} };
  const { passes, tableBytes, scratch } = planPasses(cheapestOrder(low, x.dims), x.dims);
  const extrapolation = low.extrapolation;
  return {
    persistentBytes: tableBytes,
    scratchBytes: scratch[0] + scratch[1],
    threaded: passes.some((p) => p.work >= 2 * RESIZE_WORK_PER_THREAD),
    init(mem, ptr) {
      for (const p of passes) mem.i32(ptr + p.tableOffset, p.table.length).set(p.table);
    },
    run(mem, [xv], [yv], scratchPtr, ptr) {
      const buffers = [scratchPtr, scratchPtr + scratch[0]];
      let src = xv!.ptr;
      passes.forEach((p, i) => {
        const dst = i === passes.length - 1 ? yv!.ptr : buffers[i % 2]!;
        runPass(mem, p, src, dst, ptr + p.tableOffset, extrapolation);
        src = dst;
      });
    },
  };
});
