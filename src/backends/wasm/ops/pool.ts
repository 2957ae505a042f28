// WASM kernels for MaxPool / AveragePool (1-3 spatial axes, every window attribute) and the global
// pools, f32. Geometry is resolved by the reference's own poolPlan (src/ops/pool.ts) and
// handed to the kernel as a descriptor in persistent memory. MaxPool's Indices output and other
// dtypes fall back to the reference kernel.
import { MAX_SPATIAL } from '../../../ops/conv-util.js';
import { poolPlan } from '../../../ops/pool.js';
import { nodeLabel } from '../../../graph/ir.js';
import { registerWasmKernel, type WasmKernelFactory } from '../kernel.js';
import { globalPoolF32, poolF32, poolGeometryWords, type PoolKind } from '../kernels/pool.js';
import { elementCount } from '../kernels/strided.js';

function poolFactory(kind: PoolKind): WasmKernelFactory {
  return (ctx) => {
    const x = ctx.inputs[0];
    if (x?.dtype !== 'float32') return undefined;
    // MaxPool's optional Indices output is not produced here.
    if (ctx.node.outputs.slice(1).some((o) => o !== '')) return undefined;
    const dims = x.dims;
    const spatial = dims.length - 2;
    if (spatial < 1 || spatial > MAX_SPATIAL) return undefined;
    const plan = poolPlan(dims, ctx.attrs, nodeLabel(ctx.node));
    const words = poolGeometryWords({
      ...plan,
      countIncludePad: kind === 'avg' && ctx.attrs.int('count_include_pad') === 1,
    });
    const planes = plan.planes;
    const empty = elementCount(ctx.outputs[0]!.dims) === 0 || elementCount(dims) === 0;
    return {
      persistentBytes: words.byteLength,
      init(mem, ptr) {
        mem.i32(ptr, words.length).set(words);
      },
      run(mem, [xv], [y], _scratch, ptr) {
        if (!empty) poolF32(mem.exports, kind, xv!.ptr, y!.ptr, ptr, 0, planes);
      },
    };
  };
}

registerWasmKernel('MaxPool', poolFactory('max'));
registerWasmKernel('AveragePool', poolFactory('avg'));

function globalFactory(kind: PoolKind): WasmKernelFactory {
  return (ctx) => {
    const x = ctx.inputs[0];
    if (x?.dtype !== 'float32' || x.dims.length < 2) return undefined;
    const planes = x.dims[0]! * x.dims[1]!;
    const plane = elementCount(x.dims.slice(2));
    return {
      run(mem, [xv], [y]) {
        if (planes > 0) globalPoolF32(mem.exports, kind, xv!.ptr, y!.ptr, plane, 0, planes);
      },
    };
  };
}

registerWasmKernel('GlobalMaxPool', globalFactory('max'));
registerWasmKernel('GlobalAveragePool', globalFactory('avg'));
