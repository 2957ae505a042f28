// Random generators: RandomUniform, RandomNormal and their *Like forms. ONNX leaves the generator
// to the runtime; with a `seed` attribute Kiln's output is reproducible (the same seed gives the
// same values on every run and backend), without one each run draws fresh values. Passes must never
// evaluate these at compile time (constant folding skips them by name: NONDETERMINISTIC_OPS).
import type { DType } from '../tensor/dtype.js';
import { dtypeOfOnnxCode } from '../tensor/dtype.js';
import { fromNumbers } from '../tensor/convert.js';
import { seededRandom } from '../tensor/seeded-random.js';
import type { Attrs } from './attrs.js';
import { defineOp } from './registry.js';
import { ALL_TYPES, inputType } from './util.js';

const OUT_TYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

function outDType(attrs: Attrs, fallback: DType, where: string): DType {
  if (!attrs.has('dtype')) return fallback;
  const d = dtypeOfOnnxCode(attrs.int('dtype'));
  if (!d || !OUT_TYPES.includes(d)) throw new Error(`${where}: dtype ${attrs.int('dtype')} is not a float type (${OUT_TYPES.join(', ')})`);
  return d;
}

/** mulberry32 (good enough for test data and dropout masks), seeded from the attribute or at random. */
function generator(attrs: Attrs): () => number {
  const seed = attrs.optFloat('seed');
  return seededRandom(seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : (Math.trunc(seed * 1000003) ^ 0x9e3779b9) >>> 0);
}

function draw(kind: 'uniform' | 'normal', attrs: Attrs, n: number): Float64Array {
  const next = generator(attrs);
  const out = new Float64Array(n);
  if (kind === 'uniform') {
    const low = attrs.optFloat('low') ?? 0;
    const high = attrs.optFloat('high') ?? 1;
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * next();
  } else {
    const mean = attrs.optFloat('mean') ?? 0;
    const scale = attrs.optFloat('scale') ?? 1;
    // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
    for (let i = 0; i < n; i++) out[i] = mean + scale * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  }
  return out;
}

const ATTRS = {
  uniform: { low: { type: 'float' }, high: { type: 'float' } },
  normal: { mean: { type: 'float' }, scale: { type: 'float' } },
} as const;

for (const kind of ['uniform', 'normal'] as const) {
  const name = kind === 'uniform' ? 'RandomUniform' : 'RandomNormal';
  defineOp({
    name,
    inputs: [],
    outputs: [{ name: 'output' }],
    attrs: { ...ATTRS[kind], seed: { type: 'float' }, dtype: { type: 'int' }, shape: { type: 'ints' } },
    inferShape: (ctx) => [{ dtype: outDType(ctx.attrs, 'float32', ctx.where), shape: ctx.attrs.ints('shape') }],
    reference: (_, ctx) => {
      const shape = ctx.attrs.ints('shape');
      if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${ctx.where}: shape [${shape.join(', ')}] has negative dims`);
      const n = shape.reduce((a, b) => a * b, 1);
      return [fromNumbers(outDType(ctx.attrs, 'float32', ctx.where), draw(kind, ctx.attrs, n), shape)];
    },
  });
  defineOp({
    name: `${name}Like`,
    inputs: [{ name: 'input', types: ALL_TYPES }],
    outputs: [{ name: 'output' }],
    attrs: { ...ATTRS[kind], seed: { type: 'float' }, dtype: { type: 'int' } },
    inferShape: (ctx) => {
      const x = inputType(ctx, 0);
      return [{ dtype: outDType(ctx.attrs, OUT_TYPES.includes(x.dtype) ? x.dtype : 'float32', ctx.where), ...(x.shape ? { shape: x.shape } : {}) }];
    },
    reference: ([x], ctx) => {
      // Without a dtype attribute the output takes the input's, which must then be a float type.
      const dtype = outDType(ctx.attrs, x!.type, ctx.where);
      if (!OUT_TYPES.includes(dtype)) throw new Error(`${ctx.where}: input is ${x!.type}; set 'dtype' to a float type`);
      return [fromNumbers(dtype, draw(kind, ctx.attrs, x!.size), [...x!.dims])];
    },
  });
}
