// Fused epilogue for the f32 GEMM and conv kernels: out = act(alpha * acc + beta * bias), applied to
// a just-written C region while it is still in L1. The activations are vectorized here (own exp and
// erfc approximations) because Math.* has no SIMD form; accuracy is ~1e-6 relative where it matters.
//
// The epilogue is described by a 32-byte block in linear memory that the JS side writes once per
// compiled node (see EPI_* offsets), so kernels take one pointer instead of eight scalars and every
// worker of a split call reads the same description.

export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_CLIP: i32 = 2;
export const ACT_LEAKY_RELU: i32 = 3;
export const ACT_SIGMOID: i32 = 4;
export const ACT_GELU_ERF: i32 = 5;
export const ACT_GELU_TANH: i32 = 6;

export const BIAS_NONE: i32 = 0;
/** bias[m]: one value per row of C (conv bias when C is [Cout, pixels]). */
export const BIAS_ROW: i32 = 1;
/** bias[n]: one value per column of C (Gemm/MatMul bias of shape [N]). */
export const BIAS_COL: i32 = 2;
/** bias[m * ld + n]: a full matrix (Gemm's C input of shape [M, N], or C itself for C += A*B). */
export const BIAS_FULL: i32 = 3;
/** bias[0] for every element. */
export const BIAS_SCALAR: i32 = 4;

// Byte offsets inside the epilogue block.
const EPI_ACT: usize = 0; // i32
const EPI_P0: usize = 4; // f32: Clip min, LeakyRelu alpha
const EPI_P1: usize = 8; // f32: Clip max
const EPI_ALPHA: usize = 12; // f32
const EPI_BETA: usize = 16; // f32
const EPI_BIAS: usize = 20; // u32 pointer
const EPI_BIAS_MODE: usize = 24; // i32
const EPI_BIAS_LD: usize = 28; // i32, elements, BIAS_FULL only

/** Bytes of one epilogue block. */
export function epilogueF32Bytes(): i32 {
  return 32;
}

/** True when the block asks for nothing (lets the GEMM skip the extra pass over C). */
export function epilogueIsIdentity(epi: usize): bool {
  if (epi == 0) return true;
  return load<i32>(epi, EPI_ACT) == ACT_NONE && load<f32>(epi, EPI_ALPHA) == 1 && load<i32>(epi, EPI_BIAS_MODE) == BIAS_NONE;
}

// ---- vector math --------------------------------------------------------------------------------

/** e^x for x <= 88 (Cephes expf: range reduction by ln2, degree-6 polynomial, exponent bits). */
// @ts-ignore: decorator
@inline
export function expF32x4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.33654)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  // Two-part ln2 keeps r exact enough for the polynomial.
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** 1 / (1 + e^-v) formed from e^-|v| so that neither tail cancels or overflows. */
// @ts-ignore: decorator
@inline
function sigmoidF32x4(v: v128): v128 {
  const e = expF32x4(f32x4.neg(f32x4.abs(v)));
  const s = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), e));
  return v128.bitselect(s, f32x4.mul(e, s), f32x4.ge(v, f32x4.splat(0)));
}

/**
 * erfc(t) for t >= 0 with ~1e-7 relative error everywhere (Numerical Recipes' erfcc Chebyshev fit:
 * erfc(t) = tau * exp(-t^2 + P(tau)), tau = 1 / (1 + t/2)). Relative accuracy in the tail is what makes
 * Gelu exact for very negative inputs, where 1 + erf(x) would cancel.
 */
// @ts-ignore: decorator
@inline
function erfcPosF32x4(t: v128): v128 {
  const tau = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), f32x4.mul(f32x4.splat(0.5), t)));
  let p = f32x4.splat(0.17087277);
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(-0.82215223));
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(1.48851587));
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(-1.13520398));
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(0.27886807));
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(-0.18628806));
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(0.09678418));
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(0.37409196));
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(1.00002368));
  p = f32x4.add(f32x4.mul(p, tau), f32x4.splat(-1.26551223));
  // -t^2 rounded to f32 would cost ~1e-5 relative at t ~ 9; split t = th + tl with th on 12 bits so
  // th^2 is exact and t^2 - th^2 = tl (t + th) is small: e^-t^2 = e^-th^2 * e^-(tl (t + th)).
  const th = v128.and(t, i32x4.splat(0xfffff000));
  const tl = f32x4.sub(t, th);
  const big = expF32x4(f32x4.neg(f32x4.mul(th, th)));
  const small = expF32x4(f32x4.sub(p, f32x4.mul(tl, f32x4.add(t, th))));
  return f32x4.mul(f32x4.mul(tau, small), big);
}

