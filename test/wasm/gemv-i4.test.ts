// int4 weight-only GEMV/GEMM against plain TS references, both module variants: 'f32' mode against
// float64 dequantized math (f32 rounding tolerance), 'q8' mode against the same per-block int8
// activation quantization done in TS (integer dots exact, so only f32 accumulation differs), for
// both weight layouts, with and without zero points, odd K and N, several activation rows and
// column sub-ranges.
import { describe, expect, it } from 'vitest';
import {
  gemvI4, gemvI4Exports, i4PackedBytes, i4ScratchBytes, I4_BLOCK, packI4, type I4Mode,
} from '../../src/backends/wasm/kernels/gemv-i4.js';
import { writeInt4 } from '../../src/tensor/convert.js';
import { kernelModule, rngUnit, VARIANTS } from './module-setup.js';

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Case { K: number; N: number; M: number; layout: 'nk' | 'kn'; zp: boolean }

const CASES: Case[] = [
  { K: 32, N: 4, M: 1, layout: 'nk', zp: false },
  { K: 1, N: 1, M: 1, layout: 'nk', zp: false },
  { K: 17, N: 3, M: 1, layout: 'kn', zp: true },
  { K: 63, N: 65, M: 1, layout: 'nk', zp: true },
  { K: 65, N: 63, M: 2, layout: 'kn', zp: false },
  { K: 127, N: 17, M: 3, layout: 'nk', zp: false },
  { K: 256, N: 33, M: 1, layout: 'kn', zp: true },
  { K: 1000, N: 9, M: 5, layout: 'nk', zp: true },
];

for (const variant of VARIANTS) {
  describe(`int4 GEMV (${variant})`, () => {
    const { memory: mem, exports, arena: newArena } = kernelModule(variant);
    const ex = gemvI4Exports(exports);
    const arena = newArena();
    let seed = 7;
    for (const c of CASES) {
      for (const mode of ['f32', 'q8'] as const) {
        it(`${mode} M=${c.M} K=${c.K} N=${c.N} ${c.layout}${c.zp ? ' with zero points' : ''}`, () => {
          const r = rngUnit(seed++);
          const { K, N, M } = c;
          const nb = Math.ceil(K / I4_BLOCK);
          const q = new Int32Array(N * K).map(() => Math.floor(r() * 16) - 8);
          const packedSrc = new Uint8Array(Math.ceil((N * K) / 2));
          for (let n = 0; n < N; n++) {
            for (let k = 0; k < K; k++) writeInt4(packedSrc, c.layout === 'nk' ? n * K + k : k * N + n, q[n * K + k]!);
          }
          const scale = new Float32Array(N * nb).map(() => 0.01 + r() * 0.1);
          const zp = new Int32Array(N * nb).map(() => (c.zp ? Math.floor(r() * 16) - 8 : 0));
          // Scales and zero points in the layout's order: [N, nb] or [nb, N].
          const sLaid = new Float32Array(N * nb);
          const zLaid = new Int32Array(N * nb);
          for (let n = 0; n < N; n++) {
            for (let b = 0; b < nb; b++) {
              const i = c.layout === 'nk' ? n * nb + b : b * N + n;
              sLaid[i] = scale[n * nb + b]!;
              zLaid[i] = zp[n * nb + b]!;
            }
          }
          const x = new Float32Array(M * K).map(() => r() * 2 - 1);

          const src = arena.alloc(packedSrc.length);
          new Uint8Array(mem.buffer, src, packedSrc.length).set(packedSrc);
          const sPtr = arena.alloc(sLaid.byteLength);
          new Float32Array(mem.buffer, sPtr, sLaid.length).set(sLaid);
          const zPtr = c.zp ? arena.alloc(zLaid.byteLength) : 0;
          if (c.zp) new Int32Array(mem.buffer, zPtr, zLaid.length).set(zLaid);
          const packed = arena.alloc(i4PackedBytes(ex, K, N, mode));
          packI4(ex, { src, layout: c.layout, K, N, scales: sPtr, zeroPoints: zPtr, mode, dst: packed });
          const xPtr = arena.putF32(x);
          const y = arena.alloc(M * N * 4);
          const scratch = arena.alloc(i4ScratchBytes(ex, K, M, mode));
          // Two column ranges, as two workers would split them (q8 needs multiples of 8).
          const mid = Math.min(N, 8 * Math.floor(N / 16));
          for (const [n0, n1] of [[0, mid], [mid, N]] as const) {
            gemvI4(ex, { packed, mode, hasZeroPoints: c.zp, K, N, x: xPtr, M, y, scratch, n0, n1 });
          }
          const got = new Float32Array(mem.buffer, y, M * N);
          const { want, mag } = reference(mode, c, q, scale, zp, x);
          for (let i = 0; i < M * N; i++) {
            const tol = 2e-6 * mag[i]! * Math.sqrt(K) + 1e-30;
            if (!(Math.abs(got[i]! - want[i]!) <= tol)) {
              expect.fail(`y[${i}] = ${got[i]}, want ${want[i]} (tolerance ${tol})`);
            }
          }
        });
      }
    }
  });
}

/** Float64 reference; `mag` bounds the rounding error of each output. */
function reference(mode: I4Mode, c: Case, q: Int32Array, scale: Float32Array, zp: Int32Array, x: Float32Array): { want: Float64Array; mag: Float64Array } {
  const { K, N, M } = c;
  const nb = Math.ceil(K / I4_BLOCK);
  const want = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    // q8: x quantized per block exactly as the kernel does (f32 scale and reciprocal).
    const xq = new Float64Array(K);
    const xs = new Float64Array(nb);
    for (let b = 0; b < nb; b++) {
      let mx = 0;
      for (let k = b * I4_BLOCK; k < Math.min(K, (b + 1) * I4_BLOCK); k++) mx = Math.max(mx, Math.abs(x[m * K + k]!));
      const inv = mx > 0 ? Math.fround(127 / mx) : 0;
      xs[b] = Math.fround(mx / 127);
      for (let k = b * I4_BLOCK; k < Math.min(K, (b + 1) * I4_BLOCK); k++) xq[k] = roundHalfEven(Math.fround(x[m * K + k]! * inv));
    }
    for (let n = 0; n < N; n++) {
      let s = 0;
      let a = 0;
      for (let b = 0; b < nb; b++) {
        let dot = 0;
        let dmag = 0;
        for (let k = b * I4_BLOCK; k < Math.min(K, (b + 1) * I4_BLOCK); k++) {
          const w = q[n * K + k]! - zp[n * nb + b]!;
          const xv = mode === 'q8' ? xq[k]! : x[m * K + k]!;
          dot += xv * w;
          dmag += Math.abs(xv * w);
        }
        const f = scale[n * nb + b]! * (mode === 'q8' ? xs[b]! : 1);
        s += dot * f;
        a += dmag * f;
      }
      want[m * N + n] = s;
      mag[m * N + n] = a;
    }
  }
  return { want, mag };
}
