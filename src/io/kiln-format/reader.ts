import type { Graph } from '../../graph/ir.js';
import type { Tensor } from '../../tensor/tensor.js';
import { requireLittleEndian } from './endian.js';
import { decodeGraph } from './graph-json.js';
import { alignUp, KILN_MAGIC, KILN_VERSION, PREAMBLE_BYTES } from './header.js';
import { asArray, asObject } from './json-check.js';
import { checkNoOverlap, decodeTensor, type FileView } from './tensor-read.js';

/**
 * Reads a .kiln file. Tensors are views over the input's memory (no copy), so they stay valid as
 * long as it does and writes through them change it. An input whose byteOffset is not a multiple
 * of 8 (a Node Buffer slice, say) is copied once, since typed arrays need aligned offsets.
 * Every offset and length in the file is checked; a malformed file throws an Error.
 */
export function loadKiln(input: Uint8Array | ArrayBuffer): Graph {
  requireLittleEndian('loadKiln');
  const file = readPreamble(toAlignedBytes(input));
  const root = asObject(parseHeader(file), 'header');
  const entries = asArray(root.tensors, 'tensors').map((v, i) => decodeTensor(v, `tensors[${i}]`, file));
  checkNoOverlap(file);
  const initializers = new Map<string, Tensor>();
  for (const e of entries) {
    if (e.role !== 'initializer') continue;
    if (initializers.has(e.name)) throw new Error(`kiln: initializer '${e.name}' appears twice in the tensor table`);
    initializers.set(e.name, e.tensor);
  }
  const tensorAt = (i: number, where: string): Tensor => {
    const e = entries[i];
    if (!e) throw new Error(`kiln header: ${where}: tensor index ${i} is out of range (${entries.length} tensors)`);
    return e.tensor;
  };
  return { ...decodeGraph(root.graph, tensorAt), initializers };
}

function toAlignedBytes(input: Uint8Array | ArrayBuffer): Uint8Array {
  // new Uint8Array(view) copies; Buffer.prototype.slice would not.
  if (input instanceof Uint8Array) return input.byteOffset % 8 === 0 ? input : new Uint8Array(input);
  const x: unknown = input;
  const isBuffer = x instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer);
  if (!isBuffer) throw new Error('loadKiln: expected a Uint8Array or an ArrayBuffer');
  return new Uint8Array(input as ArrayBuffer);
}

interface Preamble extends FileView {
  headerLength: number;
}

function readPreamble(bytes: Uint8Array): Preamble {
  if (bytes.length < PREAMBLE_BYTES) throw new Error(`kiln: file is ${bytes.length} bytes, too short for a .kiln header`);
  if (!KILN_MAGIC.every((b, i) => bytes[i] === b)) throw new Error('kiln: not a .kiln file (bad magic bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version > KILN_VERSION) {
    throw new Error(`kiln: file was written by a newer Kiln (format v${version}), this reader supports up to v${KILN_VERSION}`);
  }
  if (version < 1) throw new Error(`kiln: invalid format version ${version}`);
  const headerLength = view.getUint32(8, true);
  if (headerLength > bytes.length - PREAMBLE_BYTES) {
    throw new Error(`kiln: header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  return { bytes, headerLength, dataStart: alignUp(PREAMBLE_BYTES + headerLength), claimed: [] };
}

function parseHeader(file: Preamble): unknown {
  const raw = file.bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + file.headerLength);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new Error('kiln: header is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`kiln: header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}
