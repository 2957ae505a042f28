// Signal processing: DFT (opset 20: axis and dft_length inputs, inverse/onesided incl. the
// inverse real transform), STFT, the Hann/Hamming/Blackman windows and MelWeightMatrix.
// Transforms are direct O(n^2) sums in float64 with exact twiddle angles (k*t mod n), which is
// plenty for a reference oracle. Complex tensors carry a trailing [re, im] axis of size 2.
import { fromNumbers, scalarOf, toNumbers } from '../tensor/convert.js';
import { sizeOfDims, type Dim } from '../tensor/shape.js';
import { defineOp, type InferContext } from './registry.js';
import { dtypeFromOnnxCode } from './unary.js';
import { FLOAT_TYPES, INDEX_TYPES, inputType } from './util.js';

/** A known scalar input's integer value during shape inference. */
function constScalar(ctx: InferContext, i: number): number | undefined {
  const t = ctx.constant(i);
  return t ? scalarOf(t) : undefined;
}

// ---- DFT ---------------------------------------------------------------------------------------

interface DftPlan { axis: number; n: number; outLen: number; outComplex: boolean }

function dftPlan(dims: readonly Dim[], axisIn: number | undefined, lenIn: number | undefined, inverse: boolean, onesided: boolean, where: string): DftPlan | undefined {
  const r = dims.length;
  const last = dims[r - 1];
  if (r < 2) throw new Error(`${where}: input must have rank >= 2 ([..., signal, 1 or 2]), got ${r}`);
  if (typeof last === 'number' && last !== 1 && last !== 2) throw new Error(`${where}: the last dim must be 1 (real) or 2 (complex), got ${last}`);
  const a0 = axisIn ?? -2;
  const axis = a0 < 0 ? a0 + r : a0;
  if (axis < 0 || axis >= r - 1) throw new Error(`${where}: axis ${a0} is out of range for rank ${r} (the last axis holds re/im)`);
  const len = dims[axis];
  let n = lenIn;
  if (n === undefined) {
    if (typeof len !== 'number') return undefined;
    n = inverse && onesided ? 2 * (len - 1) : len;
  }
  if (!(n >= 1)) throw new Error(`${where}: dft_length must be positive, got ${n}`);
  if (!inverse && onesided && last === 2) throw new Error(`${where}: onesided applies to real input (last dim 1)`);
  const outLen = !inverse && onesided ? Math.floor(n / 2) + 1 : n;
  return { axis, n, outLen, outComplex: !(inverse && onesided) };
}

defineOp({
  name: 'DFT',
  inputs: [
    { name: 'input', types: FLOAT_TYPES },
    { name: 'dft_length', types: INDEX_TYPES, optional: true },
    { name: 'axis', types: ['int64'], optional: true },
  ],
  outputs: [{ name: 'output' }],
  attrs: {
    inverse: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
    onesided: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
  },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype }];
    const axis = ctx.inputs[2] ? constScalar(ctx, 2) : -2;
    const lastDim = ctx.attrs.int('inverse') === 1 && ctx.attrs.int('onesided') === 1 ? 1 : 2;
    if (axis === undefined) return [{ dtype: x.dtype, shape: x.shape.map((_, i) => (i === x.shape!.length - 1 ? lastDim : ctx.unknownDim())) }];
    const len = ctx.inputs[1] ? constScalar(ctx, 1) : undefined;
    const unknownLen = ctx.inputs[1] !== undefined && len === undefined;
    const p = dftPlan(x.shape, axis, len, ctx.attrs.int('inverse') === 1, ctx.attrs.int('onesided') === 1, ctx.where);
    const inverse = ctx.attrs.int('inverse') === 1, onesided = ctx.attrs.int('onesided') === 1;
    const r = x.shape.length;
    const ax = axis < 0 ? axis + r : axis;
    return [{
      dtype: x.dtype,
      shape: x.shape.map((d, i) => (i === r - 1 ? (inverse && onesided ? 1 : 2) : i === ax ? (p && !unknownLen ? p.outLen : ctx.unknownDim()) : d)),
    }];
  },
  reference: ([x, lenT, axisT], ctx) => {
    const inverse = ctx.attrs.int('inverse') === 1, onesided = ctx.attrs.int('onesided') === 1;
    const dims = x!.dims;
    const p = dftPlan(dims, axisT ? scalarOf(axisT) : undefined, lenT ? scalarOf(lenT) : undefined, inverse, onesided, ctx.where)!;
    const v = toNumbers(x!);
    const r = dims.length;
    const comps = dims[r - 1]!;
    const len = dims[p.axis]!;
    const outer = sizeOfDims(dims.slice(0, p.axis));
    const inner = sizeOfDims(dims.slice(p.axis + 1, r - 1));
    const outC = p.outComplex ? 2 : 1;
    const outDims = dims.map((d, i) => (i === r - 1 ? outC : i === p.axis ? p.outLen : d));
    const out = new Float64Array(sizeOfDims(outDims));
    const n = p.n;
    const re = new Float64Array(n), im = new Float64Array(n);
    const cosT = new Float64Array(n), sinT = new Float64Array(n);
    for (let k = 0; k < n; k++) { cosT[k] = Math.cos((2 * Math.PI * k) / n); sinT[k] = Math.sin((2 * Math.PI * k) / n); }
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        // Gather the signal, truncated or zero-padded to what the transform reads.
        re.fill(0); im.fill(0);
        const at = (t: number) => ((o * len + t) * inner + i) * comps;
        const readLen = inverse && onesided ? Math.min(len, Math.floor(n / 2) + 1) : Math.min(len, n);
        for (let t = 0; t < readLen; t++) { re[t] = v[at(t)]!; im[t] = comps === 2 ? v[at(t) + 1]! : 0; }
        if (inverse && onesided) {
          // Hermitian completion of the one-sided spectrum (numpy.fft.irfft).
          for (let k = Math.floor(n / 2) + 1; k < n; k++) { re[k] = re[n - k]!; im[k] = -im[n - k]!; }
        }
        const sign = inverse ? 1 : -1;
        for (let k = 0; k < p.outLen; k++) {
          let sr = 0, si = 0;
          for (let t = 0; t < n; t++) {
            const w = (k * t) % n;
            const c = cosT[w]!, s = sign * sinT[w]!;
            sr += re[t]! * c - im[t]! * s;
            si += re[t]! * s + im[t]! * c;
          }
          const dst = ((o * p.outLen + k) * inner + i) * outC;
          out[dst] = inverse ? sr / n : sr;
          if (outC === 2) out[dst + 1] = inverse ? si / n : si;
        }
      }
    }
    return [fromNumbers(x!.type, out, outDims)];
  },
});

