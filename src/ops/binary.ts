// Broadcasting binary arithmetic: Add, Sub, Mul, Div, Pow, and friends.
import { defineOp } from './registry.js';
import { broadcastInferred, broadcastMap, NUMERIC_TYPES, sameDType, wrapInt } from './util.js';

function defineArithmetic(name: string, fn: (a: number, b: number) => number): void {
  defineOp({
    name,
    inputs: [{ name: 'A', types: NUMERIC_TYPES }, { name: 'B', types: NUMERIC_TYPES }],
    outputs: [{ name: 'C' }],
    inferShape: (ctx) => [{ dtype: sameDType(ctx, [0, 1]), shape: broadcastInferred(ctx, [0, 1]) }],
    reference: ([a, b]) => [broadcastMap([a!, b!], a!.type, (x, y) => wrapInt(a!.type, fn(x, y)))],
  });
}

defineArithmetic('Add', (a, b) => a + b);
