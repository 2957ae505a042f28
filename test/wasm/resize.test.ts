// Resize on WASM against the reference kernel: seeded random shapes over every mode, nearest_mode,
// coordinate transform, cubic coefficient, exclude_outside, antialias, axes, scales or sizes and
// aspect-ratio policy. Nearest must match bit for bit; linear and cubic within f32 rounding
// (1e-5 relative plus 1e-6 of the largest magnitude, for cancellation near zero, as the
// conformance suite allows). Also: bit-identical results over 1-3 worker threads, and the cases
// that must stay on the reference kernel.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { AttrValue } from '../../src/graph/ir.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { checkNode, randomTensor, rng, runNode, VARIANTS, type NodeCase } from './harness.js';

const MODES = ['nearest', 'linear', 'cubic'] as const;
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];
const POLICIES = ['stretch', 'not_larger', 'not_smaller'];

const f32 = (values: number[]) => new Tensor('float32', Float32Array.from(values), [values.length]);
const i64 = (values: number[]) => new Tensor('int64', BigInt64Array.from(values.map(BigInt)), [values.length]);

/** Largest |v| of a float tensor (the absolute part of the tolerance scales with it). */
const maxAbs = (t: Tensor) => (t.data as Float32Array).reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.min(items.length - 1, Math.floor(((r() + 1) / 2) * items.length))]!;
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.min(hi - lo, Math.floor(((r() + 1) / 2) * (hi - lo + 1)));

/** One random Resize node: rank 1-4 (4-D mostly NCHW over H and W), scales or sizes, maybe axes. */
function randomCase(r: () => number): NodeCase {
  const rank = pick(r, [1, 2, 3, 4, 4, 4]);
  const dims = Array.from({ length: rank }, () => int(r, 1, 9));
  const mode = pick(r, MODES);
  const transform = pick(r, TRANSFORMS);
  const attrs: Record<string, AttrValue> = { mode, coordinate_transformation_mode: transform };
  if (mode === 'nearest') attrs.nearest_mode = pick(r, NEAREST_MODES);
  if (mode === 'cubic') {
    attrs.cubic_coeff_a = pick(r, [-0.75, -0.5]);
    if (r() > 0) attrs.exclude_outside = 1;
  }
  if (mode !== 'nearest' && r() > 0.5) attrs.antialias = 1;
  if (transform === 'tf_crop_and_resize') attrs.extrapolation_value = pick(r, [0, -3.5, 10]);
  // Which axes change: all, or (4-D) only the last two as in NCHW models, or an explicit axes list.
  let axes = dims.map((_, i) => i);
  if (rank === 4 && r() > -0.3) axes = [2, 3];
  const explicitAxes = axes.length < rank && r() > 0;
  if (explicitAxes) attrs.axes = r() > 0 ? axes : axes.map((a) => a - rank);
  const listed = explicitAxes ? axes : dims.map((_, i) => i);
  const resized = new Set(axes);
  const roiT = transform === 'tf_crop_and_resize'
    ? f32([...listed.map(() => (r() + 1) * 0.3), ...listed.map(() => 0.6 + (r() + 1) * 0.3)])
    : undefined;
  const bySizes = r() > 0;
  if (bySizes) {
    if (listed.length > 1 && r() > 0.3) attrs.keep_aspect_ratio_policy = pick(r, POLICIES);
    const sizes = listed.map((a) => (resized.has(a) ? int(r, 1, 17) : dims[a]!));
    return { op: 'Resize', attrs, inputs: [randomTensor(dims, r, 4), roiT, undefined, i64(sizes)], constants: [1, 3] };
  }
  const scales = listed.map((a) => (resized.has(a) ? pick(r, [0.5, 0.6, 0.75, 1, 1.3, 1.5, 2, 2.5, 3, 4]) : 1));
  return { op: 'Resize', attrs, inputs: [randomTensor(dims, r, 4), roiT, f32(scales)], constants: [1, 2] };
}

function checkResize(variant: (typeof VARIANTS)[number], c: NodeCase, what: string): void {
  const run = runNode(variant, c);
  expect(run.kernel, `${what}: no WASM kernel accepted the node`).toBeDefined();
  const expected = run.expected[0]!;
  const actual = run.actual[0]!;
  expect([...actual.dims], `${what} dims`).toEqual([...expected.dims]);
  const a = actual.data as Float32Array;
  const e = expected.data as Float32Array;
  if (c.attrs?.mode === 'nearest') {
    expect(new Uint32Array(a.buffer, a.byteOffset, a.length), `${what}: nearest must copy bits`).toEqual(new Uint32Array(e.buffer, e.byteOffset, e.length));
    return;
  }
  const atol = 1e-6 * maxAbs(expected);
  for (let i = 0; i < e.length; i++) {
    const y = e[i]!;
    const ok = Number.isNaN(y) ? Number.isNaN(a[i]!) : !Number.isFinite(y) ? a[i] === y : Math.abs(a[i]! - y) <= atol + 1e-5 * Math.abs(y);
    if (!ok) expect.fail(`${what}: element ${i} of [${expected.dims.join(', ')}]: got ${a[i]}, expected ${y}`);
  }
}

