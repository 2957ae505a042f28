// If, Loop and Scan on the WASM backend: their subgraphs are planned like any graph, in the same
// memory, reading outer values in place. If plans both branches when the plan is made and reads
// the condition from memory at run time. Loop and Scan plan their body once per signature of
// loop-carried shapes (usually one) and run it per iteration, copying each iteration's carried
// outputs into the body's input slots. A subgraph that cannot be planned (sequences, optionals)
// sends only its node to the reference kernel.
import { nodeLabel, type Graph, type Node } from '../../graph/ir.js';
import { attrsOf, getOp } from '../../ops/registry.js';
import type { Attrs } from '../../ops/attrs.js';
import { byteLengthOf } from '../../tensor/dtype.js';
import { Tensor } from '../../tensor/tensor.js';
import type { PlannedType, WasmValue } from './kernel.js';
import { copyInto, dimsOf, planGraph, type GraphPlan, type Placed, type PlanEnv, type PlanScope } from './plan-graph.js';
import { checkDims, runOnReference } from './reference-step.js';
import { planLazily, LazyCache } from './lazy-region.js';
import { bodyPlanner, carryOver, fastBody, hostOf, ScanCollector, typeOfPlaced, type Body, type FastBody } from './iteration.js';

/** A control-flow node ready to run: its static child plans and a function returning its outputs. */
export interface ControlExec {
  children: GraphPlan[];
  end: number;
  /** Runs the node; the outputs are valid until the next run of any plan. */
  exec(): Placed[];
}

export interface ControlStep {
  plan(env: PlanEnv, scope: PlanScope, outputs: readonly WasmValue[], base: number): { children: GraphPlan[]; end: number; key: string; run(): void };
}

const CONTROL_OPS = new Set(['If', 'Loop', 'Scan']);

export function isControlNode(node: Node): boolean {
  return node.domain === '' && CONTROL_OPS.has(node.op);
}

/** The step of a control-flow node whose output shapes are known when planning. */
export function planControlNode(node: Node, outputTypes: readonly PlannedType[]): ControlStep | undefined {
  if (!isControlNode(node)) return undefined;
  return {
    plan: (env, scope, outputs, base) => {
      const ce = controlExec(env, node, scope, base);
      const run = () => {
        const outs = ce.exec();
        outputs.forEach((o, i) => {
          if (!node.outputs[i]) return;
          const s = outs[i]!;
          checkDims(node, i, dimsOf(s), outputTypes[i]!.dims);
          copyInto(env.mem, o, s);
        });
      };
      return { children: ce.children, end: ce.end, key: node.op, run };
    },
  };
}

/**
 * `base`: where static child plans (If branches) go; undefined plans them at run time in a fresh
 * region (for nodes after a cut, whose plans are themselves made at run time).
 */
export function controlExec(env: PlanEnv, node: Node, scope: PlanScope, base: number | undefined): ControlExec {
  const attrs = attrsOf(getOp(node.domain, node.op), node);
  const source = (n: string): Placed | undefined => scope.placed(n) ?? scope.constant(n);
  const fallback = (): Placed[] => runOnReference(env, node, source);
  switch (node.op) {
    case 'If': return ifExec(env, node, attrs, scope, source, base, fallback);
    case 'Loop': return { children: [], end: base ?? 0, exec: loopExec(env, node, attrs, scope, source, fallback) };
    default: return { children: [], end: base ?? 0, exec: scanExec(env, node, attrs, scope, source, fallback) };
  }
}

type Source = (name: string) => Placed | undefined;

function truth(env: PlanEnv, p: Placed, what: string, where: string): boolean {
  const n = dimsOf(p).reduce((a, b) => a * b, 1);
  if (n !== 1) throw new Error(`${where}: ${what} must hold exactly one element, got shape [${dimsOf(p).join(', ')}]`);
  return p instanceof Tensor ? (p.data as Uint8Array)[0] !== 0 : env.mem.u8(p.ptr, 1)[0] !== 0;
}

// ---- If ---------------------------------------------------------------------------------------

