// One fuzz case, in the current process: apply the plan to its seed, then load, verify, compile
// and run on the reference and WASM backends, and judge what happened. The pool (pool.ts) runs
// this in a child process with a time and memory limit; hangs and crashes are judged there.
import { parseModel } from '../../src/runtime/load.js';
import { verifyGraph } from '../../src/graph/verify.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { saveKiln } from '../../src/io/kiln-format/index.js';
import { decodeTensorProto } from '../../src/io/onnx/tensor.js';
import { allocData, isFloatDType, type DType } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';
import type { ValueInfo } from '../../src/graph/ir.js';
import { applyBytes, applyJson, applyProto, kilnHeaderOf, withKilnHeader } from './apply.js';
import type { FeedEdit, Plan } from './plans.js';
import type { Seed } from './seeds.js';

export type Stage = 'mutate' | 'parse' | 'verify' | 'compile-reference' | 'compile-wasm' | 'feeds' | 'run-reference' | 'run-wasm' | 'compare';

/**
 * Finding classes (a bug) and notes (worth a look, not a bug by themselves):
 *  - non-error-throw: something other than an Error was thrown
 *  - internal-error: a TypeError/RangeError from the engine's own code (a missed check)
 *  - wasm-trap: a WebAssembly.RuntimeError (out-of-bounds access in a kernel)
 *  - wasm-accepts-invalid: the reference kernel refuses the inputs, WASM returns an answer
 *  - hang / crash: judged by the pool (time limit, process exit, out of memory)
 *  - note:reference-only-check: verify passed but the reference kernel threw (a shape-only check
 *    missing from the shape rule, or a value-dependent check)
 *  - note:resource: an allocation the host refused (huge but valid shapes)
 *  - mismatch: both backends ran and disagree beyond tolerance (a silent wrong answer in one)
 *  - note:overflow: the same, on feeds with values near the float32 limit, where a float32
 *    accumulation (WASM) overflows and a float64 one (reference) does not
 *  - note:wasm-only-refusal: the reference runs the case, WASM refuses it
 */
export interface Outcome {
  stage: Stage;
  kind: 'ok' | 'refused' | 'finding' | 'note';
  cls?: string;
  message?: string;
}

/** Messages V8 itself writes: these come from a missed check, never from a deliberate throw. */
const INTERNAL = /Cannot read propert|Cannot set propert|is not a function|is not iterable|is not a constructor|Cannot convert|Cannot mix BigInt|Invalid typed array length|Invalid array length|out of bounds|Offset is outside|Start offset|Maximum call stack|Invalid count value|Invalid string length|must be a BigInt|Cannot create property|undefined is not|null is not|Reduce of empty array|toFixed\(\) digits|Invalid code point|Division by zero/;
/** Host allocation failures (valid but huge shapes); Kiln's own "exceeds the limit" checks are refusals. */
const RESOURCE = /Array buffer allocation failed|Memory\.grow|Out of memory|could not allocate memory|WebAssembly\.Memory\(\)/i;

/** null for a clean Error; otherwise the class of finding. */
export function judge(e: unknown): { kind: 'finding' | 'note'; cls: string; message: string } | null {
  if (!(e instanceof Error)) return { kind: 'finding', cls: 'non-error-throw', message: `${typeof e}: ${String(e).slice(0, 200)}` };
  const message = e.message.slice(0, 300);
  if (e instanceof WebAssembly.RuntimeError) return { kind: 'finding', cls: 'wasm-trap', message };
  if (RESOURCE.test(message)) return { kind: 'note', cls: 'note:resource', message };
  if ((e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError || e instanceof ReferenceError) && (INTERNAL.test(message) || e instanceof ReferenceError)) {
    const at = (e.stack ?? "").split("\n").slice(1, process.env.FUZZ_STACK ? 12 : 3).map((l) => l.trim()).join(" | ");
    return { kind: 'finding', cls: `internal-${e.name}`, message: `${message} @ ${at}` };
  }
  return null;
}

