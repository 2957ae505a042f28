// f32 Conv2D kernels (im2col+GEMM, pointwise GEMM, direct depthwise) against a float64 reference for
// both module variants: groups, depthwise with multipliers, dilations, strides, asymmetric pads,
// auto_pad, batches, fused bias + activation, and channel / pixel sub-ranges.
import { describe, expect, it } from 'vitest';
import { convF32Exports, convF32Geometry, convF32OnHost, type ConvF32Attrs, type ConvF32Geometry, type ConvF32Input } from '../../src/backends/wasm/kernels/conv-f32.js';
import type { ActivationF32 } from '../../src/backends/wasm/kernels/gemm-f32.js';
import { kernelModule, randomArray, rng, VARIANTS } from './module-setup.js';

function act(a: ActivationF32 | undefined, v: number): number {
  if (a?.kind === 'relu') return Math.max(v, 0);
  if (a?.kind === 'clip') return Math.min(Math.max(v, a.min), a.max);
  if (a?.kind === 'sigmoid') return 1 / (1 + Math.exp(-v));
  return v;
}

/** Direct float64 conv; also returns sum |w x| per output for the rounding tolerance. */
function convRef(g: ConvF32Geometry, X: Float32Array, W: Float32Array, bias: Float32Array | undefined, a: ActivationF32 | undefined): { y: Float64Array; mag: Float64Array } {
  const cinG = g.Cin / g.group;
  const coutG = g.Cout / g.group;
  const y = new Float64Array(g.N * g.Cout * g.Ho * g.Wo);
  const mag = new Float64Array(y.length);
  for (let n = 0; n < g.N; n++) for (let co = 0; co < g.Cout; co++) {
    const grp = Math.floor(co / coutG);
    for (let oy = 0; oy < g.Ho; oy++) for (let ox = 0; ox < g.Wo; ox++) {
      let s = bias ? bias[co]! : 0;
      let m = Math.abs(s);
      for (let ci = 0; ci < cinG; ci++) for (let ky = 0; ky < g.kh; ky++) for (let kx = 0; kx < g.kw; kx++) {
        const iy = oy * g.sh - g.padT + ky * g.dh;
        const ix = ox * g.sw - g.padL + kx * g.dw;
        if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
        const xv = X[((n * g.Cin + grp * cinG + ci) * g.H + iy) * g.W + ix]!;
        const wv = W[((co * cinG + ci) * g.kh + ky) * g.kw + kx]!;
        s += xv * wv;
        m += Math.abs(xv * wv);
      }
      const o = ((n * g.Cout + co) * g.Ho + oy) * g.Wo + ox;
      y[o] = act(a, s);
      mag[o] = m;
    }
  }
  return { y, mag };
}

interface ConvCase { name: string; input: ConvF32Input; attrs: ConvF32Attrs; act?: ActivationF32; bias?: boolean; method?: string }

