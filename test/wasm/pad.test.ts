// Pad on WASM against the reference kernel, bit for bit: seeded random ranks 1-5, every mode
// (constant, reflect, edge, wrap), pads larger than the axis (reflect bouncing, wrap repeating),
// negative pads (crop first), explicit axes (negative ones too), several dtypes; silero's reflect
// pad of audio; and the cases that must stay on the reference.
import { describe, expect, it } from 'vitest';
import type { DType } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { checkNode, randomTensor, rng, runNode, VARIANTS, type NodeCase } from './harness.js';

const MODES = ['constant', 'reflect', 'edge', 'wrap'];
const DTYPES: DType[] = ['float32', 'int64', 'int32', 'uint8', 'int8'];
const ints = (v: number[]) => new Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);
const int = (r: () => number, lo: number, hi: number) => lo + Math.min(hi - lo, Math.floor(((r() + 1) / 2) * (hi - lo + 1)));
function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.min(items.length - 1, Math.floor(((r() + 1) / 2) * items.length))]!;
}

function randomCase(r: () => number): NodeCase {
  const rank = int(r, 1, 5);
  const dims = Array.from({ length: rank }, () => int(r, 1, rank > 3 ? 3 : 6));
  const mode = pick(r, MODES);
  const dtype = pick(r, DTYPES);
  const explicitAxes = r() > 0.3;
  const axes = explicitAxes ? dims.map((_, i) => i).filter(() => r() > -0.2) : dims.map((_, i) => i);
  if (axes.length === 0) axes.push(rank - 1);
  // Mostly small pads, sometimes past the axis length; negative ones crop but keep >= 1 element.
  const pads: number[] = [];
  const crop = axes.map(() => 0);
  for (let side = 0; side < 2; side++) {
    axes.forEach((a, i) => {
      let p = r() > -0.6 ? int(r, 0, 3) : int(r, 4, 9);
      if (r() > 0.7 && dims[a]! - crop[i]! > 1) p = -int(r, 1, dims[a]! - crop[i]! - 1);
      if (p < 0) crop[i]! -= p;
      pads.push(p);
    });
  }
  const inputs: (Tensor | undefined)[] = [randomTensor(dims, r, 50, dtype), ints(pads)];
  const constants = [1];
  if (mode === 'constant' && r() > 0) inputs.push(randomTensor([], r, 50, dtype));
  if (explicitAxes) {
    while (inputs.length < 3) inputs.push(undefined);
    inputs.push(ints(axes.map((a) => (r() > 0 ? a - rank : a))));
    constants.push(3);
  }
  return { op: 'Pad', attrs: { mode }, inputs, constants };
}

const exact = (variant: (typeof VARIANTS)[number], c: NodeCase, what: string) => checkNode(variant, c, { rtol: 0, atol: 0 }, what);

describe.each(VARIANTS)('Pad on WASM [%s]', (variant) => {
  it('matches the reference bit for bit on 500 random cases over every mode', () => {
    const r = rng(20261207);
    for (let t = 0; t < 500; t++) {
      const c = randomCase(r);
      exact(variant, c, `case ${t}: ${c.attrs!.mode} ${c.inputs[0]!.type} [${c.inputs[0]!.dims.join(',')}] pads ${(c.inputs[1]!.data as BigInt64Array).join(',')}${c.inputs[3] ? ` axes ${(c.inputs[3].data as BigInt64Array).join(',')}` : ''}`);
    }
  });

  it('reflect-pads audio frames as silero VAD does ([1, 512] by 64 on the last axis, and a 3-D frame batch)', () => {
    const r = rng(4);
    exact(variant, { op: 'Pad', attrs: { mode: 'reflect' }, inputs: [randomTensor([1, 512], r), ints([0, 64, 0, 64])], constants: [1] }, 'silero 2-D');
    exact(variant, { op: 'Pad', attrs: { mode: 'reflect' }, inputs: [randomTensor([1, 1, 512], r), ints([0, 0, 0, 0, 0, 64])], constants: [1] }, 'silero v5 3-D');
  });

  it('leaves run-time pads and pads with nothing to repeat to the reference', () => {
    const r = rng(5);
    const x = randomTensor([3, 4], r);
    expect(runNode(variant, { op: 'Pad', attrs: { mode: 'edge' }, inputs: [x, ints([1, 1, 1, 1])] }).kernel, 'run-time pads').toBeUndefined();
    expect(runNode(variant, {
      op: 'Pad', attrs: { mode: 'wrap' }, inputs: [x, ints([0, -4, 0, 2])], constants: [1], outputTypes: [{ dtype: 'float32', dims: [3, 2] }],
    }).kernel, 'axis cropped to nothing').toBeUndefined();
  });
});
