import { describe, expect, it } from 'vitest';
import { Attrs } from '../../src/ops/attrs.js';

describe('Attrs.strings', () => {
  const specs = { acts: { type: 'strings' as const }, dflt: { type: 'strings' as const, default: ['Tanh'] }, n: { type: 'int' as const } };

  it('reads string lists, applying defaults', () => {
    const a = new Attrs({ acts: ['Sigmoid', 'Relu'], n: 3 }, specs, 'node x');
    expect(a.strings('acts')).toEqual(['Sigmoid', 'Relu']);
    expect(a.strings('dflt')).toEqual(['Tanh']);
    expect(new Attrs({}, specs, 'node x').optStrings('acts')).toBeUndefined();
  });

  it('rejects non-string lists and missing required values with the node named', () => {
    expect(() => new Attrs({ acts: [1, 2] }, specs, 'node x').strings('acts')).toThrow(/node x: attribute 'acts' must be a list of strings/);
    expect(() => new Attrs({}, specs, 'node x').strings('acts')).toThrow(/node x: required attribute 'acts' is missing/);
  });
});
