// Softmax / LogSoftmax along any axis, LayerNormalization, RMSNormalization, per-channel affine
// (inference BatchNormalization) and reductions (sum/mean, max, min, ...) over f32.
//
// An axis op sees the tensor as [outer, len, inner]. With inner == 1 each line is a contiguous
// row and vectorizes along it; otherwise 4 neighbouring lines (adjacent inner positions) share
// one vector, so loads stay contiguous. Kernels take a range of `outer` indices (rows for
// LayerNorm, planes for the affine) so a caller can split a call over threads.
import { Full, Lane, ld, splat, st, vexp, vlog } from './vmath';


@inline function hmax(v: v128): f32 {
  // f32.max propagates NaN like f32x4.max: a NaN anywhere in the line poisons the max (as in the reference).
  return Mathf.max(Mathf.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), Mathf.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline function logf(v: f32): f32 {
  return f32x4.extract_lane(vlog(f32x4.splat(v)), 0);
}

// ---- Softmax / LogSoftmax -----------------------------------------------------------------------

// Line maxima use pmax (one instruction; skips NaN): a NaN still poisons the line through
// exp(NaN - max) in the sum, so every output is NaN exactly as in the reference.

/** Softmax of one contiguous row of n values: max, exp and sum (exps stored), then scale. */
function softmaxRow(x: usize, y: usize, n: i32): void {
  let i = 0;
  let m0 = splat(-Infinity), m1 = m0;
  for (; i + 8 <= n; i += 8) {
    const p = <usize>i << 2;
    m0 = f32x4.pmax(m0, v128.load(x + p));
    m1 = f32x4.pmax(m1, v128.load(x + p, 16));
  }
  for (; i + 4 <= n; i += 4) m0 = f32x4.pmax(m0, v128.load(x + (<usize>i << 2)));
  let mx = hmax(f32x4.pmax(m0, m1));
  for (; i < n; i++) mx = Mathf.max(mx, load<f32>(x + (<usize>i << 2)));
  const vm = splat(mx);
  let s0 = splat(0), s1 = s0;
  i = 0;
  // Four exps in flight per iteration (exp-bound: measured faster than two).
  for (; i + 16 <= n; i += 16) {
    const p = <usize>i << 2;
    const e0 = vexp(f32x4.sub(v128.load(x + p), vm));
    const e1 = vexp(f32x4.sub(v128.load(x + p, 16), vm));
    const e2 = vexp(f32x4.sub(v128.load(x + p, 32), vm));
    const e3 = vexp(f32x4.sub(v128.load(x + p, 48), vm));
    v128.store(y + p, e0);
    v128.store(y + p, e1, 16);
    v128.store(y + p, e2, 32);
    v128.store(y + p, e3, 48);
    s0 = f32x4.add(s0, f32x4.add(e0, e2));
    s1 = f32x4.add(s1, f32x4.add(e1, e3));
  }
  for (; i + 4 <= n; i += 4) {
    const e = vexp(f32x4.sub(v128.load(x + (<usize>i << 2)), vm));
    v128.store(y + (<usize>i << 2), e);
    s0 = f32x4.add(s0, e);
  }
  let sum = hsum(f32x4.add(s0, s1));
  for (; i < n; i++) {
    const e = f32x4.extract_lane(vexp(splat(load<f32>(x + (<usize>i << 2)) - mx)), 0);
    store<f32>(y + (<usize>i << 2), e);
    sum += e;
  }
  const s: f32 = 1.0 / sum;
  const inv = splat(s);
  i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.mul(v128.load(y + (<usize>i << 2)), inv));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), load<f32>(y + (<usize>i << 2)) * s);
}

