import type { Graph } from '../../graph/ir.js';
import type { Tensor } from '../../tensor/tensor.js';
import { requireLittleEndian } from './endian.js';
import { encodeGraph } from './graph-json.js';
import { alignUp, KILN_MAGIC, KILN_VERSION, PREAMBLE_BYTES, type KilnHeader, type TensorJson } from './header.js';
import { BlobPlan, encodeTensor } from './tensor-write.js';

export interface SaveKilnOptions {
  /**
   * Check that every sparse layout expands to exactly its tensor's dense data (default true).
   * The file stores only the compressed arrays, so a mismatch would silently change the model.
   */
  verifySparse?: boolean;
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
  const encoder = new TextEncoder();
  let dataStart = 0;
  let json: Uint8Array;
  for (;;) {
    plan.place(dataStart);
    json = encoder.encode(JSON.stringify(header));
    const need = alignUp(PREAMBLE_BYTES + json.length);
    if (need <= dataStart) break;
    dataStart = need;
  }

  const out = new Uint8Array(plan.parts.length ? dataStart + plan.byteLength : PREAMBLE_BYTES + json.length);
  const view = new DataView(out.buffer);
  out.set(KILN_MAGIC, 0);
  view.setUint32(4, KILN_VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, PREAMBLE_BYTES);
  for (const p of plan.parts) out.set(p.bytes, dataStart + p.rel);
  return out;
}
