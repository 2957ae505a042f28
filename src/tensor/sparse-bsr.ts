// Block sparse rows: whole blocks are kept or dropped, so kernels run dense micro-tiles.
import { allocData, type DType, type TensorData } from './dtype.js';
import { validateDims } from './shape.js';
import { checkCompressed, checkValues, matrixDims, RawElements } from './sparse-raw.js';
import { Tensor } from './tensor.js';

/**
 * CSR over blocks of blockDims = [br, bc] elements: block row i holds block columns
 * blockCol[blockPtr[i] .. blockPtr[i+1]), and `values` stores each kept block densely, row-major,
 * one after another. The matrix (dims[0] by the product of the rest, as for CSR) must divide
 * evenly into blocks. A block is dropped only when all its elements have all bits zero.
 */
export interface BsrLayout {
  readonly kind: 'bsr';
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly blockDims: readonly [number, number];
  readonly blockPtr: Int32Array;
  readonly blockCol: Int32Array;
  readonly values: TensorData;
}

export function bsrFromDense(t: Tensor, blockDims: readonly [number, number]): BsrLayout {
  const [rows, cols] = matrixDims(t.dims, 'BSR');
  const [br, bc] = checkBlocks(blockDims, rows, cols);
  const blockRows = rows / br;
  const blockCols = cols / bc;
  const src = new RawElements(t.type, t.data);
  const kept: number[] = [];
  const blockPtr = new Int32Array(blockRows + 1);
  for (let i = 0; i < blockRows; i++) {
    for (let j = 0; j < blockCols; j++) if (!blockIsZero(src, i * br, j * bc, br, bc, cols)) kept.push(j);
    blockPtr[i + 1] = kept.length;
  }
  const blockCol = Int32Array.from(kept);
  const values = allocData(t.type, kept.length * br * bc);
  const dst = new RawElements(t.type, values);
  let k = 0;
  for (let i = 0; i < blockRows; i++) {
    for (let b = blockPtr[i]!; b < blockPtr[i + 1]!; b++) {
      for (let r = 0; r < br; r++) {
        for (let c = 0; c < bc; c++) src.copyTo((i * br + r) * cols + blockCol[b]! * bc + c, dst, k++);
      }
    }
  }
  return { kind: 'bsr', dtype: t.type, dims: [...t.dims], blockDims: [br, bc], blockPtr, blockCol, values };
}

export function bsrToDense(l: BsrLayout): Tensor {
  validateBsr(l);
  const [rows, cols] = matrixDims(l.dims, 'BSR');
  const [br, bc] = l.blockDims;
  const out = allocData(l.dtype, rows * cols);
  const src = new RawElements(l.dtype, l.values);
  const dst = new RawElements(l.dtype, out);
  let k = 0;
  for (let i = 0; i < rows / br; i++) {
    for (let b = l.blockPtr[i]!; b < l.blockPtr[i + 1]!; b++) {
      for (let r = 0; r < br; r++) {
        for (let c = 0; c < bc; c++) src.copyTo(k++, dst, (i * br + r) * cols + l.blockCol[b]! * bc + c);
      }
    }
  }
  return new Tensor(l.dtype, out, l.dims);
}

/** Throws a descriptive Error unless `l` is a well-formed BSR layout. */
export function validateBsr(l: BsrLayout): void {
  validateDims(l.dims, 'BSR');
  const [rows, cols] = matrixDims(l.dims, 'BSR');
  const [br, bc] = checkBlocks(l.blockDims, rows, cols);
  checkCompressed('BSR', ['blockPtr', 'blockCol', 'block row', 'block column'], l.blockPtr, l.blockCol, rows / br, cols / bc);
  checkValues('BSR', l.dtype, l.values, l.blockCol.length * br * bc);
}

function checkBlocks(blockDims: readonly [number, number], rows: number, cols: number): [number, number] {
  const ok = Array.isArray(blockDims) && blockDims.length === 2 && blockDims.every((d) => Number.isSafeInteger(d) && d >= 1);
  if (!ok) throw new Error(`BSR: block dims must be two positive integers, got [${String(blockDims)}]`);
  const [br, bc] = blockDims;
  if (rows % br !== 0 || cols % bc !== 0) {
    throw new Error(`BSR: a ${rows}x${cols} matrix does not divide into ${br}x${bc} blocks`);
  }
  return [br, bc];
}

function blockIsZero(src: RawElements, r0: number, c0: number, br: number, bc: number, cols: number): boolean {
  for (let r = 0; r < br; r++) {
    for (let c = 0; c < bc; c++) if (!src.isZero((r0 + r) * cols + c0 + c)) return false;
  }
  return true;
}
