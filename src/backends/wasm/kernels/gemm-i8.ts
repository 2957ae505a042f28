// Typed wrapper over the int8 GEMM exports (assembly/gemm_i8.ts, gemm_i8_pack.ts): packing of
// weights (once) and activations (per call), requantization parameters, and the call itself.
// Pointers are byte offsets into the module's linear memory.
//
// Path choice: path 0 (i16 dot, both builds) always works; path 1 (relaxed int8 dot) needs the
// relaxed build and weights whose rows/columns (minus their zero point) span at most 127, i.e.
// 7-bit weights. packWeightsI8 tries path 1 when allowed and falls back to path 0, recording the
// path; the activations must then be packed for the same path.
import type { KilnWasmExports } from '../loader.js';
import type { ThreadPool } from '../threads/pool.js';
import { requantScale, type RequantScale } from '../../../ops/requant-exact.js';
import { familyExports } from './exports.js';

export interface GemmI8Exports {
  gemmI8(
    lhs: number, rhs: number, M: number, N: number, K: number, path: number,
    m0: number, m1: number, n0: number, n1: number,
    out: number, ldo: number, outKind: number,
    bias: number, mult: number, multPerChan: number, zp: number, zpPerChan: number, axisCols: number,
  ): void;
  gemmI8SetWeightsOnLhs(v: number): void;
  gemmI8HasDotPath(): number;
  gemmI8LhsBytes(M: number, K: number, path: number): number;
  gemmI8RhsBytes(K: number, N: number, path: number): number;
  gemmI8PaddedK(K: number, path: number): number;
  gemmI8PackLhs(src: number, ld: number, M: number, K: number, signed: number, zp: number, zpLen: number, role: number, dst: number, m0: number, m1: number): number;
  gemmI8PackRhs(src: number, ld: number, K: number, N: number, signed: number, zp: number, zpLen: number, role: number, dst: number, n0: number, n1: number): number;
  gemmI8PackRhsT(src: number, ld: number, K: number, N: number, signed: number, zp: number, zpLen: number, role: number, dst: number, n0: number, n1: number): number;
  gemmI8Im2col(
    x: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number,
    pt: number, pl: number, OH: number, OW: number, fill: number, dst: number, ldd: number, k0: number, k1: number,
  ): void;
}

const NAMES = [
  'gemmI8', 'gemmI8SetWeightsOnLhs', 'gemmI8HasDotPath', 'gemmI8LhsBytes', 'gemmI8RhsBytes', 'gemmI8PaddedK',
  'gemmI8PackLhs', 'gemmI8PackRhs', 'gemmI8PackRhsT', 'gemmI8Im2col',
] as const;

export function gemmI8Exports(ex: KilnWasmExports): GemmI8Exports {
  return familyExports<GemmI8Exports>(ex, 'gemm-i8', NAMES);
}

export type Q8Type = 'uint8' | 'int8';
/** 0: i16 dot (any build); 1: relaxed int8 dot with 7-bit weights. */
export type GemmI8Path = 0 | 1;
export type GemmI8Out = 'int32' | Q8Type;

/** Role codes of the packers (see assembly/gemm_i8_pack.ts). */
const ROLE_I16 = 0;
const ROLE_ACT = 1;
const ROLE_WEIGHT = 2;

/** Where a weight operand sits: LHS rows (conv weights [Cout, K]) or RHS columns (MatMul B). */
export type WeightSide = 'lhs' | 'rhs' | 'rhsT';

export interface WeightPackI8 {
  side: WeightSide;
  /** Source bytes: lhs [rows, K] row-major, rhs [K, cols] row-major, rhsT [cols, K] row-major. */
  src: number;
  /** Source row stride in bytes (defaults to dense). */
  ld?: number;
  /** Rows (lhs) or columns (rhs, rhsT) of the weight. */
  lines: number;
  K: number;
  type: Q8Type;
  /** int32 zero points in memory (0 = none) and their count: 1 or `lines`. */
  zp: number;
  zpLen: number;
  dst: number;
  /** Try path 1 (needs the relaxed build); falls back to path 0 when the weights are not 7-bit. */
  allowDot: boolean;
}

/** Bytes to reserve for packed weights: the path 0 size, which bounds path 1's. */
export function weightPackBytesI8(ex: GemmI8Exports, side: WeightSide, lines: number, K: number): number {
  return (side === 'lhs' ? ex.gemmI8LhsBytes(lines, K, 0) : ex.gemmI8RhsBytes(K, lines, 0)) >>> 0;
}

