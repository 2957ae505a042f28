// onnxruntime-web (WASM execution provider) as a peer. Its thread count is fixed when its WASM module
// first initialises, once per process, so 1-thread and 2-thread rows come from different processes
// (see `isolate` in types.ts); the process-wide count is set by configureOrt() before any session.
import * as ort from 'onnxruntime-web';
import type { Adapter, Output, Runner } from './types.js';

let configuredThreads = 1;

export function configureOrt(threads: number): void {
  configuredThreads = threads;
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
}

export type OrtFeed = { type: 'float32'; data: Float32Array; dims: number[] } | { type: 'uint8'; data: Uint8Array; dims: number[] } | { type: 'int8'; data: Int8Array; dims: number[] };

export function ortAdapter(model: () => Uint8Array | Promise<Uint8Array>, feeds: () => Record<string, OrtFeed>, threads = 1): Adapter {
  return {
    engine: 'onnxruntime-web',
    kind: 'peer',
    threads,
    ...(threads === 1 ? {} : { isolate: `ort-${threads}t` }),
    async setup(): Promise<Runner> {
      if (configuredThreads !== threads) throw new Error(`onnxruntime-web is initialised for ${configuredThreads} thread(s) in this process`);
      const session = await ort.InferenceSession.create(await model(), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(feeds())) tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
      const outName = session.outputNames[0]!;
      let last: ort.InferenceSession.OnnxValueMapType | undefined;
      return {
        async run() {
          last = await session.run(tensors);
        },
        output(): Output {
          const data = last?.[outName]?.data;
          if (data instanceof Float32Array || data instanceof Int32Array) return data;
          throw new Error('onnxruntime-web output is not float32/int32');
        },
        note: `wasm EP, numThreads=${threads}`,
        dispose: () => session.release(),
      };
    },
  };
}
