// The channel dependency graph that structured pruning works on. Every output channel of a
// prunable layer (Conv with group 1, Gemm or MatMul with a constant 2-D weight) opens a "channel
// space": an index set that travels through the ops that keep channels apart (activations,
// BatchNormalization, depthwise Conv, per-channel constants, pools) and ends in "sinks", the
// layers that reduce over it (the next Conv's input channels, Gemm/MatMul rows). Concat along the
// channel axis lays several spaces side by side (a value's `Layout` lists them in order); an Add
// (or Sub, Mul, Div) of two tracked values joins the spaces of its operands into one, so a
// residual block's partners always lose the same channels. Anything else that reads a tracked
// value (Reshape, Transpose, a graph output, an op that mixes channels) makes the spaces it reads
// unprunable, with the reason recorded.
//
// Beside the layout, each tracked value carries, per channel position, the constant that position
// holds when its source channel is zeroed (the masked model: the source filter's weights and bias
// set to 0). A source gives 0; Relu(0 + b) after a depthwise conv with bias b gives max(b, 0); and
// so on. A removed channel's constant reaches its sinks, where it must be folded into the sink's
// bias so the pruned graph computes what the masked graph computes: exact for Gemm, for a Conv
// without padding (every window sees the constant at every tap) and for a MatMul followed by an
// Add of a per-column constant; impossible for a padded Conv (the zero padding makes the constant
// vary at the borders) or a bare MatMul. Such channels are "blocked": never chosen, unless their
// constant is 0. Flatten (axis 1) and Reshape to [N, C*H*W] keep track of channels as blocks of
// H*W consecutive positions, so a Conv -> Flatten -> Gemm classifier prunes too.
import { UseDefIndex } from '../../graph/edit.js';
import type { Graph, Node, ValueType } from '../../graph/ir.js';
import { topoSort } from '../../graph/topo.js';
import { verifyGraph } from '../../graph/verify.js';
import { toNumbers } from '../../tensor/convert.js';
import type { Tensor } from '../../tensor/tensor.js';
import { attrInts, attrNum, BINARY, MULTI_INPUT, noPadding, UNARY } from './channel-ops.js';

const FLOATS: ReadonlySet<string> = new Set(['float32', 'float16', 'float64']);

/**
 * The channels of one space (-1: channels nobody prunes) laid along an axis: `length` channels,
 * each `inner` consecutive positions wide (1, or H*W once Flatten or Reshape put a channel's
 * spatial positions next to each other: position = channel * inner + offset).
 */
export interface Segment {
  readonly space: number;
  readonly length: number;
  readonly inner?: number;
}

/** Where a value keeps its channels: the axis, and the spaces laid along it in order. */
export interface Layout {
  readonly axis: number;
  readonly segs: readonly Segment[];
}

/** Shrink the constant at `input` along `axis` (negative: from the end) by the layout's kept positions. */
export interface ParamEdit {
  readonly input: number;
  readonly axis: number;
  readonly layout: Layout;
}

/** A layer that reduces over a tracked value: removed positions' constants go into its bias. */
export interface SinkFold {
  readonly kind: 'conv' | 'gemm' | 'matmul';
  readonly layout: Layout;
  /** Per input position: the constant a removed channel leaves there (NaN: not a constant). */
  readonly k: Float64Array;
  /** MatMul: the Add of a per-column constant after it, whose constant takes the fold. */
  readonly add?: { node: Node; input: number };
}

/** How a node changes when channels go. */
export interface NodeEdit {
  params: ParamEdit[];
  /** Depthwise Conv: group becomes the number of kept positions of this layout. */
  group?: Layout;
  /** Reshape to [N, C * H * W]: its shape's second entry becomes the kept positions of this layout. */
  reshape?: Layout;
  /** Resize with `sizes`: the entry on the layout's axis becomes its kept positions. */
  sizes?: Layout;
  fold?: SinkFold;
}

