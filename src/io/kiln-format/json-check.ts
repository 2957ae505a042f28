// Type checks for the parsed JSON header. A .kiln file is untrusted input: every field is checked
// here before use, and a mismatch is an Error naming the path (`tensors[3].dims[1]`), never a
// TypeError from reading a property of undefined further on.
import { isDType, type DType } from '../../tensor/dtype.js';

export type Json = Record<string, unknown>;

/**
 * A short rendering of a bad value for messages. Depth and width are bounded: a header of deeply
 * nested arrays would overflow the stack in JSON.stringify while formatting the error.
 */
export function show(v: unknown): string {
  const s = render(v, 3);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function render(v: unknown, depth: number): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}` : v);
  if (typeof v !== 'object' || v === null) return String(v);
  if (depth === 0) return Array.isArray(v) ? '[...]' : '{...}';
  if (Array.isArray(v)) return `[${v.slice(0, 8).map((x) => render(x, depth - 1)).join(',')}${v.length > 8 ? ',...' : ''}]`;
  const keys = Object.keys(v);
  const body = keys.slice(0, 8).map((k) => `${JSON.stringify(k)}:${render((v as Json)[k], depth - 1)}`).join(',');
  return `{${body}${keys.length > 8 ? ',...' : ''}}`;
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
