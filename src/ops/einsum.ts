// Einsum: a general parser for the Einstein summation equation (explicit '->' and implicit forms,
// ellipsis broadcasting, repeated labels as diagonals) and an explicit loop over every label.
// Products accumulate in float64 and round once to the output dtype.
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { broadcastShapes, sizeOfDims, stridesOf, type Dim } from '../tensor/shape.js';
import { defineOp } from './registry.js';
import { INT_TYPES } from './util.js';
import { WIDE_FLOAT_TYPES } from './wide-types.js';

/** Label ids: letters keep their char code; ellipsis dims get negative ids -1..-E (left to right). */
interface Equation {
  /** Per input, its axis labels with the ellipsis expanded once ranks are known. */
  inputs: { labels: number[]; ellipsisAt: number }[];
  /** Output labels (ellipsis marked by ELLIPSIS) or undefined for implicit mode. */
  output?: { labels: number[]; ellipsisAt: number };
}

function parseTerm(term: string, where: string): { labels: number[]; ellipsisAt: number } {
  const labels: number[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < term.length; i++) {
    const c = term[i]!;
    if (c === '.') {
      if (term.slice(i, i + 3) !== '...' || ellipsisAt >= 0) throw new Error(`${where}: malformed ellipsis in '${term}'`);
      ellipsisAt = labels.length;
      i += 2;
    } else if (/[a-zA-Z]/.test(c)) labels.push(c.charCodeAt(0));
    else throw new Error(`${where}: invalid character '${c}' in equation term '${term}'`);
  }
  return { labels, ellipsisAt };
}

function parseEquation(eq: string, nInputs: number, where: string): Equation {
  const clean = eq.replace(/\s+/g, '');
  const arrow = clean.split('->');
  if (arrow.length > 2) throw new Error(`${where}: equation '${eq}' has more than one '->'`);
  const terms = arrow[0]!.split(',');
  if (terms.length !== nInputs) throw new Error(`${where}: equation '${eq}' names ${terms.length} inputs but the node has ${nInputs}`);
  return {
    inputs: terms.map((t) => parseTerm(t, where)),
    output: arrow.length === 2 ? parseTerm(arrow[1]!, where) : undefined,
  };
}

interface Plan {
  /** Per input, the label id of every axis. */
  axes: number[][];
  /** Output label ids in order. */
  out: number[];
  ellipsisRank: number;
}

