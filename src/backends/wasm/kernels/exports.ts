// Typed access to a family's exports: checked once per instance (a stale generated module is the
// usual cause of a missing export), then handed out as the family's interface.
import type { KilnWasmExports } from '../loader.js';

const checked = new WeakMap<KilnWasmExports, Set<string>>();

export function familyExports<T>(ex: KilnWasmExports, family: string, names: readonly string[]): T {
  let seen = checked.get(ex);
  if (!seen) {
    seen = new Set();
    checked.set(ex, seen);
  }
  if (!seen.has(family)) {
    for (const name of names) {
      if (typeof ex[name] !== 'function') {
        throw new Error(`Kiln WASM module lacks export '${name}' (rebuild it with scripts/build-wasm.mjs)`);
      }
    }
    seen.add(family);
  }
  return ex as unknown as T;
}