function ifExec(env: PlanEnv, node: Node, attrs: Attrs, scope: PlanScope, source: Source, base: number | undefined, fallback: () => Placed[]): ControlExec {
  const where = nodeLabel(node);
  const branches = [attrs.graph('then_branch'), attrs.graph('else_branch')] as const;
  const condName = node.inputs[0]!;
  const known = scope.constant(condName);
  const taken = known ? (truth(env, known, 'cond', where) ? 0 : 1) : undefined;
  const plans: (GraphPlan | undefined)[] = [undefined, undefined];
  const children: GraphPlan[] = [];
  let end = base ?? 0;
  const lazy = [new LazyCache(), new LazyCache()];
  // A branch that cannot be planned (often one valid only under its condition, so it never runs)
  // leaves the node to the reference kernel on the runs that take it.
  const make = (b: number, at: number) => {
    try {
      return planGraph(env, branches[b]!, scope, at);
    } catch {
      return undefined;
    }
  };
  if (base !== undefined) {
    for (const b of [0, 1]) {
      if (taken !== undefined && taken !== b) continue;
      const p = make(b, end);
      if (p) { plans[b] = p; children.push(p); end = p.end; }
    }
  }
  const condSource = source(condName);
  return {
    children,
    end,
    exec: () => {
      const b = taken ?? (truth(env, condSource ?? source(condName)!, 'cond', where) ? 0 : 1);
      const plan = base !== undefined ? plans[b] : lazy[b]!.get(env, '', () => planLazily(env, (at) => make(b, at)));
      if (!plan) return fallback();
      plan.run();
      return branches[b]!.outputs.map((v) => {
        const s = plan.source(v.name);
        if (!s) throw new Error(`${where}: branch output '${v.name}' was not computed`);
        return s;
      });
    },
  };
}

// ---- Loop and Scan: bodies run per iteration (helpers in iteration.ts) -------------------------

/**
 * Body plans one run of a Loop or Scan may make. Each is a fresh region that lives until the run
 * ends; a body whose carried shapes change on every iteration (a value growing by concatenation)
 * would make one per iteration, so past this many the node runs on its reference kernel from then
 * on (its inputs are intact: the run starts over there).
 */
const MAX_BODY_PLANS_PER_RUN = 8;
/** Likewise for every plan made inside the body during one run (after cuts whose shapes keep changing). */
const MAX_INNER_PLANS_PER_RUN = 64;

function varyingShapes(fallback: () => Placed[]) {
  let varying = false;
  return {
    giveUp: (): Placed[] => { varying = true; return fallback(); },
    gaveUp: () => varying,
  };
}

/** The body outputs after a run, in order. */
function outputsOf(b: Body, body: Graph, where: string): Placed[] {
  return body.outputs.map((v) => {
    const s = b.plan.source(v.name);
    if (!s) throw new Error(`${where}: body output '${v.name}' was not computed`);
    return s;
  });
}