/** Resolves labels per axis given the input ranks. */
function plan(eq: Equation, ranks: readonly number[], where: string): Plan {
  const extras = eq.inputs.map((t, i) => {
    const extra = ranks[i]! - t.labels.length;
    if (t.ellipsisAt < 0 ? extra !== 0 : extra < 0) {
      throw new Error(`${where}: input ${i} has rank ${ranks[i]} but its equation term has ${t.labels.length} labels`);
    }
    return extra;
  });
  const ellipsisRank = Math.max(0, ...extras);
  // Ellipsis dims align to the right: an input with e of them uses the last e of the E ids.
  const axes = eq.inputs.map((t, i) => {
    if (t.ellipsisAt < 0) return [...t.labels];
    const e = extras[i]!;
    const ids = Array.from({ length: e }, (_, k) => -(ellipsisRank - e + k + 1));
    return [...t.labels.slice(0, t.ellipsisAt), ...ids, ...t.labels.slice(t.ellipsisAt)];
  });
  const ell = Array.from({ length: ellipsisRank }, (_, k) => -(k + 1));
  let out: number[];
  if (eq.output) {
    const o = eq.output;
    if (o.ellipsisAt < 0 && ellipsisRank > 0) {
      // numpy refuses an output without '...' when the inputs broadcast over ellipsis dims.
      throw new Error(`${where}: the inputs have ellipsis dims but the output term has no '...'`);
    }
    out = o.ellipsisAt < 0 ? [...o.labels] : [...o.labels.slice(0, o.ellipsisAt), ...ell, ...o.labels.slice(o.ellipsisAt)];
    const seen = new Set<number>();
    const inputLabels = new Set(axes.flat());
    for (const l of o.labels) {
      if (seen.has(l)) throw new Error(`${where}: output label '${String.fromCharCode(l)}' is repeated`);
      if (!inputLabels.has(l)) throw new Error(`${where}: output label '${String.fromCharCode(l)}' does not appear in any input`);
      seen.add(l);
    }
  } else {
    // Implicit mode: ellipsis dims, then labels used exactly once, in alphabetical (ASCII) order.
    const counts = new Map<number, number>();
    for (const t of eq.inputs) for (const l of t.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    out = [...ell, ...[...counts].filter(([, c]) => c === 1).map(([l]) => l).sort((a, b) => a - b)];
  }
  return { axes, out, ellipsisRank };
}

/** Size of every label, checking that its occurrences agree (ellipsis dims broadcast). */
function labelSizes<D extends Dim>(p: Plan, shapes: readonly (readonly D[])[], where: string): Map<number, Dim> {
  const sizes = new Map<number, Dim>();
  p.axes.forEach((labels, i) => {
    labels.forEach((l, a) => {
      const d = shapes[i]![a]!;
      const prev = sizes.get(l);
      if (prev === undefined) { sizes.set(l, d); return; }
      if (l < 0) {
        try {
          sizes.set(l, broadcastShapes([prev], [d])[0]!);
        } catch {
          throw new Error(`${where}: ellipsis dims ${prev} and ${d} do not broadcast`);
        }
        return;
      }
      if (typeof prev === 'number' && typeof d === 'number' && prev !== d) {
        throw new Error(`${where}: label '${String.fromCharCode(l)}' has size ${prev} in one place and ${d} in another`);
      }
      if (typeof prev !== 'number') sizes.set(l, d);
    });
  });
  return sizes;
}

const TYPES = [...WIDE_FLOAT_TYPES, ...INT_TYPES];

defineOp({
  name: 'Einsum',
  inputs: [{ name: 'Inputs', variadic: true, types: TYPES }],
  outputs: [{ name: 'Output' }],
  attrs: { equation: { type: 'string', required: true } },
  inferShape: (ctx) => {
    const dtype = ctx.inputs[0]?.dtype;
    if (!dtype) throw new Error(`${ctx.where}: needs at least one input`);
    ctx.inputs.forEach((t, i) => { if (t && t.dtype !== dtype) throw new Error(`${ctx.where}: input ${i} has dtype ${t.dtype}, input 0 has ${dtype}`); });
    const eq = parseEquation(ctx.attrs.string('equation'), ctx.inputs.length, ctx.where);
    const shapes = ctx.inputs.map((t) => t?.shape);
    if (shapes.some((s) => !s)) return [{ dtype }];
    const p = plan(eq, shapes.map((s) => s!.length), ctx.where);
    const sizes = labelSizes(p, shapes as Dim[][], ctx.where);
    return [{ dtype, shape: p.out.map((l) => sizes.get(l)!) }];
  },
  reference: (inputs, ctx) => {
    const xs = inputs.map((t) => t!);
    const dtype = xs[0]!.type;
    xs.forEach((t, i) => { if (t.type !== dtype) throw new Error(`${ctx.where}: input ${i} has dtype ${t.type}, input 0 has ${dtype}`); });
    const eq = parseEquation(ctx.attrs.string('equation'), xs.length, ctx.where);
    const p = plan(eq, xs.map((t) => t.dims.length), ctx.where);
    const sizes = labelSizes(p, xs.map((t) => t.dims), ctx.where) as Map<number, number>;
    // Loop labels: output labels first (outer), then the summed ones (inner).
    const summed = [...sizes.keys()].filter((l) => !p.out.includes(l));
    const loop = [...p.out, ...summed];
    const extent = loop.map((l) => sizes.get(l)!);
    // Per input, the element stride each loop label contributes: repeated labels add up
    // (a diagonal), broadcast size-1 ellipsis dims contribute 0.
    const strides = xs.map((t, i) => {
      const s = stridesOf(t.dims);
      const per = new Float64Array(loop.length);
      p.axes[i]!.forEach((l, a) => {
        if (t.dims[a] === 1 && sizes.get(l) !== 1) return;
        const k = loop.indexOf(l);
        per[k] = per[k]! + s[a]!;
      });
      return per;
    });
    const vals = xs.map((t) => toNumbers(t));
    const outDims = p.out.map((l) => sizes.get(l)!);
    const outSize = sizeOfDims(outDims);
    const inner = sizeOfDims(summed.map((l) => sizes.get(l)!));
    const out = new Float64Array(outSize);
    const nOut = p.out.length;
    const coord = new Int32Array(loop.length);
    const offs = new Float64Array(xs.length);
    for (let o = 0; o < outSize; o++) {
      let acc = 0;
      for (let s = 0; s < inner; s++) {
        offs.fill(0);
        for (let k = 0; k < loop.length; k++) {
          const c = coord[k]!;
          if (c) for (let i = 0; i < xs.length; i++) offs[i] = offs[i]! + c * strides[i]![k]!;
        }
        let prod = 1;
        for (let i = 0; i < xs.length; i++) prod *= vals[i]![offs[i]!]!;
        acc += prod;
        // Advance the summed labels (innermost fastest).
        for (let k = loop.length - 1; k >= nOut; k--) {
          if (++coord[k]! < extent[k]!) break;
          coord[k] = 0;
        }
      }
      out[o] = acc;
      for (let k = nOut - 1; k >= 0; k--) {
        if (++coord[k]! < extent[k]!) break;
        coord[k] = 0;
      }
    }
    return [fromNumbers(dtype, out, outDims)];
  },
});
