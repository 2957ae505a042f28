// Issue 8's whole-model sparse targets: the MLP 784-1024-1024-10 next to its pruned self, both
// through Kiln's public session API on WASM at 1 thread, batch 1. The pruned models are made the way
// a user makes them: pruneMagnitude (90% of each layer, or 2:4 along K), then sparsify measuring the
// kernels on this host, then saveKiln; the session loads the .kiln bytes. Each row is checked against
// a float64 forward pass of its own weights (the pruned model computes another function).
import type { Graph } from '../../src/graph/ir.js';
import { saveKiln } from '../../src/io/kiln-format/index.js';
import { pruneMagnitude } from '../../src/passes/prune/magnitude.js';
import { sparsify, type SparsifiedLayer } from '../../src/passes/sparsify.js';
import { parseModel } from '../../src/runtime/load.js';
import { lazy } from './data.js';
import { kilnModelAdapter } from './kiln-models.js';
import { mlpModel, randomF32 } from './onnx-models.js';
import type { OrtFeed } from './ort.js';
import type { Adapter, Case, Output } from './types.js';

export const SPARSE_DENSE_ENGINE = 'kiln-wasm dense';
export const SPARSE_MODEL_ENGINE = 'kiln-wasm sparse';

const SIZES = [784, 1024, 1024, 10] as const;

/** y = W_L relu(... relu(W_1 x + b_1) ...) + b_L in float64, from the Gemm(transB) initializers w<l>, b<l>. */
function mlpForward(g: Graph, x: Float32Array): Float32Array {
  let h = Float64Array.from(x);
  for (let l = 0; l + 1 < SIZES.length; l++) {
    const w = g.initializers.get(`w${l}`)!.data as Float32Array;
    const b = g.initializers.get(`b${l}`)!.data as Float32Array;
    const [fin, fout] = [SIZES[l]!, SIZES[l + 1]!];
    const out = new Float64Array(fout);
    for (let o = 0; o < fout; o++) {
      let s = b[o]!;
      for (let i = 0; i < fin; i++) s += w[o * fin + i]! * h[i]!;
      out[o] = l + 2 === SIZES.length ? s : Math.max(0, s);
    }
    h = out;
  }
  return Float32Array.from(h);
}

function layoutNote(layers: SparsifiedLayer[]): string {
  return 'layouts by measurement: ' + layers.map((l) => `${l.N}x${l.K} ${l.layout}`).join(', ');
}

export function sparseModelCases(): Case[] {
  const dense = lazy(() => parseModel(mlpModel(3, SIZES)));
  const denseBytes = lazy(() => mlpModel(3, SIZES));
  const x = lazy(() => randomF32(SIZES[0], 77));
  const feeds = (): Record<string, OrtFeed> => ({ x: { type: 'float32', data: x(), dims: [1, SIZES[0]] } });
  return (['90', '2:4'] as const).map((kind): Case => {
    const pruned = lazy(() => pruneMagnitude(dense(), kind === '2:4' ? { kind: '2:4' } : { kind: 'layer', amount: 0.9 }).graph);
    const sparse = lazy(() => sparsify(pruned(), { backend: 'wasm', batch: 1 }));
    const sparseAdapter = kilnModelAdapter(() => saveKiln(sparse().graph), feeds, 1, SPARSE_MODEL_ENGINE);
    const withNote: Adapter = {
      ...sparseAdapter,
      async setup() {
        const r = await sparseAdapter.setup();
        r.note = `${r.note ?? ''}; ${layoutNote(sparse().layers)}`;
        return r;
      },
      check: { reference: (): Output => mlpForward(pruned(), x()), tolerance: 1e-4 },
    };
    return {
      suite: 'sparse',
      id: `sparse/mlp-${kind === '2:4' ? '2of4' : 'prune90'}`,
      label: `MLP 784-1024-1024-10 ${kind === '2:4' ? '2:4' : '90% pruned per layer'}, sparsified, vs dense (session, batch 1)`,
      adapters: [kilnModelAdapter(denseBytes, feeds, 1, SPARSE_DENSE_ENGINE), withNote],
      reference: () => mlpForward(dense(), x()),
      tolerance: 1e-4,
    };
  });
}
