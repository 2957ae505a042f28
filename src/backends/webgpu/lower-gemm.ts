// Which MatMul / Gemm nodes (plain, or fused with an activation and bias by fuse-activations) the
// GPU GEMM runs, and with what descriptor, decided from the input shapes of the run. Anything the
// kernel cannot express returns a reason, and the node runs on its reference kernel instead.
import { ONNX_DOMAIN, type Node } from '../../graph/ir.js';
import { KILN_DOMAIN } from '../../ops/fused.js';
import { attrsOf, getOp } from '../../ops/registry.js';
import type { GemmDesc, GemmSpec } from './gemm.js';
import type { GemmActivation } from './shaders/matmul.js';

/** What the executable needs to run a node as one GEMM dispatch. */
export interface GemmLowering {
  desc: GemmDesc;
  outDims: number[];
  /** Input index of the bias operand, when the descriptor has one. */
  biasInput?: number;
}

export type LoweringResult = GemmLowering | { reason: string };

const GEMM_OPS = new Set(['MatMul', 'Gemm']);

/** True for the ops this module lowers (whether a given node fits is up to lowerGemmNode). */
export function isGemmNode(node: Node): boolean {
  const base = node.domain === KILN_DOMAIN && node.op.startsWith('Fused') ? node.op.slice(5) : node.op;
  return (node.domain === ONNX_DOMAIN || node.domain === KILN_DOMAIN) && GEMM_OPS.has(base)
    && (node.domain === ONNX_DOMAIN) === (base === node.op);
}

const prod = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** The fused activation as the kernel's epilogue, or undefined when it has none for it. */
function epilogue(node: Node): GemmActivation | undefined {
  const attrs = attrsOf(getOp(node.domain, node.op), node);
  if (!attrs.has('activation')) return 'none';
  return attrs.string('activation') === 'Relu' ? 'relu' : undefined;
}

/**
 * The pipeline a GEMM node will most likely use, from its attributes alone (compile time, before
 * shapes are known); undefined when the node will not run on the GPU whatever its shapes.
 */
export function predictGemmSpec(node: Node): GemmSpec | undefined {
  if (!isGemmNode(node)) return undefined;
  const activation = epilogue(node);
  if (!activation) return undefined;
  const hasC = !!node.inputs[2];
  if (node.op.endsWith('MatMul')) return { transA: false, transB: false, bias: hasC, activation };
  const attrs = attrsOf(getOp(node.domain, node.op), node);
  return { transA: attrs.int('transA') === 1, transB: attrs.int('transB') === 1, bias: hasC && attrs.float('beta') !== 0, activation };
}

/** Bias strides for `dims` broadcast onto an M x N result; undefined when it does not broadcast so. */
function biasStrides(dims: readonly number[], M: number, N: number): { strideM: number; strideN: number } | undefined {
  if (dims.slice(0, -2).some((d) => d !== 1)) return undefined;
  const bn = dims.length >= 1 ? dims[dims.length - 1]! : 1;
  const bm = dims.length >= 2 ? dims[dims.length - 2]! : 1;
  if ((bn !== 1 && bn !== N) || (bm !== 1 && bm !== M)) return undefined;
  return { strideM: bm === 1 ? 0 : bn, strideN: bn === 1 ? 0 : 1 };
}

/**
 * The GEMM for `node` given its inputs' dtypes and dims (undefined for omitted inputs), or why
 * the GPU kernel cannot run it.
 */
