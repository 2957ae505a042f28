// Graph-editing helpers shared by every pass, so no pass rebuilds its own (subtly different)
// consumer counts or name generators.
//
// Rules the helpers keep, and passes must keep too:
//  - Passes are pure: they never mutate the input graph, its nodes, maps or tensors. Every helper
//    here returns a new Graph (shallow: unchanged nodes and tensors are shared, which is safe
//    because nobody mutates them).
//  - A use is anything that reads a value: a node input, a read inside one of the node's
//    subgraphs (If/Loop/Scan bodies read outer values by name: `nodeReads`), or a graph output.
//  - Rewriting a value's readers follows ONNX lexical scoping: reads inside subgraphs are
//    rewritten too, except where the subgraph defines the same name itself.
import type { Tensor } from '../tensor/tensor.js';
import { inferGraph, type InferResult, type OuterScope } from './infer.js';
import { definedIn, implicitInputs, isGraphAttr, subgraphsOf, type AttrValue, type Graph, type Node } from './ir.js';

/** Where a value comes from. */
export type ValueSource =
  | { kind: 'node'; node: Node; output: number }
  | { kind: 'input' }
  | { kind: 'initializer'; tensor: Tensor };

/** A read of a value by a node: at `input` (an explicit input slot) or, `input` -1, inside a subgraph. */
export interface ValueUse {
  node: Node;
  input: number;
}

/**
 * Producers and consumers of every value of one graph (not of its subgraphs: build another index
 * for a subgraph). Built once per pass application; rebuild it after editing the graph.
 */
export class UseDefIndex {
  private readonly producers = new Map<string, { node: Node; output: number }>();
  private readonly uses = new Map<string, ValueUse[]>();
  private readonly outputs = new Map<string, number>();
  private readonly position = new Map<Node, number>();

  constructor(readonly graph: Graph) {
    graph.nodes.forEach((node, i) => {
      this.position.set(node, i);
      node.outputs.forEach((o, k) => { if (o) this.producers.set(o, { node, output: k }); });
      node.inputs.forEach((v, k) => { if (v) this.addUse(v, { node, input: k }); });
      // A value the node also reads explicitly still gets its own subgraph use: rewriting the
      // explicit input alone would leave the subgraph reading the old value.
      for (const v of implicitInputs(node)) this.addUse(v, { node, input: -1 });
    });
    for (const v of graph.outputs) this.outputs.set(v.name, (this.outputs.get(v.name) ?? 0) + 1);
  }

  private addUse(v: string, use: ValueUse): void {
    const list = this.uses.get(v);
    if (list) list.push(use);
    else this.uses.set(v, [use]);
  }

  /** The node that produces `value`, or undefined for inputs, initializers and outer-scope values. */
  producer(value: string): Node | undefined {
    return this.producers.get(value)?.node;
  }

  /** Which output slot of its producer `value` is. */
  producerOutput(value: string): number | undefined {
    return this.producers.get(value)?.output;
  }

  source(value: string): ValueSource | undefined {
    const p = this.producers.get(value);
    if (p) return { kind: 'node', node: p.node, output: p.output };
    const t = this.graph.initializers.get(value);
    if (t) return { kind: 'initializer', tensor: t };
    if (this.graph.inputs.some((v) => v.name === value)) return { kind: 'input' };
    return undefined;
  }

  /** Every read of `value` by this graph's nodes (explicit slots, and -1 for subgraph reads). */
  usesOf(value: string): readonly ValueUse[] {
    return this.uses.get(value) ?? [];
  }

  /** Distinct nodes that read `value`, explicitly or inside their subgraphs, in graph order. */
  consumers(value: string): Node[] {
    return [...new Set(this.usesOf(value).map((u) => u.node))];
  }

  isGraphOutput(value: string): boolean {
    return this.outputs.has(value);
  }

  /** Number of reads: node input slots, subgraph reads (one per node) and graph outputs. */
  useCount(value: string): number {
    return this.usesOf(value).length + (this.outputs.get(value) ?? 0);
  }

