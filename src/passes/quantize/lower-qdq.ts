// Lowering of QDQ patterns to Kiln's int8 ops, for backends with int8 kernels (WASM). The
// reference backend runs QDQ graphs as written; this pass gives the same values up to the
// requantization of each int8 op (one rounding of the output instead of float ops followed by a
// QuantizeLinear: the result differs from the QDQ graph by at most one step of the output scale).
//   DQ(x), DQ(w int8 const), [DQ(bias int32 const)] -> Conv -> Q       => QLinearConv
//   DQ(a), DQ(b int8 const)                          -> MatMul -> Q     => QLinearMatMul
//   DQ(a), DQ(b)                                     -> Add|Mul -> Q    => com.microsoft QLinearAdd|QLinearMul
//   DQ(x)                                            -> GlobalAveragePool -> Q => com.microsoft QLinearGlobalAveragePool
//   DQ(x) -> MaxPool|Reshape|Transpose|Flatten|Squeeze|Unsqueeze|GlobalMaxPool|Concat -> Q
//        with the same scale and zero point on both sides => the op on the int8 values
//   DQ(x) -> Relu -> Q with the same parameters and zero point = the type's minimum => nothing
//        (the clamp at the zero point already is the Relu)
// Every matched float op must feed nothing but its QuantizeLinear. Unmatched QDQ pairs stay (they
// still compute the right thing); DequantizeLinear / QuantizeLinear nodes left without readers are
// removed with the parameters only they read.
import { UseDefIndex, replaceAllUses, rewriteRecursively } from '../../graph/edit.js';
import { definePass } from '../pass.js';
import { MS_DOMAIN, type Graph, type Node } from '../../graph/ir.js';
import { rangeOf } from '../../ops/util.js';
import { toNumbers } from '../../tensor/convert.js';
import { dropUnusedInitializers } from './prepare.js';

/** A DequantizeLinear or QuantizeLinear read as (quantized value, scale, zero point). */
interface QParams {
  node: Node;
  /** DQ: its quantized input; Q: its quantized output. */
  q: string;
  scale: string;
  zp: string;
  scaleValues: Float64Array;
  zpValues: Float64Array;
  dtype: string;
  axis: number;
}

const PASS_THROUGH = new Set(['MaxPool', 'Reshape', 'Transpose', 'Flatten', 'Squeeze', 'Unsqueeze', 'GlobalMaxPool', 'Concat']);

export interface LowerQdqOptions {
  /**
   * Op types to leave as DQ -> op -> Q (float), for backends without an int8 kernel for them
   * (a reference fallback on the int8 values can cost more than the float op plus the two casts).
   */
  floatOps?: readonly string[];
}

/** The lowering as a pipeline pass (the WASM backend lists it in loweringPasses); recurses into subgraphs. */
export const lowerQdqPass = definePass<LowerQdqOptions>('lowerQdq', (graph, options) => rewriteRecursively(graph, (g) => lowerQdq(g, options)));