/** Packs a constant weight operand once; returns the path it was packed for. */
export function packWeightsI8(ex: GemmI8Exports, w: WeightPackI8): GemmI8Path {
  const signed = w.type === 'int8' ? 1 : 0;
  const run = (role: number): number => {
    if (w.side === 'lhs') return ex.gemmI8PackLhs(w.src, w.ld ?? w.K, w.lines, w.K, signed, w.zp, w.zpLen, role, w.dst, 0, w.lines);
    if (w.side === 'rhs') return ex.gemmI8PackRhs(w.src, w.ld ?? w.lines, w.K, w.lines, signed, w.zp, w.zpLen, role, w.dst, 0, w.lines);
    return ex.gemmI8PackRhsT(w.src, w.ld ?? w.K, w.K, w.lines, signed, w.zp, w.zpLen, role, w.dst, 0, w.lines);
  };
  if (w.allowDot && ex.gemmI8HasDotPath() && run(ROLE_WEIGHT) === 1) return 1;
  run(ROLE_I16);
  return 0;
}

export interface ActivationPackI8 {
  side: 'lhs' | 'rhs';
  /** lhs: [rows, K] row-major; rhs: [K, cols] row-major. */
  src: number;
  ld?: number;
  lines: number;
  K: number;
  type: Q8Type;
  /** Per-tensor zero point (a number, not a pointer). */
  zeroPoint: number;
  dst: number;
  path: GemmI8Path;
  /** Sub-range of rows (lhs, start a multiple of 4) or columns (rhs, start a multiple of 8). */
  l0?: number;
  l1?: number;
}

export function activationPackBytesI8(ex: GemmI8Exports, side: 'lhs' | 'rhs', lines: number, K: number, path: GemmI8Path): number {
  return (side === 'lhs' ? ex.gemmI8LhsBytes(lines, K, path) : ex.gemmI8RhsBytes(K, lines, path)) >>> 0;
}

/**
 * Packs an activation operand. The zero point is passed through `zpCell`, a 4-byte cell in memory
 * the wrapper writes (the packers read zero points from memory).
 */
export function packActivationsI8(ex: GemmI8Exports, mem: WebAssembly.Memory, zpCell: number, a: ActivationPackI8): void {
  new Int32Array(mem.buffer, zpCell, 1)[0] = a.zeroPoint;
  const signed = a.type === 'int8' ? 1 : 0;
  const role = a.path === 1 ? ROLE_ACT : ROLE_I16;
  const l0 = a.l0 ?? 0;
  const l1 = a.l1 ?? a.lines;
  if (a.side === 'lhs') ex.gemmI8PackLhs(a.src, a.ld ?? a.K, a.lines, a.K, signed, zpCell, 1, role, a.dst, l0, l1);
  else ex.gemmI8PackRhs(a.src, a.ld ?? a.lines, a.K, a.lines, signed, zpCell, 1, role, a.dst, l0, l1);
}

/**
 * Requantization parameters in memory: the multiplier block of assembly/requant_i8.ts (see
 * requantBlockI8), zero points and bias as int32, per-channel arrays padded to a multiple of 8.
 */
export interface RequantI8 {
  out: Q8Type;
  /** Multiplier block: per tensor (1 entry per array) or one entry per channel. */
  mult: number;
  multPerChannel: boolean;
  /** Entries per array of a per-channel block (paddedChannels of the channel count). */
  multEntries?: number;
  /** int32 output zero points (0 = none): 1 or one per channel. */
  zp: number;
  zpPerChannel: boolean;
}

export interface GemmI8Call {
  lhs: number;
  rhs: number;
  M: number;
  N: number;
  K: number;
  path: GemmI8Path;
  /** Path 1 only: the LHS holds the weights (conv), so the 7-bit operand is the broadcast one. */
  weightsOnLhs?: boolean;
  out: number;
  /** Output row stride in elements (defaults to N). */
  ldo?: number;
  /** Absent: raw int32 output. */
  requant?: RequantI8;
  /** int32 bias per channel (0 = none); requantized outputs only. */
  bias?: number;
  /** Channel axis of bias / per-channel requant: rows (conv output channels) or columns (MatMul). */
  channelAxis?: 'rows' | 'cols';
  m0?: number;
  m1?: number;
  n0?: number;
  n1?: number;
}