export interface ChannelSpace {
  readonly id: number;
  readonly size: number;
  /** The prunable layers whose output channels this space is (several when an Add joins them). */
  readonly sources: Node[];
  /** Why the space cannot be pruned (empty: prunable). */
  readonly refusals: string[];
  /** Channels whose removal cannot be folded exactly (see the header), with one reason each. */
  readonly blocked: Map<number, string>;
  /** Values whose shape follows the space (their value-info goes stale when it shrinks). */
  readonly values: Set<string>;
}

export const layerId = (n: Node): string => n.name || n.outputs[0]!;

export const layoutSize = (l: Layout): number => l.segs.reduce((s, x) => s + x.length * (x.inner ?? 1), 0);

/** Builds the channel spaces of a graph (top level; subgraphs are left alone). */
export class ChannelGraph {
  readonly spaces: ChannelSpace[] = [];
  readonly edits = new Map<Node, NodeEdit>();
  private readonly parent: number[] = [];
  private readonly layouts = new Map<string, Layout>();
  private readonly consts = new Map<string, Float64Array>();
  private readonly types: Map<string, ValueType>;
  private readonly index: UseDefIndex;

  constructor(readonly graph: Graph) {
    this.types = verifyGraph(graph).types;
    this.index = new UseDefIndex(graph);
    for (const n of topoSort(graph)) this.visit(n);
    for (const [v, l] of this.layouts) {
      const reads = this.index.usesOf(v);
      if (this.index.isGraphOutput(v)) this.refuse(l, `its channels reach the graph output '${v}'`);
      if (reads.some((u) => u.input < 0)) this.refuse(l, `'${v}' is read inside a subgraph`);
      for (const s of l.segs) if (s.space >= 0) this.spaces[this.root(s.space)]!.values.add(v);
    }
    this.collect();
    this.block();
  }

  /** The space a (possibly joined) space id stands for now. */
  root(s: number): number {
    while (this.parent[s] !== s) s = this.parent[s] = this.parent[this.parent[s]!]!;
    return s;
  }

  /** The prunable and the refused spaces (joined spaces appear once, under their root). */
  roots(): ChannelSpace[] {
    return this.spaces.filter((s) => this.root(s.id) === s.id);
  }

