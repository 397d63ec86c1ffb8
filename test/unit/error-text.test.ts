/** A thrown value that is not an Error, and values put in messages, read as text (src/errors.ts). */
import { describe, expect, it } from 'vitest';
import { describeError, textOf } from '../../src/errors.ts';

describe('a value as text in errors and records', () => {
  it('describes a thrown plain object by its JSON, not [object Object]', () => {
    expect(describeError({ reason: 'quota', retry: false })).toEqual({ name: 'Error', message: '{"reason":"quota","retry":false}' });
    expect(describeError(new Error('boom'))).toMatchObject({ name: 'Error', message: 'boom' });
  });

  it('writes a string as it is, other values as JSON, and what JSON cannot write by its type', () => {
    expect(textOf('raw frame')).toBe('raw frame');
    expect(textOf([1, { a: 'b' }])).toBe('[1,{"a":"b"}]');
    expect(textOf(12n)).toBe('12');
    expect(textOf(undefined)).toBe('undefined');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(textOf(cycle)).toBe('[object]');
  });
});
