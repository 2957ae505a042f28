// TensorFlow.js with its WASM backend (XNNPACK) as a peer, for the GEMM/GEMV suites. In Node it runs
// one thread whatever is asked. B is passed untransposed: with transposeB tfjs leaves XNNPACK's
// fully-connected path for a slower generic one, which would flatter Kiln.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Adapter, Runner } from './types.js';

type Tf = typeof import('@tensorflow/tfjs-core');
let ready: Promise<Tf> | undefined;

async function loadTf(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
  await tf.ready();
  return tf;
}

/** c[m,n] = a[m,k] @ b[k,n]; b is created once, as weights would be. */
export function tfjsMatmulAdapter(m: number, k: number, n: number, a: () => Float32Array, b: () => Float32Array): Adapter {
  return {
    engine: 'tfjs-wasm',
    kind: 'peer',
    threads: 1,
    async setup(): Promise<Runner> {
      const tf = await (ready ??= loadTf());
      const ta = tf.tensor2d(a(), [m, k]);
      const tb = tf.tensor2d(b(), [k, n]);
      let last: Float32Array | undefined;
      const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
      return {
        run() {
          const c = tf.matMul(ta, tb);
          // dataSync() waits for the result and copies it out, as onnxruntime-web's run() does.
          last = c.dataSync() as Float32Array;
          c.dispose();
        },
        output: () => last ?? new Float32Array(0),
        note: `XNNPACK, ${simd ? 'SIMD' : 'no SIMD'}, 1 thread (forced in Node)`,
        dispose() {
          ta.dispose();
          tb.dispose();
        },
      };
    },
  };
}
