// Matrix products: Gemm, MatMul (numpy semantics) and MatMulInteger. The batched core and the
// zero-point helpers are shared with QLinearMatMul (qlinear.ts).
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { DType } from '../tensor/dtype.js';
import { broadcastDims, broadcastShapes, type Dim, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp, type InferContext } from './registry.js';
import { broadcastIndex, FLOAT_TYPES, inputType } from './util.js';

const MATMUL_TYPES: readonly DType[] = [...FLOAT_TYPES, 'int32', 'int64', 'uint32', 'uint64'];
const INT8_TYPES: readonly DType[] = ['uint8', 'int8'];

/** A batched matmul on concrete dims, 1-D operands already promoted to matrices. */
export interface MatMulPlan {
  M: number;
  K: number;
  N: number;
  /** Per output batch element, the batch element of A and of B it reads (broadcasting). */
  aBatch: Int32Array;
  bBatch: Int32Array;
  /** A and B dims after promoting 1-D operands ([K] -> [1, K] for A, [K] -> [K, 1] for B). */
  aDims: number[];
  bDims: number[];
  /** Final output dims, with the promoted axes removed again. */
  outDims: number[];
}

export function matmulPlan(aDims: readonly number[], bDims: readonly number[], where: string): MatMulPlan {
  if (aDims.length === 0 || bDims.length === 0) throw new Error(`${where}: MatMul operands must have rank >= 1, got scalars`);
  const a = aDims.length === 1 ? [1, aDims[0]!] : [...aDims];
  const b = bDims.length === 1 ? [bDims[0]!, 1] : [...bDims];
  const M = a[a.length - 2]!;
  const K = a[a.length - 1]!;
  const N = b[b.length - 1]!;
  if (b[b.length - 2] !== K) {
    throw new Error(`${where}: inner dimensions differ: A [${aDims.join(', ')}] has K=${K}, B [${bDims.join(', ')}] has K=${b[b.length - 2]}`);
  }
  const aB = a.slice(0, -2);
  const bB = b.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastDims(aB, bB);
  } catch (e) {
    throw new Error(`${where}: batch dimensions do not broadcast: ${(e as Error).message}`);
  }
  const outDims = [...batch];
  if (aDims.length > 1) outDims.push(M);
  if (bDims.length > 1) outDims.push(N);
  return { M, K, N, aBatch: broadcastIndex(aB, batch), bBatch: broadcastIndex(bB, batch), aDims: a, bDims: b, outDims };
}

/** out = A x B per batch element, i-k-j order so the inner loop runs over contiguous rows. */
export function matmulRun(a: Float64Array, b: Float64Array, p: MatMulPlan): Float64Array {
  const { M, K, N } = p;
  const batches = p.aBatch.length;
  const out = new Float64Array(batches * M * N);
  for (let bi = 0; bi < batches; bi++) {
    const aOff = p.aBatch[bi]! * M * K;
    const bOff = p.bBatch[bi]! * K * N;
    const oOff = bi * M * N;
    for (let i = 0; i < M; i++) {
      const oRow = oOff + i * N;
      for (let k = 0; k < K; k++) {
        const av = a[aOff + i * K + k]!;
        const bRow = bOff + k * N;
        for (let j = 0; j < N; j++) out[oRow + j]! += av * b[bRow + j]!;
      }
    }
  }
  return out;
}

/** Symbolic output shape of numpy matmul. */
export function inferMatMulShape(ctx: InferContext, ai: number, bi: number): Shape | undefined {
  const a = inputType(ctx, ai).shape;
  const b = inputType(ctx, bi).shape;
  if (!a || !b) return undefined;
  if (a.length === 0 || b.length === 0) throw new Error(`${ctx.where}: MatMul operands must have rank >= 1, got scalars`);
  const a2: Dim[] = a.length === 1 ? [1, a[0]!] : [...a];
  const b2: Dim[] = b.length === 1 ? [b[0]!, 1] : [...b];
  const K = a2[a2.length - 1]!;
  const K2 = b2[b2.length - 2]!;
  if (typeof K === 'number' && typeof K2 === 'number' && K !== K2) {
    throw new Error(`${ctx.where}: inner dimensions differ: A has K=${K}, B has K=${K2}`);
  }
  let batch: Dim[];
  try {
    batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  } catch (e) {
    throw new Error(`${ctx.where}: batch dimensions do not broadcast: ${(e as Error).message}`);
  }
  if (a.length > 1) batch.push(a2[a2.length - 2]!);
  if (b.length > 1) batch.push(b2[b2.length - 1]!);
  return batch;
}