// ---- STFT --------------------------------------------------------------------------------------

defineOp({
  name: 'STFT',
  inputs: [
    { name: 'signal', types: FLOAT_TYPES },
    { name: 'frame_step', types: INDEX_TYPES },
    { name: 'window', types: FLOAT_TYPES, optional: true },
    { name: 'frame_length', types: INDEX_TYPES, optional: true },
  ],
  outputs: [{ name: 'output' }],
  attrs: { onesided: { type: 'int', default: 1, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') } },
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (x.shape && x.shape.length !== 3) throw new Error(`${ctx.where}: signal must be [batch, length, 1 or 2], got rank ${x.shape.length}`);
    const step = constScalar(ctx, 1);
    const flen = ctx.inputs[3] ? constScalar(ctx, 3) : ctx.inputs[2]?.shape?.[0] ?? x.shape?.[1];
    const sig = x.shape?.[1];
    const known = typeof flen === 'number' && typeof sig === 'number' && step !== undefined;
    const frames = known ? 1 + Math.floor((sig - (flen as number)) / step) : ctx.unknownDim();
    const bins = typeof flen === 'number' ? (ctx.attrs.int('onesided') === 1 ? Math.floor(flen / 2) + 1 : flen) : ctx.unknownDim();
    return [{ dtype: x.dtype, shape: [x.shape?.[0] ?? ctx.unknownDim(), frames, bins, 2] }];
  },
  reference: ([x, stepT, win, flenT], ctx) => {
    const dims = x!.dims;
    if (dims.length !== 3 || (dims[2] !== 1 && dims[2] !== 2)) throw new Error(`${ctx.where}: signal must be [batch, length, 1 or 2], got [${dims.join(', ')}]`);
    const [batch, sigLen, comps] = dims as [number, number, number];
    const step = scalarOf(stepT!);
    if (!(step >= 1)) throw new Error(`${ctx.where}: frame_step must be positive, got ${step}`);
    const w = win ? toNumbers(win) : undefined;
    if (win && win.dims.length !== 1) throw new Error(`${ctx.where}: window must be 1-D`);
    const n = flenT ? scalarOf(flenT) : w ? w.length : sigLen;
    const wl = w ? w.length : n; // samples taken per frame
    if (!(n >= 1) || n > sigLen) throw new Error(`${ctx.where}: frame_length ${n} must be in [1, ${sigLen}]`);
    const onesided = ctx.attrs.int('onesided') === 1;
    if (onesided && comps === 2) throw new Error(`${ctx.where}: onesided applies to real signals (last dim 1)`);
    const frames = 1 + Math.floor((sigLen - n) / step);
    const bins = onesided ? Math.floor(n / 2) + 1 : n;
    const v = toNumbers(x!);
    const out = new Float64Array(batch * frames * bins * 2);
    const take = Math.min(wl, n);
    for (let b = 0; b < batch; b++) {
      for (let f = 0; f < frames; f++) {
        for (let k = 0; k < bins; k++) {
          let sr = 0, si = 0;
          for (let t = 0; t < take; t++) {
            const pos = f * step + t;
            if (pos >= sigLen) break;
            const wt = w ? w[t]! : 1;
            const xr = v[(b * sigLen + pos) * comps]! * wt, xi = comps === 2 ? v[(b * sigLen + pos) * comps + 1]! * wt : 0;
            const ang = (-2 * Math.PI * ((k * t) % n)) / n;
            const c = Math.cos(ang), s = Math.sin(ang);
            sr += xr * c - xi * s;
            si += xr * s + xi * c;
          }
          const dst = ((b * frames + f) * bins + k) * 2;
          out[dst] = sr;
          out[dst + 1] = si;
        }
      }
    }
    return [fromNumbers(x!.type, out, [batch, frames, bins, 2])];
  },
});

// ---- windows -----------------------------------------------------------------------------------

function defineWindow(name: string, fn: (n: number, N: number) => number): void {
  defineOp({
    name,
    inputs: [{ name: 'size', types: INDEX_TYPES }],
    outputs: [{ name: 'output' }],
    attrs: { output_datatype: { type: 'int', default: 1 }, periodic: { type: 'int', default: 1 } },
    inferShape: (ctx) => {
      const dtype = dtypeFromOnnxCode(ctx.attrs.int('output_datatype'), ctx.where);
      const size = constScalar(ctx, 0);
      return [{ dtype, shape: [size ?? ctx.unknownDim()] }];
    },
    reference: ([sizeT], ctx) => {
      const dtype = dtypeFromOnnxCode(ctx.attrs.int('output_datatype'), ctx.where);
      const size = scalarOf(sizeT!);
      if (!(size >= 0)) throw new Error(`${ctx.where}: size must be non-negative, got ${size}`);
      // Periodic windows divide by size (one period of a longer symmetric window), symmetric by size - 1.
      const N = ctx.attrs.int('periodic') === 1 ? size : size - 1;
      return [fromNumbers(dtype, Float64Array.from({ length: size }, (_, n) => fn(n, N)), [size])];
    },
  });
}

defineWindow('HannWindow', (n, N) => Math.sin((Math.PI * n) / N) ** 2);
defineWindow('HammingWindow', (n, N) => 25 / 46 - (21 / 46) * Math.cos((2 * Math.PI * n) / N));
defineWindow('BlackmanWindow', (n, N) => 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / N) + 0.08 * Math.cos((4 * Math.PI * n) / N));

