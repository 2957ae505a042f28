// f32 GEMM/GEMV kernels against a float64 reference, for both module variants: odd shapes, every
// transpose/pre-pack combination, fused epilogues, sub-range splits (as threads would call them).
import { describe, expect, it } from 'vitest';
import {
  gemmF32Exports, gemmF32OnHost, WasmArena, type ActivationF32, type EpilogueF32, type GemmF32Exports, type GemmF32HostOptions,
} from '../../src/backends/wasm/kernels/gemm-f32.js';
import { erfc } from '../../src/ops/unary.js';
import { kernelModule, randomArray, rng, VARIANTS } from './module-setup.js';

export function activationRef(act: ActivationF32 | undefined, v: number): number {
  switch (act?.kind) {
    case 'relu': return Math.max(v, 0);
    case 'clip': return Math.min(Math.max(v, act.min), act.max);
    case 'leakyRelu': return v < 0 ? act.alpha * v : v;
    case 'sigmoid': return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    case 'gelu':
      if (act.approximate === 'tanh') {
        // 0.5 v (1 + tanh(u)) written as v * sigmoid(2u), which does not cancel for very negative v.
        const u2 = 2 * Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v);
        return v * (u2 >= 0 ? 1 / (1 + Math.exp(-u2)) : Math.exp(u2) / (1 + Math.exp(u2)));
      }
      return 0.5 * v * erfc(-v / Math.SQRT2);
    default: return v;
  }
}

interface Case { M: number; N: number; K: number; o: GemmF32HostOptions }

/** Reference in float64, plus the magnitude sum that bounds f32 rounding of each dot product. */
function reference(c: Case, A: Float32Array, B: Float32Array, bias: Float32Array | undefined, cInit: Float32Array | undefined): { ref: Float64Array; mag: Float64Array } {
  const { M, N, K, o } = c;
  const ref = new Float64Array(M * N);
  const mag = new Float64Array(M * N);
  const e: EpilogueF32 = o.epilogue ?? {};
  const alpha = e.alpha ?? 1;
  const beta = e.beta ?? 1;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let m = 0;
      for (let k = 0; k < K; k++) {
        const av = o.transA ? A[k * M + i]! : A[i * K + k]!;
        const bv = o.transB ? B[j * K + k]! : B[k * N + j]!;
        s += av * bv;
        m += Math.abs(av * bv);
      }
      let bv = 0;
      const mode = o.epilogue ? (e.biasMode ?? 'none') : 'none';
      if (mode === 'row') bv = bias![i]!;
      else if (mode === 'col') bv = bias![j]!;
      else if (mode === 'scalar') bv = bias![0]!;
      else if (mode === 'full') bv = bias ? bias[i * (e.biasLd ?? N) + j]! : cInit![i * N + j]!;
      const pre = alpha * s + beta * bv;
      ref[i * N + j] = activationRef(e.activation, pre);
      mag[i * N + j] = Math.abs(alpha) * m + Math.abs(beta * bv);
    }
  }
  return { ref, mag };
}

function check(c: Case, got: Float32Array, ref: Float64Array, mag: Float64Array, label: string): void {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    // f32 accumulation error grows with K; activations have slope <= ~1.13.
    const tol = 1e-5 * Math.abs(ref[i]!) + 1.2e-7 * Math.max(c.K, 8) * mag[i]! + 1e-30;
    const err = Math.abs(got[i]! - ref[i]!);
    if (!(err <= tol) && (err / tol > worst || Number.isNaN(got[i]!))) {
      worst = Number.isNaN(got[i]!) ? Infinity : err / tol;
      at = i;
    }
  }
  if (at >= 0) {
    const i = Math.floor(at / c.N);
    const j = at % c.N;
    expect.fail(`${label}: C[${i}][${j}] = ${got[at]} vs ${ref[at]} (${worst.toFixed(1)}x tolerance)`);
  }
}

