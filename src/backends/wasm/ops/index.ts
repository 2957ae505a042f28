// Importing this module registers every WASM op kernel factory (one file per family).
import './elementwise.js';
import './pool.js';
import './norm.js';
import './gemm.js';
import './movement.js';
import './conv.js';
import './qlinear.js';
import './quant-elementwise.js';
