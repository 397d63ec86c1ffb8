import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../../../src/log/types.ts';
import type { SubscribeOptions } from '../../../src/log/types.ts';
import { collectRecords, createStream, cursorOf, event, events, expectCode, ids, plain, positions, until, type GetStore } from './fixtures.ts';

/** subscribe(): catch-up then live, after a position or a cursor, filters, failed batches, teardown. */
export function subscribeSpecs(store: GetStore): void {
  describe('subscribe', () => {
    /** Subscribes and collects what arrives (real time: deliveries are awaited with `until`, never timed). */
    function collect(options: SubscribeOptions = {}, onRecord?: (r: EventRecord) => void) {
      const { received, state, subscription } = collectRecords(store().subscribe({ pollIntervalMs: 50, ...options }), onRecord);
      const count = (n: number) => until(() => received.length >= n || state.error !== undefined, `${n} records`);
      return { received, subscription, state, count };
    }

    it('catches up from the log, then delivers new appends; each record as readAll returns it', async () => {
      await createStream(store(), 'a');
      await store().append('a', 0, events(3));
      const { received, count, subscription } = collect();
      await count(3);
      expect(positions(received)).toEqual([1, 2, 3]);
      await store().append('a', 3, events(2));
      await count(5);
      expect(positions(received)).toEqual([1, 2, 3, 4, 5]);
      expect(received).toEqual(await store().readAll());
      subscription.unsubscribe();
    });

    it('starts after the given global position', async () => {
      await createStream(store(), 'a');
      await store().append('a', 0, events(4));
      const from2 = collect({ after: 2 });
      const from4 = collect({ after: 4 });
      await store().append('a', 4, [event('marker')]);
      await from2.count(3);
      await from4.count(1);
      expect(positions(from2.received)).toEqual([3, 4, 5]);
      expect(from4.received.map((r) => r.type)).toEqual(['marker']);
      from2.subscription.unsubscribe();
      from4.subscription.unsubscribe();
    });

    it('starts after a LogCursor taken from a delivered record, without repeating it', async () => {
      await createStream(store(), 'a');
      await createStream(store(), 'b');
      await store().append('a', 0, events(2));
      await store().appendBatch([
        { streamId: 'b', expectedVersion: 0, events: events(1) },
        { streamId: 'a', expectedVersion: 2, events: events(1) },
      ]);
      const all = await store().readAll();
      const resumed = collect({ after: cursorOf(all[1]!) });
      await store().append('b', 1, [event('live')]);
      await resumed.count(3);
      expect(ids(resumed.received)).toEqual(['b@1', 'a@3', 'b@2']);
      resumed.subscription.unsubscribe();
    });

    it('catches up in batches without gaps or duplicates', async () => {
      await createStream(store(), 'a');
      await store().append('a', 0, events(7));
      const { received, count, subscription } = collect({ batchSize: 2 });
      await count(7);
      await store().append('a', 7, events(3));
      await count(10);
      expect(positions(received)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      subscription.unsubscribe();
    });

    it('filters by streamId, catch-up and live', async () => {
      await createStream(store(), 'a');
      await createStream(store(), 'b');
      await store().append('a', 0, events(1));
      await store().append('b', 0, events(1));
      const { received, count, subscription } = collect({ streamId: 'b' });
      await count(1);
      await store().append('a', 1, events(1));
      await store().append('b', 1, events(2));
      await count(3);
      expect(ids(received)).toEqual(['b@1', 'b@2', 'b@3']);
      subscription.unsubscribe();
    });

    it('delivers appends made by a handler, while catching up and live, exactly once and in order', async () => {
      await createStream(store(), 'a');
      await store().append('a', 0, events(3));
      let version = 3;
      let chain = Promise.resolve();
      const { received, count, subscription } = collect({ batchSize: 2 }, (r) => {
        // a handler that appends on odd positions, up to version 6
        if (r.globalPosition % 2 === 1 && version < 6) {
          const expected = version++;
          chain = chain.then(async () => {
            await store().append('a', expected, [event(`from.${r.globalPosition}`)]);
          });
        }
      });
      await count(6);
      await chain;
      await store().append('a', 6, events(1));
      await count(7);
      expect(positions(received)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      subscription.unsubscribe();
    });

    it('never delivers the events of a failed batch', async () => {
      await createStream(store(), 'a');
      const { received, count, subscription } = collect();
      await store().append('a', 0, events(2));
      await expectCode(
        () =>
          store().appendBatch([
            { streamId: 'a', expectedVersion: 2, events: [event('phantom')] },
            { streamId: 'nope', expectedVersion: 0, events: [event('x')] },
          ]),
        'STREAM_NOT_FOUND',
      );
      await store().append('a', 2, [event('real')]);
      await count(3);
      expect(received.map((r) => r.type)).toEqual(['e.1', 'e.2', 'real']);
      expect(received.map(plain)).toEqual((await store().readAll()).map(plain));
      subscription.unsubscribe();
    });

    it('unsubscribing stops the deliveries', async () => {
      await createStream(store(), 'a');
      const first = collect();
      first.subscription.unsubscribe();
      await store().append('a', 0, events(1));
      const second = collect();
      await second.count(1);
      await store().append('a', 1, [event('marker')]);
      await second.count(2);
      expect(first.received).toEqual([]);
      second.subscription.unsubscribe();
    });

    it('completes when the store closes', async () => {
      const { state } = collect();
      await store().close();
      await until(() => state.completed, 'completed');
      expect(state.error).toBeUndefined();
    });
  });
}