const CASES: ConvCase[] = [
  { name: '3x3 pad 1', input: { N: 1, Cin: 3, H: 9, W: 11, Cout: 5 }, attrs: { kernelShape: [3, 3], pads: [1, 1, 1, 1] }, bias: true, method: 'shifted' },
  { name: '3x3 pad 1, wide rows (im2col runs)', input: { N: 2, Cin: 3, H: 5, W: 64, Cout: 6 }, attrs: { kernelShape: [3, 3], pads: [1, 2, 1, 0] }, bias: true, act: { kind: 'relu' }, method: 'im2col' },
  { name: 'shifted, dilation 2, groups 2', input: { N: 2, Cin: 4, H: 9, W: 10, Cout: 6 }, attrs: { kernelShape: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2], group: 2 }, bias: true, act: { kind: 'sigmoid' }, method: 'shifted' },
  { name: 'first layer 3->32 s2', input: { N: 1, Cin: 3, H: 33, W: 35, Cout: 32 }, attrs: { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, bias: true, act: { kind: 'clip', min: 0, max: 6 } },
  { name: 'wide rows s2 (vector gather)', input: { N: 1, Cin: 2, H: 6, W: 70, Cout: 4 }, attrs: { kernelShape: [3, 3], strides: [2, 2], pads: [0, 1, 1, 0] } },
  { name: 'asymmetric pads, rect kernel', input: { N: 2, Cin: 4, H: 10, W: 7, Cout: 6 }, attrs: { kernelShape: [2, 3], pads: [0, 2, 1, 1] }, bias: true },
  { name: 'strides 3x2 dilation 2x3', input: { N: 1, Cin: 5, H: 17, W: 19, Cout: 7 }, attrs: { kernelShape: [3, 2], strides: [3, 2], dilations: [2, 3], pads: [2, 1, 0, 3] }, bias: true, act: { kind: 'relu' } },
  { name: 'SAME_UPPER s2', input: { N: 1, Cin: 3, H: 8, W: 9, Cout: 4 }, attrs: { kernelShape: [3, 3], strides: [2, 2], autoPad: 'SAME_UPPER' } },
  { name: 'SAME_LOWER 4x4', input: { N: 1, Cin: 2, H: 7, W: 6, Cout: 3 }, attrs: { kernelShape: [4, 4], autoPad: 'SAME_LOWER' }, bias: true },
  { name: 'VALID 5x5', input: { N: 1, Cin: 3, H: 12, W: 13, Cout: 9 }, attrs: { kernelShape: [5, 5], autoPad: 'VALID', pads: [9, 9, 9, 9] } },
  { name: 'groups 2', input: { N: 2, Cin: 6, H: 8, W: 8, Cout: 10 }, attrs: { kernelShape: [3, 3], pads: [1, 1, 1, 1], group: 2 }, bias: true, act: { kind: 'relu' } },
  { name: 'groups 3, one output per group', input: { N: 1, Cin: 6, H: 5, W: 6, Cout: 3 }, attrs: { kernelShape: [3, 3], group: 3 }, bias: true },
  { name: '1x1 pointwise', input: { N: 2, Cin: 17, H: 9, W: 13, Cout: 19 }, attrs: { kernelShape: [1, 1] }, bias: true, act: { kind: 'relu' }, method: 'pointwise' },
  { name: '1x1 pointwise groups', input: { N: 1, Cin: 8, H: 7, W: 7, Cout: 12 }, attrs: { kernelShape: [1, 1], group: 4 }, bias: true, method: 'pointwise' },
  { name: '1x1 stride 2 (im2col)', input: { N: 1, Cin: 8, H: 9, W: 9, Cout: 8 }, attrs: { kernelShape: [1, 1], strides: [2, 2] }, method: 'im2col' },
  { name: '1x1 with pad (shifted)', input: { N: 1, Cin: 3, H: 4, W: 5, Cout: 2 }, attrs: { kernelShape: [1, 1], pads: [1, 0, 0, 1] }, method: 'shifted' },
  { name: 'depthwise 3x3 s1', input: { N: 1, Cin: 6, H: 15, W: 21, Cout: 6 }, attrs: { kernelShape: [3, 3], pads: [1, 1, 1, 1], group: 6 }, bias: true, act: { kind: 'clip', min: 0, max: 6 }, method: 'depthwise' },
  { name: 'depthwise 3x3 s2', input: { N: 2, Cin: 5, H: 16, W: 23, Cout: 5 }, attrs: { kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 5 }, bias: true, method: 'depthwise' },
  { name: 'depthwise 3x3 s2 pad 0,1', input: { N: 1, Cin: 3, H: 15, W: 30, Cout: 3 }, attrs: { kernelShape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], group: 3 }, bias: true, act: { kind: 'relu' }, method: 'depthwise' },
  { name: 'depthwise 3x3 no pad', input: { N: 1, Cin: 4, H: 12, W: 12, Cout: 4 }, attrs: { kernelShape: [3, 3], group: 4 }, act: { kind: 'sigmoid' }, method: 'depthwise' },
  { name: 'depthwise tiny plane', input: { N: 1, Cin: 3, H: 2, W: 3, Cout: 3 }, attrs: { kernelShape: [3, 3], pads: [1, 1, 1, 1], group: 3 }, method: 'depthwise' },
  { name: 'depthwise multiplier 2, 5x5 dilated', input: { N: 1, Cin: 3, H: 14, W: 11, Cout: 6 }, attrs: { kernelShape: [5, 5], dilations: [2, 1], pads: [4, 2, 4, 2], group: 3 }, bias: true, method: 'depthwise' },
  { name: 'depthwise 3x3 s1 wide', input: { N: 1, Cin: 2, H: 5, W: 67, Cout: 2 }, attrs: { kernelShape: [3, 3], pads: [1, 2, 1, 0], group: 2 }, method: 'depthwise' },
  { name: 'depthwise 5x5 s2 (generic, gathered)', input: { N: 1, Cin: 4, H: 17, W: 29, Cout: 4 }, attrs: { kernelShape: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2], group: 4 }, bias: true, act: { kind: 'relu' }, method: 'depthwise' },
  { name: 'depthwise 3x3 s3 (generic, scalar gather)', input: { N: 1, Cin: 3, H: 13, W: 20, Cout: 3 }, attrs: { kernelShape: [3, 3], strides: [3, 3], pads: [1, 0, 1, 2], group: 3 }, method: 'depthwise' },
  { name: 'depthwise 3x3 dilation 2', input: { N: 1, Cin: 2, H: 11, W: 12, Cout: 2 }, attrs: { kernelShape: [3, 3], dilations: [2, 2], pads: [2, 2, 2, 2], group: 2 }, act: { kind: 'sigmoid' }, method: 'depthwise' },
  { name: 'single input channel', input: { N: 1, Cin: 1, H: 28, W: 28, Cout: 8 }, attrs: { kernelShape: [5, 5] }, bias: true, act: { kind: 'relu' } },
  { name: 'K > KC', input: { N: 1, Cin: 40, H: 6, W: 7, Cout: 13 }, attrs: { kernelShape: [3, 3], pads: [1, 1, 1, 1] }, bias: true },
];

