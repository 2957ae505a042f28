// Exact (BigInt rational) oracles of the ONNX quantization formulas, independent of the code under
// test: every finite float64 is m * 2^e with integer m, so x_scale * w_scale / y_scale and the
// accumulator form an exact fraction, and round half to even is decided on integers.

/** x = mant * 2^exp exactly (x finite). */
function split(x: number): { mant: bigint; exp: number } {
  if (!Number.isFinite(x)) throw new Error(`exact-quant: ${x} is not finite`);
  if (x === 0) return { mant: 0n, exp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  return { mant: sign * mant, exp };
}

/** round_half_even(num / den) for integers, den > 0. */
export function roundHalfEvenFraction(num: bigint, den: bigint): bigint {
  let q = num / den;
  let r = num - q * den;
  if (r < 0n) {
    q -= 1n;
    r += den;
  }
  const twice = 2n * r;
  if (twice > den) return q + 1n;
  if (twice < den) return q;
  return q % 2n === 0n ? q : q + 1n;
}

/** product(factors) / divisor as an exact fraction num / den with den > 0. */
function fraction(factors: readonly number[], divisor: number): { num: bigint; den: bigint } {
  let num = 1n;
  let exp = 0;
  for (const f of factors) {
    const s = split(f);
    num *= s.mant;
    exp += s.exp;
  }
  const d = split(divisor);
  if (d.mant <= 0n) throw new Error('exact-quant: the divisor must be positive');
  let den = d.mant;
  exp -= d.exp;
  if (exp >= 0) num <<= BigInt(exp);
  else den <<= BigInt(-exp);
  return { num, den };
}

/** round_half_even(product(factors) / divisor) exactly; factors may be any finite float64. */
export function exactRoundHalfEven(factors: readonly number[], divisor = 1): number {
  const { num, den } = fraction(factors, divisor);
  return Number(roundHalfEvenFraction(num, den));
}

/** saturate(round_half_even(acc * xScale * wScale / yScale) + yZp) to [lo, hi], exactly. */
export function exactRequant(acc: number, xScale: number, wScale: number, yScale: number, yZp: number, lo: number, hi: number): number {
  const q = exactRoundHalfEven([acc, xScale, wScale], yScale) + yZp;
  return q < lo ? lo : q > hi ? hi : q;
}

/** Whether product(factors) / divisor lies exactly halfway between two integers. */
export function isExactTie(factors: readonly number[], divisor: number): boolean {
  const { num, den } = fraction([...factors, 2], divisor);
  return num % den === 0n && (num / den) % 2n !== 0n;
}
