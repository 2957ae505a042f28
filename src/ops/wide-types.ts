// Former home of the wider dtype sets: util.ts's sets now include int16, uint16, uint32, uint64 and
// bfloat16, so these names are aliases kept for the ops that import them.
import type { DType } from '../tensor/dtype.js';
import { ALL_TYPES, FLOAT_TYPES, NUMERIC_TYPES } from './util.js';

export const EXTRA_INT_TYPES: readonly DType[] = ['int16', 'uint16', 'uint32', 'uint64'];
export const WIDE_FLOAT_TYPES: readonly DType[] = FLOAT_TYPES;
export const WIDE_NUMERIC_TYPES: readonly DType[] = NUMERIC_TYPES;
export const WIDE_ALL_TYPES: readonly DType[] = ALL_TYPES;
