// Bad input must fail with a plain Error whose message names the problem, never a TypeError or
// RangeError escaping from the parser.
import { expect } from 'vitest';

/** Asserts that `f` throws a plain Error (not a TypeError/RangeError) whose message matches. */
export function expectClearError(f: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an Error').toBeInstanceOf(Error);
  expect((caught as Error).constructor).toBe(Error);
  expect((caught as Error).message).toMatch(message);
}
