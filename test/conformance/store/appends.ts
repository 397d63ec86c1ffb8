import { describe, expect, it } from 'vitest';
import { createStream, cursorOf, event, events, expectCode, ids, increasing, plain, positions, type GetStore } from './fixtures.ts';

/** Appends, optimistic concurrency, readStream, readAll (position and cursor), headPosition, JSON round-trip. */
export function appendSpecs(store: GetStore): void {
  describe('append', () => {
    it('numbers events expected+1… and gives them increasing global positions from 1', async () => {
      await createStream(store(), 'a');
      expect(await store().append('a', 0, events(2))).toEqual({ nextVersion: 2, lastGlobalPosition: 2 });
      expect(await store().append('a', 2, events(1))).toEqual({ nextVersion: 3, lastGlobalPosition: 3 });
      const read = await store().readStream('a');
      expect(read.map((r) => r.version)).toEqual([1, 2, 3]);
      expect(positions(read)).toEqual([1, 2, 3]);
      expect(read.map((r) => r.type)).toEqual(['e.1', 'e.2', 'e.1']);
    });

    it('VERSION_CONFLICT when the expected version is stale, with details; nothing written', async () => {
      await createStream(store(), 'a');
      await store().append('a', 0, events(2));
      await expectCode(() => store().append('a', 1, [event('late')]), 'VERSION_CONFLICT', { streamId: 'a', expectedVersion: 1, actualVersion: 2 });
      await expectCode(() => store().append('a', 0, [event('late')]), 'VERSION_CONFLICT', { expectedVersion: 0, actualVersion: 2 });
      expect((await store().getStream('a'))!.version).toBe(2);
      expect(await store().headPosition()).toBe(2);
      expect((await store().append('a', 2, [event('ok')])).nextVersion).toBe(3);
    });

    it('VERSION_CONFLICT when the expected version is ahead of the stream', async () => {
      await createStream(store(), 'a');
      await store().append('a', 0, events(1));
      await expectCode(() => store().append('a', 5, [event('x')]), 'VERSION_CONFLICT', { streamId: 'a', expectedVersion: 5, actualVersion: 1 });
      await expectCode(() => store().append('a', 2, [event('x')]), 'VERSION_CONFLICT', { actualVersion: 1 });
      expect(await store().readStream('a')).toHaveLength(1);
    });

    it('two appends at the same expected version at once: exactly one wins, the other is VERSION_CONFLICT', async () => {
      await createStream(store(), 'a');
      // each call wrapped: an embedded store may throw synchronously instead of rejecting
      const outcomes = await Promise.allSettled([
        (async () => store().append('a', 0, [event('one')]))(),
        (async () => store().append('a', 0, [event('two')]))(),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toMatchObject({ code: 'VERSION_CONFLICT' });
      expect(await store().readStream('a')).toHaveLength(1);
    });

    it('STREAM_NOT_FOUND when appending to an unknown stream', async () => {
      await expectCode(() => store().append('nope', 0, [event('x')]), 'STREAM_NOT_FOUND', { streamId: 'nope' });
      expect(await store().headPosition()).toBe(0);
    });

    it('an empty append checks the version and writes nothing', async () => {
      await createStream(store(), 'a');
      expect(await store().append('a', 0, [])).toEqual({ nextVersion: 0, lastGlobalPosition: 0 });
      await store().append('a', 0, events(2));
      expect(await store().append('a', 2, [])).toEqual({ nextVersion: 2, lastGlobalPosition: 2 });
      await expectCode(() => store().append('a', 1, []), 'VERSION_CONFLICT');
      await expectCode(() => store().append('nope', 0, []), 'STREAM_NOT_FOUND');
      expect(await store().headPosition()).toBe(2);
    });

    it('APPEND_FAILED for data that is not JSON-safe; the stream is unchanged', async () => {
      await createStream(store(), 'a');
      await expectCode(() => store().append('a', 0, [event('bad', { n: 1n })]), 'APPEND_FAILED', { streamId: 'a' });
      expect((await store().getStream('a'))!.version).toBe(0);
      expect((await store().append('a', 0, [event('ok')])).nextVersion).toBe(1);
    });

    it('round-trips data and meta through JSON, and hands out copies', async () => {
      await createStream(store(), 'a');
      const data = { text: 'héllo ✓ "q"\n', n: -1.5, big: 2 ** 53 - 1, ok: true, none: null, list: [1, { x: [] }], skip: undefined };
      const meta = { source: 'sse' as const, cursor: 'evt-42', actor: 'child-1', causationId: 'req-7', recordedAt: 1_700_000_000_123 };
      await store().append('a', 0, [event('data.received', data, meta), { type: 'empty', data: undefined, meta: { source: 'timer', recordedAt: 1 } }]);
      const [first, second] = await store().readStream('a');
      expect(plain(first!)).toEqual({ globalPosition: 1, streamId: 'a', version: 1, type: 'data.received', data, meta });
      expect(Object.keys(first!.data as object)).not.toContain('skip');
      expect(second!.data).toBeNull();
      const stored = structuredClone(first);
      data.list.push(2);
      (first!.data as typeof data).n = 0;
      first!.meta.cursor = 'changed';
      expect((await store().readAll())[0]).toEqual(stored);
    });
  });

  describe('reads', () => {
    it('readStream returns the inclusive version range, in order', async () => {
      await createStream(store(), 'a');
      await store().append('a', 0, events(5));
      const versions = async (range?: { fromVersion?: number; toVersion?: number }) => (await store().readStream('a', range)).map((r) => r.version);
      expect(await versions()).toEqual([1, 2, 3, 4, 5]);
      expect(await versions({ fromVersion: 3 })).toEqual([3, 4, 5]);
      expect(await versions({ toVersion: 2 })).toEqual([1, 2]);
      expect(await versions({ fromVersion: 2, toVersion: 4 })).toEqual([2, 3, 4]);
      expect(await versions({ fromVersion: 4, toVersion: 4 })).toEqual([4]);
      expect(await versions({ fromVersion: 6 })).toEqual([]);
      expect(await versions({ fromVersion: 4, toVersion: 2 })).toEqual([]);
      expect(await store().readStream('nope')).toEqual([]);
    });

    it('readAll keeps the global order across streams, with after and limit', async () => {
      await createStream(store(), 'a');
      await createStream(store(), 'b');
      await store().append('a', 0, events(1));
      await store().append('b', 0, events(2));
      await store().append('a', 1, events(1));
      await store().append('b', 2, events(1));
      expect(ids(await store().readAll())).toEqual(['a@1', 'b@1', 'b@2', 'a@2', 'b@3']);
      expect(positions(await store().readAll())).toEqual([1, 2, 3, 4, 5]);
      expect(ids(await store().readAll({ after: 2 }))).toEqual(['b@2', 'a@2', 'b@3']);
      expect(ids(await store().readAll({ after: 1, limit: 2 }))).toEqual(['b@1', 'b@2']);
      expect(await store().readAll({ limit: 0 })).toEqual([]);
      expect(await store().readAll({ after: 5 })).toEqual([]);
      expect(await store().readAll({ after: 99 })).toEqual([]);
    });

    it('readAll({ streamId }) reads one stream from a global position, in order, with limit', async () => {
      await createStream(store(), 'a');
      await createStream(store(), 'b');
      await store().append('a', 0, events(1)); // 1
      await store().append('b', 0, events(2)); // 2, 3
      await store().append('a', 1, events(2)); // 4, 5
      await store().append('b', 2, events(1)); // 6
      expect(ids(await store().readAll({ streamId: 'a' }))).toEqual(['a@1', 'a@2', 'a@3']);
      expect(positions(await store().readAll({ streamId: 'a' }))).toEqual([1, 4, 5]);
      expect(ids(await store().readAll({ streamId: 'b', after: 2 }))).toEqual(['b@2', 'b@3']);
      // `after` may be a position of another stream (the runtime asks "what did this stream log after X")
      expect(ids(await store().readAll({ streamId: 'a', after: 3 }))).toEqual(['a@2', 'a@3']);
      expect(ids(await store().readAll({ streamId: 'a', after: 1, limit: 1 }))).toEqual(['a@2']);
      expect(await store().readAll({ streamId: 'a', after: 5 })).toEqual([]);
      expect(await store().readAll({ streamId: 'b', limit: 0 })).toEqual([]);
      expect(await store().readAll({ streamId: 'nope' })).toEqual([]);
      expect(await store().readAll({ streamId: 'b', after: 0 })).toEqual((await store().readAll()).filter((r) => r.streamId === 'b'));
    });

    it('readAll resumes after a LogCursor taken from a record: the rest, in the same order, nothing twice', async () => {
      await createStream(store(), 'a');
      await createStream(store(), 'b');
      await store().append('a', 0, events(2));
      await store().appendBatch([
        { streamId: 'b', expectedVersion: 0, events: events(2) },
        { streamId: 'a', expectedVersion: 2, events: events(1) },
      ]);
      await store().append('b', 2, events(1));
      const all = await store().readAll();
      expect(ids(all)).toEqual(['a@1', 'a@2', 'b@1', 'b@2', 'a@3', 'b@3']);
      expect(increasing(positions(all))).toBe(true);
      for (let i = 0; i < all.length; i++) {
        expect(await store().readAll({ after: cursorOf(all[i]!) })).toEqual(all.slice(i + 1));
      }
      expect(ids(await store().readAll({ after: cursorOf(all[1]!), limit: 2 }))).toEqual(['b@1', 'b@2']);
      expect(ids(await store().readAll({ after: cursorOf(all[0]!), streamId: 'b' }))).toEqual(['b@1', 'b@2', 'b@3']);
    });

    it('headPosition is 0 when empty, then the last global position', async () => {
      expect(await store().headPosition()).toBe(0);
      await createStream(store(), 'a');
      await createStream(store(), 'b');
      await store().append('a', 0, events(2));
      await store().append('b', 0, events(1));
      expect(await store().headPosition()).toBe(3);
      expect((await store().readAll()).at(-1)!.globalPosition).toBe(3);
    });
  });
}