/** 4 (Full) or 1 (Lane) adjacent lines starting at x, each len long with stride `inner` elements. */
@inline function softmaxColumns<W>(log: bool, x: usize, y: usize, len: i32, inner: i32): void {
  const step = <usize>inner << 2;
  let m = splat(-Infinity);
  for (let k = 0; k < len; k++) m = f32x4.pmax(m, ld<W>(x + <usize>k * step));
  let s = splat(0);
  for (let k = 0; k < len; k++) {
    const e = vexp(f32x4.sub(ld<W>(x + <usize>k * step), m));
    if (!log) st<W>(y + <usize>k * step, e);
    s = f32x4.add(s, e);
  }
  if (log) {
    // (x - max) - log(sum): adding log(sum) to a large max first would round it away.
    const l = vlog(s);
    for (let k = 0; k < len; k++) st<W>(y + <usize>k * step, f32x4.sub(f32x4.sub(ld<W>(x + <usize>k * step), m), l));
  } else {
    const inv = f32x4.div(splat(1.0), s);
    for (let k = 0; k < len; k++) st<W>(y + <usize>k * step, f32x4.mul(ld<W>(y + <usize>k * step), inv));
  }
}

/**
 * Softmax (log = 0) or LogSoftmax (log = 1) of x viewed as [outer, len, inner] along len, for
 * outer indices [o0, o1). y may equal x.
 */
export function softmaxF32(log: i32, x: usize, y: usize, len: i32, inner: i32, o0: i32, o1: i32): void {
  const lineBytes = <usize>(len * inner) << 2;
  for (let o = o0; o < o1; o++) {
    const xo = x + <usize>o * lineBytes;
    const yo = y + <usize>o * lineBytes;
    if (inner == 1) {
      softmaxRowDispatch(log, xo, yo, len);
      continue;
    }
    let i = 0;
    for (; i + 4 <= inner; i += 4) softmaxColumns<Full>(log != 0, xo + (<usize>i << 2), yo + (<usize>i << 2), len, inner);
    for (; i < inner; i++) softmaxColumns<Lane>(log != 0, xo + (<usize>i << 2), yo + (<usize>i << 2), len, inner);
  }
}

@inline function softmaxRowDispatch(log: i32, x: usize, y: usize, n: i32): void {
  if (log) softmaxRowLog(x, y, n);
  else softmaxRow(x, y, n);
}

/** LogSoftmax of one row: the leftover elements go through lane 0 only, the other lanes stay out of the sum. */
function softmaxRowLog(x: usize, y: usize, n: i32): void {
  let i = 0;
  let m0 = splat(-Infinity), m1 = m0;
  for (; i + 8 <= n; i += 8) {
    const p = <usize>i << 2;
    m0 = f32x4.pmax(m0, v128.load(x + p));
    m1 = f32x4.pmax(m1, v128.load(x + p, 16));
  }
  for (; i + 4 <= n; i += 4) m0 = f32x4.pmax(m0, v128.load(x + (<usize>i << 2)));
  let mx = hmax(f32x4.pmax(m0, m1));
  for (; i < n; i++) mx = Mathf.max(mx, load<f32>(x + (<usize>i << 2)));
  const vm = splat(mx);
  let s0 = splat(0), s1 = s0;
  i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = <usize>i << 2;
    const e0 = vexp(f32x4.sub(v128.load(x + p), vm));
    const e1 = vexp(f32x4.sub(v128.load(x + p, 16), vm));
    const e2 = vexp(f32x4.sub(v128.load(x + p, 32), vm));
    const e3 = vexp(f32x4.sub(v128.load(x + p, 48), vm));
    s0 = f32x4.add(s0, f32x4.add(e0, e2));
    s1 = f32x4.add(s1, f32x4.add(e1, e3));
  }
  for (; i + 4 <= n; i += 4) s0 = f32x4.add(s0, vexp(f32x4.sub(v128.load(x + (<usize>i << 2)), vm)));
  let sum = hsum(f32x4.add(s0, s1));
  for (; i < n; i++) sum += f32x4.extract_lane(vexp(splat(load<f32>(x + (<usize>i << 2)) - mx)), 0);
  // (x - max) - log(sum): adding log(sum) to a large max first would round it away.
  const l = logf(sum);
  const vl = splat(l);
  i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.sub(f32x4.sub(v128.load(x + (<usize>i << 2)), vm), vl));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), (load<f32>(x + (<usize>i << 2)) - mx) - l);
}

