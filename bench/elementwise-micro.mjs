// Elementwise / pooling / normalization / movement micro-benchmark, single thread, both variants:
//   node --experimental-wasm-relaxed-simd bench/elementwise-micro.mjs [filter]
// Reports median and best time per call after warm-up, with GB/s (bytes read + written) for the
// memory-bound kernels and Gelem/s for the transcendental ones. A plain JS loop over the same
// Float32Arrays and memory.copy are printed as yardsticks.
// Loads the built modules from build/wasm (run `node scripts/build-wasm.mjs` first).
import { modules, timer } from './lib/micro.mjs';

const filter = process.argv[2] ?? '';
const time = timer(40, 11);

const UNARY = { relu: 0, sigmoid: 2, tanh: 3, exp: 4, log: 5, gelu: 14, geluTanh: 15, erf: 16, copy: 19 };
const rows = [];

function report(variant, name, t, bytes, elems) {
  const [med, best] = t;
  const row = { variant, name, ms: +(med * 1e3).toFixed(4), bestMs: +(best * 1e3).toFixed(4) };
  if (bytes) row['GB/s'] = +(bytes / med / 1e9).toFixed(1);
  if (elems) row['Gelem/s'] = +(elems / med / 1e9).toFixed(2);
  rows.push(row);
}

