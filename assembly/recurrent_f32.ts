// The sequential part of RNN, GRU and LSTM on f32: per time step, the recurrent product R . h_{t-1}
// (a matrix-vector product per batch row) and the gate nonlinearities, fused so each step reads
// its projected inputs once and writes the new state and its Y row directly. The input projection
// X . W^T (+ biases) of every step is one GEMM done beforehand by the caller (gemm_f32), so what is
// left here is the part that cannot be batched over time.
//
// One call runs one direction over the whole sequence for every batch row. Per-direction settings
// live in a config block of 16 words the JS side writes once (src/backends/wasm/ops/recurrent.ts):
//   [0..8]  three activations (f, g, h) as (code i32, alpha f32, beta f32)
//   [9]     clip (f32; +inf when absent)
//   [10]    input_forget (LSTM), [11] linear_before_reset (GRU)
//   [12]    pointer to this direction's peepholes P (3H floats, LSTM) or 0
//   [13]    pointer to Rb_h (H floats) for GRU with linear_before_reset (it is scaled by r, so the
//           caller cannot fold it into the projection's bias as it does every other bias)
import { Full, Lane, ld, madd, splat, st, vexp, vexpm1, vlog1pPos, vsigmoid, vtanh } from './vmath';


@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Activation codes, in the order src/backends/wasm/ops/recurrent.ts lists the names. */
@inline function activate(code: i32, a: f32, b: f32, x: v128): v128 {
  const zero = splat(0);
  switch (code) {
    case 0: return f32x4.max(x, zero); // relu
    case 1: return vtanh(x);
    case 2: return vsigmoid(x);
    case 3: return madd(splat(a), x, splat(b)); // affine
    case 4: return v128.bitselect(x, f32x4.mul(splat(a), x), f32x4.ge(x, zero)); // leakyrelu
    case 5: return v128.and(x, f32x4.gt(x, splat(a))); // thresholdedrelu
    case 6: return f32x4.mul(splat(a), vtanh(f32x4.mul(splat(b), x))); // scaledtanh
    case 7: return f32x4.min(f32x4.max(madd(splat(a), x, splat(b)), zero), splat(1)); // hardsigmoid
    case 8: return v128.bitselect(x, f32x4.mul(splat(a), vexpm1(x)), f32x4.ge(x, zero)); // elu
    case 9: return f32x4.div(x, f32x4.add(splat(1), f32x4.abs(x))); // softsign
    default: return f32x4.add(f32x4.max(x, zero), vlog1pPos(vexp(f32x4.neg(f32x4.abs(x))))); // softplus
  }
}

/** Activation `which` (0 f, 1 g, 2 h) of the config block applied to x. */
@inline function actRaw(cfg: usize, which: i32, x: v128): v128 {
  const p = cfg + (<usize>which * 12);
  return activate(load<i32>(p), load<f32>(p, 4), load<f32>(p, 8), x);
}

/** The same on clip(x): clip bounds gate pre-activations (not LSTM's cell state before h). */
@inline function act(cfg: usize, which: i32, x: v128): v128 {
  const c = load<f32>(cfg, 36);
  return actRaw(cfg, which, f32x4.pmin(f32x4.pmax(x, splat(-c)), splat(c)));
}

// R is used in a packed copy made once (recurrentPackF32): rows in groups of four, and within a
// group, for every four k, the four rows' values: 16 floats, one cache line, per k-chunk. Rows
// and k are zero-padded to multiples of four. The product then reads the whole matrix as one
// sequential stream, which the hardware prefetcher follows at full bandwidth; R in plain row order
// read four rows at a time gives it short interleaved streams (measured 2-3x slower once R leaves
// L2, e.g. LSTM hidden 512).

@inline function ceil4(n: i32): i32 {
  return (n + 3) & ~3;
}

/** Bytes of the packed copy of a [rows, n] matrix. */
function packBytes(rows: i32, n: i32): usize {
  return (<usize>ceil4(rows) * <usize>ceil4(n)) << 2;
}

