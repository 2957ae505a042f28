// WASM kernels for MaxPool / AveragePool (1-3 spatial axes, every window attribute) and the global
// pools, f32. Geometry is resolved here with the same helpers as the reference (conv-util.ts) and
// handed to the kernel as a descriptor in persistent memory. MaxPool's Indices output and other
// dtypes fall back to the reference kernel.
import { forwardAxis, lift3, MAX_SPATIAL, readWindow } from '../../../ops/conv-util.js';
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
    const where = nodeLabel(ctx.node);
    const p = readWindow(ctx.attrs, spatial, where);
    const ceil = ctx.attrs.int('ceil_mode') === 1;
    const axes = dims.slice(2).map((d, i) => forwardAxis(d, p, i, ceil, where));
    const words = poolGeometryWords({
      inSize: lift3(dims.slice(2), 1),
      outSize: lift3(axes.map((a) => a.out), 1),
      kernel: lift3(p.kernel, 1),
      strides: lift3(p.strides, 1),
      dilations: lift3(p.dilations, 1),
      padBegin: lift3(axes.map((a) => a.padBegin), 0),
      padEnd: lift3(axes.map((a) => a.padEnd), 0),
      countIncludePad: kind === 'avg' && ctx.attrs.int('count_include_pad') === 1,
    });
    const planes = dims[0]! * dims[1]!;
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
