// Elementwise f32 kernels: unary activations/math, broadcasting binary arithmetic, comparisons
// (bool out) and Where. One exported entry per family takes an op code; the switch sits outside
// the loops and calls a loop instantiated for that op, so the per-element path has no branches.
//
// Broadcasting uses a small descriptor the JS side writes once at plan time (see
// src/backends/wasm/kernels/elementwise.ts): i32 [rank, dims[rank], strides of operand 0[rank],
// strides of operand 1[rank], ...], strides in elements, dims already collapsed so the innermost
// stride of every operand is 0 (broadcast) or 1 (contiguous). The output is contiguous. Kernels
// take a range [o0, o1) of "rows" (all dims but the innermost) so a caller can split one call
// over threads.
import { descDim, descOuterOffset, descRank, descStride } from './strided';
import { madd, splat, verf, verfc, vexp, vexpm1, vlog, vlog1pPos, vsigmoid, vtanh } from './vmath';

// ---- unary ------------------------------------------------------------------------------------

// Op markers: generic kernels are instantiated per marker; idof<Op>() comparisons fold at compile
// time, so each instantiation contains only its own arithmetic. Codes (the unaryF32 `op`
// argument) are listed at the dispatcher and mirrored in src/backends/wasm/kernels/elementwise.ts.
class Relu {}
class LeakyRelu {} // alpha
class Sigmoid {}
class Tanh {}
class Exp {}
class Log {}
class Sqrt {}
class Abs {}
class Neg {}
class Reciprocal {}
class Clip {} // alpha = min, beta = max
class HardSigmoid {} // alpha, beta
class HardSwish {}
class Elu {} // alpha
class Gelu {}
class GeluTanh {}
class Erf {}
class Softplus {}
class Swish {} // alpha
class Copy {}
class Affine {} // x * alpha + beta
class Floor {}
class Ceil {}
class Round {}
class Softsign {}
class Selu {} // alpha, beta = gamma
class Celu {} // alpha
class ThresholdedRelu {} // alpha
class Mish {}
class Square {}
class Cube {}
class PowHalf {} // C pow(x, 0.5): sqrt except pow(-0) = +0, pow(-inf) = +inf
class One {} // pow(x, 0) = 1 even for NaN


/** Keeps lanes of `x` where `mask` is set, `other` elsewhere. */
@inline function sel(x: v128, other: v128, mask: v128): v128 {
  return v128.bitselect(x, other, mask);
}

/** True when the op marker is K (folded at compile time). */
@inline function is<Op, K>(): bool {
  return idof<Op>() == idof<K>();
}