/** x * Phi(x) with Phi from erfc on both sides: 1 - erfc/2 above 0, erfc/2 below. */
// @ts-ignore: decorator
@inline
function geluErfF32x4(x: v128): v128 {
  const half = f32x4.mul(f32x4.splat(0.5), erfcPosF32x4(f32x4.mul(f32x4.abs(x), f32x4.splat(0.70710678118654752))));
  const phi = v128.bitselect(f32x4.sub(f32x4.splat(1.0), half), half, f32x4.ge(x, f32x4.splat(0)));
  return f32x4.mul(x, phi);
}

/** 0.5 x (1 + tanh(u)) == x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3). */
// @ts-ignore: decorator
@inline
function geluTanhF32x4(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const u2 = f32x4.mul(f32x4.splat(1.5957691216057308), f32x4.add(x, f32x4.mul(f32x4.splat(0.044715), x3)));
  return f32x4.mul(x, sigmoidF32x4(u2));
}

// @ts-ignore: decorator
@inline
export function activateF32x4(v: v128, act: i32, p0: v128, p1: v128): v128 {
  switch (act) {
    case ACT_RELU: return f32x4.pmax(v, f32x4.splat(0));
    case ACT_CLIP: return f32x4.pmin(f32x4.pmax(v, p0), p1);
    case ACT_LEAKY_RELU: return v128.bitselect(f32x4.mul(v, p0), v, f32x4.lt(v, f32x4.splat(0)));
    case ACT_SIGMOID: return sigmoidF32x4(v);
    case ACT_GELU_ERF: return geluErfF32x4(v);
    case ACT_GELU_TANH: return geluTanhF32x4(v);
    default: return v;
  }
}

/** Vector activation over n contiguous floats (the same code the epilogue runs; used by tests and elementwise). */
export function epilogueActivateF32(x: usize, y: usize, n: i32, act: i32, p0: f32, p1: f32): void {
  if (x != y) memory.copy(y, x, <usize>n << 2);
  epilogueRegion(act, p0, p1, 1, 0, 0, BIAS_NONE, 0, y, n, 0, 1, 0, n, 0);
}

// ---- region epilogue ----------------------------------------------------------------------------

/**
 * Applies the epilogue at `epi` in place to C[r0..r1) x [c0..c1), where `c` addresses C[0][0] and
 * `ldc` is in elements. Row and column indices are absolute so per-row / per-column bias lines up
 * with any sub-range a worker owns. `biasRow0` shifts the per-row bias index (conv groups).
 */
export function applyEpilogueF32(epi: usize, c: usize, ldc: i32, r0: i32, r1: i32, c0: i32, c1: i32, biasRow0: i32): void {
  if (epi == 0 || r0 >= r1 || c0 >= c1) return;
  const bias = <usize>load<u32>(epi, EPI_BIAS);
  epilogueRegion(
    load<i32>(epi, EPI_ACT), load<f32>(epi, EPI_P0), load<f32>(epi, EPI_P1), load<f32>(epi, EPI_ALPHA), load<f32>(epi, EPI_BETA),
    bias, bias == 0 ? BIAS_NONE : load<i32>(epi, EPI_BIAS_MODE), load<i32>(epi, EPI_BIAS_LD), c, ldc, r0, r1, c0, c1, biasRow0,
  );
}

/** How the GEMM micro-kernel can apply an epilogue in its own store (see epilogueKernelFuse). */
export const FUSE_OFF: i32 = 0;
export const FUSE_ROW: i32 = 1;
export const FUSE_COL: i32 = 2;
export const FUSE_CLAMP: i32 = 3;

/**
 * FUSE_ROW / FUSE_COL / FUSE_CLAMP when the block is "(row, scalar, column or no) bias with
 * alpha = beta = 1, then none, Relu or Clip" (out = clamp(acc + bias, lo, hi)): the micro-kernel
 * does that in registers. FUSE_OFF otherwise (identity, or needs the region pass).
 */
export function epilogueKernelFuse(epi: usize): i32 {
  if (epi == 0 || epilogueIsIdentity(epi)) return FUSE_OFF;
  const act = load<i32>(epi, EPI_ACT);
  if (act != ACT_NONE && act != ACT_RELU && act != ACT_CLIP) return FUSE_OFF;
  if (load<f32>(epi, EPI_ALPHA) != 1) return FUSE_OFF;
  const mode = load<u32>(epi, EPI_BIAS) == 0 ? BIAS_NONE : load<i32>(epi, EPI_BIAS_MODE);
  if (mode == BIAS_NONE) return FUSE_CLAMP;
  if (load<f32>(epi, EPI_BETA) != 1) return FUSE_OFF;
  if (mode == BIAS_ROW || mode == BIAS_SCALAR) return FUSE_ROW;
  if (mode == BIAS_COL) return FUSE_COL;
  return FUSE_OFF;
}

