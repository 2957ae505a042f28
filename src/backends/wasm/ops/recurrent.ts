// WASM kernels for RNN, GRU and LSTM on f32, every attribute the reference supports (directions,
// activations with alpha/beta, clip, sequence_lens, initial states, peepholes, input_forget,
// linear_before_reset, layout 0 and 1; each output optional). Per direction the input projection
// X . W^T + biases of all steps is one GEMM (W packed once when constant), then
// assembly/recurrent_f32.ts walks the steps: R . h_{t-1} (R packed for one sequential stream) and
// the fused gate updates, up to four batch rows per pass over R. Geometry and
// attribute parsing are the reference's (src/ops/rnn.ts); nodes it would reject (bad shapes,
// unknown activations) are refused here so the reference reports them.
import { nodeLabel } from '../../../graph/ir.js';
import { activationSpecs, GATES, recurrentGeometry, type ActivationSpec, type RecurrentGeometry, type RecurrentKind } from '../../../ops/rnn.js';
import { registerWasmKernel, type PreparedKernel, type WasmMemory, type WasmPlanContext, type WasmValue } from '../kernel.js';
import { gemmF32Exports, gemmF32ScratchBytes, packBBytesF32, packBF32, writeEpilogueF32, EPILOGUE_F32_BYTES } from '../kernels/gemm-f32.js';
import { familyExports } from '../kernels/exports.js';
import { align } from '../plan.js';
import { runGemm, worthThreads } from './gemm.js';

interface RecurrentExports {
  recurrentF32(
    kind: number, cfg: number, xw: number, xwT: number, xwB: number, r: number, h: number, c: number,
    y: number, yT: number, yB: number, lens: number, seq: number, batch: number, hidden: number, reverse: number, work: number,
  ): void;
  recurrentF32WorkFloats(kind: number, hidden: number, batch: number): number;
  recurrentPackBytesF32(kind: number, hidden: number): number;
  recurrentPackF32(kind: number, src: number, hidden: number, dst: number): void;
}

const KIND_CODE: Record<RecurrentKind, number> = { RNN: 0, GRU: 1, LSTM: 2 };
/** Activation codes of assembly/recurrent_f32.ts `activate`, by index. */
const ACT_CODES = ['relu', 'tanh', 'sigmoid', 'affine', 'leakyrelu', 'thresholdedrelu', 'scaledtanh', 'hardsigmoid', 'elu', 'softsign', 'softplus'];
/** Words of one direction's config block (layout in assembly/recurrent_f32.ts). */
const CFG_BYTES = 64;

/** Input indices of the float operands (sequence_lens, index 4, is int32). */
const FLOAT_INPUTS = [0, 1, 2, 3, 5, 6, 7];

function writeConfig(mem: WasmMemory, ptr: number, acts: readonly ActivationSpec[], clip: number, inputForget: boolean, peep: number, rbh: number): void {
  const v = new DataView(mem.buffer(), ptr, CFG_BYTES);
  for (let k = 0; k < 3; k++) {
    const a = acts[k];
    v.setInt32(12 * k, a ? ACT_CODES.indexOf(a.name) : 0, true);
    v.setFloat32(12 * k + 4, a?.alpha ?? 0, true);
    v.setFloat32(12 * k + 8, a?.beta ?? 0, true);
  }
  v.setFloat32(36, clip, true);
  v.setInt32(40, inputForget ? 1 : 0, true);
  v.setInt32(44, rbh ? 1 : 0, true);
  v.setUint32(48, peep, true);
  v.setUint32(52, rbh, true);
}

/** Where layout puts (t, b) rows: in X / the projection (rows of one vector) and in Y (floats). */
function strides(g: RecurrentGeometry): { xwT: number; xwB: number; yT: number; yB: number; yDir: number } {
  const { layout, dirs, seq, batch, hidden } = g;
  return layout === 0
    ? { xwT: batch, xwB: 1, yT: dirs * batch * hidden, yB: hidden, yDir: batch * hidden }
    : { xwT: 1, xwB: seq, yT: dirs * hidden, yB: seq * dirs * hidden, yDir: hidden };
}

