// Linear algebra: Det of square matrices in the last two axes, by LU decomposition with partial
// pivoting in float64.
import { fromNumbers, toNumbers } from '../tensor/convert.js';
import { sizeOfDims } from '../tensor/shape.js';
import { defineOp } from './registry.js';
import { FLOAT_TYPES, inputType } from './util.js';

defineOp({
  name: 'Det',
  inputs: [{ name: 'X', types: FLOAT_TYPES }],
  outputs: [{ name: 'Y' }],
  inferShape: (ctx) => {
    const x = inputType(ctx, 0);
    if (!x.shape) return [{ dtype: x.dtype }];
    const s = x.shape;
    if (s.length < 2) throw new Error(`${ctx.where}: input must have rank >= 2, got ${s.length}`);
    const a = s[s.length - 2], b = s[s.length - 1];
    if (typeof a === 'number' && typeof b === 'number' && a !== b) throw new Error(`${ctx.where}: matrices must be square, got ${a}x${b}`);
    return [{ dtype: x.dtype, shape: s.slice(0, -2) }];
  },
  reference: ([x], ctx) => {
    const dims = x!.dims;
    if (dims.length < 2) throw new Error(`${ctx.where}: input must have rank >= 2, got ${dims.length}`);
    const m = dims[dims.length - 1]!;
    if (dims[dims.length - 2] !== m) throw new Error(`${ctx.where}: matrices must be square, got ${dims[dims.length - 2]}x${m}`);
    const batch = sizeOfDims(dims.slice(0, -2));
    const v = toNumbers(x!);
    const out = new Float64Array(batch);
    const a = new Float64Array(m * m);
    for (let b = 0; b < batch; b++) {
      a.set(v.subarray(b * m * m, (b + 1) * m * m));
      let det = 1;
      for (let col = 0; col < m && det !== 0; col++) {
        let piv = col;
        for (let r = col + 1; r < m; r++) if (Math.abs(a[r * m + col]!) > Math.abs(a[piv * m + col]!)) piv = r;
        if (a[piv * m + col] === 0) { det = 0; break; }
        if (piv !== col) {
          for (let k = 0; k < m; k++) { const t = a[col * m + k]!; a[col * m + k] = a[piv * m + k]!; a[piv * m + k] = t; }
          det = -det;
        }
        const p = a[col * m + col]!;
        det *= p;
        for (let r = col + 1; r < m; r++) {
          const f = a[r * m + col]! / p;
          if (f !== 0) for (let k = col; k < m; k++) a[r * m + k] = a[r * m + k]! - f * a[col * m + k]!;
        }
      }
      out[b] = det;
    }
    return [fromNumbers(x!.type, out, dims.slice(0, -2))];
  },
});
