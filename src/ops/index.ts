// Importing this module registers every op. One file per op family.
import './binary.js';
import './unary.js';
import './activation.js';
import './reduce.js';
import './softmax.js';
import './normalization.js';
import './conv.js';
import './pool.js';
import './gemm.js';
import './quantize.js';
import './qlinear.js';
import './shape-ops.js';
import './layout.js';
import './generate.js';
import './topk.js';
import './scatter.js';
import './select.js';
import './einsum.js';
import './loss.js';
import './dropout.js';
import './pool-extra.js';
import './signal.js';
import './rnn.js';

export * from './registry.js';
export * from './attrs.js';
