// Runs one node through its WASM kernel factory on a memory laid out here, and through the
// reference kernel, so op tests can compare the two. Mirrors what the backend's executable does:
// plan-time factory call with concrete types, persistent block + init (scratch free to use),
// inputs placed (packed ones withheld), aliasing honoured, outputs pre-filled with NaN bytes to
// catch unwritten elements.
import { expect } from 'vitest';
import type { AttrValue, Node } from '../../src/graph/ir.js';
import '../../src/ops/index.js';
import '../../src/backends/wasm/ops/index.js';
import { evalNodeReference } from '../../src/ops/invoke.js';
import { attrsOf, getOp } from '../../src/ops/registry.js';
import { wasmFactoriesFor, type PreparedKernel, type WasmMemory, type WasmValue } from '../../src/backends/wasm/kernel.js';
import type { KilnWasmExports, WasmVariant } from '../../src/backends/wasm/loader.js';
import { byteLengthOf, viewData, type DType } from '../../src/tensor/dtype.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { kernelModule } from './module-setup.js';

export { rng, VARIANTS } from './module-setup.js';

const PAGE = 65536;
const align = (n: number, a = 64) => Math.ceil(n / a) * a;

/** A WasmMemory over one instance with a bump allocator above the module's static data. */
export class TestMemory implements WasmMemory {
  readonly memory: WebAssembly.Memory;
  readonly exports: KilnWasmExports;
  /** Kernels under test run single-threaded. */
  readonly pool = undefined;
  readonly scratchStride = 0;
  private readonly base: number;
  private top: number;

  constructor(readonly variant: WasmVariant) {
    ({ memory: this.memory, exports: this.exports } = kernelModule(variant, 16));
    this.base = align(this.exports.heapBase());
    this.top = this.base;
  }

  buffer(): ArrayBuffer { return this.memory.buffer as ArrayBuffer; }
  f32(ptr: number, length: number): Float32Array { return new Float32Array(this.memory.buffer, ptr, length); }
  i32(ptr: number, length: number): Int32Array { return new Int32Array(this.memory.buffer, ptr, length); }
  u8(ptr: number, length: number): Uint8Array { return new Uint8Array(this.memory.buffer, ptr, length); }
  i8(ptr: number, length: number): Int8Array { return new Int8Array(this.memory.buffer, ptr, length); }

  write(ptr: number, t: Tensor): void {
    const n = byteLengthOf(t.type, t.size);
    this.u8(ptr, n).set(new Uint8Array(t.data.buffer, t.data.byteOffset, n));
  }

  /** Forgets every allocation. */
  reset(): void { this.top = this.base; }

  /** `bytes` fresh bytes, 64-byte aligned, filled with 0xff (a NaN pattern for f32). */
  alloc(bytes: number, fill = 0xff): number {
    const ptr = this.top;
    this.top = align(ptr + Math.max(bytes, 1));
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / PAGE));
    this.u8(ptr, bytes).fill(fill);
    return ptr;
  }

  /** Places a tensor and returns its value record. */
  place(t: Tensor): WasmValue {
    const byteLength = byteLengthOf(t.type, t.size);
    const ptr = this.alloc(byteLength);
    this.write(ptr, t);
    return { dtype: t.type, dims: t.dims, ptr, byteLength };
  }

  read(v: WasmValue): Tensor {
    const size = v.dims.reduce((a, b) => a * b, 1);
    const bytes = this.buffer().slice(v.ptr, v.ptr + v.byteLength);
    return new Tensor(v.dtype, viewData(v.dtype, bytes, 0, size), v.dims);
  }
}

const memories = new Map<WasmVariant, TestMemory>();

export function testMemory(variant: WasmVariant): TestMemory {
  let m = memories.get(variant);
  if (!m) memories.set(variant, (m = new TestMemory(variant)));
  m.reset();
  return m;
}

export interface NodeCase {
  op: string;
  attrs?: Record<string, AttrValue>;
  /** undefined entries are omitted optional inputs. */
  inputs: readonly (Tensor | undefined)[];
  /** Input indices the plan sees as constants (initializers). */
  constants?: readonly number[];
  /** Number of outputs the node names (default 1). */
  outputs?: number;
  /** Output types to plan with instead of running the reference (for inputs it rejects). */
  outputTypes?: { dtype: DType; dims: number[] }[];
}

export interface NodeRun {
  /** undefined when no WASM factory accepted the node (it would fall back). */
  kernel?: PreparedKernel;
  actual: Tensor[];
  expected: Tensor[];
}

let nodeCounter = 0;

