// Kiln's real-model set (test/models/real-models.ts: trained models from npm packages) through the
// public session API, Kiln's WASM backend against onnxruntime-web's WASM EP, at 1 thread and at 2
// (Kiln's default thread count on this 2-core machine: min(hardware threads, 4)).
import { REAL_MODELS, realModelBytes, realModelPath } from '../../test/models/real-models.js';
import { lazy } from './data.js';
import { kilnModelAdapter } from './kiln-models.js';
import { ortAdapter } from './ort.js';
import { NotAvailable, type Case, type Suite } from './types.js';

export const realModels: Suite = {
  name: 'real-models',
  description: 'trained models from npm packages at batch 1: Kiln InferenceSession (wasm) vs onnxruntime-web (wasm EP)',
  cases: () =>
    REAL_MODELS.map((m): Case => {
      const bytes = lazy(() => {
        if (!realModelPath(m)) throw new NotAvailable(`${m.pkg} is not installed`);
        return realModelBytes(m, 'bench');
      });
      const feeds = lazy(() => (m.benchFeeds ?? m.feeds)());
      return {
        suite: 'real-models',
        id: `real-models/${m.id}`,
        label: m.label,
        adapters: [kilnModelAdapter(bytes, feeds, 1), ortAdapter(bytes, feeds, 1), kilnModelAdapter(bytes, feeds, 2), ortAdapter(bytes, feeds, 2)],
        reference: 'onnxruntime-web',
        tolerance: m.tolerance,
      };
    }),
};
