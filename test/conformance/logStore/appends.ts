import { describe, expect, it } from 'vitest';
import { createStream, event, events, expectCode, ids, positions, type GetStore } from './fixtures.ts';

/** Appends, optimistic concurrency, readStream, readAll, headPosition, JSON round-trip. */
export function appendSpecs(store: GetStore): void {
  describe('append', () => {
    it('numbers events expected+1… and gives them increasing global positions from 1', () => {
      createStream(store(), 'a');
      expect(store().append('a', 0, events(2))).toEqual({ nextVersion: 2, lastGlobalPosition: 2 });
      expect(store().append('a', 2, events(1))).toEqual({ nextVersion: 3, lastGlobalPosition: 3 });
      const read = store().readStream('a');
      expect(read.map((r) => r.version)).toEqual([1, 2, 3]);
      expect(positions(read)).toEqual([1, 2, 3]);
      expect(read.map((r) => r.type)).toEqual(['e.1', 'e.2', 'e.1']);
    });

    it('VERSION_CONFLICT when the expected version is stale, with details; nothing written', () => {
      createStream(store(), 'a');
      store().append('a', 0, events(2));
      expectCode(() => store().append('a', 1, [event('late')]), 'VERSION_CONFLICT', { streamId: 'a', expectedVersion: 1, actualVersion: 2 });
      expectCode(() => store().append('a', 0, [event('late')]), 'VERSION_CONFLICT', { expectedVersion: 0, actualVersion: 2 });
      expect(store().getStream('a')!.version).toBe(2);
      expect(store().headPosition()).toBe(2);
      expect(store().append('a', 2, [event('ok')]).nextVersion).toBe(3);
    });

    it('VERSION_CONFLICT when the expected version is ahead of the stream', () => {
      createStream(store(), 'a');
      store().append('a', 0, events(1));
      expectCode(() => store().append('a', 5, [event('x')]), 'VERSION_CONFLICT', { streamId: 'a', expectedVersion: 5, actualVersion: 1 });
      expectCode(() => store().append('a', 2, [event('x')]), 'VERSION_CONFLICT', { actualVersion: 1 });
      expect(store().readStream('a')).toHaveLength(1);
    });

    it('STREAM_NOT_FOUND when appending to an unknown stream', () => {
      expectCode(() => store().append('nope', 0, [event('x')]), 'STREAM_NOT_FOUND', { streamId: 'nope' });
      expect(store().headPosition()).toBe(0);
    });

    it('an empty append checks the version and writes nothing', () => {
      createStream(store(), 'a');
      expect(store().append('a', 0, [])).toEqual({ nextVersion: 0, lastGlobalPosition: 0 });
      store().append('a', 0, events(2));
      expect(store().append('a', 2, [])).toEqual({ nextVersion: 2, lastGlobalPosition: 2 });
      expectCode(() => store().append('a', 1, []), 'VERSION_CONFLICT');
      expect(store().headPosition()).toBe(2);
    });

    it('APPEND_FAILED for data that is not JSON-safe; the stream is unchanged', () => {
      createStream(store(), 'a');
      expectCode(() => store().append('a', 0, [event('bad', { n: 1n })]), 'APPEND_FAILED', { streamId: 'a' });
      expect(store().getStream('a')!.version).toBe(0);
      expect(store().append('a', 0, [event('ok')]).nextVersion).toBe(1);
    });

    it('round-trips data and meta through JSON, and hands out copies', () => {
      createStream(store(), 'a');
      const data = { text: 'héllo ✓ "q"\n', n: -1.5, big: 2 ** 53 - 1, ok: true, none: null, list: [1, { x: [] }], skip: undefined };
      const meta = { source: 'sse' as const, cursor: 'evt-42', actor: 'child-1', causationId: 'req-7', recordedAt: 1_700_000_000_123 };
      const input = event('data.received', data, meta);
      store().append('a', 0, [input, { type: 'empty', data: undefined, meta: { source: 'timer', recordedAt: 1 } }]);
      const [first, second] = store().readStream('a');
      expect(first).toEqual({ globalPosition: 1, streamId: 'a', version: 1, type: 'data.received', data, meta });
      expect(Object.keys(first!.data as object)).not.toContain('skip');
      expect(second!.data).toBeNull();
      const stored = structuredClone(first);
      data.list.push(2);
      (first!.data as typeof data).n = 0;
      first!.meta.cursor = 'changed';
      expect(store().readAll()[0]).toEqual(stored);
    });
  });

  describe('reads', () => {
    it('readStream returns the inclusive version range, in order', () => {
      createStream(store(), 'a');
      store().append('a', 0, events(5));
      const versions = (range?: { fromVersion?: number; toVersion?: number }) =>
        store()
          .readStream('a', range)
          .map((r) => r.version);
      expect(versions()).toEqual([1, 2, 3, 4, 5]);
      expect(versions({ fromVersion: 3 })).toEqual([3, 4, 5]);
      expect(versions({ toVersion: 2 })).toEqual([1, 2]);
      expect(versions({ fromVersion: 2, toVersion: 4 })).toEqual([2, 3, 4]);
      expect(versions({ fromVersion: 4, toVersion: 4 })).toEqual([4]);
      expect(versions({ fromVersion: 6 })).toEqual([]);
      expect(versions({ fromVersion: 4, toVersion: 2 })).toEqual([]);
      expect(store().readStream('nope')).toEqual([]);
    });

    it('readAll keeps the global order across streams, with after and limit', () => {
      createStream(store(), 'a');
      createStream(store(), 'b');
      store().append('a', 0, events(1));
      store().append('b', 0, events(2));
      store().append('a', 1, events(1));
      store().append('b', 2, events(1));
      expect(ids(store().readAll())).toEqual(['a@1', 'b@1', 'b@2', 'a@2', 'b@3']);
      expect(positions(store().readAll())).toEqual([1, 2, 3, 4, 5]);
      expect(ids(store().readAll({ after: 2 }))).toEqual(['b@2', 'a@2', 'b@3']);
      expect(ids(store().readAll({ after: 1, limit: 2 }))).toEqual(['b@1', 'b@2']);
      expect(store().readAll({ limit: 0 })).toEqual([]);
      expect(store().readAll({ after: 5 })).toEqual([]);
      expect(store().readAll({ after: 99 })).toEqual([]);
    });

    it('readAll({ streamId }) reads one stream from a global position, in order, with limit', () => {
      createStream(store(), 'a');
      createStream(store(), 'b');
      store().append('a', 0, events(1)); // 1
      store().append('b', 0, events(2)); // 2, 3
      store().append('a', 1, events(2)); // 4, 5
      store().append('b', 2, events(1)); // 6
      expect(ids(store().readAll({ streamId: 'a' }))).toEqual(['a@1', 'a@2', 'a@3']);
      expect(positions(store().readAll({ streamId: 'a' }))).toEqual([1, 4, 5]);
      expect(ids(store().readAll({ streamId: 'b', after: 2 }))).toEqual(['b@2', 'b@3']);
      // `after` may be a position of another stream (the runtime asks "what did this stream log after X")
      expect(ids(store().readAll({ streamId: 'a', after: 3 }))).toEqual(['a@2', 'a@3']);
      expect(ids(store().readAll({ streamId: 'a', after: 1, limit: 1 }))).toEqual(['a@2']);
      expect(store().readAll({ streamId: 'a', after: 5 })).toEqual([]);
      expect(store().readAll({ streamId: 'b', limit: 0 })).toEqual([]);
      expect(store().readAll({ streamId: 'nope' })).toEqual([]);
      expect(store().readAll({ streamId: 'b', after: 0 })).toEqual(
        store()
          .readAll()
          .filter((r) => r.streamId === 'b'),
      );
    });

    it('headPosition is 0 when empty, then the last global position', () => {
      expect(store().headPosition()).toBe(0);
      createStream(store(), 'a');
      createStream(store(), 'b');
      store().append('a', 0, events(2));
      store().append('b', 0, events(1));
      expect(store().headPosition()).toBe(3);
      expect(store().readAll().at(-1)!.globalPosition).toBe(3);
    });
  });
}
