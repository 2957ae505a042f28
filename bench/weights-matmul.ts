// Op-level time of MatMul with compressed weights on the WASM backend against the same MatMul with
// dense float32 weights, 1 and 2 threads: int4 weight-only (block 32; float32 and int8-activation
// modes) and sparse B (CSR at 90% unstructured sparsity, 2:4). Each figure is the kernel's own time
// from the session profile, median over quiet rounds (lib/quiet.ts).
//   node --experimental-wasm-relaxed-simd --import tsx bench/weights-matmul.ts [--sizes 1024,4096] [--rows 1]
import { GraphBuilder } from '../src/graph/builder.js';
import type { Graph } from '../src/graph/ir.js';
import { fuseActivations } from '../src/passes/fuse-activations.js';
import { fuseDequantMatMul } from '../src/passes/fuse-dequant-matmul.js';
import { InferenceSession } from '../src/runtime/session.js';
import { writeInt4 } from '../src/tensor/convert.js';
import { csrFromDense } from '../src/tensor/sparse-csr.js';
import { nmFromDense } from '../src/tensor/sparse-nm.js';
import { attachSparse } from '../src/tensor/sparse.js';
import { Tensor } from '../src/tensor/tensor.js';
import { quietMedian } from './lib/quiet.js';

const args = process.argv.slice(2);
const flag = (k: string, d: string) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args.splice(i, 2)[1]! : d; };
const sizes = flag('sizes', '1024,4096').split(',').map(Number);
const rowsList = flag('rows', '1').split(',').map(Number);
const threadList = flag('threads', '1,2').split(',').map(Number);
const only = flag('only', '');

let s = 12345;
const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);

function matmul(M: number, K: number, N: number, w: (b: GraphBuilder) => string): Graph {
  const b = new GraphBuilder('bench', 21);
  b.output(b.op('MatMul', [b.input('x', 'float32', [M, K]), w(b)]));
  return b.build();
}

function graphs(M: number, K: number, N: number): Record<string, Graph> {
  const nb = Math.ceil(K / 32);
  const q = new Uint8Array(Math.ceil((K * N) / 2));
  for (let i = 0; i < K * N; i++) writeInt4(q, i, Math.floor(rnd() * 16) - 8);
  const scale = new Tensor('float32', Float32Array.from({ length: nb * N }, () => 0.01 + rnd() * 0.01), [nb, N]);
  const int4 = matmul(M, K, N, (b) => b.op('DequantizeLinear', [b.constant('w', new Tensor('int4', q, [K, N])), b.constant('s', scale)], { axis: 0, block_size: 32 }));
  const dense = new Float32Array(K * N).map(() => rnd() * 2 - 1);
  const sparse90 = dense.map((v) => (rnd() < 0.1 ? v : 0));
  // 2:4 along K (axis 0 of B [K, N]): keep 2 of every 4 rows per column.
  const nm = dense.map((v, i) => (((Math.floor(i / N) % 4) + (i % N)) % 4 < 2 ? v : 0));
  return {
    'dense f32': matmul(M, K, N, (b) => b.constant('w', new Tensor('float32', dense, [K, N]))),
    'int4 (f32 act.)': fuseDequantMatMul(fuseActivations(int4)),
    'int4 (int8 act.)': fuseDequantMatMul(fuseActivations(int4), { int8Activations: true }),
    'dense 90% zeros': matmul(M, K, N, (b) => b.constant('w', new Tensor('float32', sparse90, [K, N]))),
    'CSR 90%': matmul(M, K, N, (b) => { const t = new Tensor('float32', sparse90, [K, N]); return b.constant('w', attachSparse(t, csrFromDense(t))); }),
    '2:4': matmul(M, K, N, (b) => { const t = new Tensor('float32', nm, [K, N]); return b.constant('w', attachSparse(t, nmFromDense(t, 2, 4, 0))); }),
  };
}

for (const M of rowsList) {
  for (const n of sizes) {
    const gs = graphs(M, n, n);
    const x = new Tensor('float32', Float32Array.from({ length: M * n }, () => rnd() * 2 - 1), [M, n]);
    const base: Record<number, number> = {};
    for (const [name, g] of Object.entries(gs)) {
      if (only && !name.includes(only)) continue;
      const cells: string[] = [];
      for (const threads of threadList) {
        const sess = await InferenceSession.create(g, { backend: 'wasm', threads, profile: true });
        await sess.run({ x });
        const fb = sess.fallbackNodes();
        const total = () => sess.profileReport().reduce((a, r) => a + r.ms, 0);
        const runs = Math.max(3, Math.round(2e8 / (M * n * n)));
        const r = await quietMedian(async () => {
          const t0 = total();
          for (let i = 0; i < runs; i++) await sess.run({ x });
          return (total() - t0) / runs;
        });
        if (name === 'dense f32') base[threads] = r.ms;
        const ops = sess.profileReport().map((p) => p.op).join('+');
        cells.push(`${threads}t ${(r.ms * 1000).toFixed(0).padStart(6)} us (${(base[threads]! / r.ms).toFixed(2)}x dense${fb.length ? ', FALLBACK' : ''}; ${ops})`);
        await sess.release();
      }
      console.log(`M=${M} ${n}x${n} ${name.padEnd(17)} ${cells.join('   ')}`);
    }
  }
}
