// The .kiln container, version 1 (all integers little-endian):
//   0  'KILN' magic
//   4  u32 format version
//   8  u32 byte length L of the UTF-8 JSON header (KilnHeader below)
//  12  JSON header, then zero padding to the next multiple of 64: the data section
//      tensor bytes: every array starts at a multiple of 64 from the start of the file, so a
//      loader can view it in place (typed-array views, GPU uploads) without copying.
// Offsets in the header are absolute file offsets.
//
// Version 2 differs only in the preamble, which names how the header is stored:
//   8  u32 byte length L of the header as stored
//  12  u32 header encoding: 0 = UTF-8 JSON, 1 = raw DEFLATE (RFC 1951) of the UTF-8 JSON
//  16  u32 byte length U of the UTF-8 JSON once decoded
//  20  the stored header, then padding to a multiple of 64 and the data section as in version 1.
// Writers use version 1 unless asked to compress the header (small models, where the JSON
// outweighs the weights), so files stay readable by readers that only know version 1.
import type { DType } from '../../tensor/dtype.js';
import { show } from './json-check.js';

export const KILN_MAGIC = Uint8Array.of(0x4b, 0x49, 0x4c, 0x4e); // 'KILN'
export const KILN_VERSION = 2;
export const PREAMBLE_BYTES = 12;
export const PREAMBLE_V2_BYTES = 20;
export const HEADER_ENCODING_JSON = 0;
export const HEADER_ENCODING_DEFLATE = 1;
export const DATA_ALIGN = 64;

export function alignUp(n: number, to = DATA_ALIGN): number {
  return Math.ceil(n / to) * to;
}

/** Where one array lives in the file. */
export interface BlobRef {
  offset: number;
  byteLength: number;
}

/** Quantization arrays go to the data section: blocked int4 weights carry many scales, and binary keeps every bit. */
export interface QuantJson {
  scale: BlobRef; // float32
  zeroPoint: BlobRef; // int32
  axis?: number;
  blockSize?: number;
}

/** Sparse tensors store only their compressed arrays; element counts follow from the byte lengths. */
export type SparseJson =
  | { kind: 'csr'; rowPtr: BlobRef; colIdx: BlobRef; values: BlobRef }
  | { kind: 'bsr'; blockDims: [number, number]; blockPtr: BlobRef; blockCol: BlobRef; values: BlobRef }
  | { kind: 'nm'; n: number; m: number; axis: number; values: BlobRef; indices: BlobRef };

/**
 * The sparse layout a clustered tensor carried (rebuilt from the decoded data at load); the
 * file stores its positions once, in the clustered form, not the layout's arrays.
 */
export type SparseHintJson =
  | { kind: 'csr' }
  | { kind: 'bsr'; blockDims: [number, number] }
  | { kind: 'nm'; n: number; m: number; axis: number };

/**
 * A clustered float32 tensor (weight sharing): a float32 codebook of `k` entries per group (one
 * group, or one per slice along `axis`) and bit-packed indices of ceil(log2 k) bits, LSB-first.
 * With `positions` only the `nnz` nonzeros have indices and the gap codes place them.
 */
export interface ClusterJson {
  k: number;
  bits: number;
  axis?: number;
  codebook: BlobRef; // float32, groups * k
  indices: BlobRef; // ceil(count * bits / 8) bytes
  nnz?: number;
  positions?: { bits: number; count: number; codes: BlobRef };
  sparse?: SparseHintJson;
}

export interface TensorJson {
  /** The initializer's name; for an attribute tensor, `node/attr` for people reading the header. */
  name: string;
  role: 'initializer' | 'attribute';
  dtype: DType;
  dims: number[];
  /** Dense data; absent when `sparse` or `clustered` holds the tensor instead. */
  data?: BlobRef;
  quant?: QuantJson;
  sparse?: SparseJson;
  clustered?: ClusterJson;
}

/** JSON has no NaN, Infinity or -0, so those numbers travel as strings. */
export type NumberJson = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

export type AttrJson =
  | { type: 'number'; value: NumberJson }
  | { type: 'numbers'; value: NumberJson[] }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: number } // index into the tensor table
  | { type: 'graph'; value: SubgraphJson }; // If branches, Loop and Scan bodies

export interface ValueInfoJson {
  name: string;
  dtype: DType;
  shape?: (number | string)[];
  /** A subgraph input or output whose type the running node decides (dtype is a placeholder). */
  untyped?: true;
  /** Absent for tensors; dtype (and shape) then describe the tensors held. */
  kind?: 'sequence' | 'optional' | 'optional-sequence';
}

export interface NodeJson {
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrJson>;
}

export interface GraphJson {
  name: string;
  inputs: ValueInfoJson[];
  outputs: ValueInfoJson[];
  valueInfo: ValueInfoJson[];
  nodes: NodeJson[];
  opsets: Record<string, number>;
  provenance: { pass: string; options?: Record<string, unknown>; at?: string }[];
}

/** A subgraph: its initializers sit in the tensor table (role 'attribute'), listed here by index. */
export interface SubgraphJson extends GraphJson {
  initializers: [string, number][];
}

export interface KilnHeader {
  graph: GraphJson;
  tensors: TensorJson[];
}

export function encodeNumber(x: number): NumberJson {
  if (Object.is(x, -0)) return '-0';
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

export function decodeNumber(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && Object.hasOwn(SPECIAL, v)) return SPECIAL[v]!;
  throw new Error(`kiln header: ${where}: expected a number, got ${show(v)}`);
}