function runCase(ex: GemmF32Exports, arena: () => WasmArena, c: Case, seed: number, label: string, separateFull = false): void {
  const r = rng(seed);
  const A = randomArray(c.M * c.K, r);
  const B = randomArray(c.K * c.N, r);
  const e = c.o.epilogue;
  const mode = e?.biasMode ?? 'none';
  const biasLen = mode === 'row' ? c.M : mode === 'col' ? c.N : mode === 'scalar' ? 1 : mode === 'full' && separateFull ? c.M * c.N : 0;
  const bias = biasLen ? randomArray(biasLen, r) : undefined;
  const cInit = mode === 'full' && !bias ? randomArray(c.M * c.N, r) : undefined;
  const { ref, mag } = reference(c, A, B, bias, cInit);
  const opts: GemmF32HostOptions = { ...c.o };
  if (bias) opts.bias = bias;
  if (cInit) opts.cInit = cInit;
  check(c, gemmF32OnHost(arena(), ex, c.M, c.N, c.K, A, B, opts), ref, mag, label);
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 3, 17], [3, 1, 17], [4, 8, 1], [4, 8, 16], [3, 5, 7], [17, 63, 65], [65, 17, 63],
  [63, 65, 127], [127, 3, 65], [8, 129, 300], [33, 40, 257], [1, 127, 63], [1, 64, 512], [129, 1, 300],
  [64, 1, 63], [5, 2, 9], [2, 33, 130], [70, 70, 513],
];

const EPILOGUES: { name: string; e: EpilogueF32 }[] = [
  { name: 'relu+colbias', e: { activation: { kind: 'relu' }, biasMode: 'col' } },
  { name: 'clip+rowbias', e: { activation: { kind: 'clip', min: -0.5, max: 0.75 }, biasMode: 'row' } },
  { name: 'leaky+full alpha beta', e: { activation: { kind: 'leakyRelu', alpha: 0.1 }, alpha: 0.5, beta: -2, biasMode: 'full' } },
  { name: 'sigmoid+scalar', e: { activation: { kind: 'sigmoid' }, alpha: 3, biasMode: 'scalar' } },
  { name: 'gelu', e: { activation: { kind: 'gelu' }, alpha: 2, biasMode: 'col' } },
  { name: 'gelu tanh', e: { activation: { kind: 'gelu', approximate: 'tanh' }, alpha: 2 } },
  { name: 'C += A.B (beta on C)', e: { beta: 0.5, biasMode: 'full' } },
];