function sameDTypes(ctx: InferContext, indices: readonly number[]): DType {
  const d = inputType(ctx, indices[0]!).dtype;
  for (const i of indices) {
    const t = ctx.inputs[i];
    if (t && t.dtype !== d) throw new Error(`${ctx.where}: input ${i} has dtype ${t.dtype} but input ${indices[0]} has ${d}`);
  }
  return d;
}

defineOp({
  name: 'MatMul',
  inputs: [{ name: 'A', types: MATMUL_TYPES }, { name: 'B', types: MATMUL_TYPES }],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => [{ dtype: sameDTypes(ctx, [0, 1]), shape: inferMatMulShape(ctx, 0, 1) }],
  reference: ([a, b], ctx) => {
    if (a!.type !== b!.type) throw new Error(`${ctx.where}: A is ${a!.type} but B is ${b!.type}`);
    const p = matmulPlan(a!.dims, b!.dims, ctx.where);
    return [fromNumbers(a!.type, matmulRun(toNumbers(a!), toNumbers(b!), p), p.outDims)];
  },
});

// ---- Gemm -----------------------------------------------------------------------------------

const bit = (v: unknown) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1');

defineOp({
  name: 'Gemm',
  inputs: [
    { name: 'A', types: MATMUL_TYPES },
    { name: 'B', types: MATMUL_TYPES },
    { name: 'C', optional: true, types: MATMUL_TYPES },
  ],
  outputs: [{ name: 'Y' }],
  attrs: {
    alpha: { type: 'float', default: 1 },
    beta: { type: 'float', default: 1 },
    transA: { type: 'int', default: 0, validate: bit },
    transB: { type: 'int', default: 0, validate: bit },
  },
  inferShape: (ctx) => {
    const dtype = sameDTypes(ctx, [0, 1, 2]);
    const a = inputType(ctx, 0).shape;
    const b = inputType(ctx, 1).shape;
    const c = ctx.inputs[2]?.shape;
    if (a && a.length !== 2) throw new Error(`${ctx.where}: A must be 2-D, got rank ${a.length}`);
    if (b && b.length !== 2) throw new Error(`${ctx.where}: B must be 2-D, got rank ${b.length}`);
    if (c && c.length > 2) throw new Error(`${ctx.where}: C must have rank <= 2, got rank ${c.length}`);
    const tA = ctx.attrs.int('transA') === 1;
    const tB = ctx.attrs.int('transB') === 1;
    const M = a ? a[tA ? 1 : 0]! : ctx.unknownDim();
    const Ka = a?.[tA ? 0 : 1];
    const Kb = b?.[tB ? 1 : 0];
    const N = b ? b[tB ? 0 : 1]! : ctx.unknownDim();
    if (typeof Ka === 'number' && typeof Kb === 'number' && Ka !== Kb) {
      throw new Error(`${ctx.where}: inner dimensions differ: A gives K=${Ka}, B gives K=${Kb}`);
    }
    if (c) checkGemmBias(c, [M, N], ctx.where);
    return [{ dtype, shape: [M, N] }];
  },
  reference: ([a, b, c], ctx) => {
    const dtype = a!.type;
    if (b!.type !== dtype || (c && c.type !== dtype)) throw new Error(`${ctx.where}: A, B and C must share one dtype`);
    if (a!.dims.length !== 2) throw new Error(`${ctx.where}: A must be 2-D, got [${a!.dims.join(', ')}]`);
    if (b!.dims.length !== 2) throw new Error(`${ctx.where}: B must be 2-D, got [${b!.dims.join(', ')}]`);
    const tA = ctx.attrs.int('transA') === 1;
    const tB = ctx.attrs.int('transB') === 1;
    const [M, K] = tA ? [a!.dims[1]!, a!.dims[0]!] : [a!.dims[0]!, a!.dims[1]!];
    const [Kb, N] = tB ? [b!.dims[1]!, b!.dims[0]!] : [b!.dims[0]!, b!.dims[1]!];
    if (K !== Kb) throw new Error(`${ctx.where}: inner dimensions differ: A gives K=${K}, B gives K=${Kb}`);
    const alpha = ctx.attrs.float('alpha');
    const beta = ctx.attrs.float('beta');
    const av = toNumbers(a!);
    const bv = toNumbers(b!);
    // Strides of op(A)[i, k] and op(B)[k, j] over the stored (possibly transposed) data.
    const [aI, aK] = tA ? [1, M] : [K, 1];
    const [bK, bJ] = tB ? [1, K] : [N, 1];
    const out = new Float64Array(M * N);
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < K; k++) {
        const x = av[i * aI + k * aK]!;
        const bRow = k * bK;
        for (let j = 0; j < N; j++) out[i * N + j]! += x * bv[bRow + j * bJ]!;
      }
    }
    if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i]! *= alpha;
    if (c) {
      checkGemmBias(c.dims, [M, N], ctx.where);
      const cv = toNumbers(c);
      const idx = broadcastIndex(c.dims, [M, N]);
      for (let i = 0; i < out.length; i++) out[i]! += beta * cv[idx[i]!]!;
    }
    return [fromNumbers(dtype, out, [M, N])];
  },
});

