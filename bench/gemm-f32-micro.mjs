// f32 GEMM / GEMV micro-benchmark, single thread, both module variants:
//   node --experimental-wasm-relaxed-simd bench/gemm-f32-micro.mjs [filter]
// Reports GFLOP/s as the median and the best of many short timed rounds after warm-up. On a shared
// machine the best short round is the most repeatable estimate of what the kernel does on an idle
// core; the median shows what contention costs.
// Loads the built modules from build/wasm (run `node scripts/build-wasm.mjs` first).
import { modules, rateTable, timer } from './lib/micro.mjs';

const filter = process.argv[2] ?? '';
const time = timer(10, 41);
const { report, json } = rateTable({ unit: 'GFLOP/s', nameWidth: 30 });

for (const w of modules()) {
  const { variant, ex, alloc, fill, reset } = w;

  for (const n of [256, 512, 1024]) {
    for (const packB of [true, false]) {
      const name = `gemm ${n}^3${packB ? ' B prepacked' : ''}`;
      if (!name.includes(filter)) continue;
      reset();
      const a = alloc(n * n * 4); fill(a, n * n);
      const b = alloc(n * n * 4); fill(b, n * n);
      const c = alloc(n * n * 4);
      let bp = b;
      if (packB) { bp = alloc(ex.gemmF32PackBBytes(n, n)); ex.gemmF32PackB(n, n, b, n, 0, bp); }
      const scratch = alloc(ex.gemmF32ScratchBytes(n, n, n, 0, packB ? 1 : 0));
      report(variant, name, 2 * n * n * n, time(() => ex.gemmF32(n, n, n, a, n, 0, 0, bp, n, 0, packB ? 1 : 0, c, n, 0, scratch, 0, n, 0, n)));
    }
  }

  // Batch-1 GEMV y[1,N] = x[1,K] . W^T with W [N,K] (a Gemm transB weight): pre-packed, and as is
  // (row-major W: dot products). 4096^2 streams 64 MB from DRAM, so it is bandwidth-bound.
  for (const n of [1024, 4096]) {
    for (const packB of [true, false]) {
      const name = `gemv ${n}x${n}${packB ? ' W prepacked' : ' W row-major'}`;
      if (!name.includes(filter)) continue;
      reset();
      const x = alloc(n * 4); fill(x, n);
      const wt = alloc(n * n * 4); fill(wt, n * n);
      const y = alloc(n * 4);
      let wp = wt;
      if (packB) { wp = alloc(ex.gemmF32PackBBytes(n, n)); ex.gemmF32PackB(n, n, wt, n, 1, wp); }
      const scratch = alloc(ex.gemmF32ScratchBytes(1, n, n, 0, packB ? 1 : 0));
      report(variant, name, 2 * n * n, time(() => ex.gemmF32(1, n, n, x, n, 0, 0, wp, n, 1, packB ? 1 : 0, y, n, 0, scratch, 0, 1, 0, n)), { bytes: 4 * n * n });
    }
  }

  // MobileNetV2-style conv layers (batch 1), bias + Relu6 fused as in the model.
  const convs = [
    { name: 'conv 1x1 32->16 @112', N: 1, Cin: 32, H: 112, W: 112, Cout: 16, group: 1, k: 1, s: 1, pad: 0 },
    { name: 'conv dw3x3 144 @56 s1', N: 1, Cin: 144, H: 56, W: 56, Cout: 144, group: 144, k: 3, s: 1, pad: 1 },
    { name: 'conv dw3x3 144 @56 s2', N: 1, Cin: 144, H: 56, W: 56, Cout: 144, group: 144, k: 3, s: 2, pad: 1 },
    { name: 'conv dw3x3 8 @56 s1 (L2-resident)', N: 1, Cin: 8, H: 56, W: 56, Cout: 8, group: 8, k: 3, s: 1, pad: 1 },
    { name: 'conv 3x3 s2 3->32 @224', N: 1, Cin: 3, H: 224, W: 224, Cout: 32, group: 1, k: 3, s: 2, pad: 1 },
    { name: 'conv 3x3 32->32 @56', N: 1, Cin: 32, H: 56, W: 56, Cout: 32, group: 1, k: 3, s: 1, pad: 1 },
    { name: 'conv 1x1 96->576 @14', N: 1, Cin: 96, H: 14, W: 14, Cout: 576, group: 1, k: 1, s: 1, pad: 0 },
    // mnist-8's two convolutions: few channels, narrow rows.
    { name: 'conv 5x5 1->8 @28 p2', N: 1, Cin: 1, H: 28, W: 28, Cout: 8, group: 1, k: 5, s: 1, pad: 2 },
    { name: 'conv 5x5 8->16 @14 p2', N: 1, Cin: 8, H: 14, W: 14, Cout: 16, group: 1, k: 5, s: 1, pad: 2 },
  ];
  for (const c of convs) {
    if (!c.name.includes(filter)) continue;
    reset();
    const Ho = Math.floor((c.H + 2 * c.pad - c.k) / c.s) + 1;
    const Wo = Math.floor((c.W + 2 * c.pad - c.k) / c.s) + 1;
    const desc = alloc(64);
    w.i32(desc, 16).set([c.N, c.Cin, c.H, c.W, c.Cout, c.group, c.k, c.k, c.s, c.s, 1, 1, c.pad, c.pad, Ho, Wo]);
    const wn = c.Cout * (c.Cin / c.group) * c.k * c.k;
    const wsrc = alloc(wn * 4); fill(wsrc, wn);
    const wp = alloc(ex.convF32PackedWeightBytes(desc));
    ex.convF32PackWeights(desc, wsrc, wp);
    const bias = alloc(c.Cout * 4); fill(bias, c.Cout);
    const epi = alloc(32);
    const dv = new DataView(w.memory.buffer, epi, 32);
    dv.setInt32(0, 2, true); dv.setFloat32(4, 0, true); dv.setFloat32(8, 6, true); dv.setFloat32(12, 1, true);
    dv.setFloat32(16, 1, true); dv.setUint32(20, bias, true); dv.setInt32(24, 1, true);
    const x = alloc(c.N * c.Cin * c.H * c.W * 4); fill(x, c.N * c.Cin * c.H * c.W);
    const y = alloc(c.N * c.Cout * Ho * Wo * 4);
    const scratch = alloc(ex.convF32ScratchBytes(desc));
    const flops = 2 * c.N * c.Cout * Ho * Wo * (c.Cin / c.group) * c.k * c.k;
    const method = ['im2col', '1x1', 'direct', 'shifted'][ex.convF32Method(desc)];
    report(variant, `${c.name} [${method}]`, flops, time(() => ex.convF32(desc, x, wp, y, epi, scratch, 0, c.Cout, 0, Ho * Wo)));
  }
}

json('GEMM_BENCH_JSON');