export function epilogueBiasPtr(epi: usize): usize {
  return epi == 0 ? 0 : <usize>load<u32>(epi, EPI_BIAS);
}

export function epilogueBiasIsScalar(epi: usize): bool {
  return epi != 0 && load<i32>(epi, EPI_BIAS_MODE) == BIAS_SCALAR;
}

/** Lower clamp of a none/Relu/Clip activation (-inf when there is none). */
export function epilogueClampLo(epi: usize): f32 {
  const act = epi == 0 ? ACT_NONE : load<i32>(epi, EPI_ACT);
  if (act == ACT_RELU) return 0;
  if (act == ACT_CLIP) return load<f32>(epi, EPI_P0);
  return -Infinity;
}

export function epilogueClampHi(epi: usize): f32 {
  const act = epi == 0 ? ACT_NONE : load<i32>(epi, EPI_ACT);
  if (act == ACT_CLIP) return load<f32>(epi, EPI_P1);
  return Infinity;
}

/**
 * For kernels that fuse the epilogue into their own stores (depthwise conv): true when the block
 * is just "per-row/scalar bias + activation" with alpha == 1, so that out = act(acc + rowBias).
 */
export function epilogueFusable(epi: usize): bool {
  if (epi == 0) return true;
  const mode = load<u32>(epi, EPI_BIAS) == 0 ? BIAS_NONE : load<i32>(epi, EPI_BIAS_MODE);
  return load<f32>(epi, EPI_ALPHA) == 1 && (mode == BIAS_NONE || mode == BIAS_ROW || mode == BIAS_SCALAR);
}

/** beta * bias for row r under a fusable block (0 without bias). */
export function epilogueRowBias(epi: usize, r: i32): f32 {
  if (epi == 0) return 0;
  const bias = <usize>load<u32>(epi, EPI_BIAS);
  if (bias == 0) return 0;
  const mode = load<i32>(epi, EPI_BIAS_MODE);
  if (mode == BIAS_ROW) return load<f32>(epi, EPI_BETA) * load<f32>(bias + (<usize>r << 2));
  if (mode == BIAS_SCALAR) return load<f32>(epi, EPI_BETA) * load<f32>(bias);
  return 0;
}

export function epilogueAct(epi: usize): i32 {
  return epi == 0 ? ACT_NONE : load<i32>(epi, EPI_ACT);
}

export function epilogueP0(epi: usize): f32 {
  return epi == 0 ? 0 : load<f32>(epi, EPI_P0);
}

export function epilogueP1(epi: usize): f32 {
  return epi == 0 ? 0 : load<f32>(epi, EPI_P1);
}

/** True when the epilogue's bias is C itself (C = act(alpha A.B + beta C), in place). */
export function epilogueBiasIsC(epi: usize, c: usize, ldc: i32): bool {
  return epi != 0 && load<i32>(epi, EPI_BIAS_MODE) == BIAS_FULL && <usize>load<u32>(epi, EPI_BIAS) == c && load<i32>(epi, EPI_BIAS_LD) == ldc;
}

/**
 * Prepares an in-place epilogue (bias is C): scales C's region by beta / alpha so the product can be
 * accumulated onto it, and writes to `dst` a copy of the block without bias, which then yields
 * act(alpha (A.B + beta/alpha C)). Returns false when alpha == 0 (C is then already final).
 */
export function epilogueInPlacePrepare(epi: usize, c: usize, ldc: i32, r0: i32, r1: i32, c0: i32, c1: i32, dst: usize): bool {
  const alpha = load<f32>(epi, EPI_ALPHA);
  const beta = load<f32>(epi, EPI_BETA);
  const act = load<i32>(epi, EPI_ACT);
  const p0 = load<f32>(epi, EPI_P0);
  const p1 = load<f32>(epi, EPI_P1);
  if (alpha == 0) {
    epilogueRegion(act, p0, p1, beta, 0, 0, BIAS_NONE, 0, c, ldc, r0, r1, c0, c1, 0);
    return false;
  }
  epilogueRegion(ACT_NONE, 0, 0, beta / alpha, 0, 0, BIAS_NONE, 0, c, ldc, r0, r1, c0, c1, 0);
  memory.copy(dst, epi, 32);
  store<i32>(dst, BIAS_NONE, EPI_BIAS_MODE);
  store<u32>(dst, 0, EPI_BIAS);
  return true;
}

