import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Node 20 validates Kiln's relaxed-SIMD WASM module only behind this flag.
    execArgv: ['--experimental-wasm-relaxed-simd'],
  },
});
