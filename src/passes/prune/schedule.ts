// Sparsity schedules for gradual pruning, with TF-MOT's semantics, as plain functions a training
// loop calls between optimizer steps:
//
//   const s: SparsitySchedule = { kind: 'polynomialDecay', initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 0, endStep: 1000 };
//   for (let step = 0; step < steps; step++) {
//     trainOneStep(graph);
//     graph = pruneAtStep(graph, s, step, { kind: 'global' })?.graph ?? graph;
//   }
//
// Constant: sparsity `sparsity` at every pruning step. Polynomial decay: with p the progress
// (step - beginStep) / (endStep - beginStep) clamped to [0, 1],
//   sparsity(step) = final + (initial - final) * (1 - p)^power      (power 3 by default),
// so it starts at `initialSparsity`, rises fast, and levels off at `finalSparsity` at endStep.
// A step prunes when it lies in [beginStep, endStep] (endStep -1: no end, constant only) and
// (step - beginStep) is a multiple of `frequency` (default 100).
import type { Graph } from '../../graph/ir.js';
import { pruneMagnitude, type MagnitudePruneOptions, type MagnitudePruneResult } from './magnitude.js';

export interface ConstantSparsitySchedule {
  kind: 'constant';
  sparsity: number;
  /** Default 0. */
  beginStep?: number;
  /** Last step that may prune; -1 (default) for no end. */
  endStep?: number;
  /** Default 100. */
  frequency?: number;
}

export interface PolynomialDecaySchedule {
  kind: 'polynomialDecay';
  initialSparsity: number;
  finalSparsity: number;
  beginStep: number;
  /** Must be after beginStep: the sparsity reaches finalSparsity there. */
  endStep: number;
  /** Default 3. */
  power?: number;
  /** Default 100. */
  frequency?: number;
}

export type SparsitySchedule = ConstantSparsitySchedule | PolynomialDecaySchedule;

function fail(message: string): never {
  throw new Error(`sparsity schedule: ${message}`);
}

function fraction(name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) fail(`${name} must be a number in [0, 1], got ${String(v)}`);
}

function step(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${name} must be an integer >= ${min}, got ${String(v)}`);
}

/** Throws a clear error for an invalid schedule. */
export function validateSchedule(s: SparsitySchedule): void {
  if (s.kind === 'constant') {
    fraction('sparsity', s.sparsity);
    step('beginStep', s.beginStep ?? 0, 0);
    const end = s.endStep ?? -1;
    step('endStep', end, -1);
    if (end !== -1 && end < (s.beginStep ?? 0)) fail(`endStep ${end} is before beginStep ${s.beginStep ?? 0}`);
  } else if (s.kind === 'polynomialDecay') {
    fraction('initialSparsity', s.initialSparsity);
    fraction('finalSparsity', s.finalSparsity);
    step('beginStep', s.beginStep, 0);
    step('endStep', s.endStep, 0);
    if (s.endStep <= s.beginStep) fail(`endStep ${s.endStep} must be after beginStep ${s.beginStep}`);
    const power = s.power ?? 3;
    if (typeof power !== 'number' || !(power > 0) || !Number.isFinite(power)) fail(`power must be a positive number, got ${String(power)}`);
  } else {
    fail(`kind must be 'constant' or 'polynomialDecay', got '${String((s as { kind?: unknown }).kind)}'`);
  }
  step('frequency', s.frequency ?? 100, 1);
}

/** The target sparsity at `t` (defined at every step, pruning or not). */
export function sparsityAt(s: SparsitySchedule, t: number): number {
  validateSchedule(s);
  step('step', t, 0);
  if (s.kind === 'constant') return s.sparsity;
  const p = Math.min(1, Math.max(0, (t - s.beginStep) / (s.endStep - s.beginStep)));
  return s.finalSparsity + (s.initialSparsity - s.finalSparsity) * (1 - p) ** (s.power ?? 3);
}

/** Whether the training loop should prune after step `t`. */
export function isPruningStep(s: SparsitySchedule, t: number): boolean {
  validateSchedule(s);
  step('step', t, 0);
  const begin = s.beginStep ?? 0;
  const end = s.endStep ?? -1;
  return t >= begin && (end === -1 || t <= end) && (t - begin) % (s.frequency ?? 100) === 0;
}

/**
 * Prunes `graph` to the schedule's sparsity when `t` is a pruning step, else returns undefined.
 * `options` are pruneMagnitude's, less the amount (the schedule gives it); 'global' or 'layer'.
 */
export function pruneAtStep(graph: Graph, s: SparsitySchedule, t: number, options: Omit<MagnitudePruneOptions, 'amount'> = {}): MagnitudePruneResult | undefined {
  const kind = options.kind ?? 'global';
  if (kind !== 'global' && kind !== 'layer') fail(`a schedule sets the amount, so kind must be 'global' or 'layer', not '${kind}'`);
  if (!isPruningStep(s, t)) return undefined;
  return pruneMagnitude(graph, { ...options, kind, amount: sparsityAt(s, t) });
}
