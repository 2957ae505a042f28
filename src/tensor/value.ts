// Values that are not tensors: ONNX sequences (an ordered list of tensors of one dtype, whose
// shapes may differ) and optionals (a tensor or a sequence, or nothing). Tensor ops never see
// them: only ops whose ports accept these kinds do (sequence ops, Optional*, Identity, If, Loop).
import type { DType } from './dtype.js';
import { Tensor } from './tensor.js';

export class TensorSequence {
  constructor(readonly elemType: DType, readonly tensors: readonly Tensor[]) {
    tensors.forEach((t, i) => {
      if (t.type !== elemType) throw new Error(`sequence of ${elemType}: element ${i} is ${t.type}`);
    });
  }

  get length(): number {
    return this.tensors.length;
  }
}

/** An optional value; an empty one still says what it would hold (ONNX types it). */
export class OptionalValue {
  constructor(
    readonly value: Tensor | TensorSequence | undefined,
    readonly elemType: DType,
    readonly holdsSequence: boolean,
  ) {
    if (value instanceof Tensor && (holdsSequence || value.type !== elemType)) throw new Error(`optional of ${describeOptional(this)} given a ${value.type} tensor`);
    if (value instanceof TensorSequence && (!holdsSequence || value.elemType !== elemType)) {
      throw new Error(`optional of ${describeOptional(this)} given a sequence of ${value.elemType}`);
    }
  }

  static of(value: Tensor | TensorSequence): OptionalValue {
    return value instanceof Tensor ? new OptionalValue(value, value.type, false) : new OptionalValue(value, value.elemType, true);
  }
}

function describeOptional(o: OptionalValue): string {
  return o.holdsSequence ? `sequence(${o.elemType})` : o.elemType;
}

/** Anything a graph value can hold at run time. */
export type Value = Tensor | TensorSequence | OptionalValue;

/** What a value holds: a tensor (the default), a sequence of tensors, or an optional of either. */
export type ValueKind = 'tensor' | 'sequence' | 'optional' | 'optional-sequence';

export function valueKind(v: Value): ValueKind {
  if (v instanceof Tensor) return 'tensor';
  if (v instanceof TensorSequence) return 'sequence';
  return v.holdsSequence ? 'optional-sequence' : 'optional';
}

/** The dtype of the tensors a value holds. */
export function elemTypeOf(v: Value): DType {
  return v instanceof Tensor ? v.type : v.elemType;
}

/** A short description for messages: 'float32 tensor', 'sequence of int64', 'optional ...'. */
export function describeValue(v: Value): string {
  if (v instanceof Tensor) return `${v.type} tensor`;
  if (v instanceof TensorSequence) return `sequence of ${v.elemType}`;
  return `optional ${describeOptional(v)}`;
}

/** `v` when it is a tensor; otherwise an error naming `what`. */
export function expectTensor(v: Value, what: string): Tensor {
  if (!(v instanceof Tensor)) throw new Error(`${what} is a ${describeValue(v)}, expected a tensor`);
  return v;
}