export function lowerGemmNode(node: Node, inputs: readonly ({ dtype: string; dims: readonly number[] } | undefined)[]): LoweringResult {
  if (!isGemmNode(node)) return { reason: `${node.op} is not a GEMM` };
  if (inputs.some((t) => t && t.dtype !== 'float32')) return { reason: 'only float32 GEMMs run on WebGPU so far' };
  const attrs = attrsOf(getOp(node.domain, node.op), node);
  const activation = epilogue(node);
  if (!activation) return { reason: `fused ${attrs.string('activation')} has no WebGPU epilogue yet` };
  const a = inputs[0];
  const b = inputs[1];
  if (!a || !b) return { reason: 'missing operand' };
  const base = node.domain === KILN_DOMAIN ? node.op.slice(5) : node.op;
  if (base === 'Gemm') {
    if (a.dims.length !== 2 || b.dims.length !== 2) return { reason: 'Gemm operands must be 2-D' };
    const transA = attrs.int('transA') === 1;
    const transB = attrs.int('transB') === 1;
    const [M, K] = transA ? [a.dims[1]!, a.dims[0]!] : [a.dims[0]!, a.dims[1]!];
    const N = transB ? b.dims[0]! : b.dims[1]!;
    const beta = attrs.float('beta');
    const c = inputs[2];
    let bias: GemmDesc['bias'];
    if (c && beta !== 0) {
      bias = biasStrides(c.dims, M, N);
      if (!bias || c.dims.length > 2) return { reason: `Gemm C of shape [${c.dims.join(',')}] does not broadcast to [${M},${N}]` };
    }
    return {
      desc: { M, N, K, batch: 1, strideA: 0, strideB: 0, strideC: 0, transA, transB, alpha: attrs.float('alpha'), beta, ...(bias ? { bias } : {}), activation },
      outDims: [M, N],
      ...(bias ? { biasInput: 2 } : {}),
    };
  }
  // MatMul: numpy semantics. 1-D operands and broadcasting between two batched operands of
  // different batch shapes are left to the reference kernel for now.
  if (a.dims.length < 2 || b.dims.length < 2) return { reason: 'MatMul with a 1-D operand' };
  const M = a.dims[a.dims.length - 2]!;
  const K = a.dims[a.dims.length - 1]!;
  const N = b.dims[b.dims.length - 1]!;
  if (b.dims[b.dims.length - 2] !== K) return { reason: 'MatMul inner dimensions differ' };
  const batchA = a.dims.slice(0, -2);
  const batchB = b.dims.slice(0, -2);
  const biasT = inputs[2];
  const bias = biasT ? biasStrides(biasT.dims, M, N) : undefined;
  // A bias of higher rank than the product would widen the result (numpy broadcasting).
  if (biasT && biasT.dims.length > Math.max(a.dims.length, b.dims.length)) return { reason: 'MatMul bias of higher rank than its product' };
  if (biasT && !bias) return { reason: `MatMul bias of shape [${biasT.dims.join(',')}] does not broadcast to [${M},${N}]` };
  const common = { K, N, transA: false, transB: false, alpha: 1, beta: 1, ...(bias ? { bias } : {}), activation };
  const withBias = bias ? { biasInput: 2 } : {};
  if (batchB.every((d) => d === 1) && (!bias || bias.strideM === 0)) {
    // B is one matrix: A's batch folds into M, one GEMM over all rows.
    const rows = prod(batchA) * M;
    const batchOut = batchA.length >= batchB.length ? batchA : batchB;
    return { desc: { ...common, M: rows, batch: 1, strideA: 0, strideB: 0, strideC: 0 }, outDims: [...batchOut, M, N], ...withBias };
  }
  const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
  const aSingle = batchA.every((d) => d === 1) && batchA.length <= batchB.length;
  const bSingle = batchB.every((d) => d === 1) && batchB.length <= batchA.length;
  if (!sameBatch && !aSingle && !bSingle) return { reason: 'MatMul batch broadcasting between two batched operands' };
  const batchOut = aSingle ? batchB : batchA;
  return {
    desc: {
      ...common, M, batch: prod(batchOut),
      strideA: aSingle ? 0 : M * K, strideB: bSingle ? 0 : K * N, strideC: M * N,
    },
    outDims: [...batchOut, M, N],
    ...withBias,
  };
}
