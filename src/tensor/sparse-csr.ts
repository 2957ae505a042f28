// Compressed sparse rows: the layout unstructured magnitude pruning produces.
import { allocData, type DType, type TensorData } from './dtype.js';
import { validateDims } from './shape.js';
import { checkCompressed, checkValues, matrixDims, RawElements } from './sparse-raw.js';
import { Tensor } from './tensor.js';

/**
 * Row i holds columns colIdx[rowPtr[i] .. rowPtr[i+1]) (strictly increasing) with their values.
 * An absent element has all bits zero, so a stored -0.0 is kept. For quantized tensors the
 * absent element is the raw integer 0, which is real zero when the zero point is 0.
 */
export interface CsrLayout {
  readonly kind: 'csr';
  readonly dtype: DType;
  /** Dense dims; the matrix is dims[0] rows by the product of the rest. */
  readonly dims: readonly number[];
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: TensorData;
}

export function csrFromDense(t: Tensor): CsrLayout {
  const [rows, cols] = matrixDims(t.dims, 'CSR');
  const src = new RawElements(t.type, t.data);
  let nnz = 0;
  for (let i = 0; i < t.size; i++) if (!src.isZero(i)) nnz++;
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(nnz);
  const values = allocData(t.type, nnz);
  const dst = new RawElements(t.type, values);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (src.isZero(i)) continue;
      colIdx[k] = c;
      src.copyTo(i, dst, k++);
    }
    rowPtr[r + 1] = k;
  }
  return { kind: 'csr', dtype: t.type, dims: [...t.dims], rowPtr, colIdx, values };
}

export function csrToDense(l: CsrLayout): Tensor {
  validateCsr(l);
  const [rows, cols] = matrixDims(l.dims, 'CSR');
  const out = allocData(l.dtype, rows * cols);
  const src = new RawElements(l.dtype, l.values);
  const dst = new RawElements(l.dtype, out);
  for (let r = 0; r < rows; r++) {
    for (let k = l.rowPtr[r]!; k < l.rowPtr[r + 1]!; k++) src.copyTo(k, dst, r * cols + l.colIdx[k]!);
  }
  return new Tensor(l.dtype, out, l.dims);
}

/** Throws a descriptive Error unless `l` is a well-formed CSR layout. */
export function validateCsr(l: CsrLayout): void {
  validateDims(l.dims, 'CSR');
  const [rows, cols] = matrixDims(l.dims, 'CSR');
  checkCompressed('CSR', ['rowPtr', 'colIdx', 'row', 'column'], l.rowPtr, l.colIdx, rows, cols);
  checkValues('CSR', l.dtype, l.values, l.colIdx.length);
}