function bench(k) {
  const { variant, ex } = k;
  const want = (name) => name.includes(filter);

  for (const n of [1 << 20, 1 << 24]) {
    k.reset();
    const a = k.random(n);
    const b = k.random(n);
    const y = k.alloc(n * 4);
    const tag = n === 1 << 20 ? '1M' : '16M';
    const flat = k.words([1, n, 1, 1]);
    if (want('Add')) report(variant, `Add ${tag} same-shape`, time(() => ex.binaryF32(0, a, b, y, flat, 0, 1)), 12 * n);
    if (want('Relu')) report(variant, `Relu ${tag}`, time(() => ex.unaryF32(UNARY.relu, a, y, n, 0, 0)), 8 * n);
    if (want('copy')) report(variant, `memory.copy ${tag}`, time(() => ex.unaryF32(UNARY.copy, a, y, n, 0, 0)), 8 * n);
    if (n === 1 << 20) {
      // Per-channel bias [1, 64, 128, 128] + [64, 1, 1]: collapsed to [64, 16384] with b stride (1, 0).
      const bias = k.random(64);
      const perChannel = k.words([2, 64, 16384, 16384, 1, 1, 0]);
      if (want('Add')) report(variant, 'Add 1M per-channel [64,1,1]', time(() => ex.binaryF32(0, a, bias, y, perChannel, 0, 64)), 8 * n);
      // Row-vector bias [4096, 256] + [256].
      const rowBias = k.random(256);
      const rowVec = k.words([2, 4096, 256, 256, 1, 0, 1]);
      if (want('Add')) report(variant, 'Add 1M row-vector [256]', time(() => ex.binaryF32(0, a, rowBias, y, rowVec, 0, 4096)), 8 * n);
      if (want('JS')) {
        const fa = k.f32(a, n), fb = k.f32(b, n), fy = k.f32(y, n);
        report(variant, 'JS loop Add 1M', time(() => { for (let i = 0; i < n; i++) fy[i] = fa[i] + fb[i]; }), 12 * n);
      }
      for (const op of ['sigmoid', 'tanh', 'exp', 'log', 'gelu', 'geluTanh', 'erf']) {
        if (!want(op)) continue;
        report(variant, `${op} 1M`, time(() => ex.unaryF32(UNARY[op], a, y, n, 0, 0)), 8 * n, n);
      }
    }
  }

  // Pooling on MobileNet/ResNet-sized activations.
  const pools = [
    { name: 'MaxPool 3x3 s2 p1 [1,64,112,112]', c: 64, h: 112, w: 112, k: 3, s: 2, p: 1 },
    { name: 'MaxPool 2x2 s2 [1,32,112,112]', c: 32, h: 112, w: 112, k: 2, s: 2, p: 0 },
    { name: 'MaxPool 3x3 s1 p1 [1,96,56,56]', c: 96, h: 56, w: 56, k: 3, s: 1, p: 1 },
    { name: 'AveragePool 3x3 s1 p1 [1,96,56,56]', c: 96, h: 56, w: 56, k: 3, s: 1, p: 1, avg: true },
  ];
  for (const P of pools) {
    if (!want(P.name)) continue;
    k.reset();
    const oh = Math.floor((P.h + 2 * P.p - P.k) / P.s) + 1;
    const ow = Math.floor((P.w + 2 * P.p - P.k) / P.s) + 1;
    const x = k.random(P.c * P.h * P.w);
    const y = k.alloc(P.c * oh * ow * 4);
    const geom = k.words([1, P.h, P.w, 1, oh, ow, 1, P.k, P.k, 1, P.s, P.s, 1, 1, 1, 0, P.p, P.p, 0, P.p, P.p, 0]);
    report(variant, P.name, time(() => ex.poolF32(P.avg ? 1 : 0, x, y, geom, 0, P.c)), 4 * (P.c * P.h * P.w + P.c * oh * ow));
  }
  if (want('GlobalAveragePool')) {
    k.reset();
    const x = k.random(1280 * 49);
    const y = k.alloc(1280 * 4);
    report(variant, 'GlobalAveragePool [1,1280,7,7]', time(() => ex.globalPoolF32(1, x, y, 49, 0, 1280)), 4 * 1280 * 50);
  }

  // Softmax: classifier logits, a batch of them, and attention scores.
  const softmaxes = [
    { name: 'Softmax [1,1000]', outer: 1, len: 1000, inner: 1 },
    { name: 'Softmax [64,1000]', outer: 64, len: 1000, inner: 1 },
    { name: 'Softmax [1,12,197,197] axis -1', outer: 12 * 197, len: 197, inner: 1 },
    { name: 'Softmax [1,1000,7,7] axis 1', outer: 1, len: 1000, inner: 49 },
  ];
  for (const S of softmaxes) {
    if (!want(S.name)) continue;
    k.reset();
    const n = S.outer * S.len * S.inner;
    const x = k.random(n, 5);
    const y = k.alloc(n * 4);
    report(variant, S.name, time(() => ex.softmaxF32(0, x, y, S.len, S.inner, 0, S.outer)), 8 * n, n);
  }
  if (want('LayerNorm')) {
    k.reset();
    const rowsN = 197, n = 768;
    const x = k.random(rowsN * n), s = k.random(n), b = k.random(n), y = k.alloc(rowsN * n * 4);
    report(variant, 'LayerNorm [1,197,768]', time(() => ex.layerNormF32(x, y, s, b, 0, 0, n, 1e-5, 0, rowsN)), 8 * rowsN * n);
  }
  if (want('ReduceMean')) {
    k.reset();
    const x = k.random(512 * 49 * 4);
    const y = k.alloc(2048 * 4);
    report(variant, 'ReduceMean [1,2048,7,7] axes [2,3]', time(() => ex.reduceF32(0, x, y, 49, 1, 1 / 49, 0, 0, 2048)), 4 * 2048 * 50);
  }
  if (want('Transpose')) {
    k.reset();
    const c = 64, hw = 56 * 56;
    const x = k.random(c * hw);
    const y = k.alloc(c * hw * 4);
    // NCHW -> NHWC of [1,64,56,56]: output [3136, 64] reads source stride (1, 3136).
    const desc = k.words([2, hw, c, 1, hw, c, 1]);
    report(variant, 'Transpose NCHW->NHWC [1,64,56,56]', time(() => ex.copyStrided(4, x, y, desc, 0, hw)), 8 * c * hw);
  }
}

for (const k of modules({ quiet: true })) bench(k);
console.table(rows);
