// The ONNX low-precision float formats <-> number: float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ,
// E8M0) and float4 (E2M1), following the Cast spec's tables and the onnx reference (ml_dtypes):
// conversions round to nearest even on the exact value; saturate=true clamps overflow and
// infinities to +-max, saturate=false turns them into the format's inf or NaN.
import type { DType } from './dtype.js';

/** A small binary float: its field widths, exponent bias and how it spells NaN and infinity. */
interface MiniFloat {
  exp: number;
  mant: number;
  bias: number;
  /**
   * ieee: all-ones exponent is inf (mantissa 0) or NaN (E5M2).
   * fn: only all-ones exponent and mantissa is NaN, no infinity (E4M3FN).
   * fnuz: the negative-zero pattern is the one NaN, no infinity, no -0 (the FNUZ types).
   * none: every pattern is a finite number (E2M1).
   */
  special: 'ieee' | 'fn' | 'fnuz' | 'none';
}

const FORMATS = {
  float8e4m3fn: { exp: 4, mant: 3, bias: 7, special: 'fn' },
  float8e4m3fnuz: { exp: 4, mant: 3, bias: 8, special: 'fnuz' },
  float8e5m2: { exp: 5, mant: 2, bias: 15, special: 'ieee' },
  float8e5m2fnuz: { exp: 5, mant: 2, bias: 16, special: 'fnuz' },
  float4e2m1: { exp: 2, mant: 1, bias: 1, special: 'none' },
} as const satisfies Record<string, MiniFloat>;

export type MiniFloatDType = keyof typeof FORMATS;

export function isMiniFloatDType(d: DType): d is MiniFloatDType {
  return d in FORMATS;
}

function decodeCode(f: MiniFloat, code: number): number {
  const bits = 1 + f.exp + f.mant;
  const signBit = 1 << (bits - 1);
  const e = (code >> f.mant) & ((1 << f.exp) - 1);
  const m = code & ((1 << f.mant) - 1);
  const sign = code & signBit ? -1 : 1;
  const eMax = (1 << f.exp) - 1;
  if (f.special === 'fnuz' && code === signBit) return NaN;
  if (f.special === 'fn' && e === eMax && m === (1 << f.mant) - 1) return NaN;
  if (f.special === 'ieee' && e === eMax) return m === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * m * 2 ** (1 - f.bias - f.mant);
  return sign * (1 + m / (1 << f.mant)) * 2 ** (e - f.bias);
}

interface Codec {
  f: MiniFloat;
  /** Value of every code. */
  table: Float64Array;
  /** Largest finite value and its code. */
  max: number;
  maxCode: number;
  signBit: number;
}

const codecs = new Map<MiniFloatDType, Codec>();

function codecOf(dtype: MiniFloatDType): Codec {
  let c = codecs.get(dtype);
  if (!c) {
    const f: MiniFloat = FORMATS[dtype];
    const n = 1 << (1 + f.exp + f.mant);
    const table = new Float64Array(n);
    let max = 0;
    let maxCode = 0;
    for (let code = 0; code < n; code++) {
      const v = (table[code] = decodeCode(f, code));
      if (Number.isFinite(v) && v > max) { max = v; maxCode = code; }
    }
    c = { f, table, max, maxCode, signBit: n >> 1 };
    codecs.set(dtype, c);
  }
  return c;
}

/** The value of a float8 / float4 bit pattern. */
export function decodeMiniFloat(dtype: MiniFloatDType, code: number): number {
  return codecOf(dtype).table[code]!;
}

/** The decode table of a format (256 entries for float8, 16 for float4e2m1). */
export function miniFloatTable(dtype: MiniFloatDType): Float64Array {
  return codecOf(dtype).table;
}

/** Round-to-nearest-even encoding of v; see the file comment for saturate. */
export function encodeMiniFloat(dtype: MiniFloatDType, v: number, saturate = true): number {
  const { f, max, maxCode, signBit } = codecOf(dtype);
  const sign = signOf(v) ? signBit : 0;
  // FNUZ has no -0: negative values that round to zero give +0.
  const zero = f.special === 'fnuz' ? 0 : sign;
  if (v !== v) {
    if (f.special === 'fnuz') return signBit;
    // No NaN to give (the spec leaves it undefined): ml_dtypes, the reference, gives a zero of the opposite sign.
    if (f.special === 'none') return sign ^ signBit;
    // ml_dtypes' quiet NaN: all ones for E4M3FN, 0x7E (mantissa 10) for E5M2, with the sign kept.
    return sign | (f.special === 'fn' ? 0x7f : 0x7e);
  }
  const a = Math.abs(v);
  const overflow = (): number => {
    if (saturate || f.special === 'none') return sign | maxCode;
    if (f.special === 'ieee') return sign | (((1 << f.exp) - 1) << f.mant); // infinity
    return f.special === 'fnuz' ? signBit : sign | 0x7f;
  };
  if (a === Infinity) return overflow();
  if (a === 0) return zero;
  // Quantum of a's binade (subnormals share the smallest normal binade's quantum).
  const eMin = 1 - f.bias;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  if (e < eMin) e = eMin;
  const q = 2 ** (e - f.mant);
  let n = roundHalfEven(a / q); // a / q is exact: q is a power of two
  if (n * q > max) return overflow();
  if (n >= 2 << f.mant) { n /= 2; e++; }
  if (n === 0) return zero;
  const field = n < 1 << f.mant ? n : ((e + f.bias) << f.mant) | (n - (1 << f.mant));
  return sign | field;
}

const f64 = new Float64Array(1);
const f64Hi = new Uint32Array(f64.buffer, 4, 1);

/** The sign bit, NaN's included (engines keep it through float32 -> float64 reads). */
function signOf(v: number): boolean {
  f64[0] = v;
  return f64Hi[0]! >>> 31 === 1;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---- E8M0: an unsigned power of two, 2^(code - 127); 0xFF is NaN ----------------------------

export function decodeE8M0(code: number): number {
  return code === 0xff ? NaN : 2 ** (code - 127);
}

export type E8M0Rounding = 'up' | 'down' | 'nearest';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * Encodes the float32 nearest to v as the onnx reference does: the float32 exponent field,
 * rounded by the dropped mantissa bits (up: any fraction; nearest: guard bit with round, sticky or
 * odd result). The sign is ignored (negative inputs are unspecified), NaN and inf give 0xFF, and
 * saturate keeps rounding from carrying 0xFE into 0xFF.
 */
export function encodeE8M0(v: number, saturate = true, round: E8M0Rounding = 'up'): number {
  f32[0] = v;
  const bits = u32[0]!;
  const e = (bits >>> 23) & 0xff;
  if (e === 0xff) return 0xff;
  let up = false;
  if (round === 'up') up = (bits & 0x7fffff) !== 0;
  else if (round === 'nearest') {
    const g = (bits & 0x400000) !== 0;
    const r = (bits & 0x200000) !== 0;
    const s = (bits & 0x1fffff) !== 0;
    up = g && (r || s || e > 0);
  }
  if (up && saturate && e === 0xfe) up = false;
  return up ? e + 1 : e;
}
