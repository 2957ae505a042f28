// Static int8 post-training quantization: calibrate the activations on a data set, then rewrite
// the graph in QDQ form (src/passes/quantize/static-qdq.ts). The result is a standard ONNX QDQ
// graph; sessions on the WASM backend lower it to int8 kernels.
import type { Graph } from '../graph/ir.js';
import { jsonSafe, withProvenance } from '../passes/pass.js';
import { biasCorrectionTargets, correctBiases } from '../passes/quantize/bias-correction.js';
import { equalizeConvChains } from '../passes/quantize/equalize.js';
import { prepareForQuantization } from '../passes/quantize/prepare.js';
import { checkKeepFloat, planActivations, quantizeStaticQdq } from '../passes/quantize/static-qdq.js';
import type { Tensor } from '../tensor/tensor.js';
import { calibrate, type CalibrateOptions } from './calibrate.js';
import { channelMeans } from './channel-means.js';
import type { Dataset } from './dataset.js';
import type { CalibrationMethod, Range } from './observers.js';

export interface QuantizeStaticOptions extends Omit<CalibrateOptions, 'tensors' | 'levels'> {
  method?: CalibrationMethod;
  activationType?: 'uint8' | 'int8';
  /** 8 (default) or 7: 7-bit weights run the relaxed-SIMD int8 dot exactly (~1.3x faster). */
  weightBits?: 7 | 8;
  /** onnxruntime's name for weightBits 7. */
  reduceRange?: boolean;
  keepFloat?: readonly string[];
  /** Ranges from an earlier calibration of the same graph (skips running the data again). */
  ranges?: ReadonlyMap<string, Range>;
  /** Cross-layer equalization of Conv -> Relu -> Conv chains before calibrating (passes/quantize/equalize.ts); default true. */
  equalize?: boolean;
  /** Conv biases corrected for the mean int8 weight-rounding error, from the data's channel means (passes/quantize/bias-correction.ts). */
  biasCorrection?: boolean;
}

/** The float graph that gets calibrated and quantized: prepared, equalized and bias-corrected as the options say. */
async function prepareStatic(graph: Graph, data: Dataset | readonly Record<string, Tensor>[], options: QuantizeStaticOptions): Promise<Graph> {
  let g = prepareForQuantization(graph);
  if (options.equalize !== false) g = equalizeConvChains(g);
  if (options.biasCorrection) {
    const inputs = [...new Set(biasCorrectionTargets(g).map((t) => t.input))];
    const means = await channelMeans(g, data, inputs, options.backend);
    g = correctBiases(g, means, { weightBits: options.weightBits ?? (options.reduceRange ? 7 : 8), ...(options.keepFloat ? { keepFloat: options.keepFloat } : {}) });
  }
  return g;
}

/** Calibrated ranges of the activations quantizeStatic would quantize in `graph`. */
export async function calibrateForStatic(graph: Graph, data: Dataset | readonly Record<string, Tensor>[], options: QuantizeStaticOptions = {}): Promise<Map<string, Range>> {
  const prepared = await prepareStatic(graph, data, options);
  // Calibrate everything a quantized layer could touch (keepFloat none), so the same ranges serve
  // every keepFloat choice (sensitivity, mixed precision).
  const { tensors } = planActivations(prepared, new Set());
  if (tensors.size === 0) throw new Error(`quantizeStatic: graph '${graph.name}' has no quantizable op (Conv, MatMul or Gemm with constant float32 weights, Add, Mul, Concat, pooling)`);
  return calibrate(prepared, data, { ...options, tensors: [...tensors], levels: options.activationType === 'int8' ? 255 : 255 });
}

export async function quantizeStatic(graph: Graph, data: Dataset | readonly Record<string, Tensor>[], options: QuantizeStaticOptions = {}): Promise<Graph> {
  const prepared = await prepareStatic(graph, data, options);
  checkKeepFloat(prepared, options.keepFloat);
  const ranges = options.ranges ?? (await calibrateForStatic(prepared, data, { ...options, equalize: false, biasCorrection: false }));
  const out = quantizeStaticQdq(prepared, {
    ranges,
    ...(options.activationType ? { activationType: options.activationType } : {}),
    weightBits: options.weightBits ?? (options.reduceRange ? 7 : 8),
    ...(options.keepFloat ? { keepFloat: options.keepFloat } : {}),
  });
  const { onProgress: _p, ranges: _r, ...rest } = options;
  return withProvenance(out, { pass: 'quantizeStatic', options: jsonSafe({ ...rest, samples: 'length' in data ? data.length : undefined }) });
}
