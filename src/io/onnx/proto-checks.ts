// Model-level checks on decoded ONNX protobuf fields that onnxruntime also refuses: IR and opset
// versions, duplicate names, and attributes whose declared type disagrees with the field that
// holds their value. Kept apart from import.ts so the importer reads as a translation.
import { ONNX_DOMAIN } from '../../graph/ir.js';
import { OnnxAttrType } from './schema.js';
import { toSafeNumber, type LongLike } from './tensor.js';

/**
 * Upper bounds far beyond any ONNX release (IR 13 and opset 27 are the newest seen): a larger
 * number is a corrupt field, not a newer format, and would otherwise reach the upgrade rules.
 */
export const MAX_IR_VERSION = 100;
export const MAX_OPSET_VERSION = 1000;

/** Whether a field was on the wire: protobufjs puts defaults of absent fields on the prototype. */
export function onWire(msg: object, field: string): boolean {
  return Object.hasOwn(msg, field) && (msg as Record<string, unknown>)[field] != null;
}

export function checkIrVersion(model: { irVersion?: LongLike | null }): void {
  if (!onWire(model, 'irVersion')) throw new Error('ONNX import: the model has no ir_version');
  const v = toSafeNumber(model.irVersion, 'ONNX import: ir_version');
  if (v < 1 || v > MAX_IR_VERSION) throw new Error(`ONNX import: ir_version ${v} is invalid (expected 1 to ${MAX_IR_VERSION})`);
}

/**
 * opset_import as a null-prototype record: domain names come from the file, so `constructor` or
 * `__proto__` must be plain keys. Every version must be a positive integer and each domain listed once.
 */
export function opsetsFromProto(list: readonly { domain?: string | null; version?: LongLike | null }[]): Record<string, number> {
  if (list.length === 0) throw new Error('ONNX import: the model imports no opset (opset_import is empty)');
  const opsets: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const o of list) {
    const domain = o.domain === 'ai.onnx' || !o.domain ? ONNX_DOMAIN : o.domain;
    const label = `ONNX import: opset_import for domain '${domain || 'ai.onnx'}'`;
    if (Object.hasOwn(opsets, domain)) throw new Error(`${label} appears twice`);
    if (!onWire(o, 'version')) throw new Error(`${label} has no version`);
    const v = toSafeNumber(o.version, `${label}: version`);
    if (v < 1 || v > MAX_OPSET_VERSION) throw new Error(`${label}: version ${v} is invalid (expected 1 to ${MAX_OPSET_VERSION})`);
    opsets[domain] = v;
  }
  return opsets;
}

/** The AttributeProto field that holds the value of each declared attribute type. */
const VALUE_FIELD: ReadonlyMap<number, string> = new Map([
  [OnnxAttrType.FLOAT, 'f'], [OnnxAttrType.INT, 'i'], [OnnxAttrType.STRING, 's'], [OnnxAttrType.TENSOR, 't'],
  [OnnxAttrType.GRAPH, 'g'], [OnnxAttrType.FLOATS, 'floats'], [OnnxAttrType.INTS, 'ints'], [OnnxAttrType.STRINGS, 'strings'],
  [OnnxAttrType.TENSORS, 'tensors'], [OnnxAttrType.GRAPHS, 'graphs'], [OnnxAttrType.SPARSE_TENSOR, 'sparseTensor'],
  [OnnxAttrType.TYPE_PROTO, 'tp'],
]);
const TYPE_NAME: ReadonlyMap<number, string> = new Map(Object.entries(OnnxAttrType).map(([k, v]) => [v, k]));

/**
 * An attribute that declares a type must not carry a value in another type's field (`type: INT`
 * with `floats` set): onnxruntime refuses it, and reading either field would guess.
 */
export function checkAttributeFields(a: object & { type?: number | null }, what: string): void {
  const declared = a.type ?? 0;
  if (!declared) return; // old exporters leave the type unset; the importer infers it from the field set
  const own = VALUE_FIELD.get(declared);
  for (const [t, field] of VALUE_FIELD) {
    if (field === own || !onWire(a, field)) continue;
    const v = (a as Record<string, unknown>)[field];
    if (Array.isArray(v) && v.length === 0) continue; // an empty repeated field carries nothing
    throw new Error(`${what}: declared ${TYPE_NAME.get(declared) ?? `type ${declared}`} but holds a ${TYPE_NAME.get(t)} value ('${field}')`);
  }
}

/** Names that must be unique within one list (initializers, attributes of a node). */
export function checkUnique(names: readonly string[], what: (name: string) => string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(what(n));
    seen.add(n);
  }
}