@inline function unaryVec<Op>(x: v128, a: v128, b: v128): v128 {
  const zero = splat(0.0);
  const one = splat(1.0);
  {
    // pmax(x, 0) = x < 0 ? 0 : x: keeps NaN and -0 exactly like the reference's `v < 0 ? 0 : v`.
    if (is<Op, Relu>()) return f32x4.pmax(x, zero);
    if (is<Op, LeakyRelu>()) return sel(f32x4.mul(x, a), x, f32x4.lt(x, zero));
    if (is<Op, Sigmoid>()) return vsigmoid(x);
    if (is<Op, Tanh>()) return vtanh(x);
    if (is<Op, Exp>()) return vexp(x);
    if (is<Op, Log>()) return vlog(x);
    if (is<Op, Sqrt>()) return f32x4.sqrt(x);
    if (is<Op, Abs>()) return f32x4.abs(x);
    if (is<Op, Neg>()) return f32x4.neg(x);
    if (is<Op, Reciprocal>()) return f32x4.div(one, x);
    // pmax/pmin keep NaN inputs, as the reference's comparisons do.
    if (is<Op, Clip>()) return f32x4.pmin(f32x4.pmax(x, a), b);
    // max/min (NaN-propagating) like the reference's Math.max/Math.min.
    if (is<Op, HardSigmoid>()) return f32x4.max(zero, f32x4.min(one, madd(x, a, b)));
    if (is<Op, HardSwish>()) return f32x4.mul(x, f32x4.max(zero, f32x4.min(one, madd(x, splat(1.0 / 6.0), splat(0.5)))));
    if (is<Op, Elu>()) return sel(f32x4.mul(a, vexpm1(x)), x, f32x4.lt(x, zero));
    // 0.5 x erfc(-x/sqrt2): the erfc form keeps relative accuracy where erf is close to -1.
    if (is<Op, Gelu>()) return f32x4.mul(f32x4.mul(splat(0.5), x), verfc(f32x4.neg(f32x4.mul(x, splat(0.7071067811865476)))));
    // 0.5 (1 + tanh(u)) = sigmoid(2u): stable for very negative x.
    if (is<Op, GeluTanh>()) {
      const u = f32x4.mul(splat(0.7978845608028654), madd(f32x4.mul(splat(0.044715), f32x4.mul(x, x)), x, x));
      return f32x4.mul(x, vsigmoid(f32x4.add(u, u)));
    }
    if (is<Op, Erf>()) return verf(x);
    if (is<Op, Softplus>()) {
      // max(x, 0) + log1p(e^{-|x|}): never exponentiates a large positive number.
      const l = vlog1pPos(vexp(f32x4.neg(f32x4.abs(x))));
      return f32x4.add(f32x4.pmax(x, zero), l);
    }
    if (is<Op, Swish>()) return f32x4.mul(x, vsigmoid(f32x4.mul(a, x)));
    if (is<Op, Copy>()) return x;
    if (is<Op, Affine>()) return madd(x, a, b);
    if (is<Op, Floor>()) return f32x4.floor(x);
    if (is<Op, Ceil>()) return f32x4.ceil(x);
    if (is<Op, Round>()) return f32x4.nearest(x);
    if (is<Op, Softsign>()) return f32x4.div(x, f32x4.add(one, f32x4.abs(x)));
    if (is<Op, Selu>()) return f32x4.mul(b, sel(f32x4.mul(a, vexpm1(x)), x, f32x4.le(x, zero)));
    if (is<Op, Celu>()) {
      const neg = f32x4.mul(a, vexpm1(f32x4.div(x, a)));
      return f32x4.add(f32x4.max(zero, x), f32x4.min(zero, neg));
    }
    if (is<Op, ThresholdedRelu>()) return v128.and(x, f32x4.gt(x, a));
    if (is<Op, Mish>()) {
      const sp = f32x4.add(f32x4.pmax(x, zero), vlog1pPos(vexp(f32x4.neg(f32x4.abs(x)))));
      return f32x4.mul(x, vtanh(sp));
    }
    if (is<Op, Square>()) return f32x4.mul(x, x);
    if (is<Op, Cube>()) return f32x4.mul(f32x4.mul(x, x), x);
    if (is<Op, PowHalf>()) {
      const r = f32x4.add(f32x4.sqrt(x), zero); // -0 + 0 = +0
      return sel(splat(Infinity), r, f32x4.eq(x, splat(-Infinity)));
    }
    if (is<Op, One>()) return one;
    return x;
  }
}

/** unaryVec out of line: the remainder paths run it at most 3 + 1 times per call, not worth a copy. */
function unaryVecOnce<Op>(x: v128, a: v128, b: v128): v128 {
  return unaryVec<Op>(x, a, b);
}

/** Up to 3 trailing elements through the same vector code, so tails round like the body. */
@inline function unaryTail<Op>(x: usize, y: usize, r: i32, a: v128, b: v128): void {
  let v = splat(0.0);
  v = v128.load_lane<u32>(x, v, 0);
  if (r > 1) v = v128.load_lane<u32>(x + 4, v, 1);
  if (r > 2) v = v128.load_lane<u32>(x + 8, v, 2);
  const o = unaryVecOnce<Op>(v, a, b);
  v128.store_lane<u32>(y, o, 0);
  if (r > 1) v128.store_lane<u32>(y + 4, o, 1);
  if (r > 2) v128.store_lane<u32>(y + 8, o, 2);
}

