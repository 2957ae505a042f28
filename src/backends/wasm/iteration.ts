// What Loop and Scan share on the WASM backend: bodies planned per signature of input types, the
// move of each iteration's carried outputs into the body's input slots, and scan outputs gathered
// into one growing host buffer. A body whose plan has no cut keeps its outputs in the same places
// on every iteration, so its moves are worked out once (fastBody) and an iteration creates no
// tensors: for small recurrent bodies the per-iteration bookkeeping costs as much as the kernels.
import type { Graph, ValueInfo } from '../../graph/ir.js';
import { byteLengthOf, viewData, type DType } from '../../tensor/dtype.js';
import { Tensor } from '../../tensor/tensor.js';
import type { PlannedType, WasmValue } from './kernel.js';
import { LazyCache, planLazily } from './lazy-region.js';
import { copyInto, dimsOf, planGraph, type GraphPlan, type Placed, type PlanEnv, type PlanScope } from './plan-graph.js';

/** A body planned for one signature of input types, with its input slots. */
export interface Body {
  plan: GraphPlan;
  slots: (WasmValue | undefined)[];
  dims: (readonly number[])[];
}

/** Plans `body` for the given input types (cached per signature); undefined when it cannot be planned. */
export function bodyPlanner(env: PlanEnv, body: Graph, scope: PlanScope) {
  const cache = new LazyCache();
  return (types: readonly PlannedType[]): Body | undefined => {
    const key = types.map((t) => `${t.dtype}:${t.dims.join('x')}`).join('|');
    const plan = cache.get(env, key, () => planLazily(env, (at) => {
      const g: Graph = { ...body, inputs: body.inputs.map((v, i) => ({ name: v.name, dtype: types[i]!.dtype, shape: types[i]!.dims })) };
      try {
        return planGraph(env, g, scope, at, { inputsLive: true });
      } catch {
        return undefined;
      }
    }));
    if (!plan) return undefined;
    return { plan, slots: body.inputs.map((v) => plan.values.get(v.name)), dims: types.map((t) => t.dims) };
  };
}

export const typeOfPlaced = (p: Placed): PlannedType => (p instanceof Tensor ? { dtype: p.type, dims: p.dims } : { dtype: p.dtype, dims: p.dims });

const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, k) => x === b[k]);

/** An output that overlaps another carried input's slot (a swap): it must be read before any slot is written. */
function crosses(slots: readonly (WasmValue | undefined)[], from: number, outs: readonly Placed[]): boolean {
  return outs.some((o, i) => !(o instanceof Tensor) && slots.some((s, j) => s && j !== from + i && j >= from && s.ptr < o.ptr + o.byteLength && o.ptr < s.ptr + s.byteLength));
}

/**
 * Moves the carried outputs of an iteration into the body's input slots `from..from+outs.length`.
 * Returns false when a shape changed (the caller then plans the body again for the new shapes).
 */
export function carryOver(env: PlanEnv, body: Body, from: number, outs: readonly Placed[]): boolean {
  for (let i = 0; i < outs.length; i++) if (!sameDims(dimsOf(outs[i]!), body.dims[from + i]!)) return false;
  const slots = body.slots;
  const staged = crosses(slots, from, outs) ? outs.map((o) => (o instanceof Tensor ? o : env.mem.read(o))) : outs;
  staged.forEach((o, i) => { const s = slots[from + i]; if (s) copyInto(env.mem, s, o); });
  return true;
}

/** The host copy of a value. */
export function hostOf(env: PlanEnv, p: Placed): Tensor {
  return p instanceof Tensor ? p : env.mem.read(p);
}

/** A body whose outputs stay in place from one iteration to the next. */
export interface FastBody {
  /** Every body output, where it is after each run. */
  outs: readonly Placed[];
  /** The body's input slots of the carried values, which hold them after carry(). */
  carried: WasmValue[];
  /** Copies the carried outputs into their input slots. */
  carry(): void;
}

