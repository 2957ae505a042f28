// Kiln's WASM kernels called directly through their typed wrappers in src/backends/wasm/kernels/.
// The wrappers are being written concurrently; a family whose module is missing, fails to import or
// lacks the expected export is reported as n/a with the reason, never as a number.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileVariant, type WasmVariant } from '../../src/backends/wasm/loader.js';
import { NotAvailable, type Adapter, type Runner } from './types.js';

export const VARIANTS: readonly WasmVariant[] = ['simd', 'relaxed'];

const KERNELS_DIR = new URL('../../src/backends/wasm/kernels/', import.meta.url);

/** Imports src/backends/wasm/kernels/<family>.ts, or throws NotAvailable saying why not. */
async function kernelModule(family: string): Promise<Record<string, unknown>> {
  const url = new URL(`${family}.ts`, KERNELS_DIR);
  if (!existsSync(fileURLToPath(url))) throw new NotAvailable(`kernels/${family}.ts not landed yet`);
  try {
    return (await import(url.href)) as Record<string, unknown>;
  } catch (e) {
    throw new NotAvailable(`kernels/${family}.ts failed to import: ${(e as Error).message.split('\n')[0]}`);
  }
}

function requireVariant(variant: WasmVariant): void {
  if (!compileVariant(variant)) throw new NotAvailable(`host cannot compile the ${variant} module`);
}

function threadsUnsupported(threads: number): void {
  if (threads !== 1) throw new NotAvailable('Kiln WASM has no thread pool yet');
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

/** C[m,n] = A[m,k] B[k,n], B packed once outside the timed loop. */
export function kilnGemmF32(variant: WasmVariant, m: number, k: number, n: number, a: () => Float32Array, b: () => Float32Array, threads = 1): Adapter {
  void m, k, n, a, b;
  return pending('gemm-f32', `kiln-${variant}`, variant, threads);
}

/** C[m,n] i32 = A[m,k] u8 x B[k,n] s8. */
export function kilnGemmI8(variant: WasmVariant, m: number, k: number, n: number, a: () => Uint8Array, b: () => Int8Array): Adapter {
  void m, k, n, a, b;
  return pending('gemm-i8', `kiln-${variant}`, variant);
}

/** y[n] = W[n,k] x[k], f32. */
export function kilnGemvF32(variant: WasmVariant, n: number, k: number, w: () => Float32Array, x: () => Float32Array): Adapter {
  void n, k, w, x;
  return pending('gemm-f32', `kiln-${variant}`, variant);
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
