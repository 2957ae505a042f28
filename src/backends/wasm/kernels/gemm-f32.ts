// Typed wrapper over the f32 GEMM/GEMV exports of assembly/gemm_f32.ts: the epilogue block layout,
// weight pre-packing, scratch sizing and the call itself. Pointers are byte offsets into the
// module's linear memory; nothing here allocates inside that memory except the test/bench helper
// `gemmF32OnHost`, which lays out its own operands.
import type { KilnWasmExports } from '../loader.js';

/** Activation fused into the GEMM/conv store. */
export type ActivationF32 =
  | { kind: 'none' }
  | { kind: 'relu' }
  | { kind: 'clip'; min: number; max: number }
  | { kind: 'leakyRelu'; alpha: number }
  | { kind: 'sigmoid' }
  | { kind: 'gelu'; approximate?: 'none' | 'tanh' };

/**
 * How the bias term is indexed: per row of C (conv: per output channel), per column (Gemm bias [N]),
 * a full [M, N] matrix with leading dimension `biasLd`, or one scalar.
 */
export type BiasModeF32 = 'none' | 'row' | 'col' | 'full' | 'scalar';

/** out = activation(alpha * (A.B) + beta * bias). */
export interface EpilogueF32 {
  activation?: ActivationF32;
  alpha?: number;
  beta?: number;
  /** Byte offset of the bias data in linear memory (0 for none). */
  biasPtr?: number;
  biasMode?: BiasModeF32;
  /** Elements between bias rows, 'full' mode only. */
  biasLd?: number;
}

/** Bytes of one epilogue block (assembly/epilogue_f32.ts). */
export const EPILOGUE_F32_BYTES = 32;

const ACT_CODE: Record<ActivationF32['kind'], number> = { none: 0, relu: 1, clip: 2, leakyRelu: 3, sigmoid: 4, gelu: 5 };
const BIAS_CODE: Record<BiasModeF32, number> = { none: 0, row: 1, col: 2, full: 3, scalar: 4 };

/** Writes the 32-byte epilogue block the kernels read at `ptr`. */
export function writeEpilogueF32(buffer: ArrayBufferLike, ptr: number, e: EpilogueF32): void {
  const v = new DataView(buffer, ptr, EPILOGUE_F32_BYTES);
  const act = e.activation ?? { kind: 'none' };
  let code = ACT_CODE[act.kind];
  let p0 = 0;
  let p1 = 0;
  if (act.kind === 'clip') {
    p0 = act.min;
    p1 = act.max;
  } else if (act.kind === 'leakyRelu') {
    p0 = act.alpha;
  } else if (act.kind === 'gelu' && act.approximate === 'tanh') {
    code = 6;
  }
  const biasMode = e.biasPtr ? (e.biasMode ?? 'none') : 'none';
  v.setInt32(0, code, true);
  v.setFloat32(4, p0, true);
  v.setFloat32(8, p1, true);
  v.setFloat32(12, e.alpha ?? 1, true);
  v.setFloat32(16, e.beta ?? 1, true);
  v.setUint32(20, e.biasPtr ?? 0, true);
  v.setInt32(24, BIAS_CODE[biasMode], true);
  v.setInt32(28, e.biasLd ?? 0, true);
}

/** The exports this wrapper calls, with their wasm signatures. */
export interface GemmF32Exports {
  gemmF32(
    M: number, N: number, K: number,
    a: number, lda: number, transA: number, aPacked: number,
    b: number, ldb: number, transB: number, bPacked: number,
    c: number, ldc: number, epi: number, scratch: number,
    m0: number, m1: number, n0: number, n1: number,
  ): void;
  gemmF32ScratchBytes(M: number, N: number, K: number, aPacked: number, bPacked: number): number;
  gemmF32PackA(M: number, K: number, src: number, lda: number, transA: number, dst: number): void;
  gemmF32PackABytes(M: number, K: number): number;
  gemmF32PackB(K: number, N: number, src: number, ldb: number, transB: number, dst: number): void;
  gemmF32PackBBytes(K: number, N: number): number;
  gemmF32TileRows(): number;
  gemmF32TileCols(): number;
  epilogueActivateF32(x: number, y: number, n: number, act: number, p0: number, p1: number): void;
}

/** The GEMM exports of an instance, or an error naming the first one missing. */
export function gemmF32Exports(exports: KilnWasmExports): GemmF32Exports {
  for (const name of ['gemmF32', 'gemmF32ScratchBytes', 'gemmF32PackA', 'gemmF32PackABytes', 'gemmF32PackB', 'gemmF32PackBBytes']) {
    if (typeof exports[name] !== 'function') throw new Error(`Kiln WASM module lacks ${name}: rebuild with scripts/build-wasm.mjs`);
  }
  return exports as unknown as GemmF32Exports;
}

/** One GEMM call: C[m0..m1) x [n0..n1) of op(A)[M,K] . op(B)[K,N]. ld* default to dense row-major. */
export interface GemmF32Call {
  M: number;
  N: number;
  K: number;
  a: number;
  lda?: number;
  transA?: boolean;
  /** `a` holds gemmF32PackA output (then lda/transA are ignored). */
  aPacked?: boolean;
  b: number;
  ldb?: number;
  transB?: boolean;
  /** `b` holds gemmF32PackB output. */
  bPacked?: boolean;
  c: number;
  ldc?: number;
  /** Byte offset of an epilogue block written by writeEpilogueF32, or 0. */
  epilogue?: number;
  /** gemmF32ScratchBytes bytes, 16-byte aligned, private to this call. */
  scratch: number;
  m0?: number;
  m1?: number;
  n0?: number;
  n1?: number;
}