/** Plans and runs a node on the WASM kernel (if one accepts it) and on the reference kernel. */
export function runNode(variant: WasmVariant, c: NodeCase): NodeRun {
  const names = c.inputs.map((t, i) => (t ? `in${i}` : ''));
  const outCount = c.outputs ?? 1;
  const node: Node = {
    name: `n${++nodeCounter}`, op: c.op, domain: '', inputs: names,
    outputs: Array.from({ length: outCount }, (_, i) => `out${i}`), attrs: c.attrs ?? {},
  };
  const expected = c.outputTypes
    ? c.outputTypes.map((t) => Tensor.zeros(t.dtype, t.dims))
    : evalNodeReference(node, c.inputs);
  const constants = new Set(c.constants ?? []);
  const mem = testMemory(variant);
  const tempPtr = mem.alloc(256, 0);
  const ctx = {
    node,
    attrs: attrsOf(getOp('', c.op), node),
    inputs: c.inputs.map((t) => (t ? { dtype: t.type, dims: t.dims } : undefined)),
    outputs: expected.slice(0, outCount).map((t) => ({ dtype: t.type, dims: t.dims })),
    constant: (i: number) => (constants.has(i) ? c.inputs[i] : undefined),
    variant,
    exports: mem.exports,
    memory: mem,
    tempPtr,
  };
  let kernel: PreparedKernel | undefined;
  for (const f of wasmFactoriesFor(node)) if ((kernel = f(ctx))) break;
  if (!kernel) return { actual: [], expected };

  const persistentPtr = mem.alloc(kernel.persistentBytes ?? 0, 0xcd);
  const scratchPtr = mem.alloc(kernel.scratchBytes ?? 0, 0xee);
  kernel.init?.(mem, persistentPtr, scratchPtr);
  const packed = new Set(kernel.packedInputs ?? []);
  const inputs = c.inputs.map((t, i) => (t && !packed.has(i) ? mem.place(t) : undefined));
  const outputs: WasmValue[] = ctx.outputs.map((o, i) => {
    if (i === 0 && kernel!.aliasOf !== undefined) return { ...o, ptr: inputs[kernel!.aliasOf]!.ptr, byteLength: inputs[kernel!.aliasOf]!.byteLength };
    const byteLength = byteLengthOf(o.dtype, o.dims.reduce((a, b) => a * b, 1));
    return { ...o, ptr: mem.alloc(byteLength), byteLength };
  });
  mem.u8(scratchPtr, kernel.scratchBytes ?? 0).fill(0xee);
  // Like the executable: an aliasing kernel is not run when the bytes are shared.
  if (kernel.aliasOf === undefined) kernel.run(mem, inputs, outputs, scratchPtr, persistentPtr);
  return { kernel, actual: outputs.map((o) => mem.read(o)), expected };
}

export function randomTensor(dims: readonly number[], r: () => number, scale = 1, dtype: DType = 'float32'): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (dtype === 'float32') return new Tensor('float32', Float32Array.from({ length: n }, () => r() * scale), dims);
  if (dtype === 'bool') return new Tensor('bool', Uint8Array.from({ length: n }, () => (r() > 0 ? 1 : 0)), dims);
  if (dtype === 'int64') return new Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(Math.round(r() * scale))), dims);
  if (dtype === 'int32') return new Tensor('int32', Int32Array.from({ length: n }, () => Math.round(r() * scale)), dims);
  if (dtype === 'int8') return new Tensor('int8', Int8Array.from({ length: n }, () => Math.round(r() * 127)), dims);
  if (dtype === 'uint8') return new Tensor('uint8', Uint8Array.from({ length: n }, () => Math.round((r() + 1) * 127)), dims);
  throw new Error(`randomTensor: ${dtype}`);
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/**
 * Elementwise agreement: NaN matches NaN, infinities match exactly, other floats within
 * atol + rtol * |expected|; non-float dtypes must be identical.
 */
export function expectClose(actual: Tensor, expected: Tensor, tol: Tolerance = {}, what = ''): void {
  expect(actual.type, `${what} dtype`).toBe(expected.type);
  expect([...actual.dims], `${what} dims`).toEqual([...expected.dims]);
  if (expected.type !== 'float32') {
    expect(Array.from(actual.data as ArrayLike<number | bigint>), what).toEqual(Array.from(expected.data as ArrayLike<number | bigint>));
    return;
  }
  const rtol = tol.rtol ?? 1e-6;
  const atol = tol.atol ?? 1e-7;
  const a = actual.data as Float32Array;
  const e = expected.data as Float32Array;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(y) ? Number.isNaN(x) : !Number.isFinite(y) ? x === y : Math.abs(x - y) <= atol + rtol * Math.abs(y)) continue;
    expect.fail(`${what} element ${i} of [${expected.dims.join(', ')}]: got ${x}, expected ${y}`);
  }
}

/** Runs the case and requires a WASM kernel that agrees with the reference. */
export function checkNode(variant: WasmVariant, c: NodeCase, tol: Tolerance = {}, what = c.op): NodeRun {
  const r = runNode(variant, c);
  expect(r.kernel, `${what}: no WASM kernel accepted the node`).toBeDefined();
  r.actual.forEach((a, i) => expectClose(a, r.expected[i]!, tol, `${what} [${variant}] output ${i}`));
  return r;
}