function unaryLoop<Op>(x: usize, y: usize, n: i32, alpha: f32, beta: f32): void {
  const a = splat(alpha);
  const b = splat(beta);
  let i = 0;
  // Four independent vectors per iteration: measured 15-30% faster than two on the exp-based ops.
  for (; i + 16 <= n; i += 16) {
    const p = <usize>i << 2;
    const v0 = v128.load(x + p);
    const v1 = v128.load(x + p, 16);
    const v2 = v128.load(x + p, 32);
    const v3 = v128.load(x + p, 48);
    v128.store(y + p, unaryVec<Op>(v0, a, b));
    v128.store(y + p, unaryVec<Op>(v1, a, b), 16);
    v128.store(y + p, unaryVec<Op>(v2, a, b), 32);
    v128.store(y + p, unaryVec<Op>(v3, a, b), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const p = <usize>i << 2;
    v128.store(y + p, unaryVecOnce<Op>(v128.load(x + p), a, b));
  }
  if (i < n) unaryTail<Op>(x + (<usize>i << 2), y + (<usize>i << 2), n - i, a, b);
}

/**
 * y[i] = op(x[i]) for i < n; x may equal y; a sub-range is the same call on offset pointers.
 * op: 0 Relu, 1 LeakyRelu, 2 Sigmoid, 3 Tanh, 4 Exp, 5 Log, 6 Sqrt, 7 Abs, 8 Neg, 9 Reciprocal,
 * 10 Clip, 11 HardSigmoid, 12 HardSwish, 13 Elu, 14 Gelu, 15 GeluTanh, 16 Erf, 17 Softplus,
 * 18 Swish, 19 Copy, 20 Affine, 21 Floor, 22 Ceil, 23 Round, 24 Softsign, 25 Selu, 26 Celu,
 * 27 ThresholdedRelu, 28 Mish, 29 Square, 30 Cube, 31 PowHalf, 32 One.
 */
export function unaryF32(op: i32, x: usize, y: usize, n: i32, alpha: f32, beta: f32): void {
  switch (op) {
    case 0: unaryLoop<Relu>(x, y, n, alpha, beta); break;
    case 1: unaryLoop<LeakyRelu>(x, y, n, alpha, beta); break;
    case 2: unaryLoop<Sigmoid>(x, y, n, alpha, beta); break;
    case 3: unaryLoop<Tanh>(x, y, n, alpha, beta); break;
    case 4: unaryLoop<Exp>(x, y, n, alpha, beta); break;
    case 5: unaryLoop<Log>(x, y, n, alpha, beta); break;
    case 6: unaryLoop<Sqrt>(x, y, n, alpha, beta); break;
    case 7: unaryLoop<Abs>(x, y, n, alpha, beta); break;
    case 8: unaryLoop<Neg>(x, y, n, alpha, beta); break;
    case 9: unaryLoop<Reciprocal>(x, y, n, alpha, beta); break;
    case 10: unaryLoop<Clip>(x, y, n, alpha, beta); break;
    case 11: unaryLoop<HardSigmoid>(x, y, n, alpha, beta); break;
    case 12: unaryLoop<HardSwish>(x, y, n, alpha, beta); break;
    case 13: unaryLoop<Elu>(x, y, n, alpha, beta); break;
    case 14: unaryLoop<Gelu>(x, y, n, alpha, beta); break;
    case 15: unaryLoop<GeluTanh>(x, y, n, alpha, beta); break;
    case 16: unaryLoop<Erf>(x, y, n, alpha, beta); break;
    case 17: unaryLoop<Softplus>(x, y, n, alpha, beta); break;
    case 18: unaryLoop<Swish>(x, y, n, alpha, beta); break;
    case 19: memory.copy(y, x, <usize>n << 2); break;
    case 20: unaryLoop<Affine>(x, y, n, alpha, beta); break;
    case 21: unaryLoop<Floor>(x, y, n, alpha, beta); break;
    case 22: unaryLoop<Ceil>(x, y, n, alpha, beta); break;
    case 23: unaryLoop<Round>(x, y, n, alpha, beta); break;
    case 24: unaryLoop<Softsign>(x, y, n, alpha, beta); break;
    case 25: unaryLoop<Selu>(x, y, n, alpha, beta); break;
    case 26: unaryLoop<Celu>(x, y, n, alpha, beta); break;
    case 27: unaryLoop<ThresholdedRelu>(x, y, n, alpha, beta); break;
    case 28: unaryLoop<Mish>(x, y, n, alpha, beta); break;
    case 29: unaryLoop<Square>(x, y, n, alpha, beta); break;
    case 30: unaryLoop<Cube>(x, y, n, alpha, beta); break;
    case 31: unaryLoop<PowHalf>(x, y, n, alpha, beta); break;
    case 32: unaryLoop<One>(x, y, n, alpha, beta); break;
    default: unreachable();
  }
}

// ---- binary -----------------------------------------------------------------------------------

class Add {}
class Sub {}
class Mul {}
class Div {}
class Max {}
class Min {}
class PRelu {} // a < 0 ? a * b : a
class Pow {} // C pow in float64, rounded once (no vector form)

/**
 * C pow (what onnxruntime's std::pow and the reference's powC compute). AssemblyScript's
 * Math.pow follows JavaScript instead, where 1^NaN, 1^±inf and (-1)^±inf are NaN; C gives 1
 * (x^0 = 1 for every x, NaN included, holds in both).
 */
@inline function powC(x: f64, y: f64): f64 {
  if (x == 1.0 || (x == -1.0 && !isFinite(y) && !isNaN(y))) return 1.0;
  return Math.pow(x, y);
}

@inline function binaryVec<Op>(a: v128, b: v128): v128 {
  if (is<Op, Add>()) return f32x4.add(a, b);
  if (is<Op, Sub>()) return f32x4.sub(a, b);
  if (is<Op, Mul>()) return f32x4.mul(a, b);
  if (is<Op, Div>()) return f32x4.div(a, b);
  // f32x4.max/min propagate NaN like the reference (numpy maximum/minimum).
  if (is<Op, Max>()) return f32x4.max(a, b);
  if (is<Op, Min>()) return f32x4.min(a, b);
  if (is<Op, PRelu>()) return v128.bitselect(f32x4.mul(a, b), a, f32x4.lt(a, splat(0.0)));
  return a;
}

/**
 * One row of n outputs; sa/sb are 0 (broadcast scalar) or 1 (contiguous). The four stride
 * combinations each get a branch-free loop.
 */
@inline function binaryRow<Op>(a: usize, b: usize, y: usize, n: i32, sa: i32, sb: i32): void {
  let i = 0;
  if (is<Op, Pow>()) {
    for (; i < n; i++) {
      const va = <f64>load<f32>(a + (<usize>(i * sa) << 2));
      const vb = <f64>load<f32>(b + (<usize>(i * sb) << 2));
      store<f32>(y + (<usize>i << 2), <f32>powC(va, vb));
    }
    return;
  }
  if (sa == 1 && sb == 1) {
    for (; i + 8 <= n; i += 8) {
      const p = <usize>i << 2;
      v128.store(y + p, binaryVec<Op>(v128.load(a + p), v128.load(b + p)));
      v128.store(y + p, binaryVec<Op>(v128.load(a + p, 16), v128.load(b + p, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const p = <usize>i << 2;
      v128.store(y + p, binaryVec<Op>(v128.load(a + p), v128.load(b + p)));
    }
  } else if (sa == 1) {
    const vb = v128.load32_splat(b);
    for (; i + 8 <= n; i += 8) {
      const p = <usize>i << 2;
      v128.store(y + p, binaryVec<Op>(v128.load(a + p), vb));
      v128.store(y + p, binaryVec<Op>(v128.load(a + p, 16), vb), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const p = <usize>i << 2;
      v128.store(y + p, binaryVec<Op>(v128.load(a + p), vb));
    }
  } else if (sb == 1) {
    const va = v128.load32_splat(a);
    for (; i + 8 <= n; i += 8) {
      const p = <usize>i << 2;
      v128.store(y + p, binaryVec<Op>(va, v128.load(b + p)));
      v128.store(y + p, binaryVec<Op>(va, v128.load(b + p, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const p = <usize>i << 2;
      v128.store(y + p, binaryVec<Op>(va, v128.load(b + p)));
    }
  } else {
    const v = binaryVec<Op>(v128.load32_splat(a), v128.load32_splat(b));
    for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), v);
  }
  // Tail through the vector op on single lanes so rounding matches the body.
  for (; i < n; i++) {
    const va = v128.load32_zero(a + (<usize>(i * sa) << 2));
    const vb = v128.load32_zero(b + (<usize>(i * sb) << 2));
    v128.store_lane<u32>(y + (<usize>i << 2), binaryVec<Op>(va, vb), 0);
  }
}

function binaryRows<Op>(a: usize, b: usize, y: usize, desc: usize, o0: i32, o1: i32): void {
  const rank = descRank(desc);
  const n = descDim(desc, rank - 1);
  const sa = descStride(desc, rank, 0, rank - 1);
  const sb = descStride(desc, rank, 1, rank - 1);
  if (rank == 1) {
    if (o0 < o1) binaryRow<Op>(a, b, y, n, sa, sb);
    return;
  }
  const rows = descDim(desc, rank - 2);
  const ra = descStride(desc, rank, 0, rank - 2);
  const rb = descStride(desc, rank, 1, rank - 2);
  let o = o0;
  while (o < o1) {
    const q = o / rows;
    let j = o % rows;
    let offA = descOuterOffset(desc, rank, 0, q) + j * ra;
    let offB = descOuterOffset(desc, rank, 1, q) + j * rb;
    for (; j < rows && o < o1; j++, o++) {
      binaryRow<Op>(a + (<usize>offA << 2), b + (<usize>offB << 2), y + (<usize>(o * n) << 2), n, sa, sb);
      offA += ra;
      offB += rb;
    }
  }
}

/**
 * y = op(a, b) broadcast per `desc` (2 operands), rows [o0, o1). y may equal a or b when their
 * shapes match y's. op: 0 Add, 1 Sub, 2 Mul, 3 Div, 4 Max, 5 Min, 6 PRelu, 7 Pow.
 */
export function binaryF32(op: i32, a: usize, b: usize, y: usize, desc: usize, o0: i32, o1: i32): void {
  switch (op) {
    case 0: binaryRows<Add>(a, b, y, desc, o0, o1); break;
    case 1: binaryRows<Sub>(a, b, y, desc, o0, o1); break;
    case 2: binaryRows<Mul>(a, b, y, desc, o0, o1); break;
    case 3: binaryRows<Div>(a, b, y, desc, o0, o1); break;
    case 4: binaryRows<Max>(a, b, y, desc, o0, o1); break;
    case 5: binaryRows<Min>(a, b, y, desc, o0, o1); break;
    case 6: binaryRows<PRelu>(a, b, y, desc, o0, o1); break;
    case 7: binaryRows<Pow>(a, b, y, desc, o0, o1); break;
    default: unreachable();
  }
}

// ---- comparisons (bool out) -------------------------------------------------------------------

class Equal {}
class Greater {}
class Less {}
class GreaterOrEqual {}
class LessOrEqual {}

@inline function compareVec<Op>(a: v128, b: v128): v128 {
  if (is<Op, Equal>()) return f32x4.eq(a, b);
  if (is<Op, Greater>()) return f32x4.gt(a, b);
  if (is<Op, Less>()) return f32x4.lt(a, b);
  if (is<Op, GreaterOrEqual>()) return f32x4.ge(a, b);
  return f32x4.le(a, b);
}

@inline function loadOrSplat(p: usize, s: i32, off: usize): v128 {
  return s ? v128.load(p + off) : v128.load32_splat(p);
}

@inline function compareRow<Op>(a: usize, b: usize, y: usize, n: i32, sa: i32, sb: i32): void {
  let i = 0;
  // 16 lanes of masks narrowed to bytes, then masked to 0/1.
  for (; i + 16 <= n; i += 16) {
    const p = <usize>i << 2;
    const m0 = compareVec<Op>(loadOrSplat(a, sa, p), loadOrSplat(b, sb, p));
    const m1 = compareVec<Op>(loadOrSplat(a, sa, p + 16), loadOrSplat(b, sb, p + 16));
    const m2 = compareVec<Op>(loadOrSplat(a, sa, p + 32), loadOrSplat(b, sb, p + 32));
    const m3 = compareVec<Op>(loadOrSplat(a, sa, p + 48), loadOrSplat(b, sb, p + 48));
    const lo = i16x8.narrow_i32x4_s(m0, m1);
    const hi = i16x8.narrow_i32x4_s(m2, m3);
    // Masks are -1/0: negating the bytes gives 1/0 without a constant.
    v128.store(y + <usize>i, i8x16.neg(i8x16.narrow_i16x8_s(lo, hi)));
  }
  for (; i < n; i++) {
    const va = v128.load32_zero(a + (<usize>(i * sa) << 2));
    const vb = v128.load32_zero(b + (<usize>(i * sb) << 2));
    store<u8>(y + <usize>i, <u8>(i32x4.extract_lane(compareVec<Op>(va, vb), 0) & 1));
  }
}

function compareRows<Op>(a: usize, b: usize, y: usize, desc: usize, o0: i32, o1: i32): void {
  const rank = descRank(desc);
  const n = descDim(desc, rank - 1);
  const sa = descStride(desc, rank, 0, rank - 1);
  const sb = descStride(desc, rank, 1, rank - 1);
  if (rank == 1) {
    if (o0 < o1) compareRow<Op>(a, b, y, n, sa, sb);
    return;
  }
  const rows = descDim(desc, rank - 2);
  const ra = descStride(desc, rank, 0, rank - 2);
  const rb = descStride(desc, rank, 1, rank - 2);
  let o = o0;
  while (o < o1) {
    const q = o / rows;
    let j = o % rows;
    let offA = descOuterOffset(desc, rank, 0, q) + j * ra;
    let offB = descOuterOffset(desc, rank, 1, q) + j * rb;
    for (; j < rows && o < o1; j++, o++) {
      compareRow<Op>(a + (<usize>offA << 2), b + (<usize>offB << 2), y + <usize>(o * n), n, sa, sb);
      offA += ra;
      offB += rb;
    }
  }
}

/**
 * y (bool bytes) = a op b broadcast per `desc`, rows [o0, o1).
 * op: 0 Equal, 1 Greater, 2 Less, 3 GreaterOrEqual, 4 LessOrEqual.
 */
export function compareF32(op: i32, a: usize, b: usize, y: usize, desc: usize, o0: i32, o1: i32): void {
  switch (op) {
    case 0: compareRows<Equal>(a, b, y, desc, o0, o1); break;
    case 1: compareRows<Greater>(a, b, y, desc, o0, o1); break;
    case 2: compareRows<Less>(a, b, y, desc, o0, o1); break;
    case 3: compareRows<GreaterOrEqual>(a, b, y, desc, o0, o1); break;
    case 4: compareRows<LessOrEqual>(a, b, y, desc, o0, o1); break;
    default: unreachable();
  }
}

// ---- Where ------------------------------------------------------------------------------------

function whereRows<T>(c: usize, x: usize, y: usize, out: usize, desc: usize, o0: i32, o1: i32): void {
  const size = <usize>sizeof<T>();
  const rank = descRank(desc);
  const n = descDim(desc, rank - 1);
  const sc = descStride(desc, rank, 0, rank - 1);
  const sx = descStride(desc, rank, 1, rank - 1);
  const sy = descStride(desc, rank, 2, rank - 1);
  const rows = rank > 1 ? descDim(desc, rank - 2) : 1;
  const rc = rank > 1 ? descStride(desc, rank, 0, rank - 2) : 0;
  const rx = rank > 1 ? descStride(desc, rank, 1, rank - 2) : 0;
  const ry = rank > 1 ? descStride(desc, rank, 2, rank - 2) : 0;
  let o = o0;
  while (o < o1) {
    const q = o / rows;
    let j = o % rows;
    let offC = (rank > 1 ? descOuterOffset(desc, rank, 0, q) : 0) + j * rc;
    let offX = (rank > 1 ? descOuterOffset(desc, rank, 1, q) : 0) + j * rx;
    let offY = (rank > 1 ? descOuterOffset(desc, rank, 2, q) : 0) + j * ry;
    for (; j < rows && o < o1; j++, o++) {
      const pc = c + <usize>offC;
      const px = x + <usize>offX * size;
      const py = y + <usize>offY * size;
      const po = out + <usize>(o * n) * size;
      let i = 0;
      if (sizeof<T>() == 4) {
        // 4 lanes at a time: cond bytes widened to lane masks, then a bitselect (no branches).
        for (; i + 4 <= n; i += 4) {
          const cb = sc ? i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(pc + <usize>i))) : i32x4.splat(load<u8>(pc));
          const vx = sx ? v128.load(px + (<usize>i << 2)) : v128.load32_splat(px);
          const vy = sy ? v128.load(py + (<usize>i << 2)) : v128.load32_splat(py);
          v128.store(po + (<usize>i << 2), v128.bitselect(vy, vx, i32x4.eq(cb, i32x4.splat(0))));
        }
      }
      for (; i < n; i++) {
        const take = load<u8>(pc + <usize>(i * sc)) != 0;
        const v = take ? load<T>(px + <usize>(i * sx) * size) : load<T>(py + <usize>(i * sy) * size);
        store<T>(po + <usize>i * size, v);
      }
      offC += rc;
      offX += rx;
      offY += ry;
    }
  }
}

/** out = c ? x : y for elements of `elemSize` bytes (1, 2, 4 or 8), bit for bit; desc has 3 operands. */
export function whereSelect(elemSize: i32, c: usize, x: usize, y: usize, out: usize, desc: usize, o0: i32, o1: i32): void {
  switch (elemSize) {
    case 1: whereRows<u8>(c, x, y, out, desc, o0, o1); break;
    case 2: whereRows<u16>(c, x, y, out, desc, o0, o1); break;
    case 4: whereRows<u32>(c, x, y, out, desc, o0, o1); break;
    case 8: whereRows<u64>(c, x, y, out, desc, o0, o1); break;
    default: unreachable();
  }
}
