// RotaryEmbedding (opset 23): rotates pairs of features of each head by position-dependent angles
// given as cos/sin caches. Pairs are (d, d + rot/2) by default, or (2d, 2d + 1) when interleaved;
// only the first rotary_embedding_dim features of a head rotate, the rest pass through.
// Input is (B, H, S, D), or (B, S, H*D) with num_heads. Caches are (max_pos, rot/2) indexed by
// position_ids (B, S), or, without position_ids, already (B, S, rot/2).
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import type { Dim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineOp } from './registry.js';
import { inputType, sameDType } from './util.js';

const TYPES = ['float32', 'float16', 'bfloat16'] as const;

defineOp({
  name: 'RotaryEmbedding',
  inputs: [
    { name: 'X', types: TYPES },
    { name: 'cos_cache', types: TYPES },
    { name: 'sin_cache', types: TYPES },
    { name: 'position_ids', optional: true, types: ['int64'] },
  ],
  outputs: [{ name: 'Y' }],
  attrs: {
    interleaved: { type: 'int', default: 0, validate: (v) => (v === 0 || v === 1 ? undefined : 'must be 0 or 1') },
    num_heads: { type: 'int', validate: (v) => ((v as number) >= 1 ? undefined : 'must be >= 1') },
    rotary_embedding_dim: { type: 'int', default: 0, validate: (v) => ((v as number) >= 0 ? undefined : 'must be >= 0') },
  },
  inferShape: (ctx) => {
    const dtype = sameDType(ctx, [0, 1, 2]);
    const x = inputType(ctx, 0);
    if (x.shape && x.shape.length !== 3 && x.shape.length !== 4) throw new Error(`${ctx.where}: X must be 3-D or 4-D, got rank ${x.shape.length}`);
    if (x.shape?.length === 3 && !ctx.attrs.has('num_heads')) throw new Error(`${ctx.where}: a 3-D input needs the num_heads attribute`);
    const cacheRank = ctx.inputs[3] ? 2 : 3;
    for (const i of [1, 2]) {
      const s: readonly Dim[] | undefined = ctx.inputs[i]?.shape;
      if (s && s.length !== cacheRank) {
        throw new Error(`${ctx.where}: ${i === 1 ? 'cos' : 'sin'}_cache must be ${cacheRank}-D ${cacheRank === 2 ? 'with' : 'without'} position_ids, got rank ${s.length}`);
      }
    }
    return [{ dtype, shape: x.shape }];
  },
  reference: ([xT, cosT, sinT, posT], ctx) => {
    const where = ctx.where;
    const dims = xT!.dims;
    if (cosT!.type !== xT!.type || sinT!.type !== xT!.type) throw new Error(`${where}: X, cos_cache and sin_cache must share one dtype`);
    // Strides that address element (b, s, h, d) of X whichever layout it has.
    let B: number, S: number, H: number, D: number, sb: number, ss: number, sh: number;
    if (dims.length === 4) {
      [B, H, S, D] = dims as [number, number, number, number];
      [sb, sh, ss] = [H * S * D, S * D, D];
    } else if (dims.length === 3) {
      if (!ctx.attrs.has('num_heads')) throw new Error(`${where}: a 3-D input needs the num_heads attribute`);
      H = ctx.attrs.int('num_heads');
      const hidden = dims[2]!;
      if (hidden % H !== 0) throw new Error(`${where}: hidden size ${hidden} is not divisible by num_heads ${H}`);
      [B, S, D] = [dims[0]!, dims[1]!, hidden / H];
      [sb, ss, sh] = [S * hidden, hidden, D];
    } else {
      throw new Error(`${where}: X must be 3-D or 4-D, got rank ${dims.length}`);
    }
    const rot = ctx.attrs.int('rotary_embedding_dim') || D;
    if (rot > D || rot % 2 !== 0) throw new Error(`${where}: rotary_embedding_dim ${rot} must be even and at most the head size ${D}`);
    const half = rot / 2;
    // Row of the caches for (b, s): a position id, or the (b, s) entry of 3-D caches.
    let rowOf: (b: number, s: number) => number;
    let rows: number;
    if (posT) {
      if (cosT!.dims.length !== 2 || sinT!.dims.length !== 2) throw new Error(`${where}: with position_ids the caches must be 2-D`);
      if (posT.dims.length !== 2 || posT.dims[0] !== B || posT.dims[1] !== S) {
        throw new Error(`${where}: position_ids has shape [${posT.dims.join(', ')}], expected [${B}, ${S}]`);
      }
      const pos = toNumbers(posT);
      rows = cosT!.dims[0]!;
      rowOf = (b, s) => pos[b * S + s]!;
    } else {
      if (cosT!.dims.length !== 3 || sinT!.dims.length !== 3) throw new Error(`${where}: without position_ids the caches must be 3-D (batch, sequence, rot/2)`);
      const cb = cosT!.dims[0]!;
      if ((cb !== B && cb !== 1) || cosT!.dims[1] !== S) throw new Error(`${where}: cos_cache has shape [${cosT!.dims.join(', ')}], expected [${B}, ${S}, ${half}]`);
      rows = cb * S;
      rowOf = cb === 1 ? (_b, s) => s : (b, s) => b * S + s; // a batch of 1 broadcasts
    }
    for (const c of [cosT!, sinT!]) {
      if (c.dims[c.dims.length - 1] !== half || c.dims.join() !== cosT!.dims.join()) {
        throw new Error(`${where}: caches have shapes [${cosT!.dims.join(', ')}] and [${sinT!.dims.join(', ')}]; the last dim must be rot/2 = ${half}`);
      }
    }
    const x = toNumbers(xT!);
    const cos = toNumbers(cosT!);
    const sin = toNumbers(sinT!);
    const out = Float64Array.from(x); // features past rot pass through unchanged
    const step = ctx.attrs.int('interleaved') === 1 ? [2, 1] : [1, half]; // [pair stride, partner distance]
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        const row = rowOf(b, s);
        if (!(row >= 0 && row < rows)) throw new Error(`${where}: position id ${row} is outside the caches' ${rows} rows`);
        for (let h = 0; h < H; h++) {
          const base = b * sb + s * ss + h * sh;
          for (let d = 0; d < half; d++) {
            const i1 = base + d * step[0]!;
            const i2 = i1 + step[1]!;
            const c = cos[row * half + d]!, sn = sin[row * half + d]!;
            const x1 = x[i1]!, x2 = x[i2]!;
            out[i1] = c * x1 - sn * x2;
            out[i2] = sn * x1 + c * x2;
          }
        }
      }
    }
    return [fromNumbers(xT!.type, out, dims)];
  },
});
