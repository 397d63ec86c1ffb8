import { describe, expect, it } from 'vitest';
import { createStream, event, expectCode, machine, type GetStore } from './fixtures.ts';

/** Streams: create, get, list, status, derived version and updatedAt, closed store. */
export function streamSpecs(store: GetStore): void {
  describe('streams', () => {
    it('creates a stream at version 0, active, updatedAt = createdAt', () => {
      const created = createStream(store(), 'job-1', 123, { prompt: 'hi', n: [1, 2] });
      const expected = { streamId: 'job-1', machine, input: { prompt: 'hi', n: [1, 2] }, status: 'active', version: 0, createdAt: 123, updatedAt: 123 };
      expect(created).toEqual(expected);
      expect(store().getStream('job-1')).toEqual(expected);
    });

    it('returns undefined for an unknown stream', () => {
      expect(store().getStream('nope')).toBeUndefined();
    });

    it('refuses a second stream with the same id: STREAM_EXISTS', () => {
      createStream(store(), 'job-1');
      expectCode(() => createStream(store(), 'job-1'), 'STREAM_EXISTS', { streamId: 'job-1' });
      expect(store().listStreams()).toHaveLength(1);
    });

    it('lists streams in creation order, filtered by status', () => {
      for (const id of ['c', 'a', 'b']) createStream(store(), id);
      store().setStreamStatus('a', 'done', 200);
      store().setStreamStatus('b', 'error', 200);
      expect(
        store()
          .listStreams()
          .map((s) => s.streamId),
      ).toEqual(['c', 'a', 'b']);
      expect(
        store()
          .listStreams({ status: ['active'] })
          .map((s) => s.streamId),
      ).toEqual(['c']);
      expect(
        store()
          .listStreams({ status: ['error', 'done'] })
          .map((s) => s.streamId),
      ).toEqual(['a', 'b']);
      expect(store().listStreams({ status: [] })).toEqual([]);
      expect(
        store()
          .listStreams({ status: ['done', 'active', 'done', 'error', 'stopped'] })
          .map((s) => s.streamId),
      ).toEqual(['c', 'a', 'b']);
    });

    it('keeps version and updatedAt current through appends and status changes', () => {
      createStream(store(), 'job-1', 100);
      store().append('job-1', 0, [event('a', {}, { recordedAt: 150 }), event('b', {}, { recordedAt: 160 })]);
      expect(store().getStream('job-1')).toMatchObject({ version: 2, updatedAt: 160, status: 'active' });
      store().setStreamStatus('job-1', 'stopped', 170);
      expect(store().getStream('job-1')).toMatchObject({ version: 2, updatedAt: 170, status: 'stopped' });
      store().append('job-1', 2, [event('c', {}, { recordedAt: 180 })]);
      expect(store().getStream('job-1')).toMatchObject({ version: 3, updatedAt: 180, status: 'stopped' });
      expect(store().listStreams()[0]).toMatchObject({ version: 3, updatedAt: 180 });
    });

    it('sets a status: STREAM_NOT_FOUND for an unknown stream', () => {
      createStream(store(), 'job-1');
      store().setStreamStatus('job-1', 'done', 500);
      expect(store().getStream('job-1')).toMatchObject({ status: 'done', updatedAt: 500 });
      expectCode(() => store().setStreamStatus('nope', 'done', 1), 'STREAM_NOT_FOUND', { streamId: 'nope' });
    });

    it('hands out copies: mutating a returned record or the given input changes nothing', () => {
      const input = { deep: { x: 1 } };
      const created = store().createStream({ streamId: 's', machine, input, createdAt: 1 });
      input.deep.x = 2;
      (created.input as typeof input).deep.x = 3;
      created.machine.name = 'other';
      const got = store().getStream('s')!;
      expect(got).toMatchObject({ input: { deep: { x: 1 } }, machine });
      (got.input as typeof input).deep.x = 4;
      expect(store().getStream('s')!.input).toEqual({ deep: { x: 1 } });
    });

    it('throws STORE_UNAVAILABLE on every call once closed; close is idempotent', () => {
      const s = store();
      createStream(s, 'job-1');
      s.close();
      s.close();
      expectCode(() => s.getStream('job-1'), 'STORE_UNAVAILABLE');
      expectCode(() => s.listStreams(), 'STORE_UNAVAILABLE');
      expectCode(() => createStream(s, 'job-2'), 'STORE_UNAVAILABLE');
      expectCode(() => s.setStreamStatus('job-1', 'done', 1), 'STORE_UNAVAILABLE');
      expectCode(() => s.append('job-1', 0, [event('a')]), 'STORE_UNAVAILABLE');
      expectCode(() => s.appendBatch([{ streamId: 'job-1', expectedVersion: 0, events: [event('a')] }]), 'STORE_UNAVAILABLE');
      expectCode(() => s.readStream('job-1'), 'STORE_UNAVAILABLE');
      expectCode(() => s.readAll(), 'STORE_UNAVAILABLE');
      expectCode(() => s.headPosition(), 'STORE_UNAVAILABLE');
      expectCode(() => s.saveSnapshot({ streamId: 'job-1', version: 0, snapshot: {}, recordedAt: 1 }), 'STORE_UNAVAILABLE');
      expectCode(() => s.loadSnapshot('job-1'), 'STORE_UNAVAILABLE');
      expectCode(() => s.saveCheckpoint('p', 1), 'STORE_UNAVAILABLE');
      expectCode(() => s.loadCheckpoint('p'), 'STORE_UNAVAILABLE');
      expectCode(() => s.subscribe(), 'STORE_UNAVAILABLE');
      expectCode(() => s.transaction(() => 1), 'STORE_UNAVAILABLE');
    });
  });
}
