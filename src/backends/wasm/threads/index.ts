// Multi-threaded kernel dispatch for the WASM backend (see pool.ts).
export { DEFAULT_MAX_THREADS, ThreadPool, defaultThreadCount, type RunOptions, type ThreadPoolOptions } from './pool.js';
export { DEFAULT_KERNELS, GEMM_MIN_FLOPS_PER_THREAD, gemmF32Split, type GemmSplit } from './kernels.js';
export type { KernelTable, ThreadKernel } from './protocol.js';