export function gemmF32(ex: GemmF32Exports, call: GemmF32Call): void {
  const { M, N, K } = call;
  const lda = call.lda ?? (call.transA ? M : K);
  const ldb = call.ldb ?? (call.transB ? K : N);
  ex.gemmF32(
    M, N, K,
    call.a, lda, call.transA ? 1 : 0, call.aPacked ? 1 : 0,
    call.b, ldb, call.transB ? 1 : 0, call.bPacked ? 1 : 0,
    call.c, call.ldc ?? N, call.epilogue ?? 0, call.scratch,
    call.m0 ?? 0, call.m1 ?? M, call.n0 ?? 0, call.n1 ?? N,
  );
}

export function gemmF32ScratchBytes(ex: GemmF32Exports, M: number, N: number, K: number, aPacked: boolean, bPacked: boolean): number {
  return ex.gemmF32ScratchBytes(M, N, K, aPacked ? 1 : 0, bPacked ? 1 : 0) >>> 0;
}

/** Packs a constant A (M x K, or K x M when transA) once; returns nothing, writes packABytes at dst. */
export function packAF32(ex: GemmF32Exports, M: number, K: number, src: number, dst: number, transA = false, lda = transA ? M : K): void {
  ex.gemmF32PackA(M, K, src, lda, transA ? 1 : 0, dst);
}

export function packABytesF32(ex: GemmF32Exports, M: number, K: number): number {
  return ex.gemmF32PackABytes(M, K) >>> 0;
}

/** Packs a constant B (K x N, or N x K when transB) once. */
export function packBF32(ex: GemmF32Exports, K: number, N: number, src: number, dst: number, transB = false, ldb = transB ? K : N): void {
  ex.gemmF32PackB(K, N, src, ldb, transB ? 1 : 0, dst);
}

export function packBBytesF32(ex: GemmF32Exports, K: number, N: number): number {
  return ex.gemmF32PackBBytes(K, N) >>> 0;
}

// ---- host helper for tests and benchmarks -------------------------------------------------------

/** A bump allocator over an instance's memory, starting at its heap base (tests and benches only). */
export class WasmArena {
  private top: number;
  constructor(readonly memory: WebAssembly.Memory, exports: KilnWasmExports) {
    this.top = align(exports.heapBase(), 64);
  }
  alloc(bytes: number): number {
    const ptr = this.top;
    this.top = align(ptr + Math.max(bytes, 0), 64);
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / 65536));
    return ptr;
  }
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
  putF32(data: Float32Array): number {
    const ptr = this.alloc(data.byteLength);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }
}

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

export interface GemmF32HostOptions {
  transA?: boolean;
  transB?: boolean;
  packA?: boolean;
  packB?: boolean;
  epilogue?: EpilogueF32;
  /** Bias values (placed in memory and referenced by the epilogue). */
  bias?: Float32Array;
  /** Initial C contents (read when the epilogue's biasMode is 'full' with biasPtr = C). */
  cInit?: Float32Array;
  range?: { m0: number; m1: number; n0: number; n1: number };
}

/** Runs one GEMM on host arrays through the arena (allocates every call: tests and benches only). */
export function gemmF32OnHost(
  arena: WasmArena, ex: GemmF32Exports, M: number, N: number, K: number, A: Float32Array, B: Float32Array, o: GemmF32HostOptions = {},
): Float32Array {
  let a = arena.putF32(A);
  let b = arena.putF32(B);
  if (o.packA) {
    const p = arena.alloc(packABytesF32(ex, M, K));
    packAF32(ex, M, K, a, p, o.transA);
    a = p;
  }
  if (o.packB) {
    const p = arena.alloc(packBBytesF32(ex, K, N));
    packBF32(ex, K, N, b, p, o.transB);
    b = p;
  }
  const c = arena.alloc(M * N * 4);
  if (o.cInit) arena.f32(c, M * N).set(o.cInit);
  let epi = 0;
  if (o.epilogue) {
    epi = arena.alloc(EPILOGUE_F32_BYTES);
    const biasPtr = o.bias ? arena.putF32(o.bias) : o.epilogue.biasPtr;
    const onC = o.epilogue.biasMode === 'full' && !o.bias;
    writeEpilogueF32(arena.memory.buffer, epi, { ...o.epilogue, biasPtr: onC ? c : biasPtr, biasLd: o.epilogue.biasLd ?? N });
  }
  const scratch = arena.alloc(gemmF32ScratchBytes(ex, M, N, K, !!o.packA, !!o.packB));
  gemmF32(ex, {
    M, N, K, a, b, c, scratch, epilogue: epi,
    transA: !!o.transA, transB: !!o.transB, aPacked: !!o.packA, bPacked: !!o.packB,
    ...(o.range ?? {}),
  });
  return arena.f32(c, M * N).slice();
}