  /** Which (root space, channel) each position of a layout is; space -1 for fixed positions. */
  positions(l: Layout): { space: number; channel: number }[] {
    const out: { space: number; channel: number }[] = [];
    for (const s of l.segs) {
      const space = s.space < 0 ? -1 : this.root(s.space);
      for (let j = 0; j < s.length; j++) for (let t = 0; t < (s.inner ?? 1); t++) out.push({ space, channel: j });
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------

  private init(name: string | undefined): Tensor | undefined {
    return name ? this.graph.initializers.get(name) : undefined;
  }

  private rank(v: string): number | undefined {
    return this.types.get(v)?.shape?.length;
  }

  private edit(n: Node): NodeEdit {
    let e = this.edits.get(n);
    if (!e) this.edits.set(n, (e = { params: [] }));
    return e;
  }

  private newSpace(size: number, source: Node): number {
    const id = this.spaces.length;
    this.spaces.push({ id, size, sources: [source], refusals: [], blocked: new Map(), values: new Set() });
    this.parent.push(id);
    return id;
  }

  private refuse(l: Layout, reason: string): void {
    for (const s of l.segs) if (s.space >= 0) this.spaces[s.space]!.refusals.push(reason);
  }

  private track(v: string, l: Layout, k: Float64Array): void {
    this.layouts.set(v, l);
    this.consts.set(v, k);
  }

  private label(n: Node): string {
    return `${layerId(n)} (${n.op})`;
  }

  private visit(n: Node): void {
    const tracked = n.inputs.map((v) => (v ? this.layouts.get(v) : undefined));
    const anyTracked = tracked.some(Boolean);
    const handled = n.domain === '' && this.visitOp(n, tracked);
    if (!handled && anyTracked) {
      for (const l of tracked) if (l) this.refuse(l, `its channels are read by ${this.label(n)}, which does not keep channels apart`);
    }
    // Only the data input carries channels through (both operands of a binary op, every input of
    // a Concat): a tracked value read as a weight, shape, pad or scale would change what it means.
    if (handled && !MULTI_INPUT.has(n.op)) {
      tracked.forEach((l, i) => { if (l && i > 0) this.refuse(l, `its channels are read by ${this.label(n)} as input ${i}`); });
    }
    // A second output (BatchNormalization's running stats, MaxPool's indices, Dropout's mask)
    // that is read makes the pass-through unsafe.
    if (handled && n.outputs.slice(1).some((o) => o && this.index.isUsed(o))) {
      const l = this.layouts.get(n.outputs[0]!);
      if (l) this.refuse(l, `${this.label(n)} has a second output that is read`);
    }
  }

  /** Returns false when the node is not one this pruner understands (its tracked inputs are refused). */
  private visitOp(n: Node, tracked: (Layout | undefined)[]): boolean {
    const x = tracked[0];
    const out = n.outputs[0]!;
    switch (n.op) {
      case 'Conv': return this.visitConv(n, x);
      case 'Gemm': case 'MatMul': return this.visitMatmul(n, tracked);
      case 'BatchNormalization': {
        if (!x || tracked.slice(1).some(Boolean)) return !x && !tracked.some(Boolean);
        const p = n.inputs.slice(1, 5).map((v) => this.init(v));
        if (x.axis !== 1 || attrNum(n, 'training_mode', 0) !== 0 || p.some((t) => !t || t.size !== layoutSize(x))) return false;
        const [scale, beta, mean, variance] = p.map((t) => toNumbers(t!));
        const eps = Math.fround(attrNum(n, 'epsilon', 1e-5));
        const k = this.consts.get(n.inputs[0]!)!.map((v, c) => ((v - mean![c]!) / Math.sqrt(variance![c]! + eps)) * scale![c]! + beta![c]!);
        this.edit(n).params.push(...[1, 2, 3, 4].map((input) => ({ input, axis: 0, layout: x })));
        this.track(out, x, k);
        return true;
      }
      case 'PRelu': {
        if (!x) return !tracked[1];
        const slope = this.init(n.inputs[1]);
        const axis = slope && this.perChannelAxis(slope, x, out, n.inputs[0]!);
        if (axis === undefined || !slope) return false;
        const s = this.channelValues(slope, x, axis);
        if (axis >= 0) this.edit(n).params.push({ input: 1, axis, layout: x });
        this.track(out, x, this.consts.get(n.inputs[0]!)!.map((v, c) => (v < 0 ? v * s[c]! : v)));
        return true;
      }
      case 'Clip': {
        if (!x) return !tracked.some(Boolean);
        let lo = attrNum(n, 'min', -Infinity);
        let hi = attrNum(n, 'max', Infinity);
        for (const [i, set] of [[1, (v: number) => (lo = v)], [2, (v: number) => (hi = v)]] as const) {
          const name = n.inputs[i];
          if (!name) continue;
          const t = this.init(name);
          if (!t || t.size !== 1) return false;
          set(toNumbers(t)[0]!);
        }
        this.track(out, x, this.consts.get(n.inputs[0]!)!.map((v) => Math.min(hi, Math.max(lo, v))));
        return true;
      }
      case 'Add': case 'Sub': case 'Mul': case 'Div': return this.visitBinary(n, tracked);
      case 'Concat': return this.visitConcat(n, tracked);
      case 'MaxPool': case 'GlobalMaxPool': case 'GlobalAveragePool': case 'AveragePool': {
        if (!x) return true;
        if (x.axis !== 1) return false;
        // A zero-padded average of a nonzero constant is not a constant at the borders.
        const padded = n.op === 'AveragePool' && attrNum(n, 'count_include_pad', 0) === 1 && !noPadding(n);
        this.track(out, x, this.consts.get(n.inputs[0]!)!.map((v) => (padded && v !== 0 ? NaN : v)));
        return true;
      }
      case 'Pad': return !x ? !tracked.some(Boolean) : this.visitPad(n, x);
      case 'Resize': return !x ? !tracked.some(Boolean) : this.visitResize(n, x);
      case 'Flatten': case 'Reshape': {
        if (!x) return !tracked.some(Boolean);
        return this.visitFlatten(n, x);
      }
      default: {
        const f = UNARY[n.op];
        if (!f || !x) return !tracked.some(Boolean);
        this.track(out, x, this.consts.get(n.inputs[0]!)!.map((v) => f(v, n)));
        return true;
      }
    }
  }

  private visitConv(n: Node, x: Layout | undefined): boolean {
    const w = this.init(n.inputs[1]);
    const b = n.inputs[2] ? this.init(n.inputs[2]) : undefined;
    const usable = !!w && FLOATS.has(w.type) && w.dims.length >= 3 && !w.quant && (!n.inputs[2] || (!!b && b.size === w.dims[0] && FLOATS.has(b.type)));
    if (!usable) {
      if (x) this.refuse(x, `its channels are read by ${this.label(n)}, whose weight and bias are not constant float initializers (constant folding may make them so)`);
      return true;
    }
    const group = attrNum(n, 'group', 1);
    const cout = w.dims[0]!;
    const out = n.outputs[0]!;
    if (group !== 1) {
      // Depthwise with one filter per channel: its channels are its input's channels.
      const depthwise = w.dims[1] === 1 && cout === group;
      if (!x) return true; // its channels are tied to an input nobody prunes
      if (!depthwise || x.axis !== 1 || layoutSize(x) !== group) return false;
      const bias = b ? toNumbers(b) : new Float64Array(cout);
      const wv = toNumbers(w);
      const per = w.size / cout;
      const flat = noPadding(n);
      const k = this.consts.get(n.inputs[0]!)!.map((v, c) => {
        if (v === 0) return bias[c]!;
        if (!flat || Number.isNaN(v)) return NaN;
        let s = 0;
        for (let i = 0; i < per; i++) s += wv[c * per + i]!;
        return v * s + bias[c]!;
      });
      const e = this.edit(n);
      e.params.push({ input: 1, axis: 0, layout: x }, { input: 2, axis: 0, layout: x });
      e.group = x;
      this.track(out, x, k);
      return true;
    }
    if (x) {
      if (x.axis !== 1 || layoutSize(x) !== w.dims[1]) return false;
      const e = this.edit(n);
      e.params.push({ input: 1, axis: 1, layout: x });
      e.fold = { kind: 'conv', layout: x, k: this.consts.get(n.inputs[0]!)! };
    }
    const space = this.newSpace(cout, n);
    const l: Layout = { axis: 1, segs: [{ space, length: cout }] };
    this.edit(n).params.push({ input: 1, axis: 0, layout: l }, { input: 2, axis: 0, layout: l });
    this.track(out, l, new Float64Array(cout));
    return true;
  }

  /**
   * Flatten (axis 1), or Reshape to [N, C * H * W], of a value whose channels are on axis 1: each
   * channel becomes H * W consecutive positions. A Reshape's shape constant is rewritten when
   * channels go (its second entry, unless it is -1).
   */
  private visitFlatten(n: Node, x: Layout): boolean {
    const shape = this.types.get(n.inputs[0]!)?.shape;
    const outShape = this.types.get(n.outputs[0]!)?.shape;
    if (x.axis !== 1 || !shape || !outShape || outShape.length !== 2 || shape.slice(2).some((d) => typeof d !== 'number')) return false;
    if (n.op === 'Flatten' && attrNum(n, 'axis', 1) !== 1) return false;
    if (n.op === 'Reshape') {
      const t = this.init(n.inputs[1]);
      const v = t && t.size === 2 ? toNumbers(t) : undefined;
      // A 0 would copy the input's channel count; a literal product is rewritten, -1 infers itself.
      if (!v || typeof shape[0] !== 'number' || outShape[0] !== shape[0] || v[1] === 0 || (v[0] === -1 && v[1] === -1)) return false;
    }
    const m = (shape.slice(2) as number[]).reduce((a, b) => a * b, 1);
    const segs = x.segs.map((s) => ({ ...s, inner: (s.inner ?? 1) * m }));
    if (n.op === 'Reshape') this.edit(n).reshape = { axis: 1, segs };
    const k = this.consts.get(n.inputs[0]!)!;
    this.track(n.outputs[0]!, { axis: 1, segs }, Float64Array.from({ length: k.length * m }, (_, i) => k[Math.floor(i / m)]!));
    return true;
  }

  /** Pad of the other axes: a constant stays one unless constant-mode padding adds another value. */
  private visitPad(n: Node, x: Layout): boolean {
    const rank = this.rank(n.inputs[0]!);
    // Opset 11 moved pads and the fill value from attributes to inputs.
    const pads = n.inputs[1] ? this.init(n.inputs[1]) : undefined;
    const axesT = n.inputs[3] ? this.init(n.inputs[3]) : undefined;
    if (rank === undefined || (n.inputs[1] && !pads) || (n.inputs[3] && !axesT) || (n.inputs[2] && !this.init(n.inputs[2]))) return false;
    const p = pads ? Array.from(toNumbers(pads)) : attrInts(n, 'pads');
    const axes = axesT ? Array.from(toNumbers(axesT), (a) => (a < 0 ? a + rank : a)) : Array.from({ length: rank }, (_, i) => i);
    const i = axes.indexOf(x.axis);
    if (i >= 0 && (p[i] !== 0 || p[i + axes.length] !== 0)) return false;
    const mode = typeof n.attrs.mode === 'string' ? n.attrs.mode : 'constant';
    const fill = n.inputs[2] ? toNumbers(this.init(n.inputs[2])!)[0] ?? 0 : attrNum(n, 'value', 0);
    const grows = p.some((v) => v > 0);
    const k = this.consts.get(n.inputs[0]!)!.map((v) => (mode !== 'constant' || !grows || v === fill ? v : NaN));
    this.track(n.outputs[0]!, x, k);
    return true;
  }

  /** Resize of the other axes (any interpolation of a constant is that constant). */
  private visitResize(n: Node, x: Layout): boolean {
    const mode = n.attrs.coordinate_transformation_mode;
    if (mode === 'tf_crop_and_resize' || n.inputs.slice(1).some((v) => v && !this.init(v))) return false;
    const scales = n.inputs[2] ? this.init(n.inputs[2]) : undefined;
    const sizes = n.inputs[3] ? this.init(n.inputs[3]) : undefined;
    if (n.attrs.axes !== undefined) return false;
    if (scales && scales.size > 0 && toNumbers(scales)[x.axis] !== 1) return false;
    if (sizes && sizes.size > 0) {
      if (toNumbers(sizes)[x.axis] !== layoutSize(x)) return false;
      this.edit(n).sizes = x;
    }
    this.track(n.outputs[0]!, x, this.consts.get(n.inputs[0]!)!);
    return true;
  }

  /** The Add of a per-column constant that alone reads a MatMul's output (a Linear layer's bias). */
  private biasAdd(mm: Node, N: number): { node: Node; input: number } | undefined {
    const y = mm.outputs[0]!;
    const add = this.index.soleConsumer(y);
    if (!add || add.domain !== '' || add.op !== 'Add') return undefined;
    const input = add.inputs[0] === y ? 1 : 0;
    const t = this.init(add.inputs[input]);
    const rank = this.rank(y);
    if (!t || !FLOATS.has(t.type) || rank === undefined || t.dims.length > rank) return undefined;
    const last = t.dims.at(-1) ?? 1;
    if (t.dims.slice(0, -1).some((d) => d !== 1) || (last !== 1 && last !== N)) return undefined;
    return { node: add, input };
  }

  private visitMatmul(n: Node, tracked: (Layout | undefined)[]): boolean {
    if (tracked[1] || tracked[2]) return false;
    const x = tracked[0];
    const gemm = n.op === 'Gemm';
    const w = this.init(n.inputs[1]);
    const rankA = this.rank(n.inputs[0]!);
    const rankY = this.rank(n.outputs[0]!);
    if (!w || !FLOATS.has(w.type) || w.quant || w.dims.length !== 2 || rankA === undefined || rankY === undefined) {
      if (x) this.refuse(x, `its channels are read by ${this.label(n)}, whose weight is not a constant 2-D float initializer (constant folding may make it one)`);
      return true;
    }
    const transB = gemm && attrNum(n, 'transB', 0) === 1;
    const N = transB ? w.dims[0]! : w.dims[1]!;
    const c = gemm && n.inputs[2] ? this.init(n.inputs[2]) : undefined;
    if (gemm && n.inputs[2] && (!c || !FLOATS.has(c.type) || (c.size !== 1 && c.dims.at(-1) !== N))) return !x;
    if (x) {
      const axis = gemm ? (attrNum(n, 'transA', 0) === 1 ? 0 : 1) : rankA - 1;
      if (rankA < 2 || x.axis !== axis || layoutSize(x) !== (transB ? w.dims[1] : w.dims[0])) return false;
      const e = this.edit(n);
      e.params.push({ input: 1, axis: transB ? 1 : 0, layout: x });
      const add = gemm ? undefined : this.biasAdd(n, N);
      e.fold = { kind: gemm ? 'gemm' : 'matmul', layout: x, k: this.consts.get(n.inputs[0]!)!, ...(add ? { add } : {}) };
    }
    const space = this.newSpace(N, n);
    const l: Layout = { axis: rankY - 1, segs: [{ space, length: N }] };
    const e = this.edit(n);
    e.params.push({ input: 1, axis: transB ? 0 : 1, layout: l });
    if (gemm) e.params.push({ input: 2, axis: -1, layout: l });
    this.track(n.outputs[0]!, l, new Float64Array(N));
    return true;
  }

  /**
   * The axis of constant `t` that runs along `x`'s channels when `t` broadcasts against `value`
   * per channel (every other dim 1); -1 when t is one value for every channel; undefined when it
   * varies along another axis.
   */
  private perChannelAxis(t: Tensor, x: Layout, value: string, input: string): number | undefined {
    const rank = this.rank(value);
    // A constant of higher rank would move the channel axis of the result.
    if (rank === undefined || t.dims.length > rank || this.rank(input) !== rank) return undefined;
    const a = x.axis - (rank - t.dims.length);
    const C = layoutSize(x);
    for (let i = 0; i < t.dims.length; i++) if (i !== a && t.dims[i] !== 1) return undefined;
    if (a < 0 || t.dims[a] === 1) return -1;
    return t.dims[a] === C ? a : undefined;
  }

  private channelValues(t: Tensor, x: Layout, axis: number): Float64Array {
    const v = toNumbers(t);
    return Float64Array.from({ length: layoutSize(x) }, (_, c) => v[axis < 0 ? 0 : c]!);
  }

  private visitBinary(n: Node, tracked: (Layout | undefined)[]): boolean {
    const [a, b] = tracked;
    const op = BINARY[n.op]!;
    const out = n.outputs[0]!;
    const ka = a && this.consts.get(n.inputs[0]!)!;
    const kb = b && this.consts.get(n.inputs[1]!)!;
    if (a && b) {
      const sa = this.types.get(n.inputs[0]!)?.shape;
      const sb = this.types.get(n.inputs[1]!)?.shape;
      // Other axes may broadcast (a squeeze-and-excitation gate [N, C, 1, 1] times [N, C, H, W]).
      if (!sa || !sb || sa.length !== sb.length || a.axis !== b.axis || sa[a.axis] !== sb[a.axis]) return false;
      if (!this.join(a, b, `${this.label(n)} combines branches whose channels are laid out differently`)) return true;
      this.track(out, a, ka!.map((v, c) => op(v, kb![c]!)));
      return true;
    }
    if (!a && !b) return true;
    const x = (a ?? b)!;
    const ci = a ? 1 : 0;
    const t = this.init(n.inputs[ci]);
    if (!t) {
      this.refuse(x, `${this.label(n)} combines its channels with '${n.inputs[ci]}', whose channels are not pruned with them`);
      return true;
    }
    const axis = FLOATS.has(t.type) ? this.perChannelAxis(t, x, out, n.inputs[1 - ci]!) : undefined;
    if (axis === undefined) {
      this.refuse(x, `${this.label(n)} combines its channels with the constant '${n.inputs[ci]}', which is not one value per channel`);
      return true;
    }
    const cv = this.channelValues(t, x, axis);
    const k = (ka ?? kb)!.map((v, c) => (a ? op(v, cv[c]!) : op(cv[c]!, v)));
    if (axis >= 0) this.edit(n).params.push({ input: ci, axis, layout: x });
    this.track(out, x, k);
    return true;
  }

  /** Makes the spaces of two same-shaped layouts one; false (and both refused) when they cannot be. */
  private join(a: Layout, b: Layout, reason: string): boolean {
    const same = a.segs.length === b.segs.length
      && a.segs.every((s, i) => s.length === b.segs[i]!.length && (s.inner ?? 1) === (b.segs[i]!.inner ?? 1) && (s.space < 0) === (b.segs[i]!.space < 0));
    if (!same) {
      this.refuse(a, reason);
      this.refuse(b, reason);
      return false;
    }
    a.segs.forEach((s, i) => {
      if (s.space < 0) return;
      const ra = this.root(s.space);
      const rb = this.root(b.segs[i]!.space);
      if (ra === rb) return;
      this.parent[rb] = ra;
    });
    return true;
  }

  private visitConcat(n: Node, tracked: (Layout | undefined)[]): boolean {
    const first = tracked.find(Boolean);
    if (!first) return true;
    const rank = this.rank(n.outputs[0]!);
    if (rank === undefined) return false;
    let axis = attrNum(n, 'axis', 0);
    if (axis < 0) axis += rank;
    if (axis !== first.axis || tracked.some((l) => l && l.axis !== axis)) return false;
    const segs: Segment[] = [];
    const ks: number[] = [];
    for (const [i, v] of n.inputs.entries()) {
      const l = tracked[i];
      if (l) {
        segs.push(...l.segs);
        ks.push(...this.consts.get(v)!);
        continue;
      }
      // An untracked input keeps its channels: a fixed segment.
      const d = this.types.get(v)?.shape?.[axis];
      if (typeof d !== 'number') return false;
      segs.push({ space: -1, length: d });
      for (let j = 0; j < d; j++) ks.push(NaN);
    }
    this.track(n.outputs[0]!, { axis, segs }, Float64Array.from(ks));
    return true;
  }

  /** Joins the records of joined spaces under their roots. */
  private collect(): void {
    for (const s of this.spaces) {
      const r = this.root(s.id);
      if (r === s.id) continue;
      const into = this.spaces[r]!;
      into.sources.push(...s.sources);
      into.refusals.push(...s.refusals);
      for (const v of s.values) into.values.add(v);
    }
  }

  /** Marks the channels whose constant a sink cannot absorb. */
  private block(): void {
    for (const [node, e] of this.edits) {
      if (!e.fold) continue;
      const canFold = e.fold.kind === 'gemm' || (e.fold.kind === 'conv' && noPadding(node)) || !!e.fold.add;
      this.positions(e.fold.layout).forEach(({ space, channel }, p) => {
        if (space < 0) return;
        const k = e.fold!.k[p]!;
        if (k === 0 || (canFold && Number.isFinite(k))) return;
        const why = Number.isFinite(k)
          ? `removing it would leave the constant ${k} in the input of ${this.label(node)}, which ${e.fold!.kind === 'matmul' ? 'has no bias to fold it into' : 'pads its input, so the constant does not fold into its bias'}`
          : `its value after a zeroed filter is not a constant where ${this.label(node)} reads it`;
        const blocked = this.spaces[space]!.blocked;
        if (!blocked.has(channel)) blocked.set(channel, why);
      });
    }
  }
}
