// Kiln's WASM kernels called directly through their typed wrappers in src/backends/wasm/kernels/.
// The wrappers are being written concurrently; a family whose module is missing, fails to import or
// lacks the expected export is reported as n/a with the reason, never as a number.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileVariant, instantiate, type WasmInstance, type WasmVariant } from '../../src/backends/wasm/loader.js';
import { csrFromDense } from '../../src/tensor/sparse-csr.js';
import { nmFromDense } from '../../src/tensor/sparse-nm.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { gemvRef } from './data.js';
import { NotAvailable, type Adapter, type Runner } from './types.js';

type GemmF32Module = typeof import('../../src/backends/wasm/kernels/gemm-f32.js');
type GemmI8Module = typeof import('../../src/backends/wasm/kernels/gemm-i8.js');
type GemvI4Module = typeof import('../../src/backends/wasm/kernels/gemv-i4.js');
type SparseModule = typeof import('../../src/backends/wasm/kernels/sparse.js');
type ThreadsModule = typeof import('../../src/backends/wasm/threads/index.js');
type Pool = Awaited<ReturnType<ThreadsModule['ThreadPool']['forVariant']>>;

export const VARIANTS: readonly WasmVariant[] = ['simd', 'relaxed'];

const KERNELS_DIR = new URL('../../src/backends/wasm/kernels/', import.meta.url);

/** Imports src/backends/wasm/kernels/<family>.ts, or throws NotAvailable saying why not. */
async function kernelModule(family: string): Promise<Record<string, unknown>> {
  return importSource(new URL(`${family}.ts`, KERNELS_DIR), `kernels/${family}.ts`);
}

