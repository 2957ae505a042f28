// Dtype sets for ops that also accept the storage-only integer dtypes (int16, uint16, uint32,
// uint64). Kept apart from util.ts so that the shared sets change only when every op using them
// has been checked against those dtypes.
import type { DType } from '../tensor/dtype.js';
import { ALL_TYPES, NUMERIC_TYPES } from './util.js';

export const EXTRA_INT_TYPES: readonly DType[] = ['int16', 'uint16', 'uint32', 'uint64'];
export const WIDE_NUMERIC_TYPES: readonly DType[] = [...NUMERIC_TYPES, ...EXTRA_INT_TYPES];
export const WIDE_ALL_TYPES: readonly DType[] = [...ALL_TYPES, ...EXTRA_INT_TYPES];
