// Broadcasting binary ops on integers and bools, over the same stride descriptors as the f32
// kernels (assembly/strided.ts): int32/int64/int8/uint8 arithmetic (wrapping like the reference's
// typed-array stores), Mod, Max/Min, bitwise ops, comparisons of integers and bools, logical ops.
// Exported graphs do their shape arithmetic and masks in int64 and bool; scalar loops are enough.
import { descDim, descOuterOffset, descRank, descStride } from './strided';

class Add {}
class Sub {}
class Mul {}
class Div {} // truncates; x / -1 is a wrapping negation (div_s would trap on MIN / -1)
class ModFloor {} // sign of the divisor (numpy.mod)
class ModTrunc {} // sign of the dividend (C fmod)
class Max {}
class Min {}
class BitAnd {}
class BitOr {}
class BitXor {}
// Predicates write one bool byte per element.
class Equal {}
class Greater {}
class Less {}
class GreaterOrEqual {}
class LessOrEqual {}
class And {}
class Or {}
class Xor {}

/** True when the op marker is K (folded at compile time). */
@inline function isOp<Op, K>(): bool {
  return idof<Op>() == idof<K>();
}

@inline function isPredicate<Op>(): bool {
  return isOp<Op, Equal>() || isOp<Op, Greater>() || isOp<Op, Less>() || isOp<Op, GreaterOrEqual>() || isOp<Op, LessOrEqual>()
    || isOp<Op, And>() || isOp<Op, Or>() || isOp<Op, Xor>();
}

@inline function divides<Op>(): bool {
  return isOp<Op, Div>() || isOp<Op, ModFloor>() || isOp<Op, ModTrunc>();
}

@inline function arith<T, Op>(x: T, y: T): T {
  if (isOp<Op, Add>()) return x + y;
  if (isOp<Op, Sub>()) return x - y;
  if (isOp<Op, Mul>()) return x * y;
  // Signed types only: for u8, <T>-1 is 255, an ordinary divisor.
  if (isOp<Op, Div>()) return isSigned<T>() && y == <T>-1 ? <T>0 - x : x / y;
  if (isOp<Op, ModTrunc>()) return isSigned<T>() && y == <T>-1 ? <T>0 : x % y;
  if (isOp<Op, ModFloor>()) {
    const r: T = isSigned<T>() && y == <T>-1 ? <T>0 : x % y;
    return r != <T>0 && (r < <T>0) != (y < <T>0) ? r + y : r;
  }
  if (isOp<Op, Max>()) return x > y ? x : y;
  if (isOp<Op, Min>()) return x < y ? x : y;
  if (isOp<Op, BitAnd>()) return x & y;
  if (isOp<Op, BitOr>()) return x | y;
  return x ^ y;
}

@inline function predicate<T, Op>(x: T, y: T): u8 {
  if (isOp<Op, Equal>()) return <u8>(x == y);
  if (isOp<Op, Greater>()) return <u8>(x > y);
  if (isOp<Op, Less>()) return <u8>(x < y);
  if (isOp<Op, GreaterOrEqual>()) return <u8>(x >= y);
  if (isOp<Op, LessOrEqual>()) return <u8>(x <= y);
  if (isOp<Op, And>()) return <u8>(x != <T>0 && y != <T>0);
  if (isOp<Op, Or>()) return <u8>(x != <T>0 || y != <T>0);
  return <u8>((x != <T>0) != (y != <T>0));
}

/** One row of n outputs (sa/sb: element strides, 0 or 1). Returns 1 + i of a zero divisor, else 0. */
@inline function intRow<T, Op>(a: usize, b: usize, y: usize, n: i32, sa: i32, sb: i32): i32 {
  const size = <usize>sizeof<T>();
  for (let i = 0; i < n; i++) {
    const va = load<T>(a + <usize>(i * sa) * size);
    const vb = load<T>(b + <usize>(i * sb) * size);
    if (isPredicate<Op>()) {
      store<u8>(y + <usize>i, predicate<T, Op>(va, vb));
    } else {
      if (divides<Op>() && vb == <T>0) return i + 1;
      store<T>(y + <usize>i * size, arith<T, Op>(va, vb));
    }
  }
  return 0;
}

