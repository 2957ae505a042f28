// Resize, one axis at a time: data viewed as [outer, inLen, inner] becomes [outer, outLen, inner],
// each output slice a weighted sum of a few input slices. The per-position taps are planned once
// on the JS side (src/ops/layout-resize.ts lowerResize -> src/backends/wasm/ops/resize.ts), so
// this loop is only loads, multiplies and adds; every mode and coordinate transform is in the table.
//
// Table record per output position x, i32 words: [count, off_0 .. off_{n-1}, w_0 .. w_{n-1}] where
// count < 0 marks a position outside the crop (filled with the extrapolation value), off_k is the
// byte offset of tap k's slice inside one outer block and w_k its f32 weight. Taps with weight 0
// are left out (count < n), as the reference skips them (a NaN or infinity there must not leak).
//
// Every element is acc = 0, then acc += w_k * x_k in tap order, with separate multiply and add in
// the vector and the scalar paths alike, so results do not depend on where a thread's rows start.

@inline function tapOffset(rec: usize, k: i32): usize {
  return <usize>load<u32>(rec + (<usize>(1 + k) << 2));
}

@inline function tapWeight(rec: usize, n: i32, k: i32): f32 {
  return load<f32>(rec + (<usize>(1 + n + k) << 2));
}

/** out[0 .. inner) = sum_k w_k * block[off_k + i], vectorized along the slice. */
function mixSlices(block: usize, out: usize, inner: i32, rec: usize, n: i32, count: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  if (count == 1) {
    const s0 = block + tapOffset(rec, 0);
    const w0 = tapWeight(rec, n, 0);
    const v0 = f32x4.splat(w0);
    for (; i + 4 <= inner; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, f32x4.add(zero, f32x4.mul(v0, v128.load(s0 + o))));
    }
    for (; i < inner; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, <f32>0 + w0 * load<f32>(s0 + o));
    }
    return;
  }
  if (count == 2) {
    const s0 = block + tapOffset(rec, 0);
    const s1 = block + tapOffset(rec, 1);
    const w0 = tapWeight(rec, n, 0);
    const w1 = tapWeight(rec, n, 1);
    const v0 = f32x4.splat(w0);
    const v1 = f32x4.splat(w1);
    for (; i + 4 <= inner; i += 4) {
      const o = <usize>i << 2;
      const acc = f32x4.add(zero, f32x4.mul(v0, v128.load(s0 + o)));
      v128.store(out + o, f32x4.add(acc, f32x4.mul(v1, v128.load(s1 + o))));
    }
    for (; i < inner; i++) {
      const o = <usize>i << 2;
      let acc: f32 = <f32>0 + w0 * load<f32>(s0 + o);
      store<f32>(out + o, acc + w1 * load<f32>(s1 + o));
    }
    return;
  }
  for (; i + 4 <= inner; i += 4) {
    const o = <usize>i << 2;
    let acc = zero;
    for (let k = 0; k < count; k++) {
      acc = f32x4.add(acc, f32x4.mul(f32x4.splat(tapWeight(rec, n, k)), v128.load(block + tapOffset(rec, k) + o)));
    }
    v128.store(out + o, acc);
  }
  for (; i < inner; i++) {
    const o = <usize>i << 2;
    let acc: f32 = 0;
    for (let k = 0; k < count; k++) acc += tapWeight(rec, n, k) * load<f32>(block + tapOffset(rec, k) + o);
    store<f32>(out + o, acc);
  }
}

function fillSlice(out: usize, inner: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= inner; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < inner; i++) store<f32>(out + (<usize>i << 2), value);
}

/**
 * One axis of a resample, f32: output rows [r0, r1) of the [outer * outLen] rows of `inner`
 * elements each. `table` holds outLen records of (1 + 2n) words (see above).
 */
export function resizeAxisF32(
  src: usize, dst: usize, inLen: i32, outLen: i32, inner: i32, table: usize, n: i32, extrapolation: f32, r0: i32, r1: i32,
): void {
  if (r0 >= r1) return;
  const recBytes = <usize>(1 + 2 * n) << 2;
  const blockBytes = (<usize>inLen * <usize>inner) << 2;
  const rowBytes = <usize>inner << 2;
  let x = r0 % outLen;
  let block = src + <usize>(r0 / outLen) * blockBytes;
  let out = dst + <usize>r0 * rowBytes;
  for (let r = r0; r < r1; r++) {
    const rec = table + <usize>x * recBytes;
    const count = load<i32>(rec);
    if (count < 0) {
      fillSlice(out, inner, extrapolation);
    } else if (inner == 1) {
      // The last axis: one gathered element per row.
      let acc: f32 = 0;
      for (let k = 0; k < count; k++) acc += tapWeight(rec, n, k) * load<f32>(block + tapOffset(rec, k));
      store<f32>(out, acc);
    } else {
      mixSlices(block, out, inner, rec, n, count);
    }
    out += rowBytes;
    if (++x == outLen) {
      x = 0;
      block += blockBytes;
    }
  }
}
