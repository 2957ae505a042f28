// The optimization API: calibration, quantization, evaluation, sensitivity and mixed precision.
// Browser-safe (no Node built-ins): data comes in as tensors or parsed .npy/.npz bytes.
export { calibrate, floatActivations, type CalibrateOptions, type ProgressCallback } from './calibrate.js';
export { CALIBRATION_METHODS, type CalibrationMethod, type Range } from './observers.js';
export { imageDataset, isDataset, take, tensorDataset, toDataset, type Dataset } from './dataset.js';
export { agreement, evaluate, type Accuracy, type Agreement, type EvaluateOptions } from './evaluate.js';
export { calibrateForStatic, quantizeStatic, type QuantizeStaticOptions } from './quantize-static.js';
export {
  layerSensitivity, mixedPrecision, rankLayers,
  type LabeledData, type LayerSensitivity, type MixedPrecisionOptions, type MixedPrecisionResult, type MixedPrecisionStep,
  type Quantizer, type SensitivityOptions, type SensitivityResult,
} from './sensitivity.js';
export { quantizeDynamic, quantizeDynamicPass, type DynamicQuantOptions } from '../passes/quantize/dynamic.js';
export { quantizeWeights, quantizeWeightsPass, type WeightOnlyOptions } from '../passes/quantize/weight-only.js';
export { quantizableLayers } from '../passes/quantize/layers.js';
export { prepareForQuantization } from '../passes/quantize/prepare.js';
export { parseNpy, parseNpz } from '../io/npy.js';
export { missingKernels, missingKernelsMessage, type MissingKernel } from './kernel-check.js';
export {
  paretoFront as searchParetoFront, searchCompression,
  type FrontPoint, type LayerSetting, type PrecisionSetting, type PruneSetting, type SearchCandidate, type SearchCompressionOptions,
  type SearchCompressionResult, type SearchConfig, type SearchTarget,
} from './search.js';
export { formatSearch } from './search-format.js';
