// Provenance (the passes a graph went through) travels in ONNX metadata_props as JSON under one
// key, so a model exported by Kiln and read back still says how it was made.
import type { Provenance } from '../../graph/ir.js';

/** metadata_props key holding the graph's provenance as JSON. */
export const PROVENANCE_KEY = 'kiln.provenance';

/** The provenance list stored under PROVENANCE_KEY; a malformed entry is a clear error. */
export function parseProvenance(json: string): Provenance[] {
  const what = `ONNX import: metadata_props '${PROVENANCE_KEY}'`;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new Error(`${what} is not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v)) throw new Error(`${what} must be a list of pass records`);
  return v.map((p: unknown, i) => {
    const rec = typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined;
    if (!rec || typeof rec.pass !== 'string') throw new Error(`${what}: entry ${i} has no pass name`);
    const options = rec.options;
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) throw new Error(`${what}: entry ${i} has options that are not an object`);
    if (rec.at !== undefined && typeof rec.at !== 'string') throw new Error(`${what}: entry ${i} has a non-string 'at'`);
    // Keep the record's own key order (JSON of the graph stays byte-identical after a round trip).
    return Object.fromEntries(Object.entries(rec).filter(([k]) => k === 'pass' || k === 'options' || k === 'at')) as unknown as Provenance;
  });
}