  isUsed(value: string): boolean {
    return this.useCount(value) > 0;
  }

  /**
   * The node that reads `value` when that read is its only use (one explicit input slot, no
   * subgraph reads, not a graph output): the condition for folding a producer into its consumer.
   */
  soleConsumer(value: string): Node | undefined {
    const u = this.usesOf(value);
    return u.length === 1 && u[0]!.input >= 0 && !this.outputs.has(value) ? u[0]!.node : undefined;
  }

  /** Position of `node` in graph.nodes (-1 if it is not in this graph). */
  indexOf(node: Node): number {
    return this.position.get(node) ?? -1;
  }

  /** True when `value` is an initializer of this graph. */
  isInitializer(value: string): boolean {
    return this.graph.initializers.has(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Names

/** Every name a graph and its nested subgraphs use: values, initializers, node names. */
export function namesIn(graph: Graph, into = new Set<string>()): Set<string> {
  for (const v of graph.inputs) into.add(v.name);
  for (const v of graph.outputs) into.add(v.name);
  for (const k of graph.initializers.keys()) into.add(k);
  for (const n of graph.nodes) {
    if (n.name) into.add(n.name);
    for (const v of n.inputs) if (v) into.add(v);
    for (const v of n.outputs) if (v) into.add(v);
    for (const s of subgraphsOf(n)) namesIn(s, into);
  }
  return into;
}

/**
 * Makes names no value, initializer or node of `graph` (or of its subgraphs) uses, nor any name
 * this generator gave out before: `fresh('conv1_bias')` -> 'conv1_bias', then 'conv1_bias_1', ...
 */
export class NameGenerator {
  private readonly taken: Set<string>;

  constructor(graph: Graph, reserved: Iterable<string> = []) {
    this.taken = namesIn(graph);
    for (const r of reserved) this.taken.add(r);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  /** Marks a name used (one the caller chose itself). */
  reserve(name: string): void {
    this.taken.add(name);
  }
}

// ---------------------------------------------------------------------------------------------
// Edits; each returns a new graph.

/**
 * Replaces each key node by the listed nodes, in place (an empty list removes it). Nodes not in
 * the map stay as they are.
 */
export function replaceNodes(graph: Graph, replacements: ReadonlyMap<Node, Node | readonly Node[]>): Graph {
  if (replacements.size === 0) return graph;
  const nodes: Node[] = [];
  for (const n of graph.nodes) {
    const r = replacements.get(n);
    if (r === undefined) nodes.push(n);
    else if (Array.isArray(r)) nodes.push(...(r as readonly Node[]));
    else nodes.push(r as Node);
  }
  return { ...graph, nodes };
}

export function replaceNode(graph: Graph, node: Node, by: Node | readonly Node[]): Graph {
  return replaceNodes(graph, new Map([[node, by]]));
}

export function removeNodes(graph: Graph, remove: Iterable<Node>): Graph {
  const set = new Set(remove);
  if (set.size === 0) return graph;
  return { ...graph, nodes: graph.nodes.filter((n) => !set.has(n)) };
}

/** Inserts `nodes` before (or after) `anchor`; at the start (or end) when anchor is undefined. */
export function insertNodes(graph: Graph, nodes: readonly Node[], anchor?: Node, where: 'before' | 'after' = 'before'): Graph {
  const out = [...graph.nodes];
  let at = anchor ? out.indexOf(anchor) : where === 'before' ? 0 : out.length;
  if (anchor && at < 0) throw new Error(`insertNodes: node '${anchor.name}' is not in graph '${graph.name}'`);
  if (anchor && where === 'after') at++;
  out.splice(at, 0, ...nodes);
  return { ...graph, nodes: out };
}

/** Adds (or overwrites) initializers and drops the named ones. */
export function editInitializers(graph: Graph, add: ReadonlyMap<string, Tensor> | Iterable<[string, Tensor]> = [], remove: Iterable<string> = []): Graph {
  const initializers = new Map(graph.initializers);
  for (const r of remove) initializers.delete(r);
  for (const [k, v] of add) initializers.set(k, v);
  return { ...graph, initializers };
}

/** Drops value-info entries (types that a pass made stale, e.g. by changing a value's dtype). */
export function dropValueInfo(graph: Graph, names: Iterable<string>): Graph {
  const valueInfo = new Map(graph.valueInfo);
  let changed = false;
  for (const n of names) changed = valueInfo.delete(n) || changed;
  return changed ? { ...graph, valueInfo } : graph;
}

/** A node with its inputs renamed by `map` (explicit inputs and reads inside its subgraphs). */
export function renameReads(node: Node, map: ReadonlyMap<string, string>): Node {
  let changed = false;
  const inputs = node.inputs.map((v) => {
    const r = v ? map.get(v) : undefined;
    if (r === undefined) return v;
    changed = true;
    return r;
  });
  let attrs = node.attrs;
  for (const [k, a] of Object.entries(node.attrs)) {
    if (!isGraphAttr(a)) continue;
    const sub = renameOuterReads(a, map);
    if (sub !== a) {
      if (attrs === node.attrs) attrs = { ...node.attrs };
      attrs[k] = sub;
      changed = true;
    }
  }
  return changed ? { ...node, inputs, attrs } : node;
}

/** Renames reads of outer values inside a subgraph, skipping names the subgraph defines itself. */
function renameOuterReads(sub: Graph, map: ReadonlyMap<string, string>): Graph {
  const own = definedIn(sub);
  const visible = new Map([...map].filter(([k]) => !own.has(k)));
  if (visible.size === 0) return sub;
  let changed = false;
  const nodes = sub.nodes.map((n) => {
    const r = renameReads(n, visible);
    if (r !== n) changed = true;
    return r;
  });
  const outputs = sub.outputs.map((v) => {
    const r = visible.get(v.name);
    if (r === undefined) return v;
    changed = true;
    return { ...v, name: r };
  });
  return changed ? { ...sub, nodes, outputs } : sub;
}

/**
 * Makes every node that reads `from` (explicitly or inside a subgraph) read `to` instead. Graph
 * outputs keep their names unless `outputs` is true (then an output named `from` becomes `to`,
 * which renames a model output: only for internal rewrites of subgraph outputs, say).
 */
export function replaceUses(graph: Graph, from: string, to: string, options: { outputs?: boolean } = {}): Graph {
  return replaceAllUses(graph, new Map([[from, to]]), options);
}

/** replaceUses for many values at once; chains (a->b, b->c) resolve to the last name. */
export function replaceAllUses(graph: Graph, map: ReadonlyMap<string, string>, options: { outputs?: boolean } = {}): Graph {
  if (map.size === 0) return graph;
  const resolved = new Map<string, string>();
  for (const k of map.keys()) {
    let v = k;
    const seen = new Set<string>();
    while (map.has(v) && !seen.has(v)) { seen.add(v); v = map.get(v)!; }
    resolved.set(k, v);
  }
  const nodes = graph.nodes.map((n) => renameReads(n, resolved));
  const outputs = options.outputs
    ? graph.outputs.map((v) => (resolved.has(v.name) ? { ...v, name: resolved.get(v.name)! } : v))
    : graph.outputs;
  return { ...graph, nodes, outputs };
}

/**
 * Renames the value a node produces (and every read of it). Used to keep a graph output's name
 * when the node that computed it under another name is removed (Identity removal).
 */
export function renameValue(graph: Graph, from: string, to: string): Graph {
  const nodes = graph.nodes.map((n) => {
    const k = n.outputs.indexOf(from);
    const m = k < 0 ? n : { ...n, outputs: n.outputs.map((o) => (o === from ? to : o)) };
    return renameReads(m, new Map([[from, to]]));
  });
  const outputs = graph.outputs.map((v) => (v.name === from ? { ...v, name: to } : v));
  const valueInfo = new Map(graph.valueInfo);
  const vi = valueInfo.get(from);
  if (vi) { valueInfo.delete(from); valueInfo.set(to, { ...vi, name: to }); }
  return { ...graph, nodes, outputs, valueInfo };
}

// ---------------------------------------------------------------------------------------------
// Subgraph recursion

/**
 * Applies `fn` to every subgraph held by a node of `graph` (recursively: `fn` is expected to
 * recurse itself, usually by being the pass's own graph function). Nodes whose subgraphs do not
 * change are kept as they are; returns `graph` itself when nothing changed.
 */
export function mapSubgraphs(graph: Graph, fn: (sub: Graph, node: Node, attr: string) => Graph): Graph {
  let changed = false;
  const nodes = graph.nodes.map((n) => {
    let attrs: Record<string, AttrValue> | undefined;
    for (const [k, a] of Object.entries(n.attrs)) {
      if (!isGraphAttr(a)) continue;
      const s = fn(a, n, k);
      if (s !== a) {
        attrs ??= { ...n.attrs };
        attrs[k] = s;
      }
    }
    if (!attrs) return n;
    changed = true;
    return { ...n, attrs };
  });
  return changed ? { ...graph, nodes } : graph;
}

/** What a rewrite of a subgraph may know about the scopes around it (types, constants). */
export interface RewriteScope {
  /** Undefined for the top-level graph. */
  outer?: OuterScope;
  /** The node holding this subgraph and the attribute it sits in (undefined at top level). */
  node?: Node;
  attr?: string;
}

/**
 * Runs a graph rewrite on `graph` and, bottom-up, on every subgraph: subgraphs first (so a
 * rewrite of the outer graph sees their final form), then the graph itself. Each subgraph's
 * rewrite gets an `outer` scope with the types and constants of the graphs around it, for
 * `inferInScope`; when the enclosing graph cannot be inferred, `outer` is undefined.
 */
export function rewriteRecursively(graph: Graph, rewrite: (g: Graph, scope: RewriteScope) => Graph, scope: RewriteScope = {}): Graph {
  const hasSubgraphs = graph.nodes.some((n) => subgraphsOf(n).length > 0);
  let inner = graph;
  if (hasSubgraphs) {
    const here = inferInScope(graph, scope.outer);
    const outer: OuterScope | undefined = here ? scopeOf(here, scope.outer) : undefined;
    inner = mapSubgraphs(graph, (sub, node, attr) => rewriteRecursively(sub, rewrite, { ...(outer ? { outer } : {}), node, attr }));
  }
  return rewrite(inner, scope);
}

/** The scope a subgraph of `graph` sees: `graph`'s own values, then the scopes around it. */
export function scopeOf(inferred: InferResult, outer?: OuterScope): OuterScope {
  return {
    type: (n) => inferred.types.get(n) ?? outer?.type(n),
    constant: (n) => inferred.constants.get(n) ?? outer?.constant(n),
  };
}

/**
 * Infers a graph that may be a subgraph (reading `outer` values); undefined when it cannot be
 * typed on its own, e.g. a Loop body whose untyped inputs only the Loop node can type. Passes
 * that need types then leave that subgraph as it is.
 */
export function inferInScope(graph: Graph, outer?: OuterScope): InferResult | undefined {
  if (graph.inputs.some((v) => v.untyped)) return undefined;
  try {
    return inferGraph(graph, outer);
  } catch {
    return undefined;
  }
}

/** True when nodes are structurally the same computation (op, domain, inputs, attributes). */
export function sameAttrs(a: Node['attrs'], b: Node['attrs']): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => sameAttr(a[k]!, b[k]!));
}

function sameAttr(x: AttrValue, y: AttrValue): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object') return Object.is(x, y);
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
  // Tensors and graphs: equal only when the same object (a deep comparison is not worth it here).
  return false;
}