export function gemmI8(ex: GemmI8Exports, c: GemmI8Call): void {
  ex.gemmI8SetWeightsOnLhs(c.weightsOnLhs ? 1 : 0);
  const a = gemmI8Args(c);
  ex.gemmI8(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!, a[16]!, a[17]!, a[18]!);
}

/** gemmI8's argument list for a call (the order of the export and of its pool-kernels entry). */
function gemmI8Args(c: GemmI8Call): number[] {
  const q = c.requant;
  return [
    c.lhs, c.rhs, c.M, c.N, c.K, c.path,
    c.m0 ?? 0, c.m1 ?? c.M, c.n0 ?? 0, c.n1 ?? c.N,
    c.out, c.ldo ?? c.N, q ? (q.out === 'uint8' ? 1 : 2) : 0,
    q ? (c.bias ?? 0) : 0, q?.mult ?? 0, multPerChannelArg(q), q?.zp ?? 0, q?.zpPerChannel ? 1 : 0,
    c.channelAxis === 'cols' ? 1 : 0,
  ];
}

// ---- threads ------------------------------------------------------------------------------------
// Every int8 kernel takes an output sub-range, so one call can be cut over the session's worker
// pool (kernels named as in pool-kernels.ts). Integer arithmetic gives the same bits however the
// ranges are cut, so results never depend on the thread count.

/** Where an int8 call may split: the pool and the bytes between per-thread scratch slices. */
export interface I8Parallel {
  pool: ThreadPool;
  scratchStride: number;
}

/**
 * int8 multiply-adds per thread below which a call stays on one thread: ~0.5M MACs is ~8 us of
 * int8 GEMM here, a few times what handing a job to a spinning worker costs.
 */
export const I8_MIN_MACS_PER_THREAD = 2 ** 19;
/** Bytes a packing or im2col pass must move per thread before it is split (it is memory-bound). */
const MIN_PACK_BYTES_PER_THREAD = 2 ** 15;

/**
 * The parallel context for a call of `macs` multiply-adds, or undefined when one thread should do
 * it. A split call uses every thread of the pool (and CHUNKING's chunk count): on a 2-4 thread
 * pool a smaller share would only save a wake-up, and fewer distinct chunk counts leave fewer
 * chances for a worker that wakes late for one job to misread the next one's descriptor.
 */
export function i8Parallel(pool: ThreadPool | undefined, scratchStride: number, macs: number): I8Parallel | undefined {
  if (!pool || pool.threads < 2 || macs < 2 * I8_MIN_MACS_PER_THREAD) return undefined;
  return { pool, scratchStride };
}

/**
 * Four chunks per thread: a worker that wakes late (tens of microseconds from Atomics.wait, more
 * when another process holds its core) still finds work, instead of the calling thread having
 * claimed every chunk of a sub-millisecond job before it arrives.
 */
const CHUNKING = { chunksPerThread: 4 } as const;

function worthSplitting(par: I8Parallel | undefined, bytes: number): par is I8Parallel {
  return par !== undefined && bytes >= 2 * MIN_PACK_BYTES_PER_THREAD;
}

/**
 * gemmI8 over the pool when `par` is given: the dimension with more micro-tiles is split (pixels of
 * a large feature map, channels of a small one), so each thread still fills whole tiles.
 *
 * The pool's instances keep gemmI8SetWeightsOnLhs's flag in their own globals, at its initial
 * false. Path 1 with the weights on the LHS (conv) would need the flag broadcast to every worker,
 * and pool.broadcast is not used: a worker that starts or wakes late can miss a broadcast (run()
 * then waits forever) or take the previous job's descriptor for it. Such calls stay on the calling
 * thread, and quantConv (ops/qlinear.ts) packs conv weights for path 0 when the plan has a pool.
 */
export function gemmI8Parallel(ex: GemmI8Exports, c: GemmI8Call, par: I8Parallel | undefined): void {
  const ranged = c.m0 !== undefined || c.m1 !== undefined || c.n0 !== undefined || c.n1 !== undefined;
  if (!par || ranged || (c.path === 1 && c.weightsOnLhs)) {
    gemmI8(ex, c);
    return;
  }
  const byN = Math.ceil(c.N / 8) >= Math.ceil(c.M / 4);
  par.pool.run('gemmI8', gemmI8Args(c), byN ? 'n' : 'm', byN ? c.N : c.M, CHUNKING);
}

