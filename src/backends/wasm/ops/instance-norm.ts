// InstanceNormalization on WASM (f32): each (n, c) plane normalized over its spatial elements, then
// scaled and shifted per channel. Reuses two existing kernels: layerNormF32 over rows of `spatial`
// elements with a unit scale (a persistent block of ones), then channelAffineF32 in place.
// GroupNorm exported as Reshape + InstanceNormalization + Mul/Add (PyTorch's export, e.g. the
// Moonshine encoder) lands here.
import { registerWasmKernel } from '../kernel.js';
import { channelAffineF32, layerNormF32 } from '../kernels/norm.js';
import { elementCount } from '../kernels/strided.js';

registerWasmKernel('InstanceNormalization', (ctx) => {
  const [x, scale, bias] = ctx.inputs;
  if (x?.dtype !== 'float32' || scale?.dtype !== 'float32' || bias?.dtype !== 'float32' || x.dims.length < 2) return undefined;
  const channels = x.dims[1]!;
  // The schema's shape rule does not see scale/B lengths; the reference kernel refuses others.
  if (elementCount(scale.dims) !== channels || elementCount(bias.dims) !== channels) return undefined;
  const spatial = elementCount(x.dims.slice(2));
  const planes = x.dims[0]! * channels;
  const eps = ctx.attrs.float('epsilon');
  return {
    persistentBytes: Math.ceil((spatial * 4) / 16) * 16,
    init(mem, persistentPtr) {
      mem.f32(persistentPtr, spatial).fill(1);
    },
    run(mem, [xv, sv, bv], [y], _scratch, ones) {
      if (planes === 0 || spatial === 0) return;
      layerNormF32(mem.exports, xv!.ptr, y!.ptr, ones, 0, 0, 0, spatial, eps, 0, planes);
      channelAffineF32(mem.exports, y!.ptr, y!.ptr, sv!.ptr, bv!.ptr, channels, spatial, 0, planes);
    },
  };
});
