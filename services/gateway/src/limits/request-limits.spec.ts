import { describe, expect, it } from '@jest/globals';
import { jsonNestingDepth } from './request-limits.js';

const depth = (text: string, stopAbove?: number) => jsonNestingDepth(Buffer.from(text), stopAbove);

describe('jsonNestingDepth', () => {
  it.each([
    ['1', 0],
    ['{}', 1],
    ['[[], {"a": [1]}]', 3],
    ['{"a":{"b":{"c":[]}}}', 4],
  ])('counts the nesting of %s as %i', (text, expected) => {
    expect(depth(text)).toBe(expected);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(depth('{"a":"[[[{{{"}')).toBe(1);
    expect(depth('["\\"[[[", "\\\\", [1]]')).toBe(2);
  });

  it('stops scanning once the limit is passed', () => {
    const hostile = '['.repeat(1_000_000);
    expect(depth(hostile, 32)).toBe(33);
    expect(depth(hostile)).toBe(1_000_000);
  });
});
