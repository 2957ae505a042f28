// What a removed channel's constant becomes through the ops channels pass through: per-element
// functions of unary activations and of binary ops, and the attributes they read. Used by
// channel-graph.ts to carry, per channel, the value a zeroed source filter leaves downstream.
import type { Node } from '../../graph/ir.js';

export function attrInts(n: Node, key: string): number[] {
  const v = n.attrs[key];
  return Array.isArray(v) ? (v as number[]) : [];
}

export const attrNum = (n: Node, key: string, dflt: number): number => {
  const v = n.attrs[key];
  return typeof v === 'number' ? v : dflt;
};

/** True when a Conv (or pool) reads no padding: then a constant input gives a constant output. */
export function noPadding(n: Node): boolean {
  const auto = n.attrs.auto_pad;
  if (typeof auto === 'string' && auto !== 'NOTSET' && auto !== 'VALID') return false;
  return attrInts(n, 'pads').every((p) => p === 0);
}

export const UNARY: Record<string, (k: number, n: Node) => number> = {
  Relu: (k) => Math.max(k, 0),
  LeakyRelu: (k, n) => (k < 0 ? k * attrNum(n, 'alpha', 0.01) : k),
  Elu: (k, n) => (k < 0 ? attrNum(n, 'alpha', 1) * (Math.exp(k) - 1) : k),
  Sigmoid: (k) => 1 / (1 + Math.exp(-k)),
  Tanh: (k) => Math.tanh(k),
  HardSigmoid: (k, n) => Math.min(1, Math.max(0, attrNum(n, 'alpha', 0.2) * k + attrNum(n, 'beta', 0.5))),
  HardSwish: (k) => k * Math.min(1, Math.max(0, k / 6 + 0.5)),
  Softplus: (k) => Math.log1p(Math.exp(k)),
  Neg: (k) => -k,
  Abs: (k) => Math.abs(k),
  Identity: (k) => k,
  Dropout: (k) => k,
};

export const BINARY: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
};

/** Ops whose every input may carry tracked channels. */
export const MULTI_INPUT: ReadonlySet<string> = new Set([...Object.keys(BINARY), 'Concat']);