function loopExec(env: PlanEnv, node: Node, attrs: Attrs, scope: PlanScope, source: Source, fallback: () => Placed[]): () => Placed[] {
  const where = nodeLabel(node);
  const body = attrs.graph('body');
  const N = Math.max(0, node.inputs.length - 2);
  const K = body.outputs.length - 1 - N;
  const planBody = bodyPlanner(env, body, scope);
  const iterT = new Tensor('int64', new BigInt64Array(1), []);
  const condT = new Tensor('bool', new Uint8Array(1), []);
  const { giveUp, gaveUp } = varyingShapes(fallback);
  return () => {
    if (gaveUp()) return fallback();
    const mName = node.inputs[0], cName = node.inputs[1];
    const m = mName ? source(mName) : undefined;
    const maxTrips = m ? tripCount(m instanceof Tensor ? m : env.mem.read(m), where) : Infinity;
    let cond = cName ? truth(env, source(cName)!, 'cond', where) : true;
    // Carried values: outer sources before the first iteration, host copies across re-plans.
    let carried: Placed[] = node.inputs.slice(2).map((n, i) => {
      const s = n ? source(n) : undefined;
      if (!s) throw new Error(`${where}: loop-carried input ${i} is missing`);
      return s;
    });
    const scans = Array.from({ length: K }, () => new ScanCollector());
    let b: Body | undefined;
    let fast: FastBody | undefined;
    let plans = 0;
    const lazyAtStart = env.lazyCount;
    for (let trip = 0; trip < maxTrips && cond; trip++) {
      if (!b) {
        if (++plans > MAX_BODY_PLANS_PER_RUN) return giveUp();
        b = planBody([{ dtype: 'int64', dims: [] }, { dtype: 'bool', dims: [] }, ...carried.map(typeOfPlaced)]);
        if (!b) return fallback();
        carried.forEach((c, i) => { const s = b!.slots[2 + i]; if (s) copyInto(env.mem, s, c); });
        fast = fastBody(env, b, body.outputs, 1, 2, N);
      }
      (iterT.data as BigInt64Array)[0] = BigInt(trip);
      (condT.data as Uint8Array)[0] = cond ? 1 : 0;
      if (b.slots[0]) env.mem.write(b.slots[0].ptr, iterT);
      if (b.slots[1]) env.mem.write(b.slots[1].ptr, condT);
      b.plan.run();
      if (env.lazyCount - lazyAtStart > MAX_INNER_PLANS_PER_RUN) return giveUp();
      const outs = fast ? fast.outs : outputsOf(b, body, where);
      cond = truth(env, outs[0]!, 'the body condition output', where);
      for (let k = 0; k < K; k++) scans[k]!.push(env, outs[1 + N + k]!, where);
      if (fast) {
        fast.carry();
        carried = fast.carried;
        continue;
      }
      const next = outs.slice(1, 1 + N);
      // Carried values the body does not read have no slot: keep a host copy of them.
      const unread = next.some((_, i) => !b!.slots[2 + i]);
      if (!unread && carryOver(env, b, 2, next)) {
        carried = b.slots.slice(2) as WasmValue[];
      } else {
        carried = next.map((o) => hostOf(env, o));
        b = undefined;
      }
    }
    const final = carried.map((c) => hostOf(env, c));
    const stacked = scans.map((c, k) => c.stack(0, false, body.outputs[1 + N + k]!.dtype, declaredDims(body, 1 + N + k) ?? []));
    return [...final, ...stacked];
  };
}

function tripCount(m: Tensor, where: string): number {
  if (m.size !== 1) throw new Error(`${where}: M must hold exactly one element, got shape [${m.dims.join(', ')}]`);
  const v = (m.data as BigInt64Array)[0]!;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Math.max(0, Number(v));
}

function declaredDims(g: Graph, i: number): number[] | undefined {
  const v = g.outputs[i]!;
  return !v.untyped && v.shape?.every((d): d is number => typeof d === 'number') ? [...v.shape] : undefined;
}

