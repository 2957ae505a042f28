import { inflateSync } from 'fflate';
import type { Graph } from '../../graph/ir.js';
import type { Tensor } from '../../tensor/tensor.js';
import { requireLittleEndian } from './endian.js';
import { decodeGraph } from './graph-json.js';
import { alignUp, HEADER_ENCODING_DEFLATE, HEADER_ENCODING_JSON, KILN_MAGIC, KILN_VERSION, PREAMBLE_BYTES, PREAMBLE_V2_BYTES } from './header.js';
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
  /** Where the stored header starts and how many bytes it takes in the file. */
  headerStart: number;
  headerLength: number;
  encoding: number;
  /** Bytes of the UTF-8 JSON once decoded. */
  jsonLength: number;
}

/** DEFLATE expands a byte by at most 1032 times (258-byte copies in two-bit codes); a larger claim is corrupt. */
const MAX_DEFLATE_RATIO = 1032;

function readPreamble(bytes: Uint8Array): Preamble {
  if (bytes.length < PREAMBLE_BYTES) throw new Error(`kiln: file is ${bytes.length} bytes, too short for a .kiln header`);
  if (!KILN_MAGIC.every((b, i) => bytes[i] === b)) throw new Error('kiln: not a .kiln file (bad magic bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version > KILN_VERSION) {
    throw new Error(`kiln: file was written by a newer Kiln (format v${version}), this reader supports up to v${KILN_VERSION}`);
  }
  if (version < 1) throw new Error(`kiln: invalid format version ${version}`);
  const headerStart = version === 1 ? PREAMBLE_BYTES : PREAMBLE_V2_BYTES;
  if (bytes.length < headerStart) throw new Error(`kiln: file is ${bytes.length} bytes, too short for a v${version} .kiln header`);
  const headerLength = view.getUint32(8, true);
  if (headerLength > bytes.length - headerStart) {
    throw new Error(`kiln: header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  let encoding = HEADER_ENCODING_JSON;
  let jsonLength = headerLength;
  if (version >= 2) {
    encoding = view.getUint32(12, true);
    jsonLength = view.getUint32(16, true);
    if (encoding === HEADER_ENCODING_JSON && jsonLength !== headerLength) {
      throw new Error(`kiln: uncompressed header is ${headerLength} bytes but the preamble says ${jsonLength}`);
    }
    if (encoding === HEADER_ENCODING_DEFLATE && jsonLength > MAX_DEFLATE_RATIO * headerLength + 8) {
      throw new Error(`kiln: a ${headerLength}-byte compressed header cannot expand to the ${jsonLength} bytes the preamble claims`);
    }
    if (encoding !== HEADER_ENCODING_JSON && encoding !== HEADER_ENCODING_DEFLATE) {
      throw new Error(`kiln: unknown header encoding ${encoding} (expected ${HEADER_ENCODING_JSON}, JSON, or ${HEADER_ENCODING_DEFLATE}, DEFLATE)`);
    }
  }
  return { bytes, headerStart, headerLength, encoding, jsonLength, dataStart: alignUp(headerStart + headerLength), claimed: [] };
}

function parseHeader(file: Preamble): unknown {
  const stored = file.bytes.subarray(file.headerStart, file.headerStart + file.headerLength);
  const raw = file.encoding === HEADER_ENCODING_DEFLATE ? inflateHeader(stored, file.jsonLength) : stored;
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

/**
 * Inflates the raw DEFLATE header into exactly `expected` bytes. Given an output buffer, fflate
 * never grows it: Huffman output past its end is dropped and a stored block past its end throws
 * a RangeError. One spare byte therefore tells a stream that runs long (the result fills the
 * spare byte) from one that fits, and nothing larger than the preamble's claim is allocated.
 */
function inflateHeader(stored: Uint8Array, expected: number): Uint8Array {
  // fflate returns the output buffer untouched for empty input: catch that before it reads as zeros.
  if (stored.length === 0) throw new Error('kiln: compressed header is empty');
  const tooLong = () => new Error(`kiln: compressed header expands past its declared ${expected} bytes`);
  let out: Uint8Array;
  try {
    out = inflateSync(stored, { out: new Uint8Array(expected + 1) });
  } catch (e) {
    if (e instanceof RangeError) throw tooLong();
    const code = (e as { code?: unknown }).code;
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(code === 0 ? 'kiln: compressed header is truncated (the DEFLATE stream ends early)' : `kiln: compressed header is corrupt (${why})`);
  }
  if (out.length > expected) throw tooLong();
  if (out.length < expected) throw new Error(`kiln: compressed header expands to ${out.length} bytes, but ${expected} were declared`);
  return out;
}
