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
import { madd, splat, vexp, vexpm1, vlog1pPos, vsigmoid, vtanh } from './vmath';

class Full {}
class Lane {}

/** 4 lanes (Full) or lane 0 only (Lane: the hidden % 4 leftovers, never reading past a row). */
@inline function ld<W>(p: usize): v128 {
  if (idof<W>() == idof<Full>()) return v128.load(p);
  return v128.load32_zero(p);
}

@inline function st<W>(p: usize, v: v128): void {
  if (idof<W>() == idof<Full>()) v128.store(p, v);
  else v128.store_lane<u32>(p, v, 0);
}

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

/** out[0..rows) = R[rows, n] . x[n] (R rows contiguous), four rows per pass sharing each x load. */
function matvec(r: usize, x: usize, out: usize, rows: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  let j = 0;
  for (; j + 4 <= rows; j += 4) {
    const p0 = r + <usize>j * rowBytes;
    const p1 = p0 + rowBytes;
    const p2 = p1 + rowBytes;
    const p3 = p2 + rowBytes;
    let s0 = splat(0), s1 = s0, s2 = s0, s3 = s0;
    let k = 0;
    for (; k + 4 <= n; k += 4) {
      const o = <usize>k << 2;
      const xv = v128.load(x + o);
      s0 = madd(v128.load(p0 + o), xv, s0);
      s1 = madd(v128.load(p1 + o), xv, s1);
      s2 = madd(v128.load(p2 + o), xv, s2);
      s3 = madd(v128.load(p3 + o), xv, s3);
    }
    let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
    for (; k < n; k++) {
      const o = <usize>k << 2;
      const xs = load<f32>(x + o);
      t0 += load<f32>(p0 + o) * xs;
      t1 += load<f32>(p1 + o) * xs;
      t2 += load<f32>(p2 + o) * xs;
      t3 += load<f32>(p3 + o) * xs;
    }
    const q = out + (<usize>j << 2);
    store<f32>(q, t0);
    store<f32>(q, t1, 4);
    store<f32>(q, t2, 8);
    store<f32>(q, t3, 12);
  }
  for (; j < rows; j++) {
    const p0 = r + <usize>j * rowBytes;
    let s0 = splat(0);
    let k = 0;
    for (; k + 4 <= n; k += 4) s0 = madd(v128.load(p0 + (<usize>k << 2)), v128.load(x + (<usize>k << 2)), s0);
    let t0 = hsum(s0);
    for (; k < n; k++) t0 += load<f32>(p0 + (<usize>k << 2)) * load<f32>(x + (<usize>k << 2));
    store<f32>(out + (<usize>j << 2), t0);
  }
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
 * r: this direction's R [G * H, H]. h, c: working states [batch, H], holding the initial states
 * on entry and the final ones on return (c unused but for LSTM). y: Y's element for (t = 0, b = 0)
 * of this direction, row (t, b) at y + (t * yT + b * yB) floats, or 0 when Y is not wanted.
 * lens: i32 sequence length per batch row (checked in [0, seq] by the caller) or 0 for all seq.
 * Steps run backwards (t = len - 1 down to 0) when reverse. work: (G + 1) * H floats of scratch.
 */
export function recurrentF32(
  kind: i32, cfg: usize, xw: usize, xwT: i32, xwB: i32, r: usize, h: usize, c: usize,
  y: usize, yT: i32, yB: i32, lens: usize, seq: i32, batch: i32, hidden: i32, reverse: i32, work: usize,
): void {
  const G = kind == 0 ? 1 : kind == 1 ? 3 : 4;
  const hb = <usize>hidden << 2;
  const rowBytes = <usize>G * hb;
  const hr = work;
  const rh = work + rowBytes;
  const rbh = <usize>load<u32>(cfg, 52);
  const peep = <usize>load<u32>(cfg, 48);
  for (let b = 0; b < batch; b++) {
    const len = lens ? load<i32>(lens + (<usize>b << 2)) : seq;
    const hs = h + <usize>b * hb;
    const cs = c + <usize>b * hb;
    for (let step = 0; step < len; step++) {
      const t = reverse ? len - 1 - step : step;
      const xr = xw + <usize>(t * xwT + b * xwB) * rowBytes;
      const yr = y ? y + (<usize>(t * yT + b * yB) << 2) : 0;
      if (kind == 1) {
        matvec(r, hs, hr, 2 * hidden, hidden);
        let j = 0;
        for (; j + 4 <= hidden; j += 4) { const o = <usize>j << 2; gruGates<Full>(cfg, xr + o, hr + o, hs + o, rh + o, hb); }
        for (; j < hidden; j++) { const o = <usize>j << 2; gruGates<Lane>(cfg, xr + o, hr + o, hs + o, rh + o, hb); }
        // Block 2 multiplies h_{t-1} (linear_before_reset) or r * h_{t-1}.
        matvec(r + 2 * <usize>hidden * hb, rbh ? hs : rh, hr + 2 * hb, hidden, hidden);
        j = 0;
        for (; j + 4 <= hidden; j += 4) { const o = <usize>j << 2; gruUpdate<Full>(cfg, xr + o, hr + o, hs + o, yr ? yr + o : 0, hb, rbh ? rbh + o : 0); }
        for (; j < hidden; j++) { const o = <usize>j << 2; gruUpdate<Lane>(cfg, xr + o, hr + o, hs + o, yr ? yr + o : 0, hb, rbh ? rbh + o : 0); }
        continue;
      }
      matvec(r, hs, hr, G * hidden, hidden);
      let j = 0;
      if (kind == 0) {
        for (; j + 4 <= hidden; j += 4) { const o = <usize>j << 2; rnnUnits<Full>(cfg, xr + o, hr + o, hs + o, yr ? yr + o : 0); }
        for (; j < hidden; j++) { const o = <usize>j << 2; rnnUnits<Lane>(cfg, xr + o, hr + o, hs + o, yr ? yr + o : 0); }
      } else {
        for (; j + 4 <= hidden; j += 4) { const o = <usize>j << 2; lstmUnits<Full>(cfg, xr + o, hr + o, hs + o, cs + o, yr ? yr + o : 0, hb, peep ? peep + o : 0); }
        for (; j < hidden; j++) { const o = <usize>j << 2; lstmUnits<Lane>(cfg, xr + o, hr + o, hs + o, cs + o, yr ? yr + o : 0, hb, peep ? peep + o : 0); }
      }
    }
  }
}

/** Scratch floats recurrentF32 needs as `work`. */
export function recurrentF32WorkFloats(kind: i32, hidden: i32): i32 {
  return ((kind == 0 ? 1 : kind == 1 ? 3 : 4) + 1) * hidden;
}