/**
 * The fixed moves of `b` when it has them: no cut, every carried value read by the body (it has a
 * slot), carried outputs of the slots' shapes, no swap. Carried outputs are outputs
 * `outFrom..outFrom+n`, their slots `slotFrom..slotFrom+n`. undefined: use carryOver per iteration.
 */
export function fastBody(env: PlanEnv, b: Body, outputs: readonly ValueInfo[], outFrom: number, slotFrom: number, n: number): FastBody | undefined {
  if (b.plan.hasCut) return undefined;
  const outs: Placed[] = [];
  for (const v of outputs) {
    const s = b.plan.source(v.name);
    if (!s) return undefined;
    outs.push(s);
  }
  const carriedOuts = outs.slice(outFrom, outFrom + n);
  const carried: WasmValue[] = [];
  for (let i = 0; i < n; i++) {
    const slot = b.slots[slotFrom + i];
    if (!slot || !sameDims(dimsOf(carriedOuts[i]!), b.dims[slotFrom + i]!)) return undefined;
    carried.push(slot);
  }
  if (crosses(b.slots, slotFrom, carriedOuts)) return undefined;
  const moves = carriedOuts.map((src, i) => ({ src, dst: carried[i]! })).filter((m) => m.src instanceof Tensor || m.src.ptr !== m.dst.ptr);
  return { outs, carried, carry: () => { for (const m of moves) copyInto(env.mem, m.dst, m.src); } };
}

/** One scan output, its per-iteration parts appended to one host buffer. */
export class ScanCollector {
  private bytes = new Uint8Array(0);
  private used = 0;
  private partBytes = 0;
  count = 0;
  dtype: DType | undefined;
  dims: readonly number[] | undefined;

  push(env: PlanEnv, p: Placed, where: string): void {
    const t = typeOfPlaced(p);
    if (this.count === 0) {
      this.dtype = t.dtype;
      this.dims = t.dims;
      this.partBytes = byteLengthOf(t.dtype, t.dims.reduce((a, b) => a * b, 1));
    } else if (t.dtype !== this.dtype || !sameDims(t.dims, this.dims!)) {
      throw new Error(`${where}: a scan output has ${t.dtype}[${t.dims.join(', ')}] in one iteration and ${this.dtype}[${this.dims!.join(', ')}] in another`);
    }
    const need = this.used + this.partBytes;
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.bytes.length * 2, 256));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    const src = p instanceof Tensor
      ? new Uint8Array(p.data.buffer, p.data.byteOffset, this.partBytes)
      : new Uint8Array(env.mem.buffer(), p.ptr, this.partBytes);
    this.bytes.set(src, this.used);
    this.used = need;
    this.count++;
  }

  /**
   * The parts stacked along a new axis `axis` (in reverse order when `reverse`). With no parts,
   * `dtype` and `dims` give the type of the (empty) result.
   */
  stack(axis: number, reverse: boolean, dtype: DType, dims: readonly number[]): Tensor {
    const n = this.count;
    const dt = this.dtype ?? dtype;
    const d = this.dims ?? dims;
    const outDims = [...d.slice(0, axis), n, ...d.slice(axis)];
    const size = outDims.reduce((a, b) => a * b, 1);
    const total = byteLengthOf(dt, size);
    if (axis === 0 && !reverse) {
      // Parts in order along the first axis: the buffer is the result.
      const out = new ArrayBuffer(total);
      new Uint8Array(out).set(this.bytes.subarray(0, total));
      return new Tensor(dt, viewData(dt, out, 0, size), outDims);
    }
    const out = Tensor.zeros(dt, outDims);
    const dst = new Uint8Array(out.data.buffer, out.data.byteOffset, total);
    const outer = d.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = byteLengthOf(dt, d.slice(axis).reduce((a, b) => a * b, 1));
    for (let k = 0; k < n; k++) {
      const at = reverse ? n - 1 - k : k;
      const part = this.bytes.subarray(k * this.partBytes, (k + 1) * this.partBytes);
      for (let o = 0; o < outer; o++) dst.set(part.subarray(o * inner, (o + 1) * inner), (o * n + at) * inner);
    }
    return out;
  }
}
