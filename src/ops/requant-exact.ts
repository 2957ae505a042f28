// Exact requantization for QLinearConv and QLinearMatMul. The ONNX spec defines the output as
// saturate(round_half_even(real / y_scale) + y_zero_point) with real = acc * x_scale * w_scale,
// computed exactly. A float32 multiplier (onnxruntime) or a float64 one (acc * m rounded twice)
// can land on the wrong side of a .5 when the exact value is within ~1e-7 (float32) or ~1e-13
// (float64) of it, and it cannot see exact ties at all. Here the rounding decision is exact:
//   p = x_scale * w_scale is exact in float64 (two <= 24-bit significands), r = acc * (p / y_scale)
//   picks the candidate k = floor(r), and the sign of acc * p - (k + 0.5) * y_scale, evaluated
//   without error (Dekker's two-product for acc * p; (k + 0.5) * y_scale has <= 46 significant
//   bits), says whether the exact value is below, above or on k + 0.5.
// assembly/requant_i8.ts implements the same decision for the WASM kernels (bit-identical).

/** Beyond this magnitude the result saturates any 8- or 16-bit output, so rounding does not matter. */
export const REQUANT_LIMIT = 2 ** 20;
const SPLITTER = 134217729; // 2^27 + 1 (Veltkamp split of a float64 into two 26-bit halves)

/** The rounding error of hi = a * b (hi + err === a * b exactly, barring overflow and underflow). */
function twoProductError(a: number, b: number, hi: number): number {
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
}

/**
 * round_half_even(acc * p / ys), exact for integer acc (|acc| < 2^53), p = x_scale * w_scale formed
 * in float64 from float32 (or narrower) scales, and ys > 0 a float32 (or narrower) value. `m` is
 * p / ys in float64 (the fast multiplier; it only picks the candidate). Results beyond
 * +-REQUANT_LIMIT are approximate (they saturate). Non-positive or non-finite ys fall back to
 * round_half_even(acc * m).
 */
export function requantizeExact(acc: number, p: number, ys: number, m: number): number {
  const r = acc * m;
  if (!(ys > 0) || !(Math.abs(r) < REQUANT_LIMIT) || !Number.isFinite(ys)) return roundHalfEvenF64(r);
  const k = Math.floor(r);
  const hi = acc * p;
  const d = (hi - (k + 0.5) * ys) + twoProductError(acc, p, hi);
  if (d > 0) return k + 1;
  if (d < 0) return k;
  return k % 2 === 0 ? k : k + 1;
}

/** The requantization parameters of one channel: p = x_scale * w_scale, ys, and m = p / ys. */
export interface RequantScale {
  p: number;
  ys: number;
  m: number;
}

export function requantScale(xScale: number, wScale: number, yScale: number): RequantScale {
  const p = xScale * wScale;
  return { p, ys: yScale, m: p / yScale };
}

/** round half to even of a float64 (NaN stays NaN, infinities stay). */
function roundHalfEvenF64(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
