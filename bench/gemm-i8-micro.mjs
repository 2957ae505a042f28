// int8 GEMM micro-benchmark, single thread, both module variants:
//   node --experimental-wasm-relaxed-simd bench/gemm-i8-micro.mjs [filter]
// MatMulInteger-style u8 x s8 -> int32 at n^3: weights (B) packed once, activations (A) packed on
// every call and counted in the time. Path 0 = i16 dot (any build); path 1 = relaxed int8 dot,
// which needs 7-bit weights (the bench draws them in [-64, 63] for that row). Also QLinearMatMul
// (requantized u8 output) and QLinearConv shapes from MobileNetV2 (im2col + pack + GEMM).
// int4 weight-only GEMV (block 32) in both modes ('f32': exact f32 activations, weights dequantized in
// registers; 'q8': activations quantized per block to int8) against Kiln's own f32 GEMV (gemmF32 with
// M = 1, W prepacked), same matrix, same run.
// Reports GOP/s (2*M*N*K / s): median and best of timed rounds, and the median over CPU time, which
// leaves out time this process spent descheduled on a shared machine. Requantized rows use the exact
// rounding of assembly/requant_i8.ts (multiplier block m / p / y_scale per channel).
import { modules, rateTable, timer } from './lib/micro.mjs';

const filter = process.argv[2] ?? '';
const time = timer(80, 15);
const { report, json } = rateTable({ unit: 'GOP/s', nameWidth: 44 });

