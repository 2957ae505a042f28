// Cast to and from int64 on the WASM backend, exactly as the reference's BigInt path does, but on
// the two 32-bit halves of each element (no BigInt per element). Exported graphs cast shape
// arithmetic, NonZero/ArgMax indices and token ids between int64 and float32/int32 all the time.
import type { DType } from '../../../tensor/dtype.js';
import type { PreparedKernel } from '../kernel.js';

type Mem = Parameters<PreparedKernel['run']>[0];
type NumberArray = Float32Array | Int32Array | Int8Array | Uint8Array;

const TWO_32 = 2 ** 32;
const TWO_63 = 2 ** 63;

function view(mem: Mem, dtype: DType, ptr: number, n: number): NumberArray {
  switch (dtype) {
    case 'float32': return mem.f32(ptr, n);
    case 'int32': return mem.i32(ptr, n);
    case 'int8': return mem.i8(ptr, n);
    default: return mem.u8(ptr, n);
  }
}

/** Element types the int64 casts read or write besides int64 itself. */
export const INT64_CAST_PEERS: readonly DType[] = ['float32', 'int32', 'int8', 'uint8', 'bool'];

/**
 * int64 -> float32/int32/int8/uint8/bool: integers keep the low bits (two's complement), floats
 * get the value rounded to double (hi * 2^32 + lo is one correctly rounded addition, like
 * Number(bigint)) and then to float32 by the store, as the reference does; bool is "non-zero".
 */
function fromInt64(to: DType, n: number): PreparedKernel {
  return {
    run(mem, [x], [y]) {
      const w = mem.i32(x!.ptr, 2 * n);
      if (to === 'bool') {
        const dst = mem.u8(y!.ptr, n);
        for (let i = 0; i < n; i++) dst[i] = (w[2 * i]! | w[2 * i + 1]!) !== 0 ? 1 : 0;
      } else if (to === 'float32') {
        const dst = mem.f32(y!.ptr, n);
        for (let i = 0; i < n; i++) dst[i] = w[2 * i + 1]! * TWO_32 + (w[2 * i]! >>> 0);
      } else {
        // The low word stored into a 32/8-bit typed array wraps exactly like BigInt.asIntN.
        const dst = view(mem, to, y!.ptr, n);
        for (let i = 0; i < n; i++) dst[i] = w[2 * i]!;
      }
    },
  };
}

/**
 * float32/int32/int8/uint8/bool -> int64: integers sign-extend; floats truncate toward zero and
 * saturate to the int64 range, NaN to 0 (the reference's float-to-int64 rule).
 */
function toInt64(from: DType, n: number): PreparedKernel {
  return {
    run(mem, [x], [y]) {
      const src = view(mem, from, x!.ptr, n);
      const w = mem.i32(y!.ptr, 2 * n);
      if (from !== 'float32') {
        for (let i = 0; i < n; i++) {
          const v = src[i]!;
          w[2 * i] = v;
          w[2 * i + 1] = v < 0 ? -1 : 0;
        }
        return;
      }
      for (let i = 0; i < n; i++) {
        const f = src[i]!;
        let lo: number, hi: number;
        if (f !== f) { lo = 0; hi = 0; }
        else if (f >= TWO_63) { lo = -1; hi = 0x7fffffff; }
        else if (f <= -TWO_63) { lo = 0; hi = -0x80000000; }
        else {
          // |t| < 2^63 is an integer-valued double: both halves split off exactly.
          const t = Math.trunc(f);
          hi = Math.floor(t / TWO_32);
          lo = t - hi * TWO_32;
        }
        w[2 * i] = lo;
        w[2 * i + 1] = hi;
      }
    },
  };
}

/** A cast kernel with int64 on exactly one side, or undefined for other pairs. */
export function castInt64Kernel(from: DType, to: DType, n: number): PreparedKernel | undefined {
  if (from === 'int64' && INT64_CAST_PEERS.includes(to)) return fromInt64(to, n);
  if (to === 'int64' && INT64_CAST_PEERS.includes(from)) return toInt64(from, n);
  return undefined;
}