/** packActivationsI8 with its lines (rows of an LHS, columns of an RHS) cut over the pool. */
export function packActivationsI8Parallel(ex: GemmI8Exports, mem: WebAssembly.Memory, zpCell: number, a: ActivationPackI8, par: I8Parallel | undefined): void {
  if (!worthSplitting(par, a.lines * a.K) || a.l0 !== undefined || a.l1 !== undefined) {
    packActivationsI8(ex, mem, zpCell, a);
    return;
  }
  new Int32Array(mem.buffer, zpCell, 1)[0] = a.zeroPoint;
  const args = [
    a.src, a.ld ?? (a.side === 'lhs' ? a.K : a.lines), a.side === 'lhs' ? a.lines : a.K, a.side === 'lhs' ? a.K : a.lines,
    a.type === 'int8' ? 1 : 0, zpCell, 1, a.path === 1 ? ROLE_ACT : ROLE_I16, a.dst, 0, a.lines,
  ];
  if (a.side === 'lhs') par.pool.run('gemmI8PackLhs', args, 'm', a.lines, CHUNKING);
  else par.pool.run('gemmI8PackRhs', args, 'n', a.lines, CHUNKING);
}

/** The kernels' multPerChan argument: 0 per tensor, else the block's entries per array. */
function multPerChannelArg(q: RequantI8 | undefined): number {
  if (!q?.multPerChannel) return 0;
  if (!q.multEntries) throw new Error('gemm-i8: a per-channel multiplier block needs multEntries');
  return q.multEntries;
}

/**
 * The multiplier block of assembly/requant_i8.ts for x_scale (per tensor), w_scale (1 or one per
 * channel) and y_scale (per tensor): see requantBlockOf. Same values as src/ops/requant-exact.ts's
 * requantScale, so the kernels round exactly as the reference.
 */
export function requantBlockI8(xScale: number, wScales: ArrayLike<number>, yScale: number): { block: Float64Array; entries: number } {
  const perChannel = wScales.length > 1;
  const entries = perChannel ? paddedChannels(wScales.length) : 1;
  const scales = Array.from({ length: entries }, (_, c) => requantScale(xScale, wScales[Math.min(c, wScales.length - 1)]!, yScale));
  return { block: requantBlockOf(scales), entries };
}

/**
 * The multiplier block for one RequantScale per entry: float64 arrays m = p / y_scale,
 * p = x_scale * w_scale and y_scale, then m32 = fround(m) as float32 in the low half of each 8-byte
 * entry of a fourth array (8 bytes apart, so a pointer offset by channels moves every array alike).
 * m32 is capped at the largest float32 (acc * m32 then saturates as acc * m does, never meeting
 * 0 * infinity).
 */
