// Importing this module registers every WASM op kernel factory (one file per family).
import './elementwise.js';
import './pool.js';
import './norm.js';
// Before gemm.js: they take MatMul / Gemm with sparse or quantized weights, the dense factories the rest.
import './sparse.js';
import './int4.js';
import './gemm.js';
import './movement.js';
// Before conv.js: pointwise convs with sparse weights.
import './sparse-conv.js';
import './conv.js';
import './qlinear.js';
import './quant-simd.js';
import './quant-elementwise.js';
import './resize.js';
import './conv-transpose.js';
import './elementwise-int.js';
import './recurrent.js';
import './pad.js';
