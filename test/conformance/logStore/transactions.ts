import { describe, expect, it } from 'vitest';
import { isActorlogError } from '../../../src/errors.ts';
import { createStream, event, events, expectCode, ids, type GetStore } from './fixtures.ts';

/** appendBatch (group commit, all or none) and transaction (rollback on throw, nesting). */
export function transactionSpecs(store: GetStore): void {
  describe('appendBatch', () => {
    it('appends several requests in one go, also successive ones to one stream', () => {
      createStream(store(), 'a');
      createStream(store(), 'b');
      const results = store().appendBatch([
        { streamId: 'a', expectedVersion: 0, events: events(2) },
        { streamId: 'b', expectedVersion: 0, events: events(1) },
        { streamId: 'a', expectedVersion: 2, events: events(1) },
      ]);
      expect(results).toEqual([
        { nextVersion: 2, lastGlobalPosition: 2 },
        { nextVersion: 1, lastGlobalPosition: 3 },
        { nextVersion: 3, lastGlobalPosition: 4 },
      ]);
      expect(ids(store().readAll())).toEqual(['a@1', 'a@2', 'b@1', 'a@3']);
    });

    it('is all or none: a conflict in the 2nd request leaves the 1st unwritten', () => {
      createStream(store(), 'a');
      createStream(store(), 'b');
      const batch = [
        { streamId: 'a', expectedVersion: 0, events: events(1) },
        { streamId: 'b', expectedVersion: 3, events: events(1) },
      ];
      expectCode(() => store().appendBatch(batch), 'VERSION_CONFLICT', { streamId: 'b', expectedVersion: 3, actualVersion: 0 });
      expect(store().headPosition()).toBe(0);
      expect(store().getStream('a')!.version).toBe(0);
      // the store's idea of stream a's version was rolled back too: 1 is not a's version
      expectCode(() => store().append('a', 1, events(1)), 'VERSION_CONFLICT', { actualVersion: 0 });
      expect(store().append('a', 0, events(1))).toEqual({ nextVersion: 1, lastGlobalPosition: 1 });
      expectCode(() => store().append('a', 0, events(1)), 'VERSION_CONFLICT');
    });

    it('is all or none for an unknown stream too', () => {
      createStream(store(), 'a');
      expectCode(
        () =>
          store().appendBatch([
            { streamId: 'a', expectedVersion: 0, events: events(1) },
            { streamId: 'x', expectedVersion: 0, events: events(1) },
          ]),
        'STREAM_NOT_FOUND',
      );
      expect(store().readAll()).toEqual([]);
    });
  });

  describe('transaction', () => {
    it('returns the value of fn and commits its writes', () => {
      const result = store().transaction(() => {
        createStream(store(), 'a');
        return store().append('a', 0, events(2));
      });
      expect(result).toEqual({ nextVersion: 2, lastGlobalPosition: 2 });
      expect(store().getStream('a')!.version).toBe(2);
    });

    it('rolls back every write when fn throws, and rethrows', () => {
      createStream(store(), 'a');
      store().append('a', 0, events(1));
      const boom = new Error('boom');
      expect(() =>
        store().transaction(() => {
          createStream(store(), 'b');
          store().append('a', 1, events(2));
          store().append('b', 0, events(1));
          store().setStreamStatus('a', 'done', 999);
          store().saveSnapshot({ streamId: 'a', version: 3, snapshot: { s: 1 }, recordedAt: 1 });
          store().saveCheckpoint('p', 3);
          throw boom;
        }),
      ).toThrow(boom);
      expect(store().getStream('b')).toBeUndefined();
      expect(store().getStream('a')).toMatchObject({ version: 1, status: 'active' });
      expect(store().headPosition()).toBe(1);
      expect(store().loadSnapshot('a')).toBeUndefined();
      expect(store().loadCheckpoint('p')).toBeUndefined();
      // versions continue from the committed state, positions without gaps
      expectCode(() => store().append('a', 3, [event('as if committed')]), 'VERSION_CONFLICT', { actualVersion: 1 });
      expectCode(() => store().append('b', 1, [event('as if committed')]), 'STREAM_NOT_FOUND');
      expect(store().append('a', 1, [event('after')])).toEqual({ nextVersion: 2, lastGlobalPosition: 2 });
    });

    it('a conflict inside a transaction can be caught; the other writes commit', () => {
      createStream(store(), 'a');
      store().transaction(() => {
        store().append('a', 0, events(1));
        try {
          store().append('a', 0, events(1));
        } catch (err) {
          if (!isActorlogError(err, 'VERSION_CONFLICT')) throw err;
        }
        store().append('a', 1, events(1));
      });
      expect(
        store()
          .readStream('a')
          .map((r) => r.version),
      ).toEqual([1, 2]);
    });

    it('nests: an inner transaction that throws undoes only its own writes', () => {
      createStream(store(), 'a');
      store().transaction(() => {
        store().append('a', 0, events(1));
        expect(() =>
          store().transaction(() => {
            store().append('a', 1, events(1));
            store().saveCheckpoint('p', 2);
            throw new Error('inner');
          }),
        ).toThrow('inner');
        expect(store().getStream('a')!.version).toBe(1);
        expectCode(() => store().append('a', 2, [event('as if committed')]), 'VERSION_CONFLICT', { actualVersion: 1 });
        store().append('a', 1, [event('outer')]);
      });
      expect(
        store()
          .readStream('a')
          .map((r) => r.type),
      ).toEqual(['e.1', 'outer']);
      expect(store().loadCheckpoint('p')).toBeUndefined();
    });

    it('an outer throw rolls back committed inner transactions and batches', () => {
      createStream(store(), 'a');
      expect(() =>
        store().transaction(() => {
          store().transaction(() => store().append('a', 0, events(1)));
          store().appendBatch([{ streamId: 'a', expectedVersion: 1, events: events(1) }]);
          throw new Error('outer');
        }),
      ).toThrow('outer');
      expect(store().readAll()).toEqual([]);
      expect(store().append('a', 0, events(1)).nextVersion).toBe(1);
    });
  });
}
