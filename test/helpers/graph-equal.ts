// Structural comparison of two Kiln graphs for round-trip tests: nodes (names, ops, domains,
// inputs, outputs, attributes with subgraphs compared the same way), initializers and attribute
// tensors by dtype, dims and exact bytes, inputs, outputs, value_info, opsets and provenance.
// Returns a message naming the first difference, or undefined when the graphs are equal.
import { isGraphAttr, type AttrValue, type Graph, type ValueInfo } from '../../src/graph/ir.js';
import { byteLengthOf } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';

export interface GraphEqualOptions {
  /** The opsets `b` must have, when they differ from `a`'s by design (the exporter's raised ai.onnx opset). */
  expectOpsets?: Record<string, number>;
}

function tensorDiff(a: Tensor, b: Tensor, where: string): string | undefined {
  if (a.type !== b.type) return `${where}: dtype ${a.type} vs ${b.type}`;
  if (a.dims.join(',') !== b.dims.join(',')) return `${where}: dims [${a.dims.join(', ')}] vs [${b.dims.join(', ')}]`;
  const n = byteLengthOf(a.type, a.size);
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, n);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, n);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return `${where}: byte ${i} differs (${x[i]} vs ${y[i]})`;
  return undefined;
}

function attrDiff(a: AttrValue, b: AttrValue | undefined, where: string, options: GraphEqualOptions): string | undefined {
  if (b === undefined) return `${where}: missing`;
  if (a instanceof Tensor) return b instanceof Tensor ? tensorDiff(a, b, where) : `${where}: tensor vs ${typeof b}`;
  if (isGraphAttr(a)) return isGraphAttr(b) ? graphDiff(a, b, options, where) : `${where}: graph vs ${typeof b}`;
  // Numbers compare with Object.is so that -0 and NaN are checked exactly too.
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return `${where}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    return a.every((x, i) => Object.is(x, (b as readonly unknown[])[i])) ? undefined : `${where}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  }
  return Object.is(a, b) ? undefined : `${where}: ${String(a)} vs ${String(b)}`;
}

function valueInfoKey(v: ValueInfo): string {
  return JSON.stringify({ name: v.name, dtype: v.untyped ? '?' : v.dtype, shape: v.shape ?? null, kind: v.kind ?? 'tensor', untyped: !!v.untyped });
}

export function graphDiff(a: Graph, b: Graph, options: GraphEqualOptions = {}, where = 'graph'): string | undefined {
  if (a.name !== b.name) return `${where}: name '${a.name}' vs '${b.name}'`;
  const lists: [string, ValueInfo[], ValueInfo[]][] = [['inputs', a.inputs, b.inputs], ['outputs', a.outputs, b.outputs]];
  for (const [what, x, y] of lists) {
    const kx = x.map(valueInfoKey).join('\n');
    const ky = y.map(valueInfoKey).join('\n');
    if (kx !== ky) return `${where} ${what}:\n${kx}\nvs\n${ky}`;
  }
  // value_info of sequences and optionals is not read by the importer (only tensors are).
  const vi = (g: Graph) => [...g.valueInfo.values()].filter((v) => (v.kind ?? 'tensor') === 'tensor' && !v.untyped).map(valueInfoKey).sort().join('\n');
  if (vi(a) !== vi(b)) return `${where} value_info differs`;
  if (a.initializers.size !== b.initializers.size) return `${where}: ${a.initializers.size} vs ${b.initializers.size} initializers`;
  for (const [name, t] of a.initializers) {
    const u = b.initializers.get(name);
    if (!u) return `${where}: initializer '${name}' missing`;
    const d = tensorDiff(t, u, `${where} initializer '${name}'`);
    if (d) return d;
  }
  if (a.nodes.length !== b.nodes.length) return `${where}: ${a.nodes.length} vs ${b.nodes.length} nodes`;
  for (let i = 0; i < a.nodes.length; i++) {
    const n = a.nodes[i]!;
    const m = b.nodes[i]!;
    const w = `${where} node #${i} '${n.name}'`;
    if (n.name !== m.name || n.op !== m.op || n.domain !== m.domain) return `${w}: ${n.domain}::${n.op} '${n.name}' vs ${m.domain}::${m.op} '${m.name}'`;
    if (n.inputs.join('|') !== m.inputs.join('|')) return `${w}: inputs ${n.inputs.join(', ')} vs ${m.inputs.join(', ')}`;
    if (n.outputs.join('|') !== m.outputs.join('|')) return `${w}: outputs ${n.outputs.join(', ')} vs ${m.outputs.join(', ')}`;
    const ka = Object.keys(n.attrs).sort().join(',');
    const kb = Object.keys(m.attrs).sort().join(',');
    if (ka !== kb) return `${w}: attributes ${ka} vs ${kb}`;
    for (const [k, v] of Object.entries(n.attrs)) {
      const d = attrDiff(v, m.attrs[k], `${w} attribute '${k}'`, options);
      if (d) return d;
    }
  }
  const wantOpsets = options.expectOpsets ?? a.opsets;
  const key = (o: Record<string, number>) => JSON.stringify(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  if (key(wantOpsets) !== key(b.opsets)) return `${where}: opsets ${key(b.opsets)}, expected ${key(wantOpsets)}`;
  // Subgraphs carry the model's opsets; provenance is the model's (kept on the main graph only).
  if (where === 'graph' && JSON.stringify(a.provenance) !== JSON.stringify(b.provenance)) return `${where}: provenance ${JSON.stringify(a.provenance)} vs ${JSON.stringify(b.provenance)}`;
  return undefined;
}