for (const variant of VARIANTS) {
  describe(`gemmF32 (${variant})`, () => {
    const { memory, exports, arena } = kernelModule(variant, 64);
    const ex = gemmF32Exports(exports);
    let seed = 1;

    it('plain products over odd shapes, all transpose and pre-pack combinations', () => {
      for (const [M, N, K] of SHAPES) {
        for (const transA of [false, true]) for (const transB of [false, true]) for (const packA of [false, true]) for (const packB of [false, true]) {
          runCase(ex, arena, { M, N, K, o: { transA, transB, packA, packB } }, seed++, `${M}x${N}x${K} tA=${transA} tB=${transB} pA=${packA} pB=${packB}`);
        }
      }
    });

    it('fused epilogues', () => {
      for (const { name, e } of EPILOGUES) {
        for (const [M, N, K] of [[17, 63, 65], [1, 40, 33], [37, 1, 20], [64, 64, 300]] as const) {
          for (const packB of [false, true]) {
            runCase(ex, arena, { M, N, K, o: { epilogue: e, packB, packA: !packB, transB: packB } }, seed++, `${name} ${M}x${N}x${K}`, name.startsWith('leaky'));
          }
        }
      }
    });

    it('sub-ranges (as a thread pool would split) compose to the whole product', () => {
      for (const [M, N, K] of [[67, 45, 300], [1, 100, 50], [50, 1, 50], [16, 64, 8]] as const) {
        for (const packed of [false, true]) {
          const r = rng(seed++);
          const A = randomArray(M * K, r);
          const B = randomArray(K * N, r);
          const bias = randomArray(M, r);
          const e: EpilogueF32 = { activation: { kind: 'relu' }, biasMode: 'row' };
          const c: Case = { M, N, K, o: { epilogue: e } };
          const { ref, mag } = reference(c, A, B, bias, undefined);
          const got = new Float32Array(M * N);
          // Odd split points on purpose (not tile multiples).
          const ms = M === 1 ? [0, 1] : [0, Math.floor(M / 3), Math.floor(M / 2) + 1, M];
          const ns = N === 1 ? [0, 1] : [0, 5, Math.floor(N / 2) + 3, N];
          for (let x = 0; x + 1 < ms.length; x++) for (let y = 0; y + 1 < ns.length; y++) {
            const part = gemmF32OnHost(arena(), ex, M, N, K, A, B, {
              epilogue: e, bias, packA: packed, packB: packed, range: { m0: ms[x]!, m1: ms[x + 1]!, n0: ns[y]!, n1: ns[y + 1]! },
            });
            for (let i = ms[x]!; i < ms[x + 1]!; i++) for (let j = ns[y]!; j < ns[y + 1]!; j++) got[i * N + j] = part[i * N + j]!;
          }
          check(c, got, ref, mag, `split ${M}x${N}x${K} packed=${packed}`);
        }
      }
    });

    it('writes only the scratch bytes it reports', () => {
      for (const [M, N, K] of [[5, 127, 64], [33, 260, 40], [1, 300, 700], [300, 1, 70], [70, 70, 513], [130, 9, 3]] as const) {
        for (const pa of [0, 1]) for (const pb of [0, 1]) {
          const ar = arena();
          const r = rng(seed++);
          let a = ar.putF32(randomArray(M * K, r));
          let b = ar.putF32(randomArray(K * N, r));
          if (pa) { const p = ar.alloc(ex.gemmF32PackABytes(M, K)); ex.gemmF32PackA(M, K, a, K, 0, p); a = p; }
          if (pb) { const p = ar.alloc(ex.gemmF32PackBBytes(K, N)); ex.gemmF32PackB(K, N, b, N, 0, p); b = p; }
          const c = ar.alloc(M * N * 4);
          const bytes = ex.gemmF32ScratchBytes(M, N, K, pa, pb);
          const scratch = ar.alloc(bytes + 4096);
          const guard = new Uint8Array(memory.buffer, scratch + bytes, 4096);
          guard.fill(0xa5);
          ex.gemmF32(M, N, K, a, K, 0, pa, b, N, 0, pb, c, N, 0, scratch, 0, M, 0, N);
          expect(new Uint8Array(memory.buffer, scratch + bytes, 4096).every((v) => v === 0xa5), `${M}x${N}x${K} pa=${pa} pb=${pb}`).toBe(true);
        }
      }
    });

    it('activations match float64 to 1e-5 relative over a wide input range', () => {
      const ar = arena();
      const n = 4001;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = -20 + (40 * i) / (n - 1);
      const xp = ar.putF32(x);
      const yp = ar.alloc(n * 4);
      const acts: ActivationF32[] = [
        { kind: 'sigmoid' }, { kind: 'gelu' }, { kind: 'gelu', approximate: 'tanh' }, { kind: 'relu' },
        { kind: 'leakyRelu', alpha: 0.01 }, { kind: 'clip', min: -1, max: 6 },
      ];
      const codes = [4, 5, 6, 1, 3, 2];
      acts.forEach((act, ai) => {
        const p0 = act.kind === 'clip' ? act.min : act.kind === 'leakyRelu' ? act.alpha : 0;
        const p1 = act.kind === 'clip' ? act.max : 0;
        ex.epilogueActivateF32(xp, yp, n, codes[ai]!, p0, p1);
        const y = ar.f32(yp, n);
        for (let i = 0; i < n; i++) {
          const ref = activationRef(act, x[i]!);
          // Near f32's smallest normal (1.2e-38) results underflow; only absolute closeness counts there.
          const tol = 1e-5 * Math.abs(ref) + 1e-36;
          if (!(Math.abs(y[i]! - ref) <= tol)) expect.fail(`${act.kind}${act.kind === 'gelu' ? act.approximate ?? '' : ''}(${x[i]}) = ${y[i]} vs ${ref}`);
        }
      });
    });
  });
}