// Every block is followed by 16 spare bytes.
for (const w of modules({ slack: 16 })) {
  const { variant, ex, alloc, fill, fillBytes, f32, i32, f64, reset } = w;
  const paths = ex.gemmI8HasDotPath() ? [0, 1] : [0];
  // The requantization multiplier block of assembly/requant_i8.ts for `entries` channels: m, then
  // p = x_scale * w_scale, then y_scale, each `entries` float64. Scales of a realistic model (float32,
  // not powers of two) with m close to `approx`, so exact ties are as rare as in a real layer.
  const requantBlock = (entries, approx) => {
    const ptr = alloc(3 * entries * 8);
    const v = f64(ptr, 3 * entries);
    const xs = Math.fround(0.0187), ys = Math.fround(0.0176);
    for (let c = 0; c < entries; c++) {
      const ws = Math.fround((approx * ys / xs) * (1 + 0.01 * (c % 7)));
      const p = xs * ws;
      v[c] = p / ys; v[entries + c] = p; v[2 * entries + c] = ys;
    }
    return ptr;
  };

  for (const n of [256, 512, 1024]) {
    for (const path of paths) {
      for (const out of ['int32', 'uint8']) {
        const name = `${out === 'int32' ? 'MatMulInteger' : 'QLinearMatMul'} ${n}^3 u8 x s8 path ${path}`;
        if (!name.includes(filter)) continue;
        reset();
        const a = alloc(n * n); fillBytes(a, n * n, 0, 255);
        const b = alloc(n * n);
        if (path === 1) fillBytes(b, n * n, -64, 63); else fillBytes(b, n * n, -128, 127);
        const zpA = alloc(4); i32(zpA, 1)[0] = 128;
        const zpB = alloc(4); i32(zpB, 1)[0] = 0;
        const bp = alloc(ex.gemmI8RhsBytes(n, n, 0));
        if (ex.gemmI8PackRhs(b, n, n, n, 1, zpB, 1, path === 1 ? 2 : 0, bp, 0, n) !== 1) throw new Error('7-bit pack failed');
        const ap = alloc(ex.gemmI8LhsBytes(n, n, path));
        const c = alloc(n * n * 4);
        const mult = requantBlock(1, 1 / 4096);
        const zpY = alloc(4); i32(zpY, 1)[0] = 128;
        const kind = out === 'int32' ? 0 : 1;
        ex.gemmI8SetWeightsOnLhs(0);
        report(variant, name, 2 * n * n * n, time(() => {
          ex.gemmI8PackLhs(a, n, n, n, 0, zpA, 1, path === 1 ? 1 : 0, ap, 0, n);
          ex.gemmI8(ap, bp, n, n, n, path, 0, n, 0, n, c, n, kind, 0, mult, 0, zpY, 0, 1);
        }));
        if (out === 'int32' && n === 1024) {
          report(variant, `  (GEMM only, A prepacked) ${n}^3 path ${path}`, 2 * n * n * n,
            time(() => ex.gemmI8(ap, bp, n, n, n, path, 0, n, 0, n, c, n, 0, 0, mult, 0, zpY, 0, 1)));
        }
      }
    }
  }

  // int4 weight-only GEMV vs Kiln's f32 GEMV over the same N x K matrix (batch 1).
  for (const n of [1024, 4096]) {
    const name = `GEMV ${n}x${n}`;
    if (!`${name} int4 f32 q8`.includes(filter)) continue;
    reset();
    const x = alloc(n * 4);
    fill(x, n);
    const y = alloc(n * 4);
    let f32Time;
    if (typeof ex.gemmF32 === 'function') {
      const wt = alloc(n * n * 4);
      fill(wt, n * n);
      const wp = alloc(ex.gemmF32PackBBytes(n, n));
      ex.gemmF32PackB(n, n, wt, n, 1, wp);
      const scratch = alloc(ex.gemmF32ScratchBytes(1, n, n, 0, 1));
      f32Time = time(() => ex.gemmF32(1, n, n, x, n, 0, 0, wp, n, 1, 1, y, n, 0, scratch, 0, 1, 0, n));
      report(variant, `${name} f32 (gemmF32, W prepacked)`, 2 * n * n, f32Time);
      reset();
    }
    const x2 = alloc(n * 4);
    f32(x2, n).set(f32(x, n));
    const y2 = alloc(n * 4);
    const nb = n / 32;
    const q4 = alloc(n * n / 2); fillBytes(q4, n * n / 2, 0, 255);
    const sc = alloc(n * nb * 4);
    { const f = f32(sc, n * nb); for (let i = 0; i < f.length; i++) f[i] = 0.01 + Math.random() * 0.05; }
    for (const [mode, fmt] of [['f32', 0], ['q8', 1]]) {
      const packed = alloc(ex.gemvI4PackedBytes(n, n, fmt));
      ex.gemvI4Pack(q4, n, 1, n, n, sc, nb, 1, 0, fmt, packed);
      const scratch = alloc(fmt === 1 ? ex.gemvI4Q8ScratchBytes(n, 1) : ex.gemvI4F32ScratchBytes(n, 1));
      const t = fmt === 1
        ? time(() => { ex.gemvI4Q8Prepare(x2, n, n, 1, scratch); ex.gemvI4Q8(packed, n, n, scratch, 1, y2, n, 0, n); })
        : time(() => ex.gemvI4F32(packed, n, n, x2, n, 1, y2, n, 0, n, 0, scratch));
      report(variant, `${name} int4 ${mode}${f32Time ? ` (x${(f32Time[2] / t[2]).toFixed(2)} vs f32, cpu)` : ''}`, 2 * n * n, t);
    }
  }

  // QLinearConv as GEMM (MobileNetV2-like pointwise and 3x3 shapes): weights [Cout, K] on the LHS,
  // im2col(x) [K, HW] on the RHS, per-channel requantization to u8.
  const convs = [
    { name: '1x1 conv 96->576 @14x14', C: 96, Co: 576, H: 14, k: 1, s: 1, p: 0 },
    { name: '1x1 conv 32->192 @56x56', C: 32, Co: 192, H: 56, k: 1, s: 1, p: 0 },
    { name: '3x3 conv 3->32 s2 @224x224', C: 3, Co: 32, H: 224, k: 3, s: 2, p: 1 },
    { name: '3x3 conv 64->64 @56x56', C: 64, Co: 64, H: 56, k: 3, s: 1, p: 1 },
  ];
  for (const cv of convs) {
    for (const path of paths) {
      const name = `QLinearConv ${cv.name} path ${path}`;
      if (!name.includes(filter)) continue;
      reset();
      const OH = Math.floor((cv.H + 2 * cv.p - cv.k) / cv.s) + 1;
      const N = OH * OH;
      const K = cv.C * cv.k * cv.k;
      const x = alloc(cv.C * cv.H * cv.H); fillBytes(x, cv.C * cv.H * cv.H, 0, 255);
      const wt = alloc(cv.Co * K);
      if (path === 1) fillBytes(wt, cv.Co * K, -64, 63); else fillBytes(wt, cv.Co * K, -128, 127);
      const zpW = alloc(4); i32(zpW, 1)[0] = 0;
      const zpX = alloc(4); i32(zpX, 1)[0] = 128;
      const wp = alloc(ex.gemmI8LhsBytes(cv.Co, K, 0));
      if (ex.gemmI8PackLhs(wt, K, cv.Co, K, 1, zpW, 1, path === 1 ? 2 : 0, wp, 0, cv.Co) !== 1) throw new Error('7-bit pack failed');
      const direct = cv.k === 1 && cv.s === 1;
      const col = direct ? x : alloc(K * N + 16);
      const rp = alloc(ex.gemmI8RhsBytes(K, N, path));
      const y = alloc(cv.Co * N);
      const mult = requantBlock(cv.Co, 1 / 2048);
      const zpY = alloc(4); i32(zpY, 1)[0] = 128;
      ex.gemmI8SetWeightsOnLhs(1);
      report(variant, name, 2 * cv.Co * N * K, time(() => {
        if (!direct) ex.gemmI8Im2col(x, cv.C, cv.H, cv.H, cv.k, cv.k, cv.s, cv.s, 1, 1, cv.p, cv.p, OH, OH, 128, col, N, 0, K);
        ex.gemmI8PackRhs(col, N, K, N, 0, zpX, 1, path === 1 ? 1 : 0, rp, 0, N);
        ex.gemmI8(wp, rp, cv.Co, N, K, path, 0, cv.Co, 0, N, y, N, 1, 0, mult, cv.Co, zpY, 0, 0);
      }));
    }
  }

  // Direct depthwise 3x3 (MobileNetV2's), per-channel requantization to u8. Ops = 2 * 9 * C * OH * OW.
  const dws = [
    { name: 'dw3x3 32ch @112x112 s1', C: 32, H: 112, s: 1 },
    { name: 'dw3x3 96ch @112x112 s2', C: 96, H: 112, s: 2 },
    { name: 'dw3x3 144ch @56x56 s1', C: 144, H: 56, s: 1 },
    { name: 'dw3x3 576ch @14x14 s1', C: 576, H: 14, s: 1 },
  ];
  for (const d of dws) {
    const name = `QLinearConv ${d.name}`;
    if (!name.includes(filter)) continue;
    reset();
    const OH = Math.floor((d.H + 2 - 3) / d.s) + 1;
    const x = alloc(d.C * d.H * d.H); fillBytes(x, d.C * d.H * d.H, 0, 255);
    const wt = alloc(d.C * 9); fillBytes(wt, d.C * 9, 0, 255);
    const zw = alloc(d.C * 4); i32(zw, d.C).fill(128);
    const mult = requantBlock(d.C, 1 / 512);
    const zpY = alloc(4); i32(zpY, 1)[0] = 128;
    const y = alloc(d.C * OH * OH);
    const scratch = alloc(ex.dwConv3x3I8ScratchBytes(d.H, d.H, 1, 1, 1, 1));
    report(variant, name, 2 * 9 * d.C * OH * OH, time(() => ex.dwConv3x3I8(
      x, d.C, d.H, d.H, 0, 128, wt, 0, zw, d.C, d.s, 1, 1, 1, 1, OH, OH, y, 1, 0, mult, d.C, zpY, scratch, 0, d.C)));
  }
}

json('GEMM_BENCH_JSON');
