import { describe, expect, it } from 'vitest';
import { fingerprint, SEEN_LIMIT, SeenCursors } from '../../src/sources/sse/seenCursors.ts';

describe('SSE seen cursors (the default duplicate rule)', () => {
  it('tells a replay (same cursor, same content) from a reused id (same cursor, other content) for increasing integer cursors', () => {
    const seen = new SeenCursors(undefined);
    for (let i = 1; i <= 10; i++) expect(seen.deliver(String(i), { data: `d${i}` })).toBe('new');
    expect(seen.deliver('4', { data: 'd4' })).toBe('replay');
    expect(seen.deliver('4', { data: 'other' })).toBe('reused');
    expect(seen.deliver('4', { data: 'other' })).toBe('replay'); // the content it now carries
    expect(seen.deliver('4', { event: 'x', data: 'other' })).toBe('reused'); // the event name is content too
    expect(seen.has('10')).toBe(true);
    expect(seen.has('11')).toBe(false);
  });

  it('remembers the last SEEN_LIMIT integer cursors: an older one is new again', () => {
    const seen = new SeenCursors(undefined);
    for (let i = 1; i <= SEEN_LIMIT + 5; i++) seen.deliver(String(i), { data: 'same' });
    expect(seen.deliver('6', { data: 'same' })).toBe('replay');
    expect(seen.deliver(String(SEEN_LIMIT + 5), { data: 'same' })).toBe('replay');
    expect(seen.has('5')).toBe(false);
    expect(seen.deliver('5', { data: 'same' })).toBe('new');
  });

  it('keeps cursors that are not increasing canonical integers apart, with the same rule and bound', () => {
    const seen = new SeenCursors(undefined);
    expect(seen.deliver('10', { data: 'a' })).toBe('new');
    expect(seen.deliver('7', { data: 'b' })).toBe('new'); // smaller than the last integer
    expect(seen.deliver('007', { data: 'c' })).toBe('new'); // not canonical: another cursor than 7
    expect(seen.deliver('abc', { data: 'd' })).toBe('new');
    expect(seen.deliver('7', { data: 'b' })).toBe('replay');
    expect(seen.deliver('007', { data: 'b' })).toBe('reused');
    expect(seen.deliver('abc', { data: 'd' })).toBe('replay');
    expect(seen.deliver('10', { data: 'a' })).toBe('replay');
    for (let i = 0; i < SEEN_LIMIT; i++) seen.deliver(`k${i}`, { data: 'x' });
    expect(seen.has('abc')).toBe(false);
    expect(seen.has('10')).toBe(true); // the integer ring is its own bound
    expect(seen.deliver(`k${SEEN_LIMIT - 1}`, { data: 'x' })).toBe('replay');
  });

  it('takes any message with the initial cursor (a logged one, content unknown) for a replay', () => {
    for (const initial of ['42', 'evt-42']) {
      const seen = new SeenCursors(initial);
      expect(seen.has(initial)).toBe(true);
      expect(seen.deliver(initial, { data: 'whatever' })).toBe('replay');
      expect(seen.deliver('43', { data: 'next' })).toBe('new');
    }
  });

  it('fingerprints the event name, the data and their split, short and long alike', () => {
    expect(fingerprint({ event: 'a', data: 'b' })).not.toBe(fingerprint({ data: 'a\nb' }));
    expect(fingerprint({ event: 'ab', data: '' })).not.toBe(fingerprint({ event: 'a', data: 'b' }));
    expect(fingerprint({ data: 'hello' })).toBe(fingerprint({ data: `hel${'lo'}` }));
    expect(Number.isSafeInteger(fingerprint({ data: 'hello' }))).toBe(true);
    const long = 'x'.repeat(5000);
    const seen = new SeenCursors(undefined);
    expect(seen.deliver('1', { data: long })).toBe('new');
    expect(seen.deliver('1', { data: long })).toBe('replay');
    expect(seen.deliver('1', { data: `${long}y` })).toBe('reused');
    expect(seen.deliver('1', { data: `y${long.slice(1)}` })).toBe('reused');
  });
});