/** Numbers from a small LCG: feed values are deterministic per plan. */
function rng(seed: number): () => number {
  let s = (seed >>> 0) || 7;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Largest feed the fuzzer builds: bigger declared shapes are refused before running. */
const MAX_FEED_ELEMENTS = 1 << 20;

function randomTensor(v: ValueInfo, symbols: Map<string, number>, rand: () => number, symbolSize: number): Tensor | undefined {
  const dims = (v.shape ?? [2]).map((d) => {
    if (typeof d === 'number') return d;
    if (!symbols.has(d)) symbols.set(d, symbolSize);
    return symbols.get(d)!;
  });
  const count = dims.reduce((a, b) => a * b, 1);
  if (!(count <= MAX_FEED_ELEMENTS)) return undefined;
  const data = allocData(v.dtype, count);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) data[i] = BigInt(Math.floor(rand() * 3));
  } else if (isFloatDType(v.dtype) && (data instanceof Float32Array || data instanceof Float64Array)) {
    for (let i = 0; i < data.length; i++) data[i] = rand() * 4 - 2;
  } else if (v.dtype === 'float16' || v.dtype === 'bfloat16') {
    for (let i = 0; i < data.length; i++) data[i] = v.dtype === 'float16' ? 0x3c00 : 0x3f80; // 1.0
  } else if (v.dtype === 'bool') {
    for (let i = 0; i < data.length; i++) data[i] = rand() < 0.5 ? 1 : 0;
  } else {
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 3);
  }
  return new Tensor(v.dtype, data, dims);
}

type Feeds = Record<string, unknown>;

/** Recorded inputs when they still fit the (possibly edited) declared inputs; random ones otherwise. */
function buildFeeds(inputs: readonly ValueInfo[], seed: Seed, plan: Plan): Feeds | undefined {
  const rand = rng(plan.values);
  const symbolEdit = plan.feeds?.find((f): f is Extract<FeedEdit, { k: 'symbol-size' }> => f.k === 'symbol-size');
  const symbols = new Map<string, number>();
  const feeds: Feeds = {};
  for (const [i, v] of inputs.entries()) {
    let t: Tensor | undefined;
    const recorded = seed.inputs?.[i];
    if (recorded && !symbolEdit) {
      try {
        const r = decodeTensorProto(recorded, 'recorded input');
        const fits = r.type === v.dtype && (!v.shape || (v.shape.length === r.dims.length && v.shape.every((d, k) => typeof d !== 'number' || d === r.dims[k])));
        if (fits) t = r;
      } catch {
        t = undefined;
      }
    }
    if (v.kind && v.kind !== 'tensor') return undefined; // sequences and optionals: not generated here
    t ??= randomTensor(v, symbols, rand, symbolEdit?.size ?? 1 + Math.floor(rand() * 3));
    if (!t) return undefined;
    feeds[v.name] = t;
  }
  for (const e of plan.feeds ?? []) tamper(feeds, inputs, e);
  return feeds;
}

type Mutable = { -readonly [K in keyof Tensor]: unknown };

function tamper(feeds: Feeds, inputs: readonly ValueInfo[], e: FeedEdit): void {
  if (e.k === 'symbol-size') return;
  if (e.k === 'extra') {
    feeds[e.name] = new Tensor('float32', Float32Array.of(1), [1]);
    return;
  }
  const v = inputs.length ? inputs[e.input % inputs.length] : undefined;
  if (!v) return;
  const t = feeds[v.name] as Tensor | undefined;
  if (!t) return;
  const m = t as unknown as Mutable;
  // An earlier edit may have replaced data with null; edits that read it then do nothing.
  const hasData = t.data !== null && typeof t.data === 'object';
  if (!hasData && (e.k === 'data-length' || e.k === 'element' || e.k === 'special-values' || e.k === 'data-class')) return;
  switch (e.k) {
    case 'missing':
      delete feeds[v.name];
      return;
    case 'data-length': {
      const n = Math.max(0, t.data.length + e.delta);
      m.data = new (t.data.constructor as new (n: number) => unknown)(n);
      return;
    }
    case 'data-class': {
      const ctors: Record<string, ((n: number) => unknown) | undefined> = {
        Float64Array: (n) => new Float64Array(n), Int32Array: (n) => new Int32Array(n), Uint8Array: (n) => new Uint8Array(n),
        Array: (n) => new Array<number>(n).fill(0), null: () => null, BigInt64Array: (n) => new BigInt64Array(n), Uint16Array: (n) => new Uint16Array(n),
      };
      const make = Object.hasOwn(ctors, e.cls) ? ctors[e.cls] : undefined;
      if (make) m.data = make(t.data.length);
      return;
    }
    case 'dims':
      m.dims = e.dims;
      return;
    case 'dims-not-array':
      m.dims = t.size;
      return;
    case 'type-field':
      m.type = e.type;
      return;
    case 'wrong-dtype': {
      try {
        feeds[v.name] = new Tensor(e.type as DType, allocData(e.type as DType, t.size), t.dims);
      } catch {
        // not a Kiln dtype: an object shaped like a tensor instead
        feeds[v.name] = { type: e.type, data: new Float32Array(t.size), dims: t.dims };
      }
      return;
    }
    case 'element': {
      // One chosen value (an index, a size, a scale) at one position: the value-dependent paths.
      const d = t.data as unknown as { length: number; [i: number]: number | bigint };
      if (!d.length) return;
      const at = e.pos % d.length;
      if (d instanceof BigInt64Array || d instanceof BigUint64Array) d[at] = BigInt.asIntN(64, BigInt(Number.isFinite(e.value) ? Math.trunc(e.value) : 0));
      else d[at] = e.value;
      return;
    }
    case 'special-values': {
      const d = t.data;
      if (d instanceof Float32Array || d instanceof Float64Array) {
        const x = { NaN, Infinity, '-Infinity': -Infinity, '-0': -0, max: 3.4e38, min: -3.4e38 }[e.value];
        for (let i = 0; i < d.length; i += 2) d[i] = x;
      } else if (d instanceof BigInt64Array) {
        const x = e.value === 'min' ? -(2n ** 63n) : 2n ** 63n - 1n;
        for (let i = 0; i < d.length; i += 2) d[i] = x;
      } else if (d instanceof Int32Array || d instanceof Int8Array || d instanceof Uint8Array) {
        for (let i = 0; i < d.length; i += 2) d[i] = e.value === 'min' ? -(2 ** 31) : 2 ** 31 - 1;
      }
      return;
    }
  }
}