// ---- LayerNormalization -----------------------------------------------------------------------

/**
 * y = (x - mean) * invStd * scale + bias over rows [r0, r1) of n elements; scale and bias hold n
 * values (bias 0: none). meanOut / invOut (0: not wanted) receive each row's statistics.
 * Two passes (mean, then centred squares) as the reference does, so constant rows give 0 variance.
 */
export function layerNormF32(
  x: usize, y: usize, scale: usize, bias: usize, meanOut: usize, invOut: usize, n: i32, eps: f32, r0: i32, r1: i32,
): void {
  const rowBytes = <usize>n << 2;
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let i = 0;
    let a0 = splat(0), a1 = a0;
    for (; i + 8 <= n; i += 8) {
      a0 = f32x4.add(a0, v128.load(xr + (<usize>i << 2)));
      a1 = f32x4.add(a1, v128.load(xr + (<usize>i << 2), 16));
    }
    for (; i + 4 <= n; i += 4) a0 = f32x4.add(a0, v128.load(xr + (<usize>i << 2)));
    let sum = hsum(f32x4.add(a0, a1));
    for (; i < n; i++) sum += load<f32>(xr + (<usize>i << 2));
    const mean = sum / <f32>n;
    const vm = splat(mean);
    i = 0;
    a0 = splat(0);
    a1 = a0;
    for (; i + 8 <= n; i += 8) {
      const d0 = f32x4.sub(v128.load(xr + (<usize>i << 2)), vm);
      const d1 = f32x4.sub(v128.load(xr + (<usize>i << 2), 16), vm);
      a0 = f32x4.add(a0, f32x4.mul(d0, d0));
      a1 = f32x4.add(a1, f32x4.mul(d1, d1));
    }
    for (; i + 4 <= n; i += 4) {
      const d = f32x4.sub(v128.load(xr + (<usize>i << 2)), vm);
      a0 = f32x4.add(a0, f32x4.mul(d, d));
    }
    let sq = hsum(f32x4.add(a0, a1));
    for (; i < n; i++) {
      const d = load<f32>(xr + (<usize>i << 2)) - mean;
      sq += d * d;
    }
    const inv: f32 = 1.0 / Mathf.sqrt(sq / <f32>n + eps);
    if (meanOut) store<f32>(meanOut + (<usize>r << 2), mean);
    if (invOut) store<f32>(invOut + (<usize>r << 2), inv);
    const vi = splat(inv);
    i = 0;
    if (bias) {
      for (; i + 4 <= n; i += 4) {
        const p = <usize>i << 2;
        const t = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + p), vm), vi), v128.load(scale + p));
        v128.store(yr + p, f32x4.add(t, v128.load(bias + p)));
      }
      for (; i < n; i++) {
        const p = <usize>i << 2;
        store<f32>(yr + p, (load<f32>(xr + p) - mean) * inv * load<f32>(scale + p) + load<f32>(bias + p));
      }
    } else {
      for (; i + 4 <= n; i += 4) {
        const p = <usize>i << 2;
        v128.store(yr + p, f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xr + p), vm), vi), v128.load(scale + p)));
      }
      for (; i < n; i++) {
        const p = <usize>i << 2;
        store<f32>(yr + p, (load<f32>(xr + p) - mean) * inv * load<f32>(scale + p));
      }
    }
  }
}

/**
 * RMSNormalization: y = x / sqrt(mean(x^2) + eps) * scale over rows [r0, r1) of n elements,
 * scale holding n values.
 */