export function requantBlockOf(scales: readonly RequantScale[]): Float64Array {
  const entries = scales.length;
  const block = new Float64Array(4 * entries);
  const m32 = new Float32Array(block.buffer, 3 * entries * 8, 2 * entries);
  scales.forEach((s, c) => {
    block[c] = s.m;
    block[entries + c] = s.p;
    block[2 * entries + c] = s.ys;
    m32[2 * c] = Math.min(s.m, FLOAT32_MAX);
  });
  return block;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Entries to allocate for a per-channel array read 8 at a time. */
export function paddedChannels(n: number): number {
  return Math.ceil(n / 8) * 8;
}

// ---- convolution (QLinearConv / ConvInteger) -----------------------------------------------------

export interface DwConvI8Exports {
  dwConv3x3I8ScratchBytes(H: number, W: number, pt: number, pl: number, pb: number, pr: number): number;
  dwConv3x3I8(
    x: number, C: number, H: number, W: number, xSigned: number, zx: number,
    w: number, wSigned: number, zw: number, zwLen: number,
    stride: number, pt: number, pl: number, pb: number, pr: number, OH: number, OW: number,
    out: number, outKind: number, bias: number, mult: number, multPerChan: number, zp: number,
    scratch: number, c0: number, c1: number,
  ): void;
}

export function dwConvI8Exports(ex: KilnWasmExports): DwConvI8Exports & GemmI8Exports {
  gemmI8Exports(ex);
  return familyExports<DwConvI8Exports & GemmI8Exports>(ex, 'conv-i8', ['dwConv3x3I8ScratchBytes', 'dwConv3x3I8']);
}

/** NCHW convolution geometry (2-D), as ONNX Conv attributes resolve it. */
export interface ConvGeometryI8 {
  batch: number;
  C: number;
  H: number;
  W: number;
  Cout: number;
  group: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** Pads: top, left, bottom, right. */
  pt: number;
  pl: number;
  pb: number;
  pr: number;
  OH: number;
  OW: number;
}

/** True when the direct depthwise 3x3 kernel applies (otherwise im2col + GEMM per group). */
export function isDepthwise3x3(g: ConvGeometryI8): boolean {
  return g.group === g.C && g.Cout === g.C && g.kh === 3 && g.kw === 3 && g.dh === 1 && g.dw === 1
    && g.sh === g.sw && (g.sh === 1 || g.sh === 2);
}

export interface ConvWeightsI8 {
  /** Direct depthwise: the raw weights are read in place (w, zp), no packing. */
  depthwise: boolean;
  path: GemmI8Path;
  /** Packed LHS of each group, `groupBytes` apart, starting at `ptr` (GEMM form). */
  ptr: number;
  groupBytes: number;
}

/** Bytes to reserve for convWeightsI8's packed form (0 for the direct depthwise kernel). */
export function convWeightBytesI8(ex: GemmI8Exports, g: ConvGeometryI8): number {
  if (isDepthwise3x3(g)) return 0;
  const K = (g.C / g.group) * g.kh * g.kw;
  return g.group * weightPackBytesI8(ex, 'lhs', g.Cout / g.group, K);
}

/**
 * Packs conv weights [Cout, C / group, kh, kw] (bytes at w, int32 zero points zp: 1 or Cout) once,
 * group by group as GEMM LHS operands. Path 1 is used only if every group fits 7 bits.
 */
export function packConvWeightsI8(
  ex: GemmI8Exports, g: ConvGeometryI8, w: number, type: Q8Type, zp: number, zpLen: number, dst: number, allowDot: boolean,
): ConvWeightsI8 {
  if (isDepthwise3x3(g)) return { depthwise: true, path: 0, ptr: w, groupBytes: 0 };
  const Mg = g.Cout / g.group;
  const K = (g.C / g.group) * g.kh * g.kw;
  const groupBytes = weightPackBytesI8(ex, 'lhs', Mg, K);
  const packAll = (dot: boolean): GemmI8Path => {
    let path: GemmI8Path = dot ? 1 : 0;
    for (let gi = 0; gi < g.group && path === 1; gi++) {
      path = packWeightsI8(ex, {
        side: 'lhs', src: w + gi * Mg * K, lines: Mg, K, type, zp: zp + (zpLen === 1 ? 0 : gi * Mg * 4), zpLen: zpLen === 1 ? 1 : Mg,
        dst: dst + gi * groupBytes, allowDot: true,
      });
    }
    if (path === 0) {
      for (let gi = 0; gi < g.group; gi++) {
        packWeightsI8(ex, {
          side: 'lhs', src: w + gi * Mg * K, lines: Mg, K, type, zp: zp + (zpLen === 1 ? 0 : gi * Mg * 4), zpLen: zpLen === 1 ? 1 : Mg,
          dst: dst + gi * groupBytes, allowDot: false,
        });
      }
    }
    return path;
  };
  const path = packAll(allowDot && ex.gemmI8HasDotPath() === 1);
  return { depthwise: false, path, ptr: dst, groupBytes };
}

/** Scratch bytes one convI8 call needs (16-byte aligned region, private to the call). */
export function convScratchBytesI8(ex: DwConvI8Exports & GemmI8Exports, g: ConvGeometryI8, path: GemmI8Path): number {
  if (isDepthwise3x3(g)) return ex.dwConv3x3I8ScratchBytes(g.H, g.W, g.pt, g.pl, g.pb, g.pr) >>> 0;
  const K = (g.C / g.group) * g.kh * g.kw;
  const N = g.OH * g.OW;
  const col = pointwise(g) ? 0 : align64(K * N + 16);
  return col + align64(ex.gemmI8RhsBytes(K, N, path) >>> 0) + 64;
}

function pointwise(g: ConvGeometryI8): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && g.pb === 0 && g.pr === 0;
}

function align64(x: number): number {
  return Math.ceil(x / 64) * 64;
}

export interface ConvI8Call {
  g: ConvGeometryI8;
  weights: ConvWeightsI8;
  /** Input [batch, C, H, W] bytes, its type and per-tensor zero point. */
  x: number;
  xType: Q8Type;
  xZeroPoint: number;
  /** Raw weights (needed by the depthwise kernel), their type and zero points (int32, 1 or Cout). */
  w: number;
  wType: Q8Type;
  wZp: number;
  wZpLen: number;
  /** Output [batch, Cout, OH, OW]: int32 when requant is absent, else u8/s8. */
  out: number;
  requant?: RequantI8;
  /** int32 bias per output channel (0 = none). */
  bias?: number;
  scratch: number;
}

