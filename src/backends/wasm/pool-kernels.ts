// The kernels the WASM backend splits over its thread pool: the pool's defaults plus conv, the int8
// conv stages (kernels/gemm-i8.ts), int4 GEMV and the sparse kernels.
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
  // assembly/conv_i8.ts: dwConv3x3I8(x, C, H, W, xSigned, zx, w, wSigned, zw, zwLen, stride, pt, pl,
  // pb, pr, OH, OW, out, outKind, bias, mult, multPerChan, zp, scratch, c0, c1): channels split,
  // each thread widening its channels' planes in its own scratch slice.
  dwConv3x3I8: {
    export: 'dwConv3x3I8',
    args: 'iiiiiiiiiiiiiiiiiiiiiiiiii',
    splits: { c: { lo: 24, hi: 25, align: 1 } },
    scratchArg: 23,
  },
  // assembly/gemm_i8_pack.ts: gemmI8Im2col(x, C, H, W, kh, kw, sh, sw, dh, dw, pt, pl, OH, OW, fill,
  // dst, ldd, k0, k1): rows of the column matrix (each row is whole, so threads never share bytes).
  gemmI8Im2col: { export: 'gemmI8Im2col', args: 'iiiiiiiiiiiiiiiiiii', splits: { k: { lo: 17, hi: 18, align: 1 } } },
  // gemmI8PackLhs/PackRhs(src, ld, M|K, K|N, signed, zp, zpLen, role, dst, l0, l1): whole panels
  // (4 rows / 8 columns) per chunk.
  gemmI8PackLhs: { export: 'gemmI8PackLhs', args: 'iiiiiiiiiii', splits: { m: { lo: 9, hi: 10, align: 4 } } },
  gemmI8PackRhs: { export: 'gemmI8PackRhs', args: 'iiiiiiiiiii', splits: { n: { lo: 9, hi: 10, align: 8 } } },
  // assembly/gemv_i4.ts: gemvI4F32(packed, K, N, x, ldx, M, y, ldy, n0, n1, hasZp, scratch): output
  // columns; each thread copies the activations into its own scratch slice. Chunks of 16 columns
  // keep threads off each other's output cache lines.
  gemvI4F32: {
    export: 'gemvI4F32',
    args: 'iiiiiiiiiiii',
    splits: { n: { lo: 8, hi: 9, align: 16 } },
    scratchArg: 11,
  },
  // gemvI4Q8(packed, K, N, prepared, M, y, ldy, n0, n1): columns in whole groups of 8 (n0 must be
  // a multiple of 8); the activations prepared once by gemvI4Q8Prepare are shared, not scratch.
  gemvI4Q8: { export: 'gemvI4Q8', args: 'iiiiiiiii', splits: { n: { lo: 7, hi: 8, align: 16 } } },
  // assembly/sparse.ts: spmvCsr(rowPtr, colIdx, vals, valKind, scales, scalePerRow, x, y, r0, r1,
  // idx16) and spmmCsr(..., B, ldb, C, ldc, r0, r1, n0, n1, idx16): output rows (SpMM also
  // columns); sparse_nm.ts: gemv24F32(vals, codes, K, rows, table, y, r0, r1), the x table built
  // once by gemv24Prepare and shared.
  spmvCsr: { export: 'spmvCsr', args: 'iiiiiiiiiii', splits: { r: { lo: 8, hi: 9, align: 16 } } },
  spmmCsr: {
    export: 'spmmCsr',
    args: 'iiiiiiiiiiiiiii',
    splits: { r: { lo: 10, hi: 11, align: 1 }, n: { lo: 12, hi: 13, align: 16 } },
  },
  gemv24F32: { export: 'gemv24F32', args: 'iiiiiiii', splits: { r: { lo: 6, hi: 7, align: 16 } } },
  // spmvBsr4(blkPtr, blkCol, vals, x, y, N, g0, g1, idx16): groups of 4 output rows.
  spmvBsr4: { export: 'spmvBsr4', args: 'iiiiiiiii', splits: { g: { lo: 6, hi: 7, align: 4 } } },
  // assembly/resize.ts: resizeAxisF32(src, dst, inLen, outLen, inner, table, n, extrapolation, r0, r1):
  // output rows of one resampled axis (ops/resize.ts picks the chunk alignment per call).
  resizeAxisF32: { export: 'resizeAxisF32', args: 'iiiiiiifii', splits: { r: { lo: 8, hi: 9, align: 1 } } },
  // assembly/conv_transpose_f32.ts: convTransposeF32(desc, x, wPacked, y, scratch, m0, m1, t0, t1):
  // output channels, or output rows of the outermost spatial axis (each chunk re-does the GEMM of
  // the input rows it shares with its neighbours and writes only its own rows).
  convTransposeF32: {
    export: 'convTransposeF32',
    args: 'iiiiiiiii',
    splits: { m: { lo: 5, hi: 6, align: 1 }, t: { lo: 7, hi: 8, align: 1 } },
    scratchArg: 4,
  },
  // assembly/conv3d_f32.ts: conv3dF32(desc, x, wPacked, y, epi, scratch, co0, co1, p0, p1): output
  // pixels, each thread gathering only its own im2col columns (8-column GEMM tiles).
  conv3dF32: {
    export: 'conv3dF32',
    args: 'iiiiiiiiii',
    splits: { co: { lo: 6, hi: 7, align: 1 }, p: { lo: 8, hi: 9, align: 8 } },
    scratchArg: 5,
  },
  // assembly/pool.ts: poolF32(kind, x, y, geom, p0, p1), globalPoolF32(kind, x, y, n, p0, p1);
  // assembly/pool_lp.ts: lpPoolF32(x, y, geom, p, p0, p1), globalLpPoolF32(x, y, n, p, p0, p1):
  // planes, each written whole by one thread.
  poolF32: { export: 'poolF32', args: 'iiiiii', splits: { p: { lo: 4, hi: 5, align: 1 } } },
  globalPoolF32: { export: 'globalPoolF32', args: 'iiiiii', splits: { p: { lo: 4, hi: 5, align: 16 } } },
  lpPoolF32: { export: 'lpPoolF32', args: 'iiiiii', splits: { p: { lo: 4, hi: 5, align: 1 } } },
  globalLpPoolF32: { export: 'globalLpPoolF32', args: 'iiiiii', splits: { p: { lo: 4, hi: 5, align: 16 } } },
  // assembly/pool_i8.ts: maxPoolI8(x, y, geom, signed, p0, p1), globalMaxPoolI8(x, y, n, signed, p0, p1).
  maxPoolI8: { export: 'maxPoolI8', args: 'iiiiii', splits: { p: { lo: 4, hi: 5, align: 1 } } },
  globalMaxPoolI8: { export: 'globalMaxPoolI8', args: 'iiiiii', splits: { p: { lo: 4, hi: 5, align: 64 } } },
  // assembly/pool_argmax.ts: maxPoolArgF32(x, y, idx, geom, storageOrder, p0, p1).
  maxPoolArgF32: { export: 'maxPoolArgF32', args: 'iiiiiii', splits: { p: { lo: 5, hi: 6, align: 1 } } },
};
