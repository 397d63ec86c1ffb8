import { describe, expect, it } from 'vitest';
import type { EventRecord, SubscribeOptions } from '../../../src/log/types.ts';
import { virtualTime } from '../../support/kit/index.ts';
import { collectRecords } from '../store/fixtures.ts';
import { createStream, event, events, ids, positions, type GetEmbeddedStore } from './fixtures.ts';

/**
 * `subscribe()` of the embedded stores (src/log/subscribe.ts) beyond the contract the asynchronous
 * suite checks: a local commit is delivered at once, inside the call that committed it; a handler
 * that appends is served in order (reentrancy); nothing is read inside an open transaction; a
 * `streamId` subscription reads through `readAll({ streamId })`; the poll timer runs on the given
 * scheduler (virtual time here) and stops with the subscription or the store.
 */
export function embeddedSubscribeSpecs(store: GetEmbeddedStore): void {
  describe('subscribe (embedded: synchronous delivery, transactions, the poll timer)', () => {
    /** Subscribes on a virtual-time scheduler and collects what arrives. */
    function collect(options: SubscribeOptions = {}, onRecord?: (r: EventRecord) => void) {
      const time = virtualTime();
      return { ...time, ...collectRecords(store().subscribe({ scheduler: time.scheduler, ...options }), onRecord) };
    }

    it('catches up inside subscribe(), then delivers a committed append inside the append call', () => {
      createStream(store(), 'a');
      store().append('a', 0, events(3));
      const { received } = collect();
      expect(positions(received)).toEqual([1, 2, 3]);
      store().append('a', 3, events(2));
      expect(positions(received)).toEqual([1, 2, 3, 4, 5]);
      expect(received[4]).toEqual(store().readAll()[4]);
    });

    it('a streamId subscription reads only that stream (readAll with streamId), catch-up and live', () => {
      createStream(store(), 'a');
      createStream(store(), 'b');
      store().append('a', 0, events(20));
      store().append('b', 0, events(2));
      const calls: Array<{ after?: unknown; limit?: number; streamId?: string }> = [];
      const s = store();
      const readAll = s.readAll.bind(s);
      s.readAll = (options) => {
        calls.push({ ...options });
        return readAll(options);
      };
      const { received } = collect({ streamId: 'b', batchSize: 2 });
      store().append('a', 20, events(5));
      store().append('b', 2, events(1));
      expect(ids(received)).toEqual(['b@1', 'b@2', 'b@3']);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((c) => c.streamId === 'b')).toBe(true);
      // catch-up: two batches of b (b@1 b@2 is a full batch, the next comes back short); no read of a's 20 events
      expect(calls.length).toBeLessThanOrEqual(6);
    });

    it('a handler that appends while catching up and live is delivered each new record once, in order, after it returns', () => {
      createStream(store(), 'a');
      store().append('a', 0, events(3));
      let version = 3;
      const { received } = collect({ batchSize: 2 }, (r) => {
        // appends during catch-up (positions 1, 3) and live (position 5)
        if (r.globalPosition % 2 === 1 && version < 6) version = store().append('a', version, [event(`from.${r.globalPosition}`)]).nextVersion;
      });
      expect(positions(received)).toEqual([1, 2, 3, 4, 5, 6]);
      store().append('a', 6, events(1));
      expect(positions(received)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it('polling finds nothing twice', () => {
      createStream(store(), 'a');
      const { received, advance } = collect({ pollIntervalMs: 50 });
      store().append('a', 0, events(2));
      advance(500);
      store().append('a', 2, events(1));
      advance(500);
      expect(positions(received)).toEqual([1, 2, 3]);
    });

    it('delivers appends of a transaction at its commit; never those rolled back', () => {
      createStream(store(), 'a');
      const { received } = collect();
      store().transaction(() => {
        store().append('a', 0, events(2));
        expect(received).toEqual([]);
      });
      expect(positions(received)).toEqual([1, 2]);
      expect(() =>
        store().transaction(() => {
          store().append('a', 2, [event('phantom')]);
          throw new Error('rollback');
        }),
      ).toThrow('rollback');
      store().appendBatch([{ streamId: 'a', expectedVersion: 2, events: [event('real')] }]);
      expect(received.map((r) => r.type)).toEqual(['e.1', 'e.2', 'real']);
      expect(positions(received)).toEqual([1, 2, 3]);
    });

    it('a subscription made inside a transaction reads nothing before the commit', () => {
      createStream(store(), 'a');
      store().append('a', 0, events(1));
      let inside: ReturnType<typeof collect> | undefined;
      expect(() =>
        store().transaction(() => {
          store().append('a', 1, [event('phantom')]);
          inside = collect({ pollIntervalMs: 10 });
          expect(inside.received).toEqual([]);
          throw new Error('rollback');
        }),
      ).toThrow('rollback');
      inside!.advance(10);
      expect(inside!.received.map((r) => r.type)).toEqual(['e.1']);
      store().transaction(() => store().append('a', 1, [event('real')]));
      expect(inside!.received.map((r) => r.type)).toEqual(['e.1', 'real']);
    });

    it('unsubscribing stops the poll timer and the deliveries', () => {
      createStream(store(), 'a');
      const { received, subscription, scheduler, advance } = collect({ pollIntervalMs: 10 });
      advance(100);
      expect(scheduler.actions.length).toBe(1);
      subscription.unsubscribe();
      expect(scheduler.actions.length).toBe(0);
      store().append('a', 0, events(1));
      advance(100);
      expect(received).toEqual([]);
    });

    it('completes when the store closes, leaving no timer', () => {
      const { state, scheduler } = collect();
      store().close();
      expect(state.completed).toBe(true);
      expect(state.error).toBeUndefined();
      expect(scheduler.actions.length).toBe(0);
    });
  });
}
