export * from './dtype.js';
export * from './shape.js';
export * from './quant.js';
export * from './tensor.js';
export * from './convert.js';
export * from './float16.js';
export * from './sparse.js';
export * from './float8.js';
