// How an op gets a WASM kernel. At plan time a factory sees the node with concrete shapes and
// returns a prepared kernel (or undefined: the node then falls back to the reference kernel and the
// plan says so). Prepared kernels pack constant weights once into persistent memory and run on
// pointers the memory planner assigned; nothing allocates while a model runs.
import type { Node } from '../../graph/ir.js';
import type { Attrs } from '../../ops/attrs.js';
import type { DType } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { KilnWasmExports, WasmVariant } from './loader.js';
import type { ThreadPool } from './threads/pool.js';

/** A concrete value type at plan time. */
export interface PlannedType {
  dtype: DType;
  dims: readonly number[];
}

/** A value placed in linear memory. */
export interface WasmValue extends PlannedType {
  ptr: number;
  byteLength: number;
}

/** Access to the session's memory; views are re-created after the memory grows. */
export interface WasmMemory {
  /** The WebAssembly.Memory itself (some wrappers take it directly). */
  readonly memory: WebAssembly.Memory;
  readonly exports: KilnWasmExports;
  readonly variant: WasmVariant;
  buffer(): ArrayBuffer;
  f32(ptr: number, length: number): Float32Array;
  i32(ptr: number, length: number): Int32Array;
  u8(ptr: number, length: number): Uint8Array;
  i8(ptr: number, length: number): Int8Array;
  /** Copies a tensor's bytes to ptr. */
  write(ptr: number, t: Tensor): void;
  /** The session's worker pool (absent when single-threaded). */
  readonly pool: ThreadPool | undefined;
  /** Bytes between per-thread scratch slices: thread t uses scratchPtr + t * scratchStride. */
  readonly scratchStride: number;
}

export interface WasmPlanContext {
  node: Node;
  attrs: Attrs;
  /** undefined for omitted optional inputs. */
  inputs: readonly (PlannedType | undefined)[];
  outputs: readonly PlannedType[];
  /** Value of input i when it is a constant (initializer or folded). */
  constant(i: number): Tensor | undefined;
  variant: WasmVariant;
  /** The module's exports, for plan-time sizes (packed weight bytes, scratch bytes). */
  exports: KilnWasmExports;
  /** The session memory and 256 free bytes at tempPtr, for plan-time size queries only. */
  memory: WasmMemory;
  tempPtr: number;
}

export interface PreparedKernel {
  /** Bytes of persistent memory for packed weights (written once by init). */
  persistentBytes?: number;
  /** Bytes of scratch memory needed while running (shared by all kernels). */
  scratchBytes?: number;
  /** Inputs the kernel reads only from its packed copy: the planner need not place them. */
  packedInputs?: readonly number[];
  /** Output 0 is a view of input i's bytes (Reshape and friends): no copy, no kernel call. */
  aliasOf?: number;
  /** The kernel splits its work over mem.pool when there is one (the plan then starts the pool). */
  threaded?: boolean;
  /**
   * Packs constants into persistent memory at persistentPtr. The scratch region is free during
   * init (e.g. to stage raw weights before packing); scratchBytes must cover what init uses.
   */
  init?(mem: WasmMemory, persistentPtr: number, scratchPtr: number): void;
  run(mem: WasmMemory, inputs: readonly (WasmValue | undefined)[], outputs: readonly WasmValue[], scratchPtr: number, persistentPtr: number): void;
}

export type WasmKernelFactory = (ctx: WasmPlanContext) => PreparedKernel | undefined;

const factories = new Map<string, WasmKernelFactory[]>();

/** Registers a kernel for an op; several may register, the first that accepts a node wins. */
export function registerWasmKernel(op: string, factory: WasmKernelFactory, domain = ''): void {
  const key = domain ? `${domain}::${op}` : op;
  const list = factories.get(key) ?? [];
  list.push(factory);
  factories.set(key, list);
}

export function wasmFactoriesFor(node: Node): readonly WasmKernelFactory[] {
  return factories.get(node.domain ? `${node.domain}::${node.op}` : node.op) ?? [];
}
