export * from './ir.js';
export * from './topo.js';
export * from './infer.js';
export * from './verify.js';
export * from './builder.js';
export * from './stats.js';
export * from './edit.js';