/** Packs the [rows, n] row-major matrix at src into dst (packBytes bytes), layout above. */
function pack(src: usize, rows: i32, n: i32, dst: usize): void {
  const n4 = ceil4(n);
  for (let g = 0; g < rows; g += 4) {
    for (let c = 0; c < n4; c += 4) {
      for (let i = 0; i < 4; i++) {
        for (let q = 0; q < 4; q++) {
          const j = g + i, k = c + q;
          store<f32>(dst, j < rows && k < n ? load<f32>(src + ((<usize>j * <usize>n + <usize>k) << 2)) : 0);
          dst += 4;
        }
      }
    }
  }
}

/** GRU multiplies its third gate block by a different vector: blocks 0-1 and 2 are packed apart. */
@inline function splitRows(kind: i32, hidden: i32): i32 {
  return kind == 1 ? 2 * hidden : (kind == 0 ? 1 : 4) * hidden;
}

/** Bytes of one direction's packed R (kind 0 RNN, 1 GRU, 2 LSTM). */
export function recurrentPackBytesF32(kind: i32, hidden: i32): usize {
  const G = kind == 0 ? 1 : kind == 1 ? 3 : 4;
  const first = splitRows(kind, hidden);
  return packBytes(first, hidden) + packBytes(G * hidden - first, hidden);
}

/** Packs one direction's R [G * H, H] at src into dst (recurrentPackBytesF32 bytes). */
export function recurrentPackF32(kind: i32, src: usize, hidden: i32, dst: usize): void {
  const G = kind == 0 ? 1 : kind == 1 ? 3 : 4;
  const first = splitRows(kind, hidden);
  pack(src, first, hidden, dst);
  pack(src + ((<usize>first * <usize>hidden) << 2), G * hidden - first, hidden, dst + packBytes(first, hidden));
}

