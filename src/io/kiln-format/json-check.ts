// Type checks for the parsed JSON header. A .kiln file is untrusted input: every field is checked
// here before use, and a mismatch is an Error naming the path (`tensors[3].dims[1]`), never a
// TypeError from reading a property of undefined further on.
import { isDType, type DType } from '../../tensor/dtype.js';

export type Json = Record<string, unknown>;

/** A short rendering of a bad value for messages. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function fail(where: string, expected: string, v: unknown): never {
  if (v === undefined) throw new Error(`kiln header: ${where} is missing (expected ${expected})`);
  throw new Error(`kiln header: ${where}: expected ${expected}, got ${show(v)}`);
}

export function asObject(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'an object', v);
  return v as Json;
}

export function asArray(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, 'an array', v);
  return v;
}

export function asString(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, 'a string', v);
  return v;
}

/** A safe integer >= `min`. */
export function asInt(v: unknown, where: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(where, `an integer >= ${min}`, v);
  return v;
}

export function asDType(v: unknown, where: string): DType {
  if (!isDType(v)) fail(where, 'a Kiln dtype', v);
  return v;
}

export function asStrings(v: unknown, where: string): string[] {
  return asArray(v, where).map((s, i) => asString(s, `${where}[${i}]`));
}

export function asInts(v: unknown, where: string, min = 0): number[] {
  return asArray(v, where).map((s, i) => asInt(s, `${where}[${i}]`, min));
}

/** o[key] when present (undefined otherwise), checked with `check`. */
export function optional<T>(o: Json, key: string, where: string, check: (v: unknown, where: string) => T): T | undefined {
  return o[key] === undefined ? undefined : check(o[key], `${where}.${key}`);
}
