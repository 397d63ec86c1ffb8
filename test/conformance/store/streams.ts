import { describe, expect, it } from 'vitest';
import { createStream, event, expectCode, machine, type GetStore } from './fixtures.ts';

/** Streams: create, get, list, status, derived version and updatedAt, closed store. */
export function streamSpecs(store: GetStore): void {
  describe('streams', () => {
    it('creates a stream at version 0, active, updatedAt = createdAt', async () => {
      const created = await createStream(store(), 'job-1', 123, { prompt: 'hi', n: [1, 2] });
      const expected = { streamId: 'job-1', machine, input: { prompt: 'hi', n: [1, 2] }, status: 'active', version: 0, createdAt: 123, updatedAt: 123 };
      expect(created).toEqual(expected);
      expect(await store().getStream('job-1')).toEqual(expected);
    });

    it('returns undefined for an unknown stream', async () => {
      expect(await store().getStream('nope')).toBeUndefined();
    });

    it('refuses a second stream with the same id: STREAM_EXISTS', async () => {
      await createStream(store(), 'job-1');
      await expectCode(() => createStream(store(), 'job-1'), 'STREAM_EXISTS', { streamId: 'job-1' });
      expect(await store().listStreams()).toHaveLength(1);
    });

    it('refuses an empty, NULL or missing stream id with INVALID_OPTIONS, in createStream and in write, and writes nothing', async () => {
      for (const streamId of ['', null, undefined]) {
        const stream = { streamId: streamId as unknown as string, machine, input: {}, createdAt: 1 };
        await expectCode(() => store().createStream(stream), 'INVALID_OPTIONS', { streamId: streamId ?? null });
        await expectCode(() => store().write({ streams: [stream] }), 'INVALID_OPTIONS', { streamId: streamId ?? null });
      }
      expect(await store().listStreams()).toEqual([]);
      expect(await store().headPosition()).toBe(0);
    });

    it('lists streams in creation order, filtered by status', async () => {
      for (const id of ['c', 'a', 'b']) await createStream(store(), id);
      await store().setStreamStatus('a', 'done', 200);
      await store().setStreamStatus('b', 'error', 200);
      const listed = async (status?: Array<'active' | 'done' | 'error' | 'stopped'>) =>
        (await store().listStreams(status && { status })).map((s) => s.streamId);
      expect(await listed()).toEqual(['c', 'a', 'b']);
      expect(await listed(['active'])).toEqual(['c']);
      expect(await listed(['error', 'done'])).toEqual(['a', 'b']);
      expect(await listed([])).toEqual([]);
      expect(await listed(['done', 'active', 'done', 'error', 'stopped'])).toEqual(['c', 'a', 'b']);
    });

    it('keeps version and updatedAt current through appends and status changes', async () => {
      await createStream(store(), 'job-1', 100);
      await store().append('job-1', 0, [event('a', {}, { recordedAt: 150 }), event('b', {}, { recordedAt: 160 })]);
      expect(await store().getStream('job-1')).toMatchObject({ version: 2, updatedAt: 160, status: 'active' });
      await store().setStreamStatus('job-1', 'stopped', 170);
      expect(await store().getStream('job-1')).toMatchObject({ version: 2, updatedAt: 170, status: 'stopped' });
      await store().append('job-1', 2, [event('c', {}, { recordedAt: 180 })]);
      expect(await store().getStream('job-1')).toMatchObject({ version: 3, updatedAt: 180, status: 'stopped' });
      expect((await store().listStreams())[0]).toMatchObject({ version: 3, updatedAt: 180 });
    });

    it('sets a status: STREAM_NOT_FOUND for an unknown stream', async () => {
      await createStream(store(), 'job-1');
      await store().setStreamStatus('job-1', 'done', 500);
      expect(await store().getStream('job-1')).toMatchObject({ status: 'done', updatedAt: 500 });
      await expectCode(() => store().setStreamStatus('nope', 'done', 1), 'STREAM_NOT_FOUND', { streamId: 'nope' });
    });

    it('hands out copies: mutating a returned record or the given input changes nothing', async () => {
      const input = { deep: { x: 1 } };
      const created = await store().createStream({ streamId: 's', machine, input, createdAt: 1 });
      input.deep.x = 2;
      (created.input as typeof input).deep.x = 3;
      created.machine.name = 'other';
      const got = (await store().getStream('s'))!;
      expect(got).toMatchObject({ input: { deep: { x: 1 } }, machine });
      (got.input as typeof input).deep.x = 4;
      expect((await store().getStream('s'))!.input).toEqual({ deep: { x: 1 } });
    });

    it('throws STORE_UNAVAILABLE on every call once closed; close is idempotent', async () => {
      const s = store();
      await createStream(s, 'job-1');
      await s.close();
      await s.close();
      await expectCode(() => s.getStream('job-1'), 'STORE_UNAVAILABLE');
      await expectCode(() => s.listStreams(), 'STORE_UNAVAILABLE');
      await expectCode(() => createStream(s, 'job-2'), 'STORE_UNAVAILABLE');
      await expectCode(() => s.setStreamStatus('job-1', 'done', 1), 'STORE_UNAVAILABLE');
      await expectCode(() => s.append('job-1', 0, [event('a')]), 'STORE_UNAVAILABLE');
      await expectCode(() => s.appendBatch([{ streamId: 'job-1', expectedVersion: 0, events: [event('a')] }]), 'STORE_UNAVAILABLE');
      await expectCode(() => s.write({ appends: [{ streamId: 'job-1', expectedVersion: 0, events: [event('a')] }] }), 'STORE_UNAVAILABLE');
      await expectCode(() => s.readStream('job-1'), 'STORE_UNAVAILABLE');
      await expectCode(() => s.readAll(), 'STORE_UNAVAILABLE');
      await expectCode(() => s.headPosition(), 'STORE_UNAVAILABLE');
      await expectCode(() => s.saveSnapshot({ streamId: 'job-1', version: 0, snapshot: {}, recordedAt: 1 }), 'STORE_UNAVAILABLE');
      await expectCode(() => s.loadSnapshot('job-1'), 'STORE_UNAVAILABLE');
      await expectCode(() => s.saveCheckpoint('p', 1), 'STORE_UNAVAILABLE');
      await expectCode(() => s.loadCheckpoint('p'), 'STORE_UNAVAILABLE');
      await expectCode(() => s.readInbox('job-1'), 'STORE_UNAVAILABLE');
      await expectCode(() => s.inboxStreams(), 'STORE_UNAVAILABLE');
      await expectCode(() => s.subscribe(), 'STORE_UNAVAILABLE');
    });
  });
}