export function lowerQdq(graph: Graph, options: LowerQdqOptions = {}): Graph {
  if (!graph.nodes.some((n) => n.domain === '' && n.op === 'DequantizeLinear')) return graph;
  const floatOps = new Set(options.floatOps ?? []);
  const idx = new UseDefIndex(graph);
  const init = graph.initializers;

  /** Constant-parameter Q/DQ (scale an initializer, zero point absent or an initializer, no block size). */
  const readParams = (node: Node | undefined, op: 'DequantizeLinear' | 'QuantizeLinear'): QParams | undefined => {
    if (!node || node.op !== op || node.domain !== '' || (node.attrs.block_size ?? 0) !== 0) return undefined;
    const s = init.get(node.inputs[1] ?? '');
    const zpName = node.inputs[2] ?? '';
    const z = zpName ? init.get(zpName) : undefined;
    if (!s || s.type !== 'float32' || (zpName && !z)) return undefined;
    let dtype: string;
    if (op === 'DequantizeLinear') {
      const src = init.get(node.inputs[0]!);
      dtype = src?.type ?? z?.type ?? graph.valueInfo.get(node.inputs[0]!)?.dtype ?? '';
      if (!z && !src) return undefined; // dtype unknown without a zero point or constant input
    } else {
      if ((node.attrs.output_dtype ?? 0) !== 0 && !z) return undefined;
      dtype = z?.type ?? 'uint8';
    }
    if (dtype !== 'uint8' && dtype !== 'int8' && !(op === 'DequantizeLinear' && dtype === 'int32')) return undefined;
    return {
      node, q: op === 'DequantizeLinear' ? node.inputs[0]! : node.outputs[0]!, scale: node.inputs[1]!, zp: zpName,
      scaleValues: toNumbers(s), zpValues: z ? toNumbers(z) : new Float64Array(s.size), dtype, axis: typeof node.attrs.axis === 'number' ? node.attrs.axis : 1,
    };
  };
  const dqOf = (v: string | undefined): QParams | undefined => (v ? readParams(idx.producer(v), 'DequantizeLinear') : undefined);
  const perTensor = (p: QParams | undefined): p is QParams => !!p && p.scaleValues.length === 1 && p.dtype !== 'int32';
  /** The QuantizeLinear that is the only reader of `v`. */
  const qAfter = (v: string): QParams | undefined => {
    const c = idx.soleConsumer(v);
    const p = readParams(c, 'QuantizeLinear');
    return p && p.node.inputs[0] === v && perTensor(p) ? p : undefined;
  };
  const sameParams = (a: QParams, b: QParams) => a.dtype === b.dtype && a.scaleValues.length === 1 && b.scaleValues.length === 1
    && Math.fround(a.scaleValues[0]!) === Math.fround(b.scaleValues[0]!) && a.zpValues[0] === b.zpValues[0];
  /** Zero-point input name for a QLinear op: the DQ's own, or '' (absent = 0). */
  const zpIn = (p: QParams) => p.zp;

  const replace = new Map<Node, Node>();
  const renames = new Map<string, string>();
  for (const node of graph.nodes) {
    if (node.domain !== '' || floatOps.has(node.op)) continue;
    const out = node.outputs[0];
    if (!out || node.outputs.length !== 1) continue;
    const y = qAfter(out);
    if (!y) continue;
    const x = dqOf(node.inputs[0]);
    const emit = (op: string, inputs: string[], attrs: Node['attrs'], domain = '') => {
      replace.set(node, { name: node.name, op, domain, inputs, outputs: [y.q], attrs });
      replace.set(y.node, { ...y.node, op: '' }); // marked for removal
    };
    switch (node.op) {
      case 'Conv': {
        if (!perTensor(x)) break;
        const w = dqOf(node.inputs[1]);
        const wT = w && init.get(w.q);
        if (!w || !wT || (wT.type !== 'int8' && wT.type !== 'uint8') || (w.scaleValues.length > 1 && (w.axis !== 0 || w.scaleValues.length !== wT.dims[0]))) break;
        let bias = '';
        if (node.inputs[2]) {
          const b = dqOf(node.inputs[2]);
          const bT = b && init.get(b.q);
          if (!b || !bT || bT.type !== 'int32' || b.zpValues.some((z) => z !== 0)) break;
          // QLinearConv adds the int32 bias in the accumulator's scale x_scale * w_scale[c].
          const xs = x.scaleValues[0]!;
          const ok = b.scaleValues.length === bT.size && b.scaleValues.every((s, c) => {
            const want = Math.fround(xs * w.scaleValues[w.scaleValues.length === 1 ? 0 : c]!);
            return Math.abs(s - want) <= 1e-6 * Math.abs(want);
          });
          if (!ok) break;
          bias = b.q;
        }
        const inputs = [x.q, x.scale, zpIn(x), w.q, w.scale, zpIn(w), y.scale, y.zp];
        if (bias) inputs.push(bias);
        emit('QLinearConv', inputs, node.attrs);
        break;
      }
      case 'MatMul': {
        if (!perTensor(x)) break;
        const b = dqOf(node.inputs[1]);
        const bT = b && init.get(b.q);
        if (!b || !bT || bT.dims.length !== 2 || (bT.type !== 'int8' && bT.type !== 'uint8')) break;
        if (b.scaleValues.length > 1 && (b.axis !== 1 || b.scaleValues.length !== bT.dims[1])) break;
        // QLinearMatMul reads a per-column zero point only as a 1-D vector: per-column zero points
        // that are all 0 are left out.
        let bz = zpIn(b);
        if (b.zpValues.length > 1) {
          if (b.zpValues.some((z) => z !== 0)) break;
          bz = '';
        }
        emit('QLinearMatMul', [x.q, x.scale, zpIn(x), b.q, b.scale, bz, y.scale, y.zp], {});
        break;
      }
      case 'Add':
      case 'Mul': {
        const b = dqOf(node.inputs[1]);
        if (!perTensor(x) || !perTensor(b) || x.dtype !== b.dtype || x.dtype !== y.dtype) break;
        emit(`QLinear${node.op}`, [x.q, x.scale, zpIn(x), b.q, b.scale, zpIn(b), y.scale, y.zp], {}, MS_DOMAIN);
        break;
      }
      case 'GlobalAveragePool': {
        if (!perTensor(x) || x.dtype !== y.dtype) break;
        emit('QLinearGlobalAveragePool', [x.q, x.scale, zpIn(x), y.scale, y.zp], { channels_last: 0 }, MS_DOMAIN);
        break;
      }
      case 'Relu': {
        if (!perTensor(x) || !sameParams(x, y) || y.zpValues[0] !== rangeOf(y.dtype as 'uint8')[0] || idx.isGraphOutput(y.q)) break;
        renames.set(y.q, x.q);
        replace.set(node, { ...node, op: '' });
        replace.set(y.node, { ...y.node, op: '' });
        break;
      }
      default: {
        if (!PASS_THROUGH.has(node.op)) break;
        const dataInputs = node.op === 'Concat' ? node.inputs : [node.inputs[0]!];
        const dqs = dataInputs.map(dqOf);
        if (!dqs.every((p): p is QParams => perTensor(p) && sameParams(p, y))) break;
        // The max of the quantized values is the max of the real ones only for a positive scale.
        if ((node.op === 'MaxPool' || node.op === 'GlobalMaxPool') && !(y.scaleValues[0]! > 0)) break;
        const inputs = node.op === 'Concat' ? dqs.map((p) => p.q) : [x!.q, ...node.inputs.slice(1)];
        emit(node.op, inputs, node.attrs);
      }
    }
  }
  if (replace.size === 0) return graph;
  let nodes = graph.nodes.map((n) => replace.get(n) ?? n).filter((n) => n.op !== '');
  let g: Graph = { ...graph, nodes };
  if (renames.size) g = replaceAllUses(g, renames);
  // Remove Q / DQ nodes nobody reads any more (repeat: a dead DQ can make its Q dead).
  for (;;) {
    const u = new UseDefIndex(g);
    nodes = g.nodes.filter((n) => !(n.domain === '' && (n.op === 'DequantizeLinear' || n.op === 'QuantizeLinear') && !u.isUsed(n.outputs[0]!)));
    if (nodes.length === g.nodes.length) break;
    g = { ...g, nodes };
  }
  const opsets = g.nodes.some((n) => n.domain === MS_DOMAIN) && g.opsets[MS_DOMAIN] === undefined ? { ...g.opsets, [MS_DOMAIN]: 1 } : g.opsets;
  return dropUnusedInitializers({ ...g, opsets, valueInfo: pruneValueInfo(g) });
}

/** Drops the types of values that no longer exist (every lowered op writes its Q's value, same dtype). */
function pruneValueInfo(g: Graph): Graph['valueInfo'] {
  const live = new Set<string>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) live.add(o);
  return new Map([...g.valueInfo].filter(([k]) => live.has(k)));
}
