// Kiln's CPU kernels, compiled by asc into one SIMD module and one relaxed-SIMD module.
// Kernels work on raw pointers into the (imported) linear memory that the JS runtime plans;
// nothing here allocates. Each kernel family lives in its own file and is re-exported here.

/** First byte the JS side may use: everything below holds this module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 in the relaxed-SIMD build, 0 in the plain SIMD build (lets the loader confirm what it got). */
export function isRelaxedBuild(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
export * from './gemm_f32';
export * from './elementwise';
export * from './pool';
export * from './norm';
export * from './movement';
export * from './gemm_i8';
export * from './gemm_i8_pack';
export * from './conv_f32';
export * from './conv_i8';
export * from './gemv_i4';
export * from './sparse';
export * from './sparse_nm';
export * from './resize';
export * from './conv_transpose_f32';
export * from './conv3d_f32';
export * from './elementwise_int';
export * from './recurrent_f32';
export * from './quant_f32';
export * from './pool_lp';
export * from './dynamic_quant';
export * from './pool_i8';
export * from './pool_argmax';