describe.each(VARIANTS)('Resize on WASM [%s]', (variant) => {
  it('matches the reference on 400 random shapes and attribute sets', () => {
    const r = rng(20261203);
    for (let t = 0; t < 400; t++) {
      const c = randomCase(r);
      checkResize(variant, c, `case ${t} ${JSON.stringify(c.attrs)} x [${c.inputs[0]!.dims.join(', ')}] ${c.inputs[2] ? 'scales' : 'sizes'} [${Array.from(toList(c.inputs[2] ?? c.inputs[3]!)).join(', ')}]`);
    }
  });

  it('upsamples NCHW like PP-OCR (nearest, asymmetric, floor) and a segmenter (bilinear, half_pixel)', () => {
    const r = rng(7);
    const x = randomTensor([1, 24, 10, 10], r, 3);
    checkResize(variant, {
      op: 'Resize', attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
      inputs: [x, new Tensor('float32', new Float32Array(0), [0]), f32([1, 1, 8, 8])], constants: [1, 2],
    }, 'nearest x8');
    checkResize(variant, {
      op: 'Resize', attrs: { mode: 'linear' },
      inputs: [randomTensor([1, 3, 32, 48], r, 3), undefined, undefined, i64([1, 3, 128, 128])], constants: [3],
    }, 'bilinear to 128x128');
    checkResize(variant, {
      op: 'Resize', attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
      inputs: [randomTensor([2, 5, 33, 17], r, 3), undefined, f32([1, 1, 0.5, 3])], constants: [2],
    }, 'align_corners down and up');
  });

  it('keeps NaN and infinities where the reference does (zero-weight taps are skipped)', () => {
    const x = randomTensor([1, 1, 4, 4], rng(3), 2);
    const d = x.data as Float32Array;
    d[5] = NaN;
    d[10] = Infinity;
    d[15] = -Infinity;
    for (const mode of MODES) {
      checkResize(variant, {
        op: 'Resize', attrs: { mode, coordinate_transformation_mode: 'asymmetric' },
        inputs: [x, undefined, f32([1, 1, 2, 2])], constants: [2],
      }, `${mode} specials`);
    }
  });

  it('treats an identity resize as a copy and an empty output as nothing to do', () => {
    const x = randomTensor([2, 3, 4], rng(1), 1);
    checkNode(variant, { op: 'Resize', attrs: { mode: 'linear' }, inputs: [x, undefined, f32([1, 1, 1])], constants: [2] });
    const run = runNode(variant, { op: 'Resize', attrs: { mode: 'linear' }, inputs: [x, undefined, undefined, i64([2, 0, 4])], constants: [3] });
    expect(run.kernel).toBeDefined();
    expect([...run.actual[0]!.dims]).toEqual([2, 0, 4]);
  });

  it('leaves run-time scales, other dtypes and inputs the reference rejects to the reference kernel', () => {
    const x = randomTensor([1, 1, 3, 3], rng(2), 1);
    const scales = f32([1, 1, 2, 2]);
    expect(runNode(variant, { op: 'Resize', inputs: [x, undefined, scales] }).kernel, 'scales fed at run time').toBeUndefined();
    const xi = randomTensor([1, 1, 3, 3], rng(2), 10, 'int32');
    expect(runNode(variant, { op: 'Resize', inputs: [xi, undefined, scales], constants: [2] }).kernel, 'int32').toBeUndefined();
    // Scales of the wrong length: the reference names the problem when the node runs.
    expect(runNode(variant, {
      op: 'Resize', inputs: [x, undefined, f32([2, 2])], constants: [2], outputTypes: [{ dtype: 'float32', dims: [1, 1, 6, 6] }],
    }).kernel).toBeUndefined();
  });
});

function toList(t: Tensor): ArrayLike<number | bigint> {
  return t.data as ArrayLike<number | bigint>;
}

describe('Resize on a WASM worker pool', () => {
  it('gives bit-identical results with 1, 2 and 3 threads', async () => {
    const b = new GraphBuilder('resize-threads');
    const x = b.input('x', 'float32', [1, 16, 40, 56]);
    const up = b.op('Resize', [x, b.constant('roi', new Tensor('float32', new Float32Array(0), [0])), b.constant('s', f32([1, 1, 2.5, 2]))], { mode: 'cubic' });
    b.output(b.op('Resize', [up, '', '', b.constant('z', i64([1, 16, 77, 31]))], { mode: 'linear', antialias: 1 }));
    const g = b.build();
    const xv = randomTensor([1, 16, 40, 56], rng(11), 2);
    const outputs: Float32Array[] = [];
    for (const threads of [1, 2, 3]) {
      const s = await InferenceSession.create(g, { backend: 'wasm', threads });
      outputs.push((await s.run({ x: xv }))[s.outputNames[0]!]!.data as Float32Array);
      expect(s.fallbackNodes()).toEqual([]);
      await s.release();
    }
    expect(Array.from(outputs[1]!)).toEqual(Array.from(outputs[0]!));
    expect(Array.from(outputs[2]!)).toEqual(Array.from(outputs[0]!));
  });
});
