// Module setup shared by the WASM tests: the variants this host runs, seeded generators, and one
// instance of a variant on a fresh memory with bump-allocating arenas above its static data.
import { compileVariant, createMemory, instantiate, type KilnWasmExports, type WasmVariant } from '../../src/backends/wasm/loader.js';
import { WasmArena } from '../../src/backends/wasm/kernels/gemm-f32.js';

/** 'simd', and 'relaxed' where this host validates the relaxed-SIMD module. */
export const VARIANTS: WasmVariant[] = compileVariant('relaxed') ? ['simd', 'relaxed'] : ['simd'];

/** A deterministic generator of floats in [0, 1). */
export function rngUnit(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A deterministic generator of floats in [-1, 1): rngUnit's sequence scaled. */
export function rng(seed: number): () => number {
  const next = rngUnit(seed);
  return () => next() * 2 - 1;
}

/** n values drawn from r. */
export function randomArray(n: number, r: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

export interface KernelModule {
  memory: WebAssembly.Memory;
  exports: KilnWasmExports;
  /** A fresh arena: a bump allocator from the module's heap base, over the same memory. */
  arena(): WasmArena;
}

/** One instance of `variant` on a fresh non-shared memory of `initialPages` pages. */
export function kernelModule(variant: WasmVariant, initialPages = 1): KernelModule {
  const memory = createMemory(false, initialPages);
  const { exports } = instantiate(variant, memory);
  return { memory, exports, arena: () => new WasmArena(memory, exports) };
}
