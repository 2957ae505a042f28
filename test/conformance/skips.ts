// Conformance tests a backend does not run, each with the reason. A skipped test is reported as
// skipped, never as passed.
import type { BackendName } from '../../src/backends/backend.js';

export const SKIPS: Record<BackendName, Record<string, string>> = {
  reference: {},
  wasm: {},
  webgpu: {},
};