async function attempt<T>(stage: Stage, f: () => T | Promise<T>): Promise<{ value: T } | { outcome: Outcome; error: unknown }> {
  try {
    return { value: await f() };
  } catch (e) {
    const j = judge(e);
    const outcome: Outcome = j ? { stage, kind: j.kind, cls: j.cls, message: j.message } : { stage, kind: 'refused', message: (e as Error).message.slice(0, 300) };
    return { outcome, error: e };
  }
}

const kilnCache = new WeakMap<Seed, Uint8Array>();
function kilnOf(seed: Seed): Uint8Array {
  let k = kilnCache.get(seed);
  if (!k) kilnCache.set(seed, (k = saveKiln(parseModel(seed.onnx))));
  return k;
}

function modelBytes(plan: Plan, seed: Seed): Uint8Array {
  switch (plan.target) {
    case 'onnx-bytes': return applyBytes(seed.onnx, plan.bytes ?? []);
    case 'onnx-proto': return applyProto(seed.onnx, plan.proto ?? []);
    case 'kiln-bytes': return applyBytes(kilnOf(seed), plan.bytes ?? []);
    case 'kiln-header': return withKilnHeader(kilnOf(seed), applyJson(kilnHeaderOf(kilnOf(seed)), plan.json ?? []));
    case 'feeds': return seed.onnx;
  }
}

/** Where two outputs first disagree beyond float tolerance (NaN must match NaN), or undefined. */
function difference(a: Tensor, b: Tensor): string | undefined {
  if (a.type !== b.type || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return `${a.type} [${a.dims.join(', ')}] vs ${b.type} [${b.dims.join(', ')}]`;
  const x = a.data as ArrayLike<number | bigint>;
  const y = b.data as ArrayLike<number | bigint>;
  if (x.length !== y.length) return `${x.length} vs ${y.length} elements`;
  const at = firstDifference(a, x, y);
  return at < 0 ? undefined : `element ${at}: ${String(x[at])} vs ${String(y[at])}`;
}

function firstDifference(a: Tensor, x: ArrayLike<number | bigint>, y: ArrayLike<number | bigint>): number {
  const float = isFloatDType(a.type) && a.type !== 'float16' && a.type !== 'bfloat16';
  let scale = 0;
  if (float) for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i] as number)) scale = Math.max(scale, Math.abs(x[i] as number));
  for (let i = 0; i < x.length; i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (!float) {
      if (p !== q) return i;
      continue;
    }
    const [u, v] = [p as number, q as number];
    if (Number.isNaN(u) || Number.isNaN(v)) {
      if (Number.isNaN(u) !== Number.isNaN(v)) return i;
      continue;
    }
    if (u === v) continue;
    if (Math.abs(u - v) > 1e-3 * Math.max(Math.abs(u), Math.abs(v)) + 1e-4 * scale + 1e-5) return i;
  }
  return -1;
}