function axisOf(axis: number, rank: number, what: string, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${where}: ${what} ${axis} is out of range for rank ${rank}`);
  return a;
}

function scanExec(env: PlanEnv, node: Node, attrs: Attrs, scope: PlanScope, source: Source, fallback: () => Placed[]): () => Placed[] {
  const where = nodeLabel(node);
  const body = attrs.graph('body');
  const M = attrs.int('num_scan_inputs');
  const N = node.inputs.length - M;
  const K = body.outputs.length - N;
  const inAxes = attrs.optInts('scan_input_axes') ?? new Array<number>(M).fill(0);
  const inRev = attrs.optInts('scan_input_directions') ?? new Array<number>(M).fill(0);
  const outAxes = attrs.optInts('scan_output_axes') ?? new Array<number>(K).fill(0);
  const outRev = attrs.optInts('scan_output_directions') ?? new Array<number>(K).fill(0);
  const planBody = bodyPlanner(env, body, scope);
  const { giveUp, gaveUp } = varyingShapes(fallback);
  return () => {
    if (gaveUp()) return fallback();
    const ins = node.inputs.map((n, i) => {
      const s = n ? source(n) : undefined;
      if (!s) throw new Error(`${where}: input ${i} is missing`);
      return s;
    });
    const scanIns = ins.slice(N).map((s, j) => {
      const dims = dimsOf(s);
      const axis = axisOf(inAxes[j]!, dims.length, `scan_input_axes[${j}]`, where);
      const t = typeOfPlaced(s);
      const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
      const inner = byteLengthOf(t.dtype, dims.slice(axis + 1).reduce((a, b) => a * b, 1));
      return { s, axis, len: dims[axis]!, outer, inner, slice: { dtype: t.dtype, dims: dims.filter((_, i) => i !== axis) } };
    });
    const seq = scanIns[0]!.len;
    scanIns.forEach((x, j) => { if (x.len !== seq) throw new Error(`${where}: scan input ${j} has sequence length ${x.len}, scan input 0 has ${seq}`); });
    let states: Placed[] = ins.slice(0, N);
    const scans = Array.from({ length: K }, () => new ScanCollector());
    let b: Body | undefined;
    let fast: FastBody | undefined;
    let plans = 0;
    const lazyAtStart = env.lazyCount;
    for (let it = 0; it < seq; it++) {
      if (!b) {
        if (++plans > MAX_BODY_PLANS_PER_RUN) return giveUp();
        b = planBody([...states.map(typeOfPlaced), ...scanIns.map((x) => x.slice)]);
        if (!b) return fallback();
        states.forEach((c, i) => { const s = b!.slots[i]; if (s) copyInto(env.mem, s, c); });
        fast = fastBody(env, b, body.outputs, 0, 0, N);
      }
      scanIns.forEach((x, j) => {
        const slot = b!.slots[N + j];
        if (slot) copySlice(env, x, inRev[j] === 1 ? seq - 1 - it : it, slot);
      });
      b.plan.run();
      if (env.lazyCount - lazyAtStart > MAX_INNER_PLANS_PER_RUN) return giveUp();
      const outs = fast ? fast.outs : outputsOf(b, body, where);
      for (let k = 0; k < K; k++) scans[k]!.push(env, outs[N + k]!, where);
      if (fast) {
        fast.carry();
        states = fast.carried;
        continue;
      }
      const next = outs.slice(0, N);
      const unread = next.some((_, i) => !b!.slots[i]);
      if (!unread && carryOver(env, b, 0, next)) {
        states = b.slots.slice(0, N) as WasmValue[];
      } else {
        states = next.map((o) => hostOf(env, o));
        b = undefined;
      }
    }
    const final = states.map((c) => hostOf(env, c));
    const stacked = scans.map((c, k) => {
      const dims = c.dims ?? declaredDims(body, N + k);
      if (!dims) throw new Error(`${where}: scan output ${k} of an empty sequence needs a declared shape in the body`);
      const axis = axisOf(outAxes[k]!, dims.length + 1, `scan_output_axes[${k}]`, where);
      return c.stack(axis, outRev[k] === 1, body.outputs[N + k]!.dtype, dims);
    });
    return [...final, ...stacked];
  };
}

/** Copies slice `index` along the scan axis of a scan input into a body input slot. */
function copySlice(env: PlanEnv, x: { s: Placed; len: number; outer: number; inner: number }, index: number, slot: WasmValue): void {
  const heap = new Uint8Array(env.mem.buffer());
  if (x.s instanceof Tensor) {
    const src = new Uint8Array(x.s.data.buffer, x.s.data.byteOffset, x.s.data.byteLength);
    for (let o = 0; o < x.outer; o++) {
      const from = (o * x.len + index) * x.inner;
      heap.set(src.subarray(from, from + x.inner), slot.ptr + o * x.inner);
    }
    return;
  }
  for (let o = 0; o < x.outer; o++) {
    const from = x.s.ptr + (o * x.len + index) * x.inner;
    heap.copyWithin(slot.ptr + o * x.inner, from, from + x.inner);
  }
}
