// Turning bytes, paths and URLs into a Graph. The library has no top-level Node imports: file
// access goes through a dynamic import that only runs where a filesystem exists.
import type { Graph } from '../graph/ir.js';
import { importOnnx } from '../io/onnx/import.js';
import { loadKiln } from '../io/kiln-format/index.js';

export type ModelSource = Uint8Array | ArrayBuffer | string | URL;

/** .kiln files open with the ASCII magic 'KILN'; ONNX files are bare protobuf. */
function isKilnFile(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x4b && bytes[1] === 0x49 && bytes[2] === 0x4c && bytes[3] === 0x4e;
}

/** Detects the container by its magic bytes and parses it. */
export function parseModel(bytes: Uint8Array): Graph {
  return isKilnFile(bytes) ? loadKiln(bytes) : importOnnx(bytes);
}

export async function readModelBytes(source: ModelSource): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const url = typeof source === 'string' ? asUrl(source) : source;
  if (url && url.protocol !== 'file:') return fetchBytes(url.href);
  const path = url ? decodeURIComponent(url.pathname) : (source as string);
  if (hasFileSystem()) return readFileBytes(path);
  return fetchBytes(path);
}

function asUrl(s: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(s) || /^[a-z]:[\\/]/i.test(s)) return undefined; // C:\ is a path
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

function hasFileSystem(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string } }; Deno?: unknown };
  return Boolean(g.process?.versions?.node || g.Deno);
}

async function readFileBytes(path: string): Promise<Uint8Array> {
  // A computed specifier keeps bundlers from pulling Node's fs into browser builds.
  const fsModule = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsModule)) as { readFile(p: string): Promise<Uint8Array> };
  try {
    const buf = await fs.readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new Error(`cannot read model file '${path}': ${(e as Error).message}`);
  }
}

async function fetchBytes(href: string): Promise<Uint8Array> {
  const res = await fetch(href);
  if (!res.ok) throw new Error(`cannot fetch model '${href}': HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