async function importSource(url: URL, what: string): Promise<Record<string, unknown>> {
  if (!existsSync(fileURLToPath(url))) throw new NotAvailable(`${what} not landed yet`);
  try {
    return (await import(url.href)) as Record<string, unknown>;
  } catch (e) {
    throw new NotAvailable(`${what} failed to import: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * A thread pool of `threads` on a fresh shared memory, plus an instance of the shared build for the
 * main thread's own calls (packing). Released by the runner's dispose().
 */
async function pooledInstance(variant: WasmVariant, threads: number): Promise<{ inst: WasmInstance; pool: Pool; t: ThreadsModule }> {
  requireVariant(variant);
  const t = (await importSource(new URL('../../src/backends/wasm/threads/index.ts', import.meta.url), 'src/backends/wasm/threads')) as ThreadsModule;
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  const inst = instantiate(variant, memory);
  const pool = await t.ThreadPool.forVariant(variant, memory, threads);
  return { inst, pool, t };
}

function requireVariant(variant: WasmVariant): void {
  if (!compileVariant(variant)) throw new NotAvailable(`host cannot compile the ${variant} module`);
}

function threadsUnsupported(threads: number): void {
  if (threads !== 1) throw new NotAvailable('Kiln WASM has no thread pool yet');
}

/** A fresh instance of `variant` on its own memory, as a session would have. */
function freshInstance(variant: WasmVariant): WasmInstance {
  requireVariant(variant);
  return instantiate(variant, new WebAssembly.Memory({ initial: 1, maximum: 65536 }));
}

function pending(family: string, engine: string, variant: WasmVariant, threads = 1): Adapter {
  return {
    engine,
    kind: 'kiln',
    threads,
    async setup(): Promise<Runner> {
      requireVariant(variant);
      threadsUnsupported(threads);
      await kernelModule(family);
      throw new NotAvailable(`kernels/${family}.ts landed; bench adapter not wired yet`);
    },
  };
}

/**
 * C[m,n] = A[m,k] B[k,n]. B is packed once outside the timed loop (Kiln packs constant weights at
 * plan time); A is read as stored and packed inside the call, as activations are.
 */
function gemmF32Adapter(engine: string, variant: WasmVariant, m: number, k: number, n: number, a: () => Float32Array, b: () => Float32Array, bTransposed: boolean, threads: number): Adapter {
  return {
    engine,
    kind: 'kiln',
    threads,
    async setup(): Promise<Runner> {
      const g = (await kernelModule('gemm-f32')) as GemmF32Module;
      const { inst, pool, t } = threads > 1 ? await pooledInstance(variant, threads) : { inst: freshInstance(variant), pool: undefined, t: undefined };
      const ex = g.gemmF32Exports(inst.exports);
      const arena = new g.WasmArena(inst.memory, inst.exports);
      const aPtr = arena.putF32(a());
      const bRaw = arena.putF32(b());
      const bPtr = arena.alloc(g.packBBytesF32(ex, k, n));
      g.packBF32(ex, k, n, bRaw, bPtr, bTransposed);
      const cPtr = arena.alloc(m * n * 4);
      const scratchBytes = Math.ceil(g.gemmF32ScratchBytes(ex, m, n, k, false, true) / 64) * 64;
      const scratch = arena.alloc(scratchBytes * threads);
      const output = () => arena.f32(cPtr, m * n).slice();
      if (!pool) {
        return {
          run: () => g.gemmF32(ex, { M: m, N: n, K: k, a: aPtr, b: bPtr, bPacked: true, c: cPtr, scratch }),
          output,
          note: 'weights (B) pre-packed',
        };
      }
      // The split the runtime would pick (rows for a square GEMM with B pre-packed).
      const sp = t!.gemmF32Split(m, n, k, false, true, threads);
      const args = [m, n, k, aPtr, k, 0, 0, bPtr, n, 0, 1, cPtr, n, 0, scratch, 0, m, 0, n];
      return {
        run: () => pool.run('gemmF32', args, sp.split, sp.extent, { scratch: { base: scratch, stride: scratchBytes }, maxThreads: sp.threads }),
        output,
        note: `weights (B) pre-packed, ThreadPool(${threads}), ${sp.threads} thread(s) split by ${sp.split === 'm' ? 'rows' : 'columns'}`,
        dispose: () => pool.dispose(),
      };
    },
  };
}

export function kilnGemmF32(variant: WasmVariant, m: number, k: number, n: number, a: () => Float32Array, b: () => Float32Array, threads = 1): Adapter {
  return gemmF32Adapter(`kiln-${variant}`, variant, m, k, n, a, b, false, threads);
}

/** y[n] = W[n,k] x[k], f32: gemmF32 with M = 1 on W packed as B = W^T (its GEMV path). */
export function kilnGemvF32(variant: WasmVariant, n: number, k: number, w: () => Float32Array, x: () => Float32Array): Adapter {
  return gemmF32Adapter(`kiln-${variant}`, variant, 1, k, n, x, w, true, 1);
}

/**
 * C[m,n] i32 = A[m,k] u8 x B[k,n] s8, zero points 0. B is packed once (weights); A is packed inside
 * the timed run, as the runtime packs activations per call. The relaxed module takes its int8-dot
 * path only for 7-bit weights; the note says which path ran.
 */
export function kilnGemmI8(variant: WasmVariant, m: number, k: number, n: number, a: () => Uint8Array, b: () => Int8Array): Adapter {
  return {
    engine: `kiln-${variant}`,
    kind: 'kiln',
    threads: 1,
    async setup(): Promise<Runner> {
      const inst = freshInstance(variant);
      const q = (await kernelModule('gemm-i8')) as GemmI8Module;
      const g = (await kernelModule('gemm-f32')) as GemmF32Module;
      const ex = q.gemmI8Exports(inst.exports);
      const arena = new g.WasmArena(inst.memory, inst.exports);
      const put = (data: Uint8Array | Int8Array): number => {
        const ptr = arena.alloc(data.byteLength);
        new Uint8Array(inst.memory.buffer, ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        return ptr;
      };
      const aRaw = put(a());
      const bRaw = put(b());
      const rhs = arena.alloc(q.weightPackBytesI8(ex, 'rhs', n, k));
      const path = q.packWeightsI8(ex, { side: 'rhs', src: bRaw, lines: n, K: k, type: 'int8', zp: 0, zpLen: 1, dst: rhs, allowDot: true });
      const lhs = arena.alloc(q.activationPackBytesI8(ex, 'lhs', m, k, path));
      const zpCell = arena.alloc(4);
      const out = arena.alloc(m * n * 4);
      return {
        run() {
          q.packActivationsI8(ex, inst.memory, zpCell, { side: 'lhs', src: aRaw, lines: m, K: k, type: 'uint8', zeroPoint: 0, dst: lhs, path });
          q.gemmI8(ex, { lhs, rhs, M: m, N: n, K: k, path, out });
        },
        output: () => new Int32Array(inst.memory.buffer, out, m * n).slice(),
        note: `${path === 1 ? 'path 1: relaxed int8 dot (7-bit weights)' : 'path 0: i16 dot'}; B pre-packed, A packed per run`,
      };
    },
  };
}

/**
 * W[n,k] quantized to symmetric int4 with one f32 scale per block of 32 along k: packed nibbles
 * (element i in byte i >> 1, low nibble first), scales [n, k/32], and the dequantized matrix the
 * output is checked against.
 */
export function quantizeI4(w: Float32Array, n: number, k: number): { nibbles: Uint8Array; scales: Float32Array; dequant: Float32Array } {
  const nb = Math.ceil(k / 32);
  const nibbles = new Uint8Array(Math.ceil((n * k) / 2));
  const scales = new Float32Array(n * nb);
  const dequant = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let blk = 0; blk < nb; blk++) {
      const k0 = blk * 32;
      const k1 = Math.min(k, k0 + 32);
      let amax = 0;
      for (let j = k0; j < k1; j++) amax = Math.max(amax, Math.abs(w[r * k + j]!));
      const scale = Math.fround(amax / 7) || 1;
      scales[r * nb + blk] = scale;
      for (let j = k0; j < k1; j++) {
        const i = r * k + j;
        const q = Math.max(-8, Math.min(7, Math.round(w[i]! / scale)));
        dequant[i] = q * scale;
        nibbles[i >> 1]! |= (q & 15) << ((i & 1) * 4);
      }
    }
  }
  return { nibbles, scales, dequant };
}

/**
 * y[n] = W[n,k] x[k] with W int4 (block 32). Mode 'f32' dequantizes in registers and is exact
 * against the dequantized weights; 'q8' also quantizes x to int8 per block (onnxruntime's
 * MatMulNBits accuracy level 4), so it is checked with a looser tolerance.
 */
export function kilnGemvI4(variant: WasmVariant, mode: 'f32' | 'q8', n: number, k: number, w: () => Float32Array, x: () => Float32Array): Adapter {
  const quant = lazyOnce(() => quantizeI4(w(), n, k));
  return {
    engine: `kiln-${variant} int4${mode === 'q8' ? '-q8' : ''}`,
    kind: 'kiln',
    threads: 1,
    check: { reference: () => gemvRef(quant().dequant, x(), n, k), tolerance: mode === 'q8' ? 2e-2 : 1e-4 },
    async setup(): Promise<Runner> {
      const inst = freshInstance(variant);
      const q = (await kernelModule('gemv-i4')) as GemvI4Module;
      const g = (await kernelModule('gemm-f32')) as GemmF32Module;
      const ex = q.gemvI4Exports(inst.exports);
      const arena = new g.WasmArena(inst.memory, inst.exports);
      const { nibbles, scales } = quant();
      const src = arena.alloc(nibbles.byteLength);
      new Uint8Array(inst.memory.buffer, src, nibbles.byteLength).set(nibbles);
      const sc = arena.putF32(scales);
      const packed = arena.alloc(q.i4PackedBytes(ex, k, n, mode));
      q.packI4(ex, { src, layout: 'nk', K: k, N: n, scales: sc, zeroPoints: 0, mode, dst: packed });
      const xPtr = arena.putF32(x());
      const y = arena.alloc(n * 4);
      const scratch = arena.alloc(q.i4ScratchBytes(ex, k, 1, mode));
      return {
        run: () => q.gemvI4(ex, { packed, mode, hasZeroPoints: false, K: k, N: n, x: xPtr, y, scratch }),
        output: () => arena.f32(y, n).slice(),
        note: mode === 'q8' ? 'x quantized to int8 per block, integer dots' : 'f32 activations, weights dequantized in registers',
      };
    },
  };
}

function lazyOnce<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}

/**
 * y[n] = W[n,k] x[k] with W stored as CSR (u16 column indices) or as 2:4 (values + pair codes),
 * converted once from the dense matrix through Kiln's sparse layouts, outside the timed run.
 */
export function kilnSparseGemv(variant: WasmVariant, kind: 'csr' | '2:4', n: number, k: number, w: () => Float32Array, x: () => Float32Array): Adapter {
  return {
    engine: `kiln-${variant} ${kind}`,
    kind: 'kiln',
    threads: 1,
    async setup(): Promise<Runner> {
      const inst = freshInstance(variant);
      const sp = (await kernelModule('sparse')) as SparseModule;
      const g = (await kernelModule('gemm-f32')) as GemmF32Module;
      const ex = sp.sparseExports(inst.exports);
      const arena = new g.WasmArena(inst.memory, inst.exports);
      const dense = new Tensor('float32', w(), [n, k]);
      const xPtr = arena.putF32(x());
      const y = arena.alloc(n * 4);
      const output = () => arena.f32(y, n).slice();
      if (kind === 'csr') {
        const data = sp.repackCsr(csrFromDense(dense));
        const bytes = sp.csrPlacedBytes(data);
        const placed = sp.placeCsr(inst.memory, data, { rowPtr: arena.alloc(bytes.rowPtr), colIdx: arena.alloc(bytes.colIdx), vals: arena.alloc(bytes.vals), scales: 0 });
        const density = data.values.length / (n * k);
        const index = data.idxMode === 2 ? 'u16 byte offsets, x staged' : data.idxMode === 1 ? 'u16 indices' : 'i32 indices';
        return { run: () => sp.spmvCsr(ex, placed, xPtr, y), output, note: `CSR f32, ${(density * 100).toFixed(1)}% non-zero, ${index}` };
      }
      const data = sp.repackNm24(nmFromDense(dense, 2, 4, 1));
      const placed = sp.placeNm24(inst.memory, data, arena.alloc(data.vals.byteLength), arena.alloc(data.codes.byteLength));
      const scratch = arena.alloc(ex.gemv24ScratchBytes(k) >>> 0);
      return { run: () => sp.gemv24(ex, placed, xPtr, y, scratch), output, note: '2:4 values + pair codes, x-pair table per run' };
    },
  };
}
