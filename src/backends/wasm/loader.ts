// Picks and instantiates Kiln's WASM module: the relaxed-SIMD build where the host validates it
// (Chromium, Deno, Node with --experimental-wasm-relaxed-simd), the plain SIMD build otherwise.
// Each variant also exists as a shared-memory ("mt") build for the thread pool: a module's memory
// import must match the memory's `shared` flag, so instantiate() picks the build from the memory.
import { RELAXED_MT_WASM_BASE64, RELAXED_WASM_BASE64, SIMD_MT_WASM_BASE64, SIMD_WASM_BASE64 } from './modules.generated.js';

export type WasmVariant = 'relaxed' | 'simd';

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const g = globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } };
  if (g.Buffer) return Uint8Array.from(g.Buffer.from(b64, 'base64'));
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

type BuildKey = WasmVariant | `${WasmVariant}-mt`;

const bytesOf: Record<BuildKey, () => Uint8Array<ArrayBuffer>> = {
  relaxed: () => decodeBase64(RELAXED_WASM_BASE64),
  simd: () => decodeBase64(SIMD_WASM_BASE64),
  'relaxed-mt': () => decodeBase64(RELAXED_MT_WASM_BASE64),
  'simd-mt': () => decodeBase64(SIMD_MT_WASM_BASE64),
};

const compiled = new Map<BuildKey, WebAssembly.Module>();

/** The best variant this host can compile, or undefined when it has no WASM SIMD at all. */
export function bestVariant(): WasmVariant | undefined {
  for (const v of ['relaxed', 'simd'] as const) if (compileVariant(v)) return v;
  return undefined;
}

/**
 * The compiled module of a variant, or undefined when the host rejects it. `shared` selects the
 * build that imports a shared memory (for WebAssembly.Memory({ shared: true }) and the thread pool).
 */
export function compileVariant(variant: WasmVariant, shared = false): WebAssembly.Module | undefined {
  if (typeof WebAssembly !== 'object') return undefined;
  const key: BuildKey = shared ? `${variant}-mt` : variant;
  const cached = compiled.get(key);
  if (cached) return cached;
  const bytes = bytesOf[key]();
  // validate() is the probe: a host without (relaxed) SIMD or threads rejects the module.
  if (!WebAssembly.validate(bytes)) return undefined;
  const mod = new WebAssembly.Module(bytes);
  compiled.set(key, mod);
  return mod;
}

/** True when the memory is shared (its buffer is a SharedArrayBuffer). */
export function isSharedMemory(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * Whether this host can run the thread pool: SharedArrayBuffer exists (Node and Deno always,
 * browsers only when the page is cross-origin isolated), workers exist, and the shared build of the
 * variant validates.
 */
export function threadsAvailable(variant: WasmVariant): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; Deno?: unknown; process?: { versions?: { node?: string } } };
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  // Browsers define crossOriginIsolated; without isolation a shared memory cannot be posted.
  // (Deno shares memory with its workers regardless of what it reports there.)
  if (g.crossOriginIsolated === false && g.Deno === undefined) return false;
  if (typeof g.Worker !== 'function' && !g.process?.versions?.node) return false;
  return compileVariant(variant, true) !== undefined;
}

/** A memory for Kiln's modules; `shared` makes one the thread pool's workers can use too. */
export function createMemory(shared = false, initialPages = 1, maximumPages = 65536): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: initialPages, maximum: maximumPages, shared });
}

/** Exports every Kiln module has; kernel families add their own (see assembly/index.ts). */
export interface KilnWasmExports {
  heapBase(): number;
  isRelaxedBuild(): number;
  [kernel: string]: unknown;
}

export interface WasmInstance {
  variant: WasmVariant;
  memory: WebAssembly.Memory;
  exports: KilnWasmExports;
}

/** Instantiates a variant on the memory; a shared memory gets the variant's shared-memory build. */
export function instantiate(variant: WasmVariant, memory: WebAssembly.Memory): WasmInstance {
  const shared = isSharedMemory(memory);
  const mod = compileVariant(variant, shared);
  if (!mod) {
    const what = `${variant === 'relaxed' ? 'relaxed-SIMD' : 'SIMD'}${shared ? ' shared-memory' : ''}`;
    throw new Error(`this host cannot run Kiln's ${what} WebAssembly module`);
  }
  const instance = new WebAssembly.Instance(mod, { env: { memory, abort: wasmAbort } });
  return { variant, memory, exports: instance.exports as unknown as KilnWasmExports };
}

function wasmAbort(): never {
  throw new Error('Kiln WASM kernel aborted');
}
