// Picks and instantiates Kiln's WASM module: the relaxed-SIMD build where the host validates it
// (Chromium, Deno, Node with --experimental-wasm-relaxed-simd), the plain SIMD build otherwise.
import { RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from './modules.generated.js';

export type WasmVariant = 'relaxed' | 'simd';

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const g = globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } };
  if (g.Buffer) return Uint8Array.from(g.Buffer.from(b64, 'base64'));
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const bytesOf: Record<WasmVariant, () => Uint8Array<ArrayBuffer>> = {
  relaxed: () => decodeBase64(RELAXED_WASM_BASE64),
  simd: () => decodeBase64(SIMD_WASM_BASE64),
};

const compiled = new Map<WasmVariant, WebAssembly.Module>();

/** The best variant this host can compile, or undefined when it has no WASM SIMD at all. */
export function bestVariant(): WasmVariant | undefined {
  for (const v of ['relaxed', 'simd'] as const) if (compileVariant(v)) return v;
  return undefined;
}

export function compileVariant(variant: WasmVariant): WebAssembly.Module | undefined {
  if (typeof WebAssembly !== 'object') return undefined;
  const cached = compiled.get(variant);
  if (cached) return cached;
  const bytes = bytesOf[variant]();
  // validate() is the probe: a host without (relaxed) SIMD rejects the module's instructions.
  if (!WebAssembly.validate(bytes)) return undefined;
  const mod = new WebAssembly.Module(bytes);
  compiled.set(variant, mod);
  return mod;
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

export function instantiate(variant: WasmVariant, memory: WebAssembly.Memory): WasmInstance {
  const mod = compileVariant(variant);
  if (!mod) throw new Error(`this host cannot run Kiln's ${variant === 'relaxed' ? 'relaxed-SIMD' : 'SIMD'} WebAssembly module`);
  const instance = new WebAssembly.Instance(mod, { env: { memory, abort: wasmAbort } });
  return { variant, memory, exports: instance.exports as unknown as KilnWasmExports };
}

function wasmAbort(): never {
  throw new Error('Kiln WASM kernel aborted');
}