// ---- MelWeightMatrix ---------------------------------------------------------------------------

defineOp({
  name: 'MelWeightMatrix',
  inputs: [
    { name: 'num_mel_bins', types: INDEX_TYPES },
    { name: 'dft_length', types: INDEX_TYPES },
    { name: 'sample_rate', types: INDEX_TYPES },
    { name: 'lower_edge_hertz', types: FLOAT_TYPES },
    { name: 'upper_edge_hertz', types: FLOAT_TYPES },
  ],
  outputs: [{ name: 'output' }],
  attrs: { output_datatype: { type: 'int', default: 1 } },
  inferShape: (ctx) => {
    const dtype = dtypeFromOnnxCode(ctx.attrs.int('output_datatype'), ctx.where);
    const mel = constScalar(ctx, 0), dft = constScalar(ctx, 1);
    return [{ dtype, shape: [dft !== undefined ? Math.floor(dft / 2) + 1 : ctx.unknownDim(), mel ?? ctx.unknownDim()] }];
  },
  reference: ([melT, dftT, rateT, loT, hiT], ctx) => {
    const dtype = dtypeFromOnnxCode(ctx.attrs.int('output_datatype'), ctx.where);
    const mel = scalarOf(melT!), dft = scalarOf(dftT!), rate = scalarOf(rateT!);
    const lo = scalarOf(loT!), hi = scalarOf(hiT!);
    if (!(mel >= 1 && dft >= 1 && rate >= 1)) throw new Error(`${ctx.where}: num_mel_bins, dft_length and sample_rate must be positive`);
    if (!(lo >= 0 && hi > lo)) throw new Error(`${ctx.where}: need 0 <= lower_edge_hertz < upper_edge_hertz, got ${lo}, ${hi}`);
    const specBins = Math.floor(dft / 2) + 1;
    const toMel = (f: number) => 2595 * Math.log10(1 + f / 700);
    const lowMel = toMel(lo), highMel = toMel(hi);
    // mel + 2 edges evenly spaced in mel (step divides by mel + 2, as the ONNX reference does),
    // mapped back to hertz and then to the DFT bin below each.
    const step = (highMel - lowMel) / (mel + 2);
    const edges = Array.from({ length: mel + 2 }, (_, i) => Math.floor(((dft + 1) * (700 * (10 ** ((i * step + lowMel) / 2595) - 1))) / rate));
    const out = new Float64Array(specBins * mel);
    for (let i = 0; i < mel; i++) {
      const l = edges[i]!, c = edges[i + 1]!, h = edges[i + 2]!;
      if (c === l) { if (c < specBins) out[c * mel + i] = 1; } else {
        for (let j = l; j <= c; j++) if (j >= 0 && j < specBins) out[j * mel + i] = (j - l) / (c - l);
      }
      if (h > c) for (let j = c; j < h; j++) if (j >= 0 && j < specBins) out[j * mel + i] = (h - j) / (h - c);
    }
    return [fromNumbers(dtype, out, [specBins, mel])];
  },
});
