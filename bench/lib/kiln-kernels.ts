// Kiln's WASM kernels called directly through their typed wrappers in src/backends/wasm/kernels/.
// The wrappers are being written concurrently; a family whose module is missing, fails to import or
// lacks the expected export is reported as n/a with the reason, never as a number.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileVariant, instantiate, type WasmInstance, type WasmVariant } from '../../src/backends/wasm/loader.js';
import { NotAvailable, type Adapter, type Runner } from './types.js';

type GemmF32Module = typeof import('../../src/backends/wasm/kernels/gemm-f32.js');
type GemmI8Module = typeof import('../../src/backends/wasm/kernels/gemm-i8.js');
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

/** y[n] = W[n,k] x[k] with W quantized to int4, block 32 along k. */
export function kilnGemvI4(variant: WasmVariant, n: number, k: number, w: () => Float32Array, x: () => Float32Array): Adapter {
  void n, k, w, x;
  return pending('gemv-i4', `kiln-${variant} int4`, variant);
}

/** y[n] = W[n,k] x[k] with W stored as CSR or as 2:4 compressed. */
export function kilnSparseGemv(variant: WasmVariant, kind: 'csr' | '2:4', n: number, k: number, w: () => Float32Array, x: () => Float32Array): Adapter {
  void n, k, w, x;
  return pending('sparse', `kiln-${variant} ${kind}`, variant);
}
