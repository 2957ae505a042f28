// The kernels the WASM backend splits over its thread pool: the pool's defaults plus conv.
import { DEFAULT_KERNELS } from './threads/kernels.js';
import type { KernelTable } from './threads/protocol.js';

export const POOL_KERNELS: KernelTable = {
  ...DEFAULT_KERNELS,
  // assembly/conv_f32.ts: convF32(desc, x, wPacked, y, epi, scratch, co0, co1, p0, p1). Output
  // channels split depthwise convs; pixels split the others, so each thread builds only its own
  // im2col columns (pixel chunks align to the GEMM's 8-column tile).
  convF32: {
    export: 'convF32',
    args: 'iiiiiiiiii',
    splits: { co: { lo: 6, hi: 7, align: 1 }, p: { lo: 8, hi: 9, align: 8 } },
    scratchArg: 5,
  },
};