/** Copies direction d's [batch, H] working state from (or to) a [dirs, batch, H] / [batch, dirs, H] tensor. */
function moveState(mem: WasmMemory, g: RecurrentGeometry, d: number, work: number, t: number, toWork: boolean): void {
  const { layout, dirs, batch, hidden } = g;
  const w = mem.f32(work, batch * hidden);
  const s = mem.f32(t, dirs * batch * hidden);
  for (let b = 0; b < batch; b++) {
    const at = (layout === 0 ? d * batch + b : b * dirs + d) * hidden;
    if (toWork) w.set(s.subarray(at, at + hidden), b * hidden);
    else s.set(w.subarray(b * hidden, (b + 1) * hidden), at);
  }
}

function recurrentFactory(kind: RecurrentKind) {
  return (ctx: WasmPlanContext): PreparedKernel | undefined => {
    const where = nodeLabel(ctx.node);
    const ins = ctx.inputs;
    if (FLOAT_INPUTS.some((i) => ins[i] && ins[i]!.dtype !== 'float32') || (ins[4] && ins[4].dtype !== 'int32')) return undefined;
    let g: RecurrentGeometry;
    let acts: ActivationSpec[][];
    try {
      g = recurrentGeometry(kind, ins.map((t) => t?.dims), ctx.attrs, where);
      acts = activationSpecs(kind, ctx.attrs, g.dirs, where);
    } catch {
      return undefined; // the reference reports the problem
    }
    const { dirs, seq, batch, inSize, hidden } = g;
    const clip = ctx.attrs.has('clip') ? ctx.attrs.float('clip') : Infinity;
    // Degenerate sizes and a negative clip (whose clamp would invert) stay on the reference.
    if (hidden === 0 || inSize === 0 || !(clip >= 0)) return undefined;
    const G = GATES[kind];
    const GH = G * hidden;
    const rows = seq * batch;
    const lbr = kind === 'GRU' && ctx.attrs.int('linear_before_reset') !== 0;
    const inputForget = kind === 'LSTM' && ctx.attrs.int('input_forget') !== 0;
    const reverseAll = ctx.attrs.string('direction') === 'reverse';
    const want = [0, 1, 2].map((i) => Boolean(ctx.node.outputs[i]));
    const st = strides(g);

    const ex = familyExports<RecurrentExports>(ctx.exports, 'recurrent', ['recurrentF32', 'recurrentF32WorkFloats', 'recurrentPackBytesF32', 'recurrentPackF32']);
    const gx = gemmF32Exports(ctx.exports);
    const wConst = ctx.constant(1);
    const bConst = ins[3] ? ctx.constant(3) : undefined;
    const rConst = ctx.constant(2);

    // Persistent: [epilogue | config per direction | summed bias per direction | Rb_h per direction |
    // packed R per direction (at init when constant, else on every run) | packed W].
    const cfgAt = align(EPILOGUE_F32_BYTES);
    const biasAt = cfgAt + align(dirs * CFG_BYTES);
    const rbhAt = biasAt + align(dirs * GH * 4);
    const rPer = align(ex.recurrentPackBytesF32(KIND_CODE[kind], hidden));
    const rPackedAt = rbhAt + align(dirs * hidden * 4);
    const packedAt = rPackedAt + dirs * rPer;
    const packedPer = wConst ? align(packBBytesF32(gx, inSize, GH)) : 0;
    // Scratch: [GEMM scratch | projection of one direction | gate work | h | c].
    const gemmScratch = align(gemmF32ScratchBytes(gx, rows, GH, inSize, false, Boolean(wConst)));
    const xwAt = gemmScratch;
    const workAt = xwAt + align(rows * GH * 4);
    const hAt = workAt + align(ex.recurrentF32WorkFloats(KIND_CODE[kind], hidden, batch) * 4);
    const cAt = hAt + align(batch * hidden * 4);
    const scratchEnd = cAt + align(batch * hidden * 4);

    /**
     * Bias of the projection GEMM: Wb + Rb per gate row, except the GRU candidate's Rb_h under
     * linear_before_reset (r scales it: kept apart for the step kernel).
     */
    const sumBias = (mem: WasmMemory, src: Float32Array, p: number) => {
      const sum = mem.f32(p + biasAt, dirs * GH);
      const rbh = mem.f32(p + rbhAt, dirs * hidden);
      for (let d = 0; d < dirs; d++) {
        for (let j = 0; j < GH; j++) {
          const rb = src[d * 2 * GH + GH + j]!;
          const apart = lbr && j >= 2 * hidden;
          sum[d * GH + j] = src[d * 2 * GH + j]! + (apart ? 0 : rb);
          if (apart) rbh[d * hidden + j - 2 * hidden] = rb;
        }
      }
    };

    return {
      threaded: worthThreads(rows, GH, inSize),
      persistentBytes: packedAt + dirs * packedPer,
      scratchBytes: Math.max(scratchEnd, wConst ? wConst.size * 4 : 0, rConst ? rConst.size * 4 : 0),
      packedInputs: [...(wConst ? [1] : []), ...(rConst ? [2] : []), ...(bConst ? [3] : [])],
      init(mem, p, scratch) {
        mem.f32(p + biasAt, dirs * GH).fill(0);
        mem.f32(p + rbhAt, dirs * hidden).fill(0);
        if (bConst) sumBias(mem, bConst.data as Float32Array, p);
        if (rConst) {
          mem.write(scratch, rConst);
          for (let d = 0; d < dirs; d++) ex.recurrentPackF32(KIND_CODE[kind], scratch + d * GH * hidden * 4, hidden, p + rPackedAt + d * rPer);
        }
        if (wConst) {
          mem.write(scratch, wConst);
          for (let d = 0; d < dirs; d++) packBF32(gx, inSize, GH, scratch + d * GH * inSize * 4, p + packedAt + d * packedPer, true);
        }
      },
      run(mem, inputs: readonly (WasmValue | undefined)[], outputs, scratch, p) {
        const [x, w, r, bias, lensV, h0, c0, peep] = inputs;
        if (bias && !bConst) sumBias(mem, mem.f32(bias.ptr, dirs * 2 * GH), p);
        if (!rConst) for (let d = 0; d < dirs; d++) ex.recurrentPackF32(KIND_CODE[kind], r!.ptr + d * GH * hidden * 4, hidden, p + rPackedAt + d * rPer);
        let lens = 0;
        if (lensV) {
          const l = mem.i32(lensV.ptr, batch);
          for (const v of l) if (v < 0 || v > seq) throw new Error(`${where}: sequence length ${v} is outside [0, ${seq}]`);
          // Steps past a row's end are zeros in Y.
          if (want[0] && l.some((v) => v < seq)) mem.f32(outputs[0]!.ptr, seq * dirs * batch * hidden).fill(0);
          lens = lensV.ptr;
        }
        for (let d = 0; d < dirs; d++) {
          writeEpilogueF32(mem.buffer(), p, { biasPtr: p + biasAt + d * GH * 4, biasMode: 'col' });
          if (rows > 0) {
            runGemm(mem, gx, {
              M: rows, N: GH, K: inSize, a: x!.ptr,
              b: wConst ? p + packedAt + d * packedPer : w!.ptr + d * GH * inSize * 4, transB: true, bPacked: Boolean(wConst),
              c: scratch + xwAt, epilogue: p, scratch,
            });
          }
          if (h0) moveState(mem, g, d, scratch + hAt, h0.ptr, true);
          else mem.f32(scratch + hAt, batch * hidden).fill(0);
          if (kind === 'LSTM') {
            if (c0) moveState(mem, g, d, scratch + cAt, c0.ptr, true);
            else mem.f32(scratch + cAt, batch * hidden).fill(0);
          }
          const cfg = p + cfgAt + d * CFG_BYTES;
          writeConfig(mem, cfg, acts[d]!, clip, inputForget, peep ? peep.ptr + d * 3 * hidden * 4 : 0, lbr ? p + rbhAt + d * hidden * 4 : 0);
          ex.recurrentF32(
            KIND_CODE[kind], cfg, scratch + xwAt, st.xwT, st.xwB, p + rPackedAt + d * rPer, scratch + hAt, scratch + cAt,
            want[0] ? outputs[0]!.ptr + d * st.yDir * 4 : 0, st.yT, st.yB, lens, seq, batch, hidden, reverseAll || d === 1 ? 1 : 0, scratch + workAt,
          );
          if (want[1]) moveState(mem, g, d, scratch + hAt, outputs[1]!.ptr, false);
          if (want[2] && kind === 'LSTM') moveState(mem, g, d, scratch + cAt, outputs[2]!.ptr, false);
        }
      },
    };
  };
}

for (const kind of ['RNN', 'GRU', 'LSTM'] as const) registerWasmKernel(kind, recurrentFactory(kind));
