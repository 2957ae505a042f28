// NumPy .npy (format 1.0 / 2.0 / 3.0) and .npz (a zip of .npy files, stored or deflated) readers
// for calibration and evaluation data. Every header field, length and checksum is checked before
// use; what Kiln cannot read (Fortran order, big-endian, object or structured dtypes) is refused
// by name. No Node built-ins: deflated entries are inflated by fflate, synchronously, on every host.
import { inflateSync } from 'fflate';
import { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** NumPy dtype codes Kiln reads (little-endian or byte-order-free). */
const DTYPES: Record<string, DType> = {
  '<f4': 'float32', '<f8': 'float64', '<f2': 'float16',
  '<i1': 'int8', '|i1': 'int8', '<u1': 'uint8', '|u1': 'uint8',
  '<i2': 'int16', '<u2': 'uint16', '<i4': 'int32', '<u4': 'uint32', '<i8': 'int64', '<u8': 'uint64',
  '|b1': 'bool', '<b1': 'bool',
};

function fail(where: string, msg: string): never {
  throw new Error(`${where}: ${msg}`);
}

/** The Python-literal header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } */
function parseHeader(text: string, where: string): { descr: string; fortran: boolean; shape: number[] } {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) fail(where, `header is not a dict: ${JSON.stringify(t.slice(0, 80))}`);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(t)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(t)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(t)?.[1];
  if (descr === undefined) fail(where, `header has no 'descr' string (structured dtypes are not supported): ${JSON.stringify(t.slice(0, 80))}`);
  if (fortran === undefined) fail(where, "header has no 'fortran_order' flag");
  if (shapeText === undefined) fail(where, "header has no 'shape' tuple");
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    if (!/^\d+L?$/.test(s)) fail(where, `shape entry '${s}' is not a non-negative integer`);
    const n = Number.parseInt(s, 10);
    if (!Number.isSafeInteger(n)) fail(where, `shape entry ${s} is too large`);
    return n;
  });
  return { descr, fortran: fortran === 'True', shape };
}

/** Reads one .npy file. `name` labels errors (a file or .npz entry name). */
export function parseNpy(bytes: Uint8Array, name = '.npy'): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail(name, 'not a .npy file (bad magic; expected \\x93NUMPY)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(name, 'truncated header length');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    fail(name, `unsupported .npy format version ${major}.${bytes[7]} (this reader knows 1.0, 2.0 and 3.0)`);
  }
  if (start + headerLen > bytes.length) fail(name, `header of ${headerLen} bytes runs past the end of the ${bytes.length}-byte file`);
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const h = parseHeader(text, name);
  const dtype = DTYPES[h.descr];
  if (!dtype) {
    const hint = h.descr.startsWith('>') ? ' (big-endian: save with a little-endian dtype)' : h.descr.startsWith('|O') ? ' (Python objects)' : '';
    fail(name, `unsupported dtype '${h.descr}'${hint}; supported: ${Object.keys(DTYPES).join(', ')}`);
  }
  const count = h.shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) fail(name, `shape (${h.shape.join(', ')}) has too many elements`);
  if (h.fortran && h.shape.filter((d) => d > 1).length > 1) fail(name, 'Fortran-order arrays are not supported (save with np.ascontiguousarray)');
  const itemSize = Number.parseInt(h.descr.slice(2), 10);
  const dataStart = start + headerLen;
  const want = count * itemSize;
  if (bytes.length - dataStart !== want) {
    fail(name, `shape (${h.shape.join(', ')}) of ${h.descr} needs ${want} data bytes, the file has ${bytes.length - dataStart}`);
  }
  // Copy into an aligned buffer (the data offset need not be a multiple of the item size).
  const raw = bytes.slice(dataStart, dataStart + want);
  const buf = raw.buffer;
  let data: Tensor['data'];
  switch (dtype) {
    case 'float32': data = new Float32Array(buf); break;
    case 'float64': data = new Float64Array(buf); break;
    case 'float16': data = new Uint16Array(buf); break;
    case 'int8': data = new Int8Array(buf); break;
    case 'uint8': case 'bool': data = new Uint8Array(buf); break;
    case 'int16': data = new Int16Array(buf); break;
    case 'uint16': data = new Uint16Array(buf); break;
    case 'int32': data = new Int32Array(buf); break;
    case 'uint32': data = new Uint32Array(buf); break;
    case 'int64': data = new BigInt64Array(buf); break;
    case 'uint64': data = new BigUint64Array(buf); break;
    default: fail(name, `dtype ${dtype} is not handled`);
  }
  return new Tensor(dtype, data, h.shape);
}

// ---- .npz: zip container -------------------------------------------------------------------

let crcTable: Uint32Array | undefined;
function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** DEFLATE expands a byte by at most 1032 times; a directory size past that is corrupt. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * Inflates a deflated entry into at most `size` bytes (the directory's claim, bounded by what its
 * compressed length could produce, so a crafted archive cannot make Kiln allocate more). Given an
 * output buffer, fflate never grows it: Huffman output past its end is dropped and a stored block
 * past its end throws a RangeError, so one spare byte detects a stream that runs long.
 */
function inflateEntry(data: Uint8Array, size: number, where: string): Uint8Array {
  if (size > MAX_DEFLATE_RATIO * data.length + 8) fail(where, `${data.length} deflated bytes cannot expand to the ${size} bytes the directory says`);
  // fflate returns the output buffer untouched for empty input: catch that before it reads as zeros.
  if (data.length === 0) fail(where, 'deflated entry is empty');
  const tooLong = () => fail(where, `entry inflates past the ${size} bytes the directory says`);
  let out: Uint8Array;
  try {
    out = inflateSync(data, { out: new Uint8Array(size + 1) });
  } catch (e) {
    if (e instanceof RangeError) tooLong();
    const code = (e as { code?: unknown }).code;
    fail(where, code === 0 ? 'corrupt deflate data (the stream ends early)' : `corrupt deflate data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (out.length > size) tooLong();
  return out;
}

/** Reads a .npz archive: arrays by name (the '.npy' suffix dropped), in archive order. */
export async function parseNpz(bytes: Uint8Array, name = '.npz'): Promise<Map<string, Tensor>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: the last 'PK\x05\x06' within the final 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) fail(name, 'not a zip archive (no end-of-central-directory record)');
  const entries = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff || entries === 0xffff) fail(name, 'zip64 archives are not supported');
  if (cdOffset + cdSize > eocd) fail(name, 'central directory lies outside the archive');
  const out = new Map<string, Tensor>();
  let p = cdOffset;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== 0x02014b50) fail(name, `central directory entry ${e} is corrupt`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    const compSize = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const entryName = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    const where = `${name}/${entryName}`;
    if (flags & 1) fail(where, 'encrypted entries are not supported');
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) fail(where, 'local header is corrupt');
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (dataStart + compSize > bytes.length) fail(where, `entry data (${compSize} bytes) runs past the end of the archive`);
    const comp = bytes.subarray(dataStart, dataStart + compSize);
    let data: Uint8Array;
    if (method === 0) data = comp;
    else if (method === 8) data = inflateEntry(comp, size, where);
    else fail(where, `compression method ${method} is not supported (stored or deflate only)`);
    if (data.length !== size) fail(where, `entry inflates to ${data.length} bytes, the directory says ${size}`);
    if (crc32(data) !== crc) fail(where, 'CRC-32 mismatch (corrupt archive)');
    if (!entryName.endsWith('.npy')) continue;
    out.set(entryName.slice(0, -4), parseNpy(data, where));
  }
  return out;
}
