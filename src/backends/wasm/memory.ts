// The session's WebAssembly.Memory, with typed views and tensor copies in and out.
import { byteLengthOf, viewData } from '../../tensor/dtype.js';
import { Tensor } from '../../tensor/tensor.js';
import type { WasmMemory, WasmValue } from './kernel.js';
import type { KilnWasmExports, WasmVariant } from './loader.js';
import type { ThreadPool } from './threads/pool.js';

const PAGE = 65536;
/** The modules declare at most 65536 pages (4 GiB); browsers often stop earlier. */
export const MAX_WASM_BYTES = 65536 * PAGE;

export class SessionMemory implements WasmMemory {
  /** Workers sharing this memory, when the session runs with more than one thread. */
  pool: ThreadPool | undefined;
  /** Bytes between the per-thread scratch slices of the active plan. */
  scratchStride = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    readonly exports: KilnWasmExports,
    readonly variant: WasmVariant,
  ) {}

  buffer(): ArrayBuffer {
    return this.memory.buffer as ArrayBuffer;
  }

  /** Grows the memory so that `bytes` bytes are addressable. */
  ensure(bytes: number): void {
    if (bytes > MAX_WASM_BYTES) {
      throw new Error(`the WASM plan needs ${bytes} bytes, beyond WebAssembly's 4 GiB memory limit`);
    }
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    try {
      this.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch (e) {
      throw new Error(`cannot grow WASM memory to ${bytes} bytes: ${(e as Error).message}`);
    }
  }

  f32(ptr: number, length: number): Float32Array { return new Float32Array(this.memory.buffer, ptr, length); }
  i32(ptr: number, length: number): Int32Array { return new Int32Array(this.memory.buffer, ptr, length); }
  u8(ptr: number, length: number): Uint8Array { return new Uint8Array(this.memory.buffer, ptr, length); }
  i8(ptr: number, length: number): Int8Array { return new Int8Array(this.memory.buffer, ptr, length); }

  write(ptr: number, t: Tensor): void {
    const n = byteLengthOf(t.type, t.size);
    this.u8(ptr, n).set(new Uint8Array(t.data.buffer, t.data.byteOffset, n));
  }

  /** Copies a placed value out into a new host tensor. */
  read(v: WasmValue): Tensor {
    const size = v.dims.reduce((a, b) => a * b, 1);
    // Always a plain ArrayBuffer, also when the session memory is shared: some web APIs refuse
    // views of a SharedArrayBuffer.
    const bytes = new ArrayBuffer(v.byteLength);
    new Uint8Array(bytes).set(this.u8(v.ptr, v.byteLength));
    return new Tensor(v.dtype, viewData(v.dtype, bytes, 0, size), v.dims);
  }
}