export function rmsNormF32(x: usize, y: usize, scale: usize, n: i32, eps: f32, r0: i32, r1: i32): void {
  const rowBytes = <usize>n << 2;
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let i = 0;
    let a0 = splat(0), a1 = a0;
    for (; i + 8 <= n; i += 8) {
      const v0 = v128.load(xr + (<usize>i << 2));
      const v1 = v128.load(xr + (<usize>i << 2), 16);
      a0 = f32x4.add(a0, f32x4.mul(v0, v0));
      a1 = f32x4.add(a1, f32x4.mul(v1, v1));
    }
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(xr + (<usize>i << 2));
      a0 = f32x4.add(a0, f32x4.mul(v, v));
    }
    let sq = hsum(f32x4.add(a0, a1));
    for (; i < n; i++) {
      const v = load<f32>(xr + (<usize>i << 2));
      sq += v * v;
    }
    const inv: f32 = 1.0 / Mathf.sqrt(sq / <f32>n + eps);
    const vi = splat(inv);
    i = 0;
    for (; i + 4 <= n; i += 4) {
      const p = <usize>i << 2;
      v128.store(yr + p, f32x4.mul(f32x4.mul(v128.load(xr + p), vi), v128.load(scale + p)));
    }
    for (; i < n; i++) {
      const p = <usize>i << 2;
      store<f32>(yr + p, load<f32>(xr + p) * inv * load<f32>(scale + p));
    }
  }
}

// ---- per-channel affine (BatchNormalization inference) -----------------------------------------

/**
 * y = x * scale[c] + bias[c] for planes [p0, p1) of `inner` elements, c = plane % channels.
 * BatchNormalization folds (mean, var, eps, gamma, beta) into scale/bias once at plan time.
 */
export function channelAffineF32(x: usize, y: usize, scale: usize, bias: usize, channels: i32, inner: i32, p0: i32, p1: i32): void {
  const planeBytes = <usize>inner << 2;
  for (let p = p0; p < p1; p++) {
    const c = p % channels;
    const s = load<f32>(scale + (<usize>c << 2));
    const b = load<f32>(bias + (<usize>c << 2));
    const vs = splat(s), vb = splat(b);
    const xp = x + <usize>p * planeBytes;
    const yp = y + <usize>p * planeBytes;
    let i = 0;
    for (; i + 8 <= inner; i += 8) {
      const q = <usize>i << 2;
      v128.store(yp + q, f32x4.add(f32x4.mul(v128.load(xp + q), vs), vb));
      v128.store(yp + q, f32x4.add(f32x4.mul(v128.load(xp + q, 16), vs), vb), 16);
    }
    for (; i + 4 <= inner; i += 4) {
      const q = <usize>i << 2;
      v128.store(yp + q, f32x4.add(f32x4.mul(v128.load(xp + q), vs), vb));
    }
    for (; i < inner; i++) {
      const q = <usize>i << 2;
      store<f32>(yp + q, load<f32>(xp + q) * s + b);
    }
  }
}

// ---- reductions -------------------------------------------------------------------------------

class RSum {}
class RMax {}
class RMin {}
class RSumSquare {}
class RSumAbs {}

@inline function rInit<Op>(): v128 {
  if (idof<Op>() == idof<RMax>()) return splat(-Infinity);
  if (idof<Op>() == idof<RMin>()) return splat(Infinity);
  return splat(0);
}

@inline function rStep<Op>(acc: v128, v: v128): v128 {
  if (idof<Op>() == idof<RMax>()) return f32x4.max(acc, v); // NaN wins, as in the reference
  if (idof<Op>() == idof<RMin>()) return f32x4.min(acc, v);
  if (idof<Op>() == idof<RSumSquare>()) return f32x4.add(acc, f32x4.mul(v, v));
  if (idof<Op>() == idof<RSumAbs>()) return f32x4.add(acc, f32x4.abs(v));
  return f32x4.add(acc, v);
}

@inline function rCombine<Op>(a: f32, b: f32): f32 {
  if (idof<Op>() == idof<RMax>()) return Mathf.max(a, b);
  if (idof<Op>() == idof<RMin>()) return Mathf.min(a, b);
  return a + b;
}

@inline function isSumLike<Op>(): bool {
  return idof<Op>() != idof<RMax>() && idof<Op>() != idof<RMin>();
}

/** Final value: sums are scaled (1/count for means), optionally square-rooted (L2). */
@inline function rFinish<Op>(v: v128, scale: v128, root: bool): v128 {
  if (!isSumLike<Op>()) return v;
  const s = f32x4.mul(v, scale);
  return root ? f32x4.sqrt(s) : s;
}