/** C must broadcast one-way onto [M, N]. */
function checkGemmBias(c: Shape, mn: readonly Dim[], where: string): void {
  if (c.length > 2) throw new Error(`${where}: C must have rank <= 2, got [${c.join(', ')}]`);
  const off = 2 - c.length;
  c.forEach((d, i) => {
    const target = mn[off + i]!;
    if (typeof d === 'number' && d !== 1 && typeof target === 'number' && d !== target) {
      throw new Error(`${where}: C [${c.join(', ')}] does not broadcast to [${mn.join(', ')}]`);
    }
  });
}

// ---- MatMulInteger --------------------------------------------------------------------------

/**
 * Subtracts a matmul operand's zero point in place. `dims` are the promoted (rank >= 2) dims.
 * A size-1 zero point is per tensor; a 1-D one is per row of A (role 'row', M values) or per
 * column of B (role 'col', N values); anything else must broadcast one-way onto the operand
 * (e.g. [D1, D2, M, 1] for A, [D1, D2, 1, N] for B).
 */
export function subtractMatrixZeroPoint(
  v: Float64Array, dims: readonly number[], zp: Tensor | undefined, role: 'row' | 'col', what: string, where: string,
): void {
  if (!zp) return;
  const z = toNumbers(zp);
  if (zp.size === 1) {
    const z0 = z[0]!;
    if (z0 !== 0) for (let i = 0; i < v.length; i++) v[i]! -= z0;
    return;
  }
  const M = dims[dims.length - 2]!;
  const N = dims[dims.length - 1]!;
  let zDims = [...zp.dims];
  if (zDims.length === 1) {
    const want = role === 'row' ? M : N;
    if (zDims[0] !== want) {
      throw new Error(`${where}: ${what} has ${zDims[0]} values; a 1-D zero point needs one per ${role} (${want})`);
    }
    zDims = role === 'row' ? [M, 1] : [N];
  }
  let ok = zDims.length <= dims.length;
  if (ok) {
    try {
      ok = broadcastDims(zDims, dims).every((d, i) => d === dims[i]);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new Error(`${where}: ${what} [${zp.dims.join(', ')}] does not broadcast onto its operand [${dims.join(', ')}]`);
  const idx = broadcastIndex(zDims, dims);
  for (let i = 0; i < v.length; i++) v[i]! -= z[idx[i]!]!;
}

defineOp({
  name: 'MatMulInteger',
  inputs: [
    { name: 'A', types: INT8_TYPES },
    { name: 'B', types: INT8_TYPES },
    { name: 'a_zero_point', optional: true, types: INT8_TYPES },
    { name: 'b_zero_point', optional: true, types: INT8_TYPES },
  ],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => {
    for (const [zi, di] of [[2, 0], [3, 1]] as const) {
      const z = ctx.inputs[zi];
      if (z && z.dtype !== inputType(ctx, di).dtype) throw new Error(`${ctx.where}: input ${zi} (zero point) must have the dtype of input ${di}`);
    }
    return [{ dtype: 'int32', shape: inferMatMulShape(ctx, 0, 1) }];
  },
  reference: ([a, b, azp, bzp], ctx) => {
    for (const [z, d, what] of [[azp, a!, 'a_zero_point'], [bzp, b!, 'b_zero_point']] as const) {
      if (z && z.type !== d.type) throw new Error(`${ctx.where}: ${what} has dtype ${z.type} but its data has ${d.type}`);
    }
    const p = matmulPlan(a!.dims, b!.dims, ctx.where);
    const av = toNumbers(a!);
    const bv = toNumbers(b!);
    subtractMatrixZeroPoint(av, p.aDims, azp, 'row', 'a_zero_point', ctx.where);
    subtractMatrixZeroPoint(bv, p.bDims, bzp, 'col', 'b_zero_point', ctx.where);
    return [fromNumbers('int32', matmulRun(av, bv, p), p.outDims)];
  },
});
