import { describe, expect, it } from 'vitest';
import type { DefinitionRecord } from '../../../src/log/types.ts';
import { createStream, event, events, expectCode, ids, increasing, machine, positions, type GetStore } from './fixtures.ts';

/** appendBatch and write: one transaction, all or none, in the contract's order. */
export function batchSpecs(store: GetStore): void {
  describe('appendBatch', () => {
    it('appends several requests in one go, also successive ones to one stream', async () => {
      await createStream(store(), 'a');
      await createStream(store(), 'b');
      const results = await store().appendBatch([
        { streamId: 'a', expectedVersion: 0, events: events(2) },
        { streamId: 'b', expectedVersion: 0, events: events(1) },
        { streamId: 'a', expectedVersion: 2, events: events(1) },
      ]);
      expect(results).toEqual([
        { nextVersion: 2, lastGlobalPosition: 2 },
        { nextVersion: 1, lastGlobalPosition: 3 },
        { nextVersion: 3, lastGlobalPosition: 4 },
      ]);
      expect(ids(await store().readAll())).toEqual(['a@1', 'a@2', 'b@1', 'a@3']);
    });

    it('is all or none: a conflict in the 2nd request leaves the 1st unwritten', async () => {
      await createStream(store(), 'a');
      await createStream(store(), 'b');
      const batch = [
        { streamId: 'a', expectedVersion: 0, events: events(1) },
        { streamId: 'b', expectedVersion: 3, events: events(1) },
      ];
      await expectCode(() => store().appendBatch(batch), 'VERSION_CONFLICT', { streamId: 'b', expectedVersion: 3, actualVersion: 0 });
      expect(await store().headPosition()).toBe(0);
      expect(await store().readAll()).toEqual([]);
      expect((await store().getStream('a'))!.version).toBe(0);
      // the store's idea of stream a's version was rolled back too: 1 is not a's version
      await expectCode(() => store().append('a', 1, events(1)), 'VERSION_CONFLICT', { actualVersion: 0 });
      expect(await store().append('a', 0, events(1))).toMatchObject({ nextVersion: 1 });
      await expectCode(() => store().append('a', 0, events(1)), 'VERSION_CONFLICT');
    });

    it('is all or none for an unknown stream too', async () => {
      await createStream(store(), 'a');
      await expectCode(
        () =>
          store().appendBatch([
            { streamId: 'a', expectedVersion: 0, events: events(1) },
            { streamId: 'x', expectedVersion: 0, events: events(1) },
          ]),
        'STREAM_NOT_FOUND',
        { streamId: 'x' },
      );
      expect(await store().readAll()).toEqual([]);
    });
  });

  describe('write', () => {
    const definition = (hash: string): DefinitionRecord => ({ hash, name: 'job', definition: { id: 'job', states: {} }, recordedAt: 10 });
    const message = (streamId: string, causationId: string, type = 'ping') => ({
      streamId,
      causationId,
      type,
      data: { n: causationId },
      from: 'sender',
      postedAt: 20,
    });

    it('writes definitions, streams, appends, messages, snapshots and statuses together; returns the append results in order', async () => {
      await createStream(store(), 'old');
      await store().append('old', 0, events(1)); // position 1
      const results = await store().write({
        definitions: [definition('h1')],
        streams: [{ streamId: 'new', machine, input: { n: 1 }, createdAt: 5 }],
        appends: [
          { streamId: 'new', expectedVersion: 0, events: events(2, 'n') },
          { streamId: 'old', expectedVersion: 1, events: events(1, 'o') },
        ],
        messages: [message('old', 'c1')],
        snapshots: [{ streamId: 'new', version: 2, snapshot: { at: 2 }, recordedAt: 30 }],
        statuses: [{ streamId: 'new', status: 'done', at: 40 }],
      });
      expect(results.map((r) => r.nextVersion)).toEqual([2, 2]);
      expect(increasing([1, ...results.map((r) => r.lastGlobalPosition)])).toBe(true);
      expect(await store().loadDefinition('h1')).toEqual(definition('h1'));
      expect(await store().getStream('new')).toMatchObject({ version: 2, status: 'done', input: { n: 1 } });
      expect(ids(await store().readAll())).toEqual(['old@1', 'new@1', 'new@2', 'old@2']);
      expect((await store().readInbox('old')).map((m) => m.causationId)).toEqual(['c1']);
      expect(await store().loadSnapshot('new')).toMatchObject({ version: 2, snapshot: { at: 2 } });
    });

    it('applies statuses after appends: a batch may append the last events and end the stream', async () => {
      await createStream(store(), 'a');
      await store().write({
        appends: [{ streamId: 'a', expectedVersion: 0, events: [event('final', {}, { recordedAt: 50 })] }],
        statuses: [{ streamId: 'a', status: 'done', at: 60 }],
      });
      expect(await store().getStream('a')).toMatchObject({ version: 1, status: 'done', updatedAt: 60 });
    });

    it('is all or none: a conflicting append undoes every other write of the batch', async () => {
      await createStream(store(), 'a');
      await store().saveSnapshot({ streamId: 'a', version: 0, snapshot: { keep: true }, recordedAt: 1 });
      await expectCode(
        () =>
          store().write({
            definitions: [definition('h9')],
            streams: [{ streamId: 'b', machine, input: null, createdAt: 5 }],
            appends: [
              { streamId: 'b', expectedVersion: 0, events: events(1) },
              { streamId: 'a', expectedVersion: 7, events: events(1) },
            ],
            messages: [message('a', 'c1')],
            snapshots: [{ streamId: 'a', version: 1, snapshot: { lost: true }, recordedAt: 2 }],
            statuses: [{ streamId: 'a', status: 'done', at: 9 }],
          }),
        'VERSION_CONFLICT',
        { streamId: 'a', expectedVersion: 7, actualVersion: 0 },
      );
      expect(await store().loadDefinition('h9')).toBeUndefined();
      expect(await store().getStream('b')).toBeUndefined();
      expect(await store().readAll()).toEqual([]);
      expect(await store().readInbox('a')).toEqual([]);
      expect((await store().listSnapshots('a')).map((s) => s.snapshot)).toEqual([{ keep: true }]);
      expect(await store().getStream('a')).toMatchObject({ status: 'active', version: 0 });
    });

    it('is all or none when a stream of the batch exists already: STREAM_EXISTS', async () => {
      await createStream(store(), 'a');
      await expectCode(
        () =>
          store().write({
            definitions: [definition('h2')],
            streams: [
              { streamId: 'b', machine, input: null, createdAt: 1 },
              { streamId: 'a', machine, input: null, createdAt: 1 },
            ],
          }),
        'STREAM_EXISTS',
        { streamId: 'a' },
      );
      expect(await store().getStream('b')).toBeUndefined();
      expect(await store().loadDefinition('h2')).toBeUndefined();
    });

    it('is all or none when a status names an unknown stream: STREAM_NOT_FOUND', async () => {
      await createStream(store(), 'a');
      await expectCode(
        () => store().write({ appends: [{ streamId: 'a', expectedVersion: 0, events: events(1) }], statuses: [{ streamId: 'ghost', status: 'done', at: 1 }] }),
        'STREAM_NOT_FOUND',
        { streamId: 'ghost' },
      );
      expect(await store().readStream('a')).toEqual([]);
    });

    it('an empty batch writes nothing and returns []', async () => {
      expect(await store().write({})).toEqual([]);
      expect(await store().write({ appends: [], messages: [] })).toEqual([]);
      expect(await store().headPosition()).toBe(0);
    });

    it('keeps the order of a batch: appends to several streams come out of readAll in batch order', async () => {
      for (const id of ['x', 'y', 'z']) await createStream(store(), id);
      await store().write({
        appends: [
          { streamId: 'z', expectedVersion: 0, events: events(1) },
          { streamId: 'x', expectedVersion: 0, events: events(2) },
          { streamId: 'y', expectedVersion: 0, events: events(1) },
          { streamId: 'z', expectedVersion: 1, events: [event('again')] },
        ],
      });
      expect(ids(await store().readAll())).toEqual(['z@1', 'x@1', 'x@2', 'y@1', 'z@2']);
      expect(positions(await store().readAll())).toEqual([1, 2, 3, 4, 5]);
    });
  });
}