/** Rows [o0, o1) of a 2-operand descriptor; returns 1 + the flat output index of a zero divisor, else 0. */
function intRows<T, Op>(a: usize, b: usize, y: usize, desc: usize, o0: i32, o1: i32): i32 {
  const size = <usize>sizeof<T>();
  const outSize: usize = isPredicate<Op>() ? 1 : size;
  const rank = descRank(desc);
  const n = descDim(desc, rank - 1);
  const sa = descStride(desc, rank, 0, rank - 1);
  const sb = descStride(desc, rank, 1, rank - 1);
  if (rank == 1) {
    if (o0 >= o1) return 0;
    const bad = intRow<T, Op>(a, b, y, n, sa, sb);
    return bad;
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
      const bad = intRow<T, Op>(a + <usize>offA * size, b + <usize>offB * size, y + <usize>(o * n) * outSize, n, sa, sb);
      if (bad) return o * n + bad;
      offA += ra;
      offB += rb;
    }
  }
  return 0;
}

function byOp<T>(op: i32, a: usize, b: usize, y: usize, desc: usize, o0: i32, o1: i32): i32 {
  switch (op) {
    case 0: return intRows<T, Add>(a, b, y, desc, o0, o1);
    case 1: return intRows<T, Sub>(a, b, y, desc, o0, o1);
    case 2: return intRows<T, Mul>(a, b, y, desc, o0, o1);
    case 3: return intRows<T, Div>(a, b, y, desc, o0, o1);
    case 4: return intRows<T, ModFloor>(a, b, y, desc, o0, o1);
    case 5: return intRows<T, ModTrunc>(a, b, y, desc, o0, o1);
    case 6: return intRows<T, Max>(a, b, y, desc, o0, o1);
    case 7: return intRows<T, Min>(a, b, y, desc, o0, o1);
    case 8: return intRows<T, BitAnd>(a, b, y, desc, o0, o1);
    case 9: return intRows<T, BitOr>(a, b, y, desc, o0, o1);
    case 10: return intRows<T, BitXor>(a, b, y, desc, o0, o1);
    case 11: return intRows<T, Equal>(a, b, y, desc, o0, o1);
    case 12: return intRows<T, Greater>(a, b, y, desc, o0, o1);
    case 13: return intRows<T, Less>(a, b, y, desc, o0, o1);
    case 14: return intRows<T, GreaterOrEqual>(a, b, y, desc, o0, o1);
    case 15: return intRows<T, LessOrEqual>(a, b, y, desc, o0, o1);
    case 16: return intRows<T, And>(a, b, y, desc, o0, o1);
    case 17: return intRows<T, Or>(a, b, y, desc, o0, o1);
    case 18: return intRows<T, Xor>(a, b, y, desc, o0, o1);
    default: unreachable();
  }
  return 0;
}

/**
 * y = op(a, b) broadcast per `desc` (2 operands), rows [o0, o1), for elements of kind `kind`
 * (0 int32, 1 int64, 2 uint8/bool, 3 int8). Ops 0-10 write the input type (0 Add, 1 Sub, 2 Mul,
 * 3 Div, 4 Mod, 5 Mod fmod=1, 6 Max, 7 Min, 8-10 bitwise And/Or/Xor); ops 11-18 write bool bytes
 * (Equal, Greater, Less, GreaterOrEqual, LessOrEqual, And, Or, Xor). Returns 0, or 1 + the flat
 * index of the first zero divisor (the output is then incomplete and the caller reports it).
 */
export function binaryInt(kind: i32, op: i32, a: usize, b: usize, y: usize, desc: usize, o0: i32, o1: i32): i32 {
  switch (kind) {
    case 0: return byOp<i32>(op, a, b, y, desc, o0, o1);
    case 1: return byOp<i64>(op, a, b, y, desc, o0, o1);
    case 2: return byOp<u8>(op, a, b, y, desc, o0, o1);
    case 3: return byOp<i8>(op, a, b, y, desc, o0, o1);
    default: unreachable();
  }
  return 0;
}

/** y = !x over n bool bytes. */
export function notBool(x: usize, y: usize, n: i32): void {
  let i = 0;
  const one = i8x16.splat(1);
  for (; i + 16 <= n; i += 16) v128.store(y + <usize>i, v128.and(i8x16.eq(v128.load(x + <usize>i), i8x16.splat(0)), one));
  for (; i < n; i++) store<u8>(y + <usize>i, <u8>(load<u8>(x + <usize>i) == 0));
}
