// Multi-threaded kernel dispatch for the WASM backend (see pool.ts).
export { ThreadPool, defaultThreadCount, type RunOptions, type ThreadPoolOptions } from './pool.js';
export { DEFAULT_KERNELS } from './kernels.js';
export type { KernelTable, ThreadKernel } from './protocol.js';