/**
 * Whether any float feed or weight holds a value whose products or sums can overflow float32
 * (byte edits of a .kiln data section easily make weights of 1e32).
 */
function extremeValues(tensors: Iterable<unknown>): boolean {
  for (const t of tensors) {
    const d = (t as { data?: unknown } | undefined)?.data;
    if (!(d instanceof Float32Array || d instanceof Float64Array)) continue;
    for (let i = 0; i < d.length; i++) if (!(Math.abs(d[i]!) < 1e18) && !Number.isNaN(d[i]!)) return true;
  }
  return false;
}

export async function runCase(plan: Plan, seeds: readonly Seed[]): Promise<Outcome> {
  const seed = seeds[plan.seed % seeds.length]!;
  let bytes: Uint8Array;
  try {
    bytes = modelBytes(plan, seed);
  } catch (e) {
    // The mutator could not write this edit (an encoder refusing a value): not a Kiln outcome.
    return { stage: 'mutate', kind: 'ok', message: `skipped: ${(e as Error).message}` };
  }
  const parsed = await attempt('parse', () => parseModel(bytes));
  if ('outcome' in parsed) return parsed.outcome;
  const verified = await attempt('verify', () => verifyGraph(parsed.value));
  if ('outcome' in verified) return verified.outcome;
  // A .kiln graph may declare no outputs (the format round-trips empty graphs): nothing can be
  // asked of it, and which dead nodes a backend still runs is not an answer to compare.
  if (parsed.value.outputs.length === 0) return { stage: 'verify', kind: 'ok', message: 'skipped: the graph declares no outputs' };

  const ref = await attempt('compile-reference', () => InferenceSession.create(parseModel(bytes), { backend: 'reference' }));
  if ('outcome' in ref) return ref.outcome;
  // A quarter of the cases run WASM on 3 threads: work split over an odd pool meets sizes that
  // do not divide evenly (the plan's value seed picks, so a replay gets the same pool).
  const threads = plan.values % 4 === 0 ? 3 : 1;
  const wasm = await attempt('compile-wasm', () => InferenceSession.create(parseModel(bytes), { backend: 'wasm', threads }));
  try {
    if ('outcome' in wasm) return wasm.outcome;
    const feeds = buildFeeds(ref.value.inputMetadata, seed, plan);
    if (!feeds) return { stage: 'feeds', kind: 'ok', message: 'skipped: inputs too large or not tensors' };
    const r = await attempt('run-reference', () => ref.value.run(feeds as never));
    const w = await attempt('run-wasm', () => wasm.value.run(feeds as never));
    for (const x of [r, w]) if ('outcome' in x && x.outcome.kind === 'finding') return x.outcome;
    if ('outcome' in r && !('outcome' in w)) {
      if (r.outcome.kind === 'refused') {
        return { stage: 'run-wasm', kind: 'finding', cls: 'wasm-accepts-invalid', message: `reference refuses (${r.outcome.message}) but WASM returns outputs` };
      }
      return r.outcome;
    }
    if ('outcome' in r) {
      // Both refused. A refusal only at run time after verify passed: an audit lead for shape rules.
      const feedsProblem = /^run\(\)/.test(r.outcome.message ?? '');
      return feedsProblem || r.outcome.kind !== 'refused' ? r.outcome : { ...r.outcome, kind: 'note', cls: 'note:reference-only-check' };
    }
    if ('outcome' in w) return w.outcome.kind === 'refused' ? { ...w.outcome, kind: 'note', cls: 'note:wasm-only-refusal' } : w.outcome;
    for (const name of Object.keys(r.value)) {
      const diff = difference(r.value[name]!, w.value[name]!);
      if (!diff) continue;
      const message = `output '${name}' differs between reference and WASM (${diff})`;
      return extremeValues(Object.values(feeds)) || extremeValues(parsed.value.initializers.values()) ? { stage: 'compare', kind: 'note', cls: 'note:overflow', message } : { stage: 'compare', kind: 'finding', cls: 'mismatch', message };
    }
    return { stage: 'compare', kind: 'ok' };
  } finally {
    await ref.value.release();
    if (!('outcome' in wasm)) await wasm.value.release();
  }
}