/** x[k..k+4), or its first n - k lanes with zeros after (never reads past x[n - 1]). */
@inline function xChunk(x: usize, k: i32, n: i32): v128 {
  const p = x + (<usize>k << 2);
  if (k + 4 <= n) return v128.load(p);
  let v = v128.load32_zero(p);
  if (k + 1 < n) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (k + 2 < n) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/**
 * out[0..rows) = R . x for one vector, R packed: per group, two k-chunks per pass into separate
 * accumulators (eight independent multiply-add chains).
 */
function matvec1(r: usize, x: usize, out: usize, rows: i32, n: i32): void {
  const n4 = ceil4(n);
  const full = n & ~3;
  let p = r;
  for (let g = 0; g < rows; g += 4) {
    let s0 = splat(0), s1 = s0, s2 = s0, s3 = s0, u0 = s0, u1 = s0, u2 = s0, u3 = s0;
    let k = 0;
    for (; k + 8 <= full; k += 8) {
      const xv = v128.load(x + (<usize>k << 2));
      const xw = v128.load(x + (<usize>k << 2), 16);
      s0 = madd(v128.load(p), xv, s0);
      s1 = madd(v128.load(p, 16), xv, s1);
      s2 = madd(v128.load(p, 32), xv, s2);
      s3 = madd(v128.load(p, 48), xv, s3);
      u0 = madd(v128.load(p, 64), xw, u0);
      u1 = madd(v128.load(p, 80), xw, u1);
      u2 = madd(v128.load(p, 96), xw, u2);
      u3 = madd(v128.load(p, 112), xw, u3);
      p += 128;
    }
    for (; k < n4; k += 4) {
      const xv = xChunk(x, k, n);
      s0 = madd(v128.load(p), xv, s0);
      s1 = madd(v128.load(p, 16), xv, s1);
      s2 = madd(v128.load(p, 32), xv, s2);
      s3 = madd(v128.load(p, 48), xv, s3);
      p += 64;
    }
    const q = out + (<usize>g << 2);
    store<f32>(q, hsum(f32x4.add(s0, u0)));
    if (g + 1 < rows) store<f32>(q, hsum(f32x4.add(s1, u1)), 4);
    if (g + 2 < rows) store<f32>(q, hsum(f32x4.add(s2, u2)), 8);
    if (g + 3 < rows) store<f32>(q, hsum(f32x4.add(s3, u3)), 12);
  }
}

/**
 * Two rows of a packed group (byte offset half: 0 for rows 0-1, 32 for rows 2-3) times four
 * vectors: eight accumulators; results for row `row0` and `row0 + 1` (when < rows).
 */
@inline function pair4(p: usize, x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, row0: i32, rows: i32, n: i32): void {
  const n4 = ceil4(n);
  let a0 = splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (let k = 0; k < n4; k += 4) {
    const r0 = v128.load(p);
    const r1 = v128.load(p, 16);
    const v0 = xChunk(x0, k, n);
    const v1 = xChunk(x1, k, n);
    const v2 = xChunk(x2, k, n);
    const v3 = xChunk(x3, k, n);
    a0 = madd(r0, v0, a0);
    a1 = madd(r0, v1, a1);
    a2 = madd(r0, v2, a2);
    a3 = madd(r0, v3, a3);
    b0 = madd(r1, v0, b0);
    b1 = madd(r1, v1, b1);
    b2 = madd(r1, v2, b2);
    b3 = madd(r1, v3, b3);
    p += 64;
  }
  const q = <usize>row0 << 2;
  if (row0 < rows) {
    store<f32>(o3 + q, hsum(a3));
    store<f32>(o2 + q, hsum(a2));
    store<f32>(o1 + q, hsum(a1));
    store<f32>(o0 + q, hsum(a0));
  }
  if (row0 + 1 < rows) {
    store<f32>(o3 + q, hsum(b3), 4);
    store<f32>(o2 + q, hsum(b2), 4);
    store<f32>(o1 + q, hsum(b1), 4);
    store<f32>(o0 + q, hsum(b0), 4);
  }
}

/**
 * The same for four vectors x0..x3 at once (batch rows), so R is streamed once per four: each
 * group in two passes of two rows (the second pass finds the group in L1). A group of two or
 * three vectors passes its first vector again for the missing ones, with the same output: the
 * duplicate results are identical, so storing them before the first vector's own store changes
 * nothing.
 */
function matvec4(r: usize, x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, rows: i32, n: i32): void {
  const groupBytes = <usize>ceil4(n) << 4;
  for (let g = 0; g < rows; g += 4) {
    const p = r + <usize>(g >> 2) * groupBytes;
    pair4(p, x0, x1, x2, x3, o0, o1, o2, o3, g, rows, n);
    if (g + 2 < rows) pair4(p + 32, x0, x1, x2, x3, o0, o1, o2, o3, g + 2, rows, n);
  }
}

/**
 * R . x for `count` (1-4) vectors, R packed: x for vector i at x + i * xStride bytes, result at
 * out + i * outStride bytes.
 */
function matvecGroup(r: usize, x: usize, xStride: usize, out: usize, outStride: usize, count: i32, rows: i32, n: i32): void {
  if (count == 1) {
    matvec1(r, x, out, rows, n);
    return;
  }
  const x1 = x + xStride, o1 = out + outStride;
  const x2 = count > 2 ? x1 + xStride : x, o2 = count > 2 ? o1 + outStride : out;
  const x3 = count > 3 ? x2 + xStride : x, o3 = count > 3 ? o2 + outStride : out;
  matvec4(r, x, x1, x2, x3, out, o1, o2, o3, rows, n);
}

// ---- gate updates for units [j, j+4) (Full) or unit j (Lane) --------------------------------------
// xw: this step's projected row (gate blocks of H), hr: R . h (same blocks), h/c: the state rows,
// y: the Y row (0 when Y is not wanted). hb = H * 4 bytes, the distance between gate blocks.

@inline function rnnUnits<W>(cfg: usize, xw: usize, hr: usize, h: usize, y: usize): void {
  const v = act(cfg, 0, f32x4.add(ld<W>(xw), ld<W>(hr)));
  st<W>(h, v);
  if (y) st<W>(y, v);
}

/** peep: these units' input peephole weights (o and f follow H floats apart) or 0 for none. */
@inline function lstmUnits<W>(cfg: usize, xw: usize, hr: usize, h: usize, c: usize, y: usize, hb: usize, peep: usize): void {
  const cPrev = ld<W>(c);
  let pi = splat(0), po = pi, pf = pi;
  if (peep) {
    pi = ld<W>(peep);
    po = ld<W>(peep + hb);
    pf = ld<W>(peep + 2 * hb);
  }
  // Gate blocks: i, o, f, c.
  const i = act(cfg, 0, madd(pi, cPrev, f32x4.add(ld<W>(xw), ld<W>(hr))));
  const f = load<i32>(cfg, 40)
    ? f32x4.sub(splat(1), i)
    : act(cfg, 0, madd(pf, cPrev, f32x4.add(ld<W>(xw + 2 * hb), ld<W>(hr + 2 * hb))));
  const g = act(cfg, 1, f32x4.add(ld<W>(xw + 3 * hb), ld<W>(hr + 3 * hb)));
  const cNew = madd(f, cPrev, f32x4.mul(i, g));
  const o = act(cfg, 0, madd(po, cNew, f32x4.add(ld<W>(xw + hb), ld<W>(hr + hb))));
  const hNew = f32x4.mul(o, actRaw(cfg, 2, cNew));
  st<W>(c, cNew);
  st<W>(h, hNew);
  if (y) st<W>(y, hNew);
}

/** GRU z and r (blocks 0, 1): z kept in hr's block 0, r * h_{t-1} written to rh. */
@inline function gruGates<W>(cfg: usize, xw: usize, hr: usize, h: usize, rh: usize, hb: usize): void {
  st<W>(hr, act(cfg, 0, f32x4.add(ld<W>(xw), ld<W>(hr))));
  const r = act(cfg, 0, f32x4.add(ld<W>(xw + hb), ld<W>(hr + hb)));
  st<W>(rh, f32x4.mul(r, ld<W>(h)));
  // linear_before_reset needs r itself: kept in hr's block 1.
  st<W>(hr + hb, r);
}

/** GRU candidate and new state; hr holds z (block 0), r (block 1) and the block-2 product. */
@inline function gruUpdate<W>(cfg: usize, xw: usize, hr: usize, h: usize, y: usize, hb: usize, rbh: usize): void {
  const z = ld<W>(hr);
  const rec = ld<W>(hr + 2 * hb);
  // linear_before_reset: r scales (R_h h_{t-1} + Rb_h); otherwise R_h already saw r * h_{t-1}.
  const pre = rbh
    ? madd(ld<W>(hr + hb), f32x4.add(rec, ld<W>(rbh)), ld<W>(xw + 2 * hb))
    : f32x4.add(ld<W>(xw + 2 * hb), rec);
  const cand = act(cfg, 1, pre);
  // (1 - z) * cand + z * h = cand + z * (h - cand)
  const hNew = madd(z, f32x4.sub(ld<W>(h), cand), cand);
  st<W>(h, hNew);
  if (y) st<W>(y, hNew);
}

/**
 * One direction of a recurrent layer over the whole sequence. kind: 0 RNN, 1 GRU, 2 LSTM.
 * xw: projected inputs, row (t, b) at xw + (t * xwT + b * xwB) * G * H floats, biases included.
 * r: this direction's R packed by recurrentPackF32. h, c: working states [batch, H], holding the initial states
 * on entry and the final ones on return (c unused but for LSTM). y: Y's element for (t = 0, b = 0)
 * of this direction, row (t, b) at y + (t * yT + b * yB) floats, or 0 when Y is not wanted.
 * lens: i32 sequence length per batch row (checked in [0, seq] by the caller) or 0 for all seq.
 * Steps run backwards (t = len - 1 down to 0) when reverse. work: recurrentF32WorkFloats floats.
 * Steps go in lockstep over the batch so up to four rows share each pass over R; a row whose
 * sequence has ended drops out of the groups.
 */
export function recurrentF32(
  kind: i32, cfg: usize, xw: usize, xwT: i32, xwB: i32, r: usize, h: usize, c: usize,
  y: usize, yT: i32, yB: i32, lens: usize, seq: i32, batch: i32, hidden: i32, reverse: i32, work: usize,
): void {
  const G = kind == 0 ? 1 : kind == 1 ? 3 : 4;
  const hb = <usize>hidden << 2;
  const rowBytes = <usize>G * hb;
  // Per batch row: hr (G blocks of H: R . h, then gate values) and rh (GRU's r * h_{t-1}).
  const workRow = rowBytes + hb;
  const rbh = <usize>load<u32>(cfg, 52);
  const peep = <usize>load<u32>(cfg, 48);
  let maxLen = lens ? 0 : seq;
  for (let b = 0; lens && b < batch; b++) maxLen = max(maxLen, load<i32>(lens + (<usize>b << 2)));
  for (let step = 0; step < maxLen; step++) {
    let b0 = 0;
    while (b0 < batch) {
      if (lens && load<i32>(lens + (<usize>b0 << 2)) <= step) { b0++; continue; }
      let count = 1;
      while (count < 4 && b0 + count < batch && (!lens || load<i32>(lens + (<usize>(b0 + count) << 2)) > step)) count++;
      const hs0 = h + <usize>b0 * hb;
      const hr0 = work + <usize>b0 * workRow;
      if (kind == 1) {
        matvecGroup(r, hs0, hb, hr0, workRow, count, 2 * hidden, hidden);
        for (let i = 0; i < count; i++) {
          const b = b0 + i;
          const len = lens ? load<i32>(lens + (<usize>b << 2)) : seq;
          const t = reverse ? len - 1 - step : step;
          const xr = xw + <usize>(t * xwT + b * xwB) * rowBytes;
          const hs = hs0 + <usize>i * hb, hr = hr0 + <usize>i * workRow, rh = hr + rowBytes;
          let j = 0;
          for (; j + 4 <= hidden; j += 4) { const o = <usize>j << 2; gruGates<Full>(cfg, xr + o, hr + o, hs + o, rh + o, hb); }
          for (; j < hidden; j++) { const o = <usize>j << 2; gruGates<Lane>(cfg, xr + o, hr + o, hs + o, rh + o, hb); }
        }
        // Block 2 multiplies h_{t-1} (linear_before_reset) or r * h_{t-1}.
        const r2 = r + packBytes(2 * hidden, hidden);
        if (rbh) matvecGroup(r2, hs0, hb, hr0 + 2 * hb, workRow, count, hidden, hidden);
        else matvecGroup(r2, hr0 + rowBytes, workRow, hr0 + 2 * hb, workRow, count, hidden, hidden);
      } else {
        matvecGroup(r, hs0, hb, hr0, workRow, count, G * hidden, hidden);
      }
      for (let i = 0; i < count; i++) {
        const b = b0 + i;
        const len = lens ? load<i32>(lens + (<usize>b << 2)) : seq;
        const t = reverse ? len - 1 - step : step;
        const xr = xw + <usize>(t * xwT + b * xwB) * rowBytes;
        const yr = y ? y + (<usize>(t * yT + b * yB) << 2) : 0;
        const hs = hs0 + <usize>i * hb, hr = hr0 + <usize>i * workRow, cs = c + <usize>b * hb;
        let j = 0;
        if (kind == 1) {
          for (; j + 4 <= hidden; j += 4) { const o = <usize>j << 2; gruUpdate<Full>(cfg, xr + o, hr + o, hs + o, yr ? yr + o : 0, hb, rbh ? rbh + o : 0); }
          for (; j < hidden; j++) { const o = <usize>j << 2; gruUpdate<Lane>(cfg, xr + o, hr + o, hs + o, yr ? yr + o : 0, hb, rbh ? rbh + o : 0); }
        } else if (kind == 0) {
          for (; j + 4 <= hidden; j += 4) { const o = <usize>j << 2; rnnUnits<Full>(cfg, xr + o, hr + o, hs + o, yr ? yr + o : 0); }
          for (; j < hidden; j++) { const o = <usize>j << 2; rnnUnits<Lane>(cfg, xr + o, hr + o, hs + o, yr ? yr + o : 0); }
        } else {
          for (; j + 4 <= hidden; j += 4) { const o = <usize>j << 2; lstmUnits<Full>(cfg, xr + o, hr + o, hs + o, cs + o, yr ? yr + o : 0, hb, peep ? peep + o : 0); }
          for (; j < hidden; j++) { const o = <usize>j << 2; lstmUnits<Lane>(cfg, xr + o, hr + o, hs + o, cs + o, yr ? yr + o : 0, hb, peep ? peep + o : 0); }
        }
      }
      b0 += count;
    }
  }
}

/** Scratch floats recurrentF32 needs as `work`: per batch row, G + 1 blocks of H. */
export function recurrentF32WorkFloats(kind: i32, hidden: i32, batch: i32): i32 {
  return ((kind == 0 ? 1 : kind == 1 ? 3 : 4) + 1) * hidden * batch;
}
