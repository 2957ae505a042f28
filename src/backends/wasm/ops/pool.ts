// WASM kernels for MaxPool / AveragePool / LpPool (1-3 spatial axes, every window attribute) and
// the global pools, f32. Geometry is resolved by the reference's own poolPlan (src/ops/pool.ts) and
// handed to the kernel as a descriptor in persistent memory. Planes (one (n, c) pair each) are
// split over the worker pool when the work is large enough; a plane is always pooled whole by one
// thread, so results do not depend on the thread count. MaxPool and GlobalMaxPool also run on
// int8 / uint8 data (left between quantized convs by the QDQ lowering), and f32 MaxPool with its
// Indices output on a scalar kernel. Other dtypes fall back to the reference kernel.
import { MAX_SPATIAL } from '../../../ops/conv-util.js';
import { poolPlan } from '../../../ops/pool.js';
import { nodeLabel } from '../../../graph/ir.js';
import { registerWasmKernel, type WasmKernelFactory, type WasmMemory } from '../kernel.js';
import { globalPoolCall, globalPoolF32, maxPoolArgExports, maxPoolI8Exports, poolCall, poolF32, poolGeometryWords, type PoolKind } from '../kernels/pool.js';
import { elementCount } from '../kernels/strided.js';

/**
 * Output elements times window taps below which one more thread does not pay for itself (pools
 * are memory-bound, a few ns a tap: ~2^16 taps is tens of microseconds, the resize kernels' bound).
 */
const POOL_WORK_PER_THREAD = 2 ** 16;

/** Threads for `work` taps over `planes` planes; 1 without a pool. */
function threadsFor(mem: WasmMemory, work: number, planes: number): number {
  const pool = mem.pool;
  return pool ? Math.min(pool.threads, planes, Math.floor(work / POOL_WORK_PER_THREAD)) : 1;
}

/** Kernel variant for an input dtype: f32, or the int8 / uint8 max kernels; undefined: reference. */
function variantOf(kind: PoolKind, dtype: string | undefined): 'f32' | 'i8' | 'u8' | undefined {
  if (dtype === 'float32') return 'f32';
  if (kind === 'max' && (dtype === 'int8' || dtype === 'uint8')) return dtype === 'int8' ? 'i8' : 'u8';
  return undefined;
}

function poolFactory(kind: PoolKind): WasmKernelFactory {
  return (ctx) => {
    const x = ctx.inputs[0];
    const variant = variantOf(kind, x?.dtype);
    if (!x || !variant) return undefined;
    // MaxPool's optional Indices output: f32 only, on its own kernel.
    const withIndices = ctx.node.outputs.slice(1).some((o) => o !== '');
    if (withIndices && (kind !== 'max' || variant !== 'f32' || ctx.outputs[1]?.dtype !== 'int64')) return undefined;
    const dims = x.dims;
    const spatial = dims.length - 2;
    if (spatial < 1 || spatial > MAX_SPATIAL) return undefined;
    const plan = poolPlan(dims, ctx.attrs, nodeLabel(ctx.node));
    // The Lp kernel packs tap ranges in 16 bits.
    if (kind === 'lp' && plan.kernel.some((k) => k >= 65536)) return undefined;
    const p = kind === 'lp' ? ctx.attrs.int('p') : 2;
    const storageOrder = withIndices ? ctx.attrs.int('storage_order') : 0;
    const words = poolGeometryWords({
      ...plan,
      countIncludePad: kind === 'avg' && ctx.attrs.int('count_include_pad') === 1,
    });
    const planes = plan.planes;
    const empty = elementCount(ctx.outputs[0]!.dims) === 0 || elementCount(dims) === 0;
    const work = planes * elementCount(plan.outSize) * elementCount(plan.kernel);
    return {
      persistentBytes: words.byteLength,
      threaded: work >= 2 * POOL_WORK_PER_THREAD,
      init(mem, ptr) {
        mem.i32(ptr, words.length).set(words);
      },
      run(mem, [xv], [y, idx], _scratch, ptr) {
        if (empty) return;
        const threads = threadsFor(mem, work, planes);
        if (withIndices) {
          const args = [xv!.ptr, y!.ptr, idx!.ptr, ptr, storageOrder, 0, planes];
          if (threads > 1) mem.pool!.run('maxPoolArgF32', args, 'p', planes, { maxThreads: threads });
          else maxPoolArgExports(mem.exports).maxPoolArgF32(xv!.ptr, y!.ptr, idx!.ptr, ptr, storageOrder, 0, planes);
        } else if (variant !== 'f32') {
          const signed = variant === 'i8' ? 1 : 0;
          if (threads > 1) mem.pool!.run('maxPoolI8', [xv!.ptr, y!.ptr, ptr, signed, 0, planes], 'p', planes, { maxThreads: threads });
          else maxPoolI8Exports(mem.exports).maxPoolI8(xv!.ptr, y!.ptr, ptr, signed, 0, planes);
        } else if (threads > 1) {
          const call = poolCall(kind, xv!.ptr, y!.ptr, ptr, planes, p);
          mem.pool!.run(call.kernel, call.args, 'p', planes, { maxThreads: threads });
        } else {
          poolF32(mem.exports, kind, xv!.ptr, y!.ptr, ptr, 0, planes, p);
        }
      },
    };
  };
}

registerWasmKernel('MaxPool', poolFactory('max'));
registerWasmKernel('AveragePool', poolFactory('avg'));
registerWasmKernel('LpPool', poolFactory('lp'));

function globalFactory(kind: PoolKind): WasmKernelFactory {
  return (ctx) => {
    const x = ctx.inputs[0];
    const variant = variantOf(kind, x?.dtype);
    if (!x || !variant || x.dims.length < 2) return undefined;
    const planes = x.dims[0]! * x.dims[1]!;
    const plane = elementCount(x.dims.slice(2));
    const p = kind === 'lp' ? ctx.attrs.int('p') : 2;
    const work = planes * plane;
    return {
      threaded: work >= 2 * POOL_WORK_PER_THREAD,
      run(mem, [xv], [y]) {
        if (planes === 0) return;
        const threads = threadsFor(mem, work, planes);
        if (variant !== 'f32') {
          const signed = variant === 'i8' ? 1 : 0;
          if (threads > 1) mem.pool!.run('globalMaxPoolI8', [xv!.ptr, y!.ptr, plane, signed, 0, planes], 'p', planes, { maxThreads: threads });
          else maxPoolI8Exports(mem.exports).globalMaxPoolI8(xv!.ptr, y!.ptr, plane, signed, 0, planes);
        } else if (threads > 1) {
          const call = globalPoolCall(kind, xv!.ptr, y!.ptr, plane, planes, p);
          mem.pool!.run(call.kernel, call.args, 'p', planes, { maxThreads: threads });
        } else {
          globalPoolF32(mem.exports, kind, xv!.ptr, y!.ptr, plane, 0, planes, p);
        }
      },
    };
  };
}

registerWasmKernel('GlobalMaxPool', globalFactory('max'));
registerWasmKernel('GlobalAveragePool', globalFactory('avg'));
registerWasmKernel('GlobalLpPool', globalFactory('lp'));