for (const variant of VARIANTS) {
  describe(`convF32 (${variant})`, () => {
    const { memory, exports, arena } = kernelModule(variant, 64);
    const ex = convF32Exports(exports);

    function check(c: ConvCase, got: Float32Array, ref: { y: Float64Array; mag: Float64Array }, label: string): void {
      for (let i = 0; i < got.length; i++) {
        const tol = 1e-5 * Math.abs(ref.y[i]!) + 1e-6 * ref.mag[i]! + 1e-7;
        if (!(Math.abs(got[i]! - ref.y[i]!) <= tol)) expect.fail(`${label}: y[${i}] = ${got[i]} vs ${ref.y[i]}`);
      }
      void c;
    }

    for (const [ci, c] of CASES.entries()) {
      it(c.name, () => {
        const r = rng(100 + ci);
        const g = convF32Geometry(c.input, c.attrs);
        const X = randomArray(g.N * g.Cin * g.H * g.W, r);
        const W = randomArray(g.Cout * (g.Cin / g.group) * g.kh * g.kw, r);
        const bias = c.bias ? randomArray(g.Cout, r) : undefined;
        const ref = convRef(g, X, W, bias, c.act);
        const { y, method } = convF32OnHost(arena(), ex, g, X, W, bias, c.act);
        if (c.method) expect(method).toBe(c.method);
        check(c, y, ref, `${c.name} [${method}]`);
        // Sub-ranges as a thread pool would split them: output channels, then pixels.
        const P = g.Ho * g.Wo;
        const split = new Float32Array(y.length);
        const cuts = [[0, Math.floor(g.Cout / 2), 0, P], [Math.floor(g.Cout / 2), g.Cout, 0, Math.floor(P / 3)], [Math.floor(g.Cout / 2), g.Cout, Math.floor(P / 3), P]];
        for (const [co0, co1, p0, p1] of cuts) {
          const part = convF32OnHost(arena(), ex, g, X, W, bias, c.act, { co0: co0!, co1: co1!, p0: p0!, p1: p1! }).y;
          for (let n = 0; n < g.N; n++) for (let co = co0!; co < co1!; co++) for (let q = p0!; q < p1!; q++) {
            const o = (n * g.Cout + co) * P + q;
            split[o] = part[o]!;
          }
        }
        check(c, split, ref, `${c.name} split [${method}]`);
        // Scratch stays within the reported size.
        const ar = arena();
        const desc = ar.alloc(64);
        new Int32Array(memory.buffer, desc, 16).set([g.N, g.Cin, g.H, g.W, g.Cout, g.group, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.padT, g.padL, g.Ho, g.Wo]);
        const wp = ar.alloc(ex.convF32PackedWeightBytes(desc));
        ex.convF32PackWeights(desc, ar.putF32(W), wp);
        const xp = ar.putF32(X);
        const yp = ar.alloc(y.length * 4);
        const bytes = ex.convF32ScratchBytes(desc);
        const scratch = ar.alloc(bytes + 4096);
        new Uint8Array(memory.buffer, scratch + bytes, 4096).fill(0xa5);
        ex.convF32(desc, xp, wp, yp, 0, scratch, 0, g.Cout, 0, P);
        expect(new Uint8Array(memory.buffer, scratch + bytes, 4096).every((v) => v === 0xa5), 'scratch overrun').toBe(true);
      });
    }
  });
}