/**
 * One QLinearConv / ConvInteger over the whole batch. With `par`, each stage is cut over the pool:
 * the depthwise kernel by channels (each thread widens its channels into its own scratch slice),
 * im2col by rows of K, the RHS packing by pixels and the GEMM by pixels or channels; the im2col
 * and packed buffers are shared, so they live in the calling thread's scratch slice.
 */
export function convI8(ex: DwConvI8Exports & GemmI8Exports, mem: WebAssembly.Memory, c: ConvI8Call, par?: I8Parallel): void {
  const { g, weights: wt, requant: q } = c;
  const outElem = q ? 1 : 4;
  const plane = g.OH * g.OW;
  const outKind = q ? (q.out === 'uint8' ? 1 : 2) : 0;
  if (wt.depthwise) {
    // The zero point of y is read per tensor by the direct kernel.
    for (let b = 0; b < g.batch; b++) {
      const args = [
        c.x + b * g.C * g.H * g.W, g.C, g.H, g.W, c.xType === 'int8' ? 1 : 0, c.xZeroPoint,
        c.w, c.wType === 'int8' ? 1 : 0, c.wZp, c.wZpLen,
        g.sh, g.pt, g.pl, g.pb, g.pr, g.OH, g.OW,
        c.out + b * g.Cout * plane * outElem, outKind, q ? (c.bias ?? 0) : 0, q?.mult ?? 0, multPerChannelArg(q), q?.zp ?? 0,
        c.scratch, 0, g.C,
      ];
      if (par) {
        par.pool.run('dwConv3x3I8', args, 'c', g.C, { scratch: { base: c.scratch, stride: par.scratchStride }, ...CHUNKING });
      } else {
        ex.dwConv3x3I8(
          args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!, args[6]!, args[7]!, args[8]!, args[9]!, args[10]!, args[11]!, args[12]!,
          args[13]!, args[14]!, args[15]!, args[16]!, args[17]!, args[18]!, args[19]!, args[20]!, args[21]!, args[22]!, args[23]!, args[24]!, args[25]!,
        );
      }
    }
    return;
  }
  const Cg = g.C / g.group;
  const Mg = g.Cout / g.group;
  const K = Cg * g.kh * g.kw;
  const N = plane;
  const direct = pointwise(g);
  const col = c.scratch;
  const rhs = direct ? c.scratch : c.scratch + align64(K * N + 16);
  const zpCell = rhs + align64(ex.gemmI8RhsBytes(K, N, wt.path) >>> 0);
  const splitCols = worthSplitting(par, K * N);
  for (let b = 0; b < g.batch; b++) {
    for (let gi = 0; gi < g.group; gi++) {
      const xg = c.x + (b * g.C + gi * Cg) * g.H * g.W;
      let src = xg;
      if (!direct) {
        const args = [xg, Cg, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.OH, g.OW, c.xZeroPoint & 0xff, col, N, 0, K];
        if (splitCols) par.pool.run('gemmI8Im2col', args, 'k', K, CHUNKING);
        else ex.gemmI8Im2col(xg, Cg, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.OH, g.OW, c.xZeroPoint & 0xff, col, N, 0, K);
        src = col;
      }
      packActivationsI8Parallel(ex, mem, zpCell, { side: 'rhs', src, ld: N, lines: N, K, type: c.xType, zeroPoint: c.xZeroPoint, dst: rhs, path: wt.path }, par);
      const ch0 = gi * Mg;
      const rq = q ? {
        ...q, mult: q.mult + (q.multPerChannel ? ch0 * 8 : 0), zp: q.zp && q.zpPerChannel ? q.zp + ch0 * 4 : q.zp,
      } : undefined;
      gemmI8Parallel(ex, {
        lhs: wt.ptr + gi * wt.groupBytes, rhs, M: Mg, N, K, path: wt.path, weightsOnLhs: true,
        out: c.out + (b * g.Cout + ch0) * plane * outElem, ldo: N, requant: rq,
        bias: c.bias ? c.bias + ch0 * 4 : 0, channelAxis: 'rows',
      }, par);
    }
  }
}

/** Multiply-adds of one conv call (what decides whether it is worth threads). */
export function convMacsI8(g: ConvGeometryI8): number {
  return g.batch * g.Cout * g.OH * g.OW * (g.C / g.group) * g.kh * g.kw;
}
