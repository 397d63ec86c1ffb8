import { describe, expect, it } from 'vitest';
import { isActorlogError } from '../../../src/errors.ts';
import { createStream, event, events, expectCode, type GetEmbeddedStore } from './fixtures.ts';

/**
 * `transaction(fn)` of the embedded stores (not part of the LogStore contract: `write` is built on
 * it, see src/log/writeBatch.ts): the value of `fn`, rollback of every kind of write on a throw, a
 * caught conflict, nesting.
 */
export function transactionSpecs(store: GetEmbeddedStore): void {
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

    it('a rolled-back first save of a definition leaves its hash free for the next one', () => {
      const record = (name: string) => ({ hash: 'h1', name, definition: { id: name }, recordedAt: 1 });
      expect(() =>
        store().transaction(() => {
          store().saveDefinition(record('first'));
          store().saveDefinition(record('again')); // a no-op: the first is kept
          throw new Error('abort');
        }),
      ).toThrow('abort');
      expect(store().loadDefinition('h1')).toBeUndefined();
      store().saveDefinition(record('second'));
      expect(store().loadDefinition('h1')?.name).toBe('second');
    });

    it('throws STORE_UNAVAILABLE once the store is closed', () => {
      store().close();
      expectCode(() => store().transaction(() => 1), 'STORE_UNAVAILABLE');
    });
  });
}
