import { deflateSync } from 'fflate';
import type { Graph } from '../../graph/ir.js';
import type { Tensor } from '../../tensor/tensor.js';
import { requireLittleEndian } from './endian.js';
import { encodeGraph } from './graph-json.js';
import { alignUp, HEADER_ENCODING_DEFLATE, KILN_MAGIC, PREAMBLE_BYTES, PREAMBLE_V2_BYTES, type KilnHeader, type TensorJson } from './header.js';
import { BlobPlan, encodeTensor } from './tensor-write.js';

export interface SaveKilnOptions {
  /**
   * Check that every sparse layout expands to exactly its tensor's dense data (default true).
   * The file stores only the compressed arrays, so a mismatch would silently change the model.
   */
  verifySparse?: boolean;
  /**
   * Store the JSON header DEFLATE-compressed (format version 2; default false, version 1). It
   * pays on small or compressed models, where the header is a large share of the file (mnist-8
   * clustered to 16 values: the JSON is about half the file); readers before version 2 refuse it.
   */
  compressHeader?: boolean;
}

/** Serializes a graph and all its tensors (initializers and attribute tensors) into one .kiln file. */
export function saveKiln(graph: Graph, opts: SaveKilnOptions = {}): Uint8Array {
  requireLittleEndian('saveKiln');
  const verify = opts.verifySparse ?? true;
  const plan = new BlobPlan();
  const tensors: TensorJson[] = [];
  for (const [name, t] of graph.initializers) tensors.push(encodeTensor(t, name, 'initializer', plan, verify));
  const addAttrTensor = (t: Tensor, label: string) => tensors.push(encodeTensor(t, label, 'attribute', plan, verify)) - 1;
  const header: KilnHeader = { graph: encodeGraph(graph, addAttrTensor), tensors };

  // Offsets are absolute, so the header's length depends on them: grow the data start until
  // the header fits in front of it (its length only grows with the offsets, so this ends).
  // (Compressed, the stored length can shrink as the offsets grow: the loop stops at the first
  // data start that fits, the padding absorbing any slack.)
  const compress = opts.compressHeader ?? false;
  const preamble = compress ? PREAMBLE_V2_BYTES : PREAMBLE_BYTES;
  const encoder = new TextEncoder();
  let dataStart = 0;
  let json: Uint8Array;
  let stored: Uint8Array;
  for (;;) {
    plan.place(dataStart);
    json = encoder.encode(JSON.stringify(header));
    stored = compress ? deflateSync(json, { level: 9 }) : json; // raw DEFLATE, no zlib wrapper
    const need = alignUp(preamble + stored.length);
    if (need <= dataStart) break;
    dataStart = need;
  }

  const out = new Uint8Array(plan.parts.length ? dataStart + plan.byteLength : preamble + stored.length);
  const view = new DataView(out.buffer);
  out.set(KILN_MAGIC, 0);
  view.setUint32(4, compress ? 2 : 1, true);
  view.setUint32(8, stored.length, true);
  if (compress) {
    view.setUint32(12, HEADER_ENCODING_DEFLATE, true);
    view.setUint32(16, json.length, true);
  }
  out.set(stored, preamble);
  for (const p of plan.parts) out.set(p.bytes, dataStart + p.rel);
  return out;
}