/** The epilogue with explicit parameters (see applyEpilogueF32). */
export function epilogueRegion(
  act: i32, p0: f32, p1: f32, alpha: f32, beta: f32, bias: usize, mode: i32, biasLd: i32,
  c: usize, ldc: i32, r0: i32, r1: i32, c0: i32, c1: i32, biasRow0: i32,
): void {
  if (act == ACT_NONE && alpha == 1 && mode == BIAS_NONE) return;
  // One specialized copy of the row loop per activation: a switch inside the vector loop costs an
  // indirect jump per vector and keeps V8 from holding the constants in registers.
  switch (act) {
    case ACT_RELU: regionLoop(ACT_RELU, p0, p1, alpha, beta, bias, mode, biasLd, c, ldc, r0, r1, c0, c1, biasRow0); break;
    case ACT_CLIP: regionLoop(ACT_CLIP, p0, p1, alpha, beta, bias, mode, biasLd, c, ldc, r0, r1, c0, c1, biasRow0); break;
    case ACT_LEAKY_RELU: regionLoop(ACT_LEAKY_RELU, p0, p1, alpha, beta, bias, mode, biasLd, c, ldc, r0, r1, c0, c1, biasRow0); break;
    case ACT_SIGMOID: regionLoop(ACT_SIGMOID, p0, p1, alpha, beta, bias, mode, biasLd, c, ldc, r0, r1, c0, c1, biasRow0); break;
    case ACT_GELU_ERF: regionLoop(ACT_GELU_ERF, p0, p1, alpha, beta, bias, mode, biasLd, c, ldc, r0, r1, c0, c1, biasRow0); break;
    case ACT_GELU_TANH: regionLoop(ACT_GELU_TANH, p0, p1, alpha, beta, bias, mode, biasLd, c, ldc, r0, r1, c0, c1, biasRow0); break;
    default: regionLoop(ACT_NONE, p0, p1, alpha, beta, bias, mode, biasLd, c, ldc, r0, r1, c0, c1, biasRow0);
  }
}

// @ts-ignore: decorator
@inline
function regionLoop(
  act: i32, p0: f32, p1: f32, alpha: f32, beta: f32, bias: usize, mode: i32, biasLd: i32,
  c: usize, ldc: i32, r0: i32, r1: i32, c0: i32, c1: i32, biasRow0: i32,
): void {
  const vp0 = f32x4.splat(p0);
  const vp1 = f32x4.splat(p1);
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const scaled = alpha != 1;
  const vecBias = mode == BIAS_COL || mode == BIAS_FULL;
  for (let r = r0; r < r1; r++) {
    const row = c + ((<usize>r * <usize>ldc) << 2);
    // Per-row and scalar bias are one broadcast value for the whole row.
    let rowBias = f32x4.splat(0);
    if (mode == BIAS_ROW) rowBias = f32x4.splat(beta * load<f32>(bias + (<usize>(r + biasRow0) << 2)));
    else if (mode == BIAS_SCALAR) rowBias = f32x4.splat(beta * load<f32>(bias));
    const bRow = mode == BIAS_FULL ? bias + ((<usize>r * <usize>biasLd) << 2) : bias;
    let j = c0;
    if (!scaled && !vecBias) {
      // The common conv / bias-free case: out = act(acc + rowBias).
      for (; j + 4 <= c1; j += 4) {
        const p = row + (<usize>j << 2);
        v128.store(p, activateF32x4(f32x4.add(v128.load(p), rowBias), act, vp0, vp1));
      }
    } else {
      for (; j + 4 <= c1; j += 4) {
        const p = row + (<usize>j << 2);
        let v = v128.load(p);
        if (scaled) v = f32x4.mul(v, va);
        if (vecBias) v = f32x4.add(v, f32x4.mul(vb, v128.load(bRow + (<usize>j << 2))));
        else v = f32x4.add(v, rowBias);
        v128.store(p, activateF32x4(v, act, vp0, vp1));
      }
    }
    for (; j < c1; j++) {
      const p = row + (<usize>j << 2);
      let s = load<f32>(p) * alpha;
      if (vecBias) s += beta * load<f32>(bRow + (<usize>j << 2));
      else s += f32x4.extract_lane(rowBias, 0);
      store<f32>(p, f32x4.extract_lane(activateF32x4(f32x4.splat(s), act, vp0, vp1), 0));
    }
  }
}
