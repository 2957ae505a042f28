/**
 * Quantization parameters: real = (q - zeroPoint) * scale.
 * Per-tensor when `axis` is undefined; per-axis (per-channel) when set, with one scale per slice
 * along `axis`; blocked (weight-only int4) when `blockSize` is set too, with one scale per block of
 * `blockSize` consecutive elements along `axis`.
 */
export interface QuantParams {
  scale: Float32Array;
  zeroPoint: Int32Array;
  axis?: number;
  blockSize?: number;
}

export function perTensorQuant(scale: number, zeroPoint = 0): QuantParams {
  return { scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zeroPoint) };
}

export function validateQuantParams(q: QuantParams, dims: readonly number[]): void {
  if (q.scale.length !== q.zeroPoint.length) {
    throw new Error(`QuantParams: ${q.scale.length} scales but ${q.zeroPoint.length} zero points`);
  }
  if (q.axis === undefined) {
    if (q.scale.length !== 1) throw new Error(`QuantParams: per-tensor quantization needs 1 scale, got ${q.scale.length}`);
    return;
  }
  const axis = q.axis;
  if (!Number.isInteger(axis) || axis < 0 || axis >= dims.length) {
    throw new Error(`QuantParams: axis ${axis} out of range for rank ${dims.length}`);
  }
  const extent = dims[axis]!;
  const expected = q.blockSize === undefined ? extent : Math.ceil(extent / q.blockSize) * (sizeOf(dims) / Math.max(extent, 1));
  if (q.blockSize !== undefined && (!Number.isInteger(q.blockSize) || q.blockSize <= 0)) {
    throw new Error(`QuantParams: block size must be a positive integer, got ${q.blockSize}`);
  }
  if (q.scale.length !== expected) {
    throw new Error(`QuantParams: expected ${expected} scales for axis ${axis}${q.blockSize ? ` block ${q.blockSize}` : ''}, got ${q.scale.length}`);
  }
}

function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
