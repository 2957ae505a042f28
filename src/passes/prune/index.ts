// Pruning passes: magnitude (unstructured, global or per layer, and N:M) with sparsity schedules.
export { pruneMagnitude, pruneMagnitudePass, type MagnitudePruneKind, type MagnitudePruneOptions, type MagnitudePruneRecord, type MagnitudePruneResult, type MagnitudePrunePassOptions, type PrunedLayer } from './magnitude.js';
export { isPruningStep, pruneAtStep, sparsityAt, validateSchedule, type ConstantSparsitySchedule, type PolynomialDecaySchedule, type SparsitySchedule } from './schedule.js';
export { findPrunableLayers, type PrunableLayer } from './layers.js';
export { applyPruningMasks, pruningMasks } from './magnitude-mask.js';
export { pruneStructured, pruneStructuredPass, planStructuredPruning, planChannels, type ChannelGroup, type ChannelNorm, type ChannelPlan, type RefusedGroup, type StructuredPruneOptions, type StructuredPrunePassOptions, type StructuredPruneRecord, type StructuredPruneResult } from './structured.js';
export { maskChannels } from './mask.js';
