// Fuses Conv/Gemm/MatMul with the activation that follows (and MatMul with a following bias Add)
// into ai.kiln Fused* ops, so backends apply them in the GEMM/conv store instead of another pass
// over memory. Only a producer whose single consumer is the fused node is fused.
import { inferInScope, NameGenerator, rewriteRecursively, UseDefIndex, type RewriteScope } from '../graph/edit.js';
import type { Graph, Node } from '../graph/ir.js';
import { FUSABLE_ACTIVATIONS, KILN_DOMAIN, type FusableActivation } from '../ops/fused.js';
import { toNumbers } from '../tensor/convert.js';
import type { Tensor } from '../tensor/tensor.js';
import { applyPass, definePass } from './pass.js';

const FUSABLE_PRODUCERS = new Set(['Conv', 'Gemm', 'MatMul']);

/** activation_params for an activation node, or undefined when it cannot be fused. */
function activationParams(node: Node, constants: Map<string, Tensor>): number[] | undefined {
  switch (node.op as FusableActivation) {
    case 'Relu': case 'Sigmoid': return [];
    case 'LeakyRelu': return [(node.attrs.alpha as number | undefined) ?? 0.01];
    case 'Gelu': return [node.attrs.approximate === 'tanh' ? 1 : 0];
    case 'Clip': {
      const bound = (i: number, dflt: number) => {
        const name = node.inputs[i];
        if (!name) return dflt;
        const t = constants.get(name);
        return t && t.size === 1 ? toNumbers(t)[0]! : undefined;
      };
      const lo = bound(1, -Infinity);
      const hi = bound(2, Infinity);
      return lo === undefined || hi === undefined ? undefined : [lo, hi];
    }
    default: return undefined;
  }
}

/** Fuses in one graph (subgraphs are handled by rewriteRecursively). */
function fuseInGraph(graph: Graph, scope: RewriteScope): Graph {
  if (!graph.nodes.some((n) => n.domain === '' && FUSABLE_PRODUCERS.has(n.op))) return graph;
  const inferred = inferInScope(graph, scope.outer);
  if (!inferred) return graph;
  const { types, constants } = inferred;
  const index = new UseDefIndex(graph);
  const soleConsumer = (value: string): Node | undefined => index.soleConsumer(value);
  const names = new NameGenerator(graph);
  const newInitializers = new Map<string, Tensor>();
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  let fused = 0;
  for (const node of graph.nodes) {
    if (node.domain !== '' || !FUSABLE_PRODUCERS.has(node.op) || removed.has(node)) continue;
    let out = node.outputs[0]!;
    if (types.get(out)?.dtype !== 'float32') continue;
    const inputs = [...node.inputs];
    const absorbed: Node[] = [];
    const attrs = { ...node.attrs };
    if (node.op === 'Conv' && (inputs[2] ?? '') === '') {
      // Conv without bias followed by Add of a per-channel constant ([C,1,1] or [1,C,1,1]): the
      // constant becomes the Conv's bias.
      const add = soleConsumer(out);
      const biasName = add?.op === 'Add' && add.domain === '' ? add.inputs.find((v) => v !== out) : undefined;
      const bias = biasName ? constants.get(biasName) : undefined;
      const shape = types.get(out)?.shape;
      const c = shape?.[1];
      const rank = shape?.length ?? 0;
      const padded = bias && bias.dims.length <= rank ? [...new Array<number>(rank - bias.dims.length).fill(1), ...bias.dims] : undefined;
      const perChannel = typeof c === 'number' && padded !== undefined && padded.every((d, i) => d === (i === 1 ? c : 1));
      if (add && bias && bias.type === 'float32' && perChannel) {
        const name = names.fresh(`${node.name}__bias`);
        newInitializers.set(name, bias.reshape([c as number]));
        inputs[2] = name;
        absorbed.push(add);
        out = add.outputs[0]!;
      }
    }
    if (node.op === 'MatMul') {
      const add = soleConsumer(out);
      const biasName = add?.op === 'Add' && add.domain === '' ? add.inputs.find((v) => v !== out) : undefined;
      const bias = biasName ? constants.get(biasName) : undefined;
      const n = types.get(out)?.shape?.at(-1);
      if (add && bias && bias.type === 'float32' && (bias.size === 1 || (bias.size === n && bias.dims.at(-1) === n))) {
        inputs.push(biasName!);
        absorbed.push(add);
        out = add.outputs[0]!;
      }
    }
    const act = soleConsumer(out);
    const params = act && act.domain === '' && FUSABLE_ACTIVATIONS.includes(act.op as FusableActivation) ? activationParams(act, constants) : undefined;
    if (act && params) {
      attrs.activation = act.op;
      attrs.activation_params = params;
      absorbed.push(act);
      out = act.outputs[0]!;
    }
    if (absorbed.length === 0) continue;
    absorbed.forEach((n) => removed.add(n));
    const fusedActivation = attrs.activation !== undefined || node.op === 'MatMul';
    replaced.set(node, fusedActivation
      ? { ...node, op: `Fused${node.op}`, domain: KILN_DOMAIN, inputs, outputs: [out], attrs }
      : { ...node, inputs, outputs: [out] });
    fused++;
  }
  if (fused === 0) return graph;
  const nodes = graph.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  const initializers = new Map([...graph.initializers, ...newInitializers]);
  return { ...graph, nodes, initializers, opsets: { ...graph.opsets, [KILN_DOMAIN]: 1 } };
}

/** The fusion as a pipeline pass (backends list it in loweringPasses). */
export const fuseActivationsPass = definePass<Record<string, never>>('fuseActivations', (graph) => rewriteRecursively(graph, fuseInGraph));

/** Applies the fusion and records it in the provenance. */
export function fuseActivations(graph: Graph): Graph {
  return applyPass(graph, fuseActivationsPass());
}
