// Dtype sets for ops that also accept the storage-only integer dtypes (int16, uint16, uint32,
// uint64). Kept apart from util.ts so that the shared sets change only when every op using them
// has been checked against those dtypes.
import type { DType } from '../tensor/dtype.js';
import { ALL_TYPES, FLOAT_TYPES, NUMERIC_TYPES } from './util.js';

export const EXTRA_INT_TYPES: readonly DType[] = ['int16', 'uint16', 'uint32', 'uint64'];
/** bfloat16 computes like the other floats (through float64) but is not in FLOAT_TYPES yet. */
export const WIDE_FLOAT_TYPES: readonly DType[] = [...FLOAT_TYPES, 'bfloat16'];
export const WIDE_NUMERIC_TYPES: readonly DType[] = [...NUMERIC_TYPES, ...EXTRA_INT_TYPES, 'bfloat16'];
export const WIDE_ALL_TYPES: readonly DType[] = [...ALL_TYPES, ...EXTRA_INT_TYPES, 'bfloat16'];
