// Kiln's public API. Shaped like onnxruntime-web where it overlaps (InferenceSession, Tensor).
export { InferenceSession, type SessionOptions } from './runtime/session.js';
export type { ModelSource } from './runtime/load.js';
export { parseModel } from './runtime/load.js';
export type { TensorLike } from './runtime/feeds.js';
export * from './tensor/index.js';
export * from './graph/index.js';
export { defineOp, findOp, listOps, type OpDef, type PortSpec, type InferContext, type KernelContext } from './ops/index.js';
export { importOnnx } from './io/onnx/import.js';
export { saveOnnx, type SaveOnnxOptions } from './io/onnx/export.js';
export { decodeTensorProto } from './io/onnx/tensor.js';
export { decodeValueProto } from './io/onnx/value-proto.js';
export * from './io/kiln-format/index.js';
export { registerBackend, registeredBackends, type Backend, type BackendName, type Executable } from './backends/backend.js';
export * from './passes/index.js';
export { quantizeFp16, quantizeFp16Pass, type Fp16WeightsOptions } from './passes/quantize/fp16-weights.js';
export * from './optimize/index.js';
