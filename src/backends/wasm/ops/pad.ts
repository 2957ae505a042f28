// WASM Pad in reflect, edge and wrap modes (constant mode is a fill plus one copy, in movement.ts),
// any whole-byte dtype, pads and axes constant (initializers or folded). Plan: the kept part of the
// input (negative pads crop it first, as in the reference) is copied into the output's interior;
// then, axis by axis, each pad region is filled from the output itself. A pad region's source
// coordinates along the axis form runs with a constant step (-1 reflect, 0 edge, +1 wrap; a new run
// where reflect bounces or wrap restarts), and each run is one strided copy (kernels/strided.ts
// walks, negative strides allowed). When axis k is padded, axes before it already hold their full
// padded extent and axes after it only the interior, so every source slab is complete.
import { toIntList } from '../../../tensor/convert.js';
import { bitWidthOf } from '../../../tensor/dtype.js';
import { stridesOf } from '../../../tensor/shape.js';
import { registerWasmKernel, type PreparedKernel, type WasmPlanContext } from '../kernel.js';
import { copyStrided, type ElemSize } from '../kernels/movement.js';
import { collapseWalk, elementCount, layoutDescriptors, walkDescriptor, walkRows, type StridedWalk } from '../kernels/strided.js';

/** Source position (relative to the kept data's start) of position x along an axis of kept length n. */
function sourceCoord(mode: string, x: number, n: number): number {
  if (x >= 0 && x < n) return x;
  if (mode === 'edge') return x < 0 ? 0 : n - 1;
  if (mode === 'wrap') return ((x % n) + n) % n;
  if (n === 1) return 0;
  // reflect: mirror without repeating the edge element, period 2(n - 1).
  const p = 2 * (n - 1);
  const m = ((x % p) + p) % p;
  return m < n ? m : p - m;
}

/** One copy: `fromInput` reads the input, else the output itself (the already-filled part). */
interface PadCopy {
  walk: StridedWalk;
  fromInput: boolean;
  src: number;
  dst: number;
}

/** Maximal runs [start, end) of positions whose source steps by a constant -1, 0 or +1. */
function runs(positions: readonly number[], source: (p: number) => number): { p: number; s: number; len: number; step: number }[] {
  const out: { p: number; s: number; len: number; step: number }[] = [];
  for (const p of positions) {
    const s = source(p);
    const last = out[out.length - 1];
    if (last && p === last.p + last.len) {
      const prev = last.s + last.step * (last.len - 1);
      const step = s - prev;
      if (last.len === 1 && Math.abs(step) <= 1) {
        last.step = step;
        last.len++;
        continue;
      }
      if (last.len > 1 && step === last.step) {
        last.len++;
        continue;
      }
    }
    out.push({ p, s, len: 1, step: 0 });
  }
  return out;
}

function padFactory(ctx: WasmPlanContext): PreparedKernel | undefined {
  const x = ctx.inputs[0]!;
  const mode = ctx.attrs.string('mode');
  const bits = bitWidthOf(x.dtype);
  if (mode === 'constant' || bits % 8 !== 0 || ![1, 2, 4, 8].includes(bits / 8)) return undefined;
  const size = (bits / 8) as ElemSize;
  const padsT = ctx.constant(1);
  const axesT = ctx.inputs[3] ? ctx.constant(3) : undefined;
  if (!padsT || (ctx.inputs[3] && !axesT)) return undefined;
  const rank = x.dims.length;
  const axes = axesT ? toIntList(axesT).map((a) => (a < 0 ? a + rank : a)) : x.dims.map((_, i) => i);
  const pads = toIntList(padsT);
  if (axes.some((a) => !(a >= 0 && a < rank)) || new Set(axes).size !== axes.length || pads.length !== 2 * axes.length) return undefined;
  const begin = x.dims.map(() => 0);
  const end = x.dims.map(() => 0);
  axes.forEach((a, i) => {
    begin[a] = pads[i]!;
    end[a] = pads[i + axes.length]!;
  });
  const lo = begin.map((b) => Math.max(0, -b));
  const kept = x.dims.map((d, k) => d - lo[k]! - Math.max(0, -end[k]!));
  const pb = begin.map((b) => Math.max(0, b));
  const out = x.dims.map((_, k) => kept[k]! + pb[k]! + Math.max(0, end[k]!));
  if (out.join() !== ctx.outputs[0]!.dims.join()) return undefined;
  // Nothing to pad from (the reference reports it) unless the output is empty anyway.
  const empty = elementCount(out) === 0;
  if (!empty && kept.some((n) => n <= 0)) return undefined;

  const inStrides = stridesOf(x.dims);
  const outStrides = stridesOf(out);
  const copies: PadCopy[] = [];
  if (!empty) {
    copies.push({
      walk: { dims: kept, strides: [inStrides, outStrides] },
      fromInput: true,
      src: lo.reduce((acc, l, k) => acc + l * inStrides[k]!, 0),
      dst: pb.reduce((acc, b, k) => acc + b * outStrides[k]!, 0),
    });
    for (let k = 0; k < rank; k++) {
      const positions: number[] = [];
      for (let p = 0; p < out[k]!; p++) if (p < pb[k]! || p >= pb[k]! + kept[k]!) positions.push(p);
      // Axes before k: full extent from 0; after k: the interior, from pb.
      const dims = out.map((n, j) => (j < k ? n : kept[j]!));
      const base = out.reduce((acc, _, j) => acc + (j > k ? pb[j]! * outStrides[j]! : 0), 0);
      for (const run of runs(positions, (p) => sourceCoord(mode, p - pb[k]!, kept[k]!) + pb[k]!)) {
        const d = [...dims];
        d[k] = run.len;
        const src = outStrides.map((s, j) => (j === k ? s * run.step : s));
        copies.push({ walk: { dims: d, strides: [src, outStrides] }, fromInput: false, src: base + run.s * outStrides[k]!, dst: base + run.p * outStrides[k]! });
      }
    }
  }
  const layout = layoutDescriptors(copies.map((c) => walkDescriptor(collapseWalk(c.walk))));
  const { offsets } = layout;
  const rows = copies.map((c) => walkRows(collapseWalk(c.walk)));
  return {
    persistentBytes: layout.bytes,
    init: layout.write,
    run(mem, [xv], [y], _scratch, p) {
      copies.forEach((c, i) => {
        const src = (c.fromInput ? xv!.ptr : y!.ptr) + c.src * size;
        copyStrided(mem.exports, size, src, y!.ptr + c.dst * size, p + offsets[i]!, 0, rows[i]!);
      });
    },
  };
}

registerWasmKernel('Pad', padFactory);
