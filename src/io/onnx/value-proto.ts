// Sequence and optional values as ONNX test data stores them (SequenceProto, OptionalProto):
// what `input_N.pb` / `output_N.pb` hold for graph values that are not tensors.
import { kindOf, type ValueType } from '../../graph/ir.js';
import { OptionalValue, TensorSequence, type Value } from '../../tensor/value.js';
import { OnnxValueElemType, OptionalProtoType, SequenceProtoType } from './schema.js';
import { decodeTensorProto, tensorFromProto, type TensorProtoLike } from './tensor.js';

interface SequenceProtoLike { elemType?: number; tensorValues?: TensorProtoLike[] }
interface OptionalProtoLike { elemType?: number; tensorValue?: TensorProtoLike | null; sequenceValue?: SequenceProtoLike | null }

function decode<T>(type: { decode(b: Uint8Array): unknown }, bytes: Uint8Array, what: string, context: string): T {
  try {
    return type.decode(bytes) as T;
  } catch (e) {
    throw new Error(`${context}: malformed ${what} (${(e as Error).message})`);
  }
}

function sequenceFrom(p: SequenceProtoLike, type: ValueType, context: string): TensorSequence {
  if (p.elemType !== OnnxValueElemType.TENSOR && (p.tensorValues ?? []).length === 0 && p.elemType) {
    throw new Error(`${context}: only sequences of tensors are supported`);
  }
  return new TensorSequence(type.dtype, (p.tensorValues ?? []).map((t, i) => tensorFromProto(t, `${context}[${i}]`)));
}

/** Decodes a serialized value of the given type: a TensorProto, SequenceProto or OptionalProto. */
export function decodeValueProto(bytes: Uint8Array, type: ValueType, context = 'value'): Value {
  switch (kindOf(type)) {
    case 'tensor': return decodeTensorProto(bytes, context);
    case 'sequence': return sequenceFrom(decode<SequenceProtoLike>(SequenceProtoType, bytes, 'SequenceProto', context), type, context);
    case 'optional': {
      const p = decode<OptionalProtoLike>(OptionalProtoType, bytes, 'OptionalProto', context);
      return new OptionalValue(p.tensorValue ? tensorFromProto(p.tensorValue, context) : undefined, type.dtype, false);
    }
    case 'optional-sequence': {
      const p = decode<OptionalProtoLike>(OptionalProtoType, bytes, 'OptionalProto', context);
      return new OptionalValue(p.sequenceValue ? sequenceFrom(p.sequenceValue, type, context) : undefined, type.dtype, true);
    }
  }
}