@inline function reduceColumns<Op, W>(x: usize, y: usize, R: i32, inner: i32, scale: v128, root: bool): void {
  const step = <usize>inner << 2;
  let acc = rInit<Op>();
  for (let k = 0; k < R; k++) acc = rStep<Op>(acc, ld<W>(x + <usize>k * step));
  st<W>(y, rFinish<Op>(acc, scale, root));
}

function reduceRows<Op>(x: usize, y: usize, R: i32, inner: i32, scaleF: f32, root: bool, o0: i32, o1: i32): void {
  const scale = splat(scaleF);
  const blockBytes = <usize>(R * inner) << 2;
  for (let o = o0; o < o1; o++) {
    const xo = x + <usize>o * blockBytes;
    const yo = y + (<usize>(o * inner) << 2);
    if (inner == 1) {
      let a0 = rInit<Op>(), a1 = a0, a2 = a0, a3 = a0;
      let i = 0;
      for (; i + 16 <= R; i += 16) {
        const p = xo + (<usize>i << 2);
        a0 = rStep<Op>(a0, v128.load(p));
        a1 = rStep<Op>(a1, v128.load(p, 16));
        a2 = rStep<Op>(a2, v128.load(p, 32));
        a3 = rStep<Op>(a3, v128.load(p, 48));
      }
      for (; i + 4 <= R; i += 4) a0 = rStep<Op>(a0, v128.load(xo + (<usize>i << 2)));
      // Leftovers through lane 0 of a fresh accumulator so the other lanes keep the identity.
      let t = rInit<Op>();
      for (; i < R; i++) t = rStep<Op>(t, v128.load32_zero(xo + (<usize>i << 2)));
      t = v128.bitselect(t, rInit<Op>(), i32x4(-1, 0, 0, 0));
      const v = rStep2<Op>(rStep2<Op>(a0, a1), rStep2<Op>(rStep2<Op>(a2, a3), t));
      const lo = rCombine<Op>(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1));
      const r = rCombine<Op>(lo, rCombine<Op>(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
      v128.store_lane<u32>(yo, rFinish<Op>(splat(r), scale, root), 0);
      continue;
    }
    let i = 0;
    for (; i + 4 <= inner; i += 4) reduceColumns<Op, Full>(xo + (<usize>i << 2), yo + (<usize>i << 2), R, inner, scale, root);
    for (; i < inner; i++) reduceColumns<Op, Lane>(xo + (<usize>i << 2), yo + (<usize>i << 2), R, inner, scale, root);
  }
}

/** Combines two partial accumulators lane-wise (no per-element transform). */
@inline function rStep2<Op>(a: v128, b: v128): v128 {
  if (idof<Op>() == idof<RMax>()) return f32x4.max(a, b);
  if (idof<Op>() == idof<RMin>()) return f32x4.min(a, b);
  return f32x4.add(a, b);
}

/**
 * Reduces x viewed as [outer, R, inner] over R into y [outer, inner] for outer indices [o0, o1).
 * op: 0 sum, 1 max, 2 min, 3 sum of squares, 4 sum of |x|. Sums are multiplied by `scale`
 * (1/R for a mean) and square-rooted when root != 0 (L2).
 */
export function reduceF32(op: i32, x: usize, y: usize, R: i32, inner: i32, scale: f32, root: i32, o0: i32, o1: i32): void {
  switch (op) {
    case 0: reduceRows<RSum>(x, y, R, inner, scale, root != 0, o0, o1); break;
    case 1: reduceRows<RMax>(x, y, R, inner, scale, root != 0, o0, o1); break;
    case 2: reduceRows<RMin>(x, y, R, inner, scale, root != 0, o0, o1); break;
    case 3: reduceRows<RSumSquare>(x, y, R, inner, scale, root != 0, o0, o1); break;
    case 4: reduceRows<RSumAbs>(x, y, R, inner, scale, root != 0, o0, o1); break;
    default: unreachable();
  }
}
