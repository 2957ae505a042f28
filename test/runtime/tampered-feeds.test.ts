// Tensor fields are readonly to TypeScript only. A feed whose data, dims or type was reassigned
// after construction must be refused by run() on every backend with an Error naming the input;
// the WASM backend used to read past the end of the view or throw an internal RangeError.
import { afterAll, describe, expect, it } from 'vitest';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { OptionalValue, TensorSequence } from '../../src/tensor/value.js';
import { reluModel } from '../helpers/onnx-build.js';

type Mutable = { -readonly [K in keyof Tensor]: unknown };

function tamper(t: Tensor, field: keyof Tensor, value: unknown): Tensor {
  (t as unknown as Mutable)[field] = value;
  return t;
}

const fresh = () => new Tensor('float32', Float32Array.of(1, -2, 3, -4, 5, -6, 7, -8), [2, 4]);

const cases: [string, () => Tensor, RegExp][] = [
  ['data shorter than dims', () => tamper(fresh(), 'data', new Float32Array(3)), /input 'x': float32 data has 3 elements but dims \[2, 4\] need 8/],
  ['data longer than dims', () => tamper(fresh(), 'data', new Float32Array(100)), /input 'x': float32 data has 100 elements/],
  ['data of the wrong typed-array class', () => tamper(fresh(), 'data', new Float64Array(8)), /input 'x': float32 data must be a Float32Array, got Float64Array/],
  ['data a plain array', () => tamper(fresh(), 'data', [1, 2, 3, 4, 5, 6, 7, 8]), /must be a Float32Array, got Array/],
  ['data null', () => tamper(fresh(), 'data', null), /must be a Float32Array, got null/],
  ['dims not an array', () => tamper(fresh(), 'dims', 8), /input 'x': dims must be an array/],
  ['dims with NaN', () => tamper(fresh(), 'dims', [2, NaN]), /input 'x'.*invalid dimension NaN/],
  ['dims negative', () => tamper(fresh(), 'dims', [-2, -4]), /input 'x'.*invalid dimension -2/],
  ['dims huge', () => tamper(fresh(), 'dims', [2 ** 20, 2 ** 20]), /input 'x'.*exceeds the limit/],
  ['dims reshaped to another size', () => tamper(fresh(), 'dims', [2, 2]), /input 'x': float32 data has 8 elements but dims \[2, 2\] need 4/],
  ['dims and data both replaced, size stale', () => tamper(tamper(fresh(), 'dims', [2, 8]), 'data', new Float32Array(16)), /size 8 disagrees with dims \[2, 8\]/],
  ['type renamed', () => tamper(fresh(), 'type', 'int32'), /input 'x': int32 data must be a Int32Array, got Float32Array/],
  ['type unknown', () => tamper(fresh(), 'type', 'complex64'), /input 'x': unsupported tensor type "complex64"/],
];

describe.each(['reference', 'wasm'] as const)('run() on %s refuses tampered feeds', (backend) => {
  let session: InferenceSession | undefined;
  const get = async () => (session ??= await InferenceSession.create(reluModel(['N', 4]), { backend, threads: 1 }));
  afterAll(async () => session?.release());

  it('runs an intact feed', async () => {
    const out = await (await get()).run({ x: fresh() });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([1, 0, 3, 0, 5, 0, 7, 0]);
  });

  it.each(cases)('%s', async (_, make, message) => {
    const s = await get();
    let caught: unknown;
    try {
      await s.run({ x: make() });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).constructor).toBe(Error);
    expect((caught as Error).message).toMatch(message);
  });

  it('a feed named like an Object.prototype member is "missing", not a prototype value', async () => {
    const s = await get();
    await expect(s.run({} as Record<string, Tensor>)).rejects.toThrow(/missing input 'x'/);
  });
});

describe('sequence and optional feeds are checked element by element', () => {
  it('refuses a tampered tensor inside a sequence', async () => {
    const { checkFeeds } = await import('../../src/runtime/feeds.js');
    const inputs = [{ name: 's', dtype: 'float32' as const, kind: 'sequence' as const }];
    const seq = new TensorSequence('float32', [fresh(), tamper(fresh(), 'data', new Float32Array(2))]);
    expect(() => checkFeeds(inputs, { s: seq })).toThrow(/input 's\[1\]': float32 data has 2 elements/);
    const opt = OptionalValue.of(tamper(fresh(), 'dims', [3]));
    expect(() => checkFeeds([{ name: 'o', dtype: 'float32', kind: 'optional' }], { o: opt })).toThrow(/input 'o': float32 data has 8 elements but dims \[3\]/);
  });

  it('an input named constructor is missing when not fed', async () => {
    const { checkFeeds } = await import('../../src/runtime/feeds.js');
    expect(() => checkFeeds([{ name: 'constructor', dtype: 'float32', shape: [1] }], {})).toThrow(/missing input 'constructor'/);
  });
});
