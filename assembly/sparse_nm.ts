// 2:4 structured sparse GEMV, y = W x with W [N, K] keeping 2 of every 4 values along K (Kiln's N:M
// layout, src/tensor/sparse-nm.ts, n = 2, m = 4, axis = 1), after a one-time repack:
//   vals:  per pair of groups (8 dense columns), 4 f32: the kept values of group 2i, then of group
//          2i + 1 (zeros pad an odd last group);
//   codes: per pair of groups, u16 = (c0 * 6 + c1) * 16, with c the index of the group's position
//          pair among (0,1) (0,2) (0,3) (1,2) (1,3) (2,3);
//   both ordered chunk-major: K is cut into chunks of 32 pairs (256 columns), and chunk by chunk
//   all rows follow each other (row r of the chunk starting at pair c0 sits at rows * c0 + r * len).
// WASM SIMD has no gather, and fetching x per kept value costs more than the dense multiply it
// saves. Instead, once per call, every possible x quad of a pair of groups is tabulated (36 per 8
// columns, 576 bytes): then 8 dense columns cost one u16 load, one table load, one value load and
// one multiply-add, reading 18 bytes of weights instead of 32.

/** Scratch for gemv24Prepare / gemv24F32: the x table. */
export function gemv24ScratchBytes(K: i32): usize {
  return <usize>((K + 7) >> 3) * 576 + 64;
}

/** Builds the x table for one activation vector x (K floats). */
export function gemv24Prepare(x: usize, K: i32, table: usize): void {
  const kg2 = (K + 7) >> 3;
  for (let i = 0; i < kg2; i++) {
    const k = i << 3;
    let x0: v128, x1: v128;
    if (k + 8 <= K) {
      x0 = v128.load(x + (<usize>k << 2));
      x1 = v128.load(x + (<usize>k << 2), 16);
    } else {
      x0 = f32x4.splat(0);
      x1 = x0;
      if (k < K) x0 = f32x4.replace_lane(x0, 0, load<f32>(x + (<usize>k << 2)));
      if (k + 1 < K) x0 = f32x4.replace_lane(x0, 1, load<f32>(x + (<usize>k << 2), 4));
      if (k + 2 < K) x0 = f32x4.replace_lane(x0, 2, load<f32>(x + (<usize>k << 2), 8));
      if (k + 3 < K) x0 = f32x4.replace_lane(x0, 3, load<f32>(x + (<usize>k << 2), 12));
      if (k + 4 < K) x1 = f32x4.replace_lane(x1, 0, load<f32>(x + (<usize>k << 2), 16));
      if (k + 5 < K) x1 = f32x4.replace_lane(x1, 1, load<f32>(x + (<usize>k << 2), 20));
      if (k + 6 < K) x1 = f32x4.replace_lane(x1, 2, load<f32>(x + (<usize>k << 2), 24));
    }
    const t = table + <usize>i * 576;
    storeRow(t, pairs(x0, 0), x1);
    storeRow(t + 96, pairs(x0, 1), x1);
    storeRow(t + 192, pairs(x0, 2), x1);
    storeRow(t + 288, pairs(x0, 3), x1);
    storeRow(t + 384, pairs(x0, 4), x1);
    storeRow(t + 480, pairs(x0, 5), x1);
  }
}

/** Lanes (x[p0], x[p1]) of pair c, in the low half. */
@inline function pairs(v: v128, c: i32): v128 {
  switch (c) {
    case 0: return i32x4.shuffle(v, v, 0, 1, 0, 1);
    case 1: return i32x4.shuffle(v, v, 0, 2, 0, 2);
    case 2: return i32x4.shuffle(v, v, 0, 3, 0, 3);
    case 3: return i32x4.shuffle(v, v, 1, 2, 1, 2);
    case 4: return i32x4.shuffle(v, v, 1, 3, 1, 3);
    default: return i32x4.shuffle(v, v, 2, 3, 2, 3);
  }
}

/** The 6 entries (c0 fixed, c1 = 0..5): low half from the first group, high half from the second. */
@inline function storeRow(t: usize, lo: v128, x1: v128): void {
  v128.store(t, i32x4.shuffle(lo, x1, 0, 1, 4, 5));
  v128.store(t, i32x4.shuffle(lo, x1, 0, 1, 4, 6), 16);
  v128.store(t, i32x4.shuffle(lo, x1, 0, 1, 4, 7), 32);
  v128.store(t, i32x4.shuffle(lo, x1, 0, 1, 5, 6), 48);
  v128.store(t, i32x4.shuffle(lo, x1, 0, 1, 5, 7), 64);
  v128.store(t, i32x4.shuffle(lo, x1, 0, 1, 6, 7), 80);
}

@inline function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Pairs of groups per K chunk: 32 * 576 bytes of table stay in L1 while every row passes over it. */
export const GEMV24_CHUNK_PAIRS: i32 = 32;
const CHUNK_PAIRS = GEMV24_CHUNK_PAIRS;

/** y[r] for rows [r0, r1) from repacked 2:4 weights and the table built by gemv24Prepare. */
export function gemv24F32(vals: usize, codes: usize, K: i32, rowsTotal: i32, table: usize, y: usize, r0: i32, r1: i32): void {
  const kg2 = (K + 7) >> 3;
  for (let c0 = 0; c0 < kg2; c0 += CHUNK_PAIRS) {
    const c1 = min(c0 + CHUNK_PAIRS, kg2);
    const tc = table + <usize>c0 * 576;
    for (let r = r0; r < r1; r++) {
      // Chunk-major: each chunk pass streams contiguously (row-major would make every row's short
      // run start on a new page, which turns a large matrix into a DRAM-latency-bound walk).
      const row = <usize>rowsTotal * <usize>c0 + <usize>r * <usize>(c1 - c0);
      let vp = vals + (row << 4);
      let cp = codes + (row << 1);
      let t = tc;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let i = c0;
      for (; i + 4 <= c1; i += 4) {
        a0 = fma(v128.load(vp), v128.load(t + <usize>load<u16>(cp)), a0);
        a1 = fma(v128.load(vp, 16), v128.load(t + 576 + <usize>load<u16>(cp, 2)), a1);
        a2 = fma(v128.load(vp, 32), v128.load(t + 1152 + <usize>load<u16>(cp, 4)), a2);
        a3 = fma(v128.load(vp, 48), v128.load(t + 1728 + <usize>load<u16>(cp, 6)), a3);
        vp += 64;
        cp += 8;
        t += 2304;
      }
      for (; i < c1; i++) {
        a0 = fma(v128.load(vp), v128.load(t + <usize>load<u16>(cp)), a0);
        vp += 16;
        cp += 2;
        t += 576;
      }
      const s = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
      const h = f32x4.add(s, i32x4.shuffle(s, s, 2, 3, 0, 1));
      let v = f32x4.extract_lane(h, 0) + f32x4.extract_lane(h, 1);
      const yp = y + (<usize>r << 2);
      if (c0 > 0) v += load<f32>(yp);
      store<f32>(yp, v);
    }
  }
}
