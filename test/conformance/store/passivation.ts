import { describe, expect, it } from 'vitest';
import { createStream, expectCode, type GetStore } from './fixtures.ts';

/** Passivation: streams put to sleep with their next due time, listed apart, woken once by id or when due. */
export function passivationSpecs(store: GetStore): void {
  describe('passivation', () => {
    const ids = (records: ReadonlyArray<{ streamId: string }>) => records.map((r) => r.streamId);

    it('leaves passivated streams out of the resident list and lists them apart, both in creation order', async () => {
      for (const [i, id] of ['a', 'b', 'c', 'd'].entries()) await createStream(store(), id, 100 + i);
      await store().write({
        passivations: [
          { streamId: 'c', at: 500, wakeAt: 9000 },
          { streamId: 'a', at: 500 },
        ],
      });
      await store().write({ statuses: [{ streamId: 'd', status: 'done', at: 600 }] });
      expect(ids(await store().listStreams({ status: ['active'], passivated: false }))).toEqual(['b']);
      expect(ids(await store().listStreams({ status: ['active'], passivated: true }))).toEqual(['a', 'c']);
      expect(ids(await store().listStreams({ passivated: false }))).toEqual(['b', 'd']);
      expect(ids(await store().listStreams({ status: ['active'] }))).toEqual(['a', 'b', 'c']);
      expect((await store().getStream('c'))?.status).toBe('active');
    });

    it('wakes a passivated stream by id once: a second wake, a resident, an unknown or an ended stream gives nothing', async () => {
      for (const id of ['a', 'b', 'c']) await createStream(store(), id);
      await store().write({
        passivations: [
          { streamId: 'a', at: 500 },
          { streamId: 'c', at: 500 },
        ],
      });
      await store().write({ statuses: [{ streamId: 'c', status: 'stopped', at: 600 }] });
      const woken = await store().activate(['a', 'b', 'nobody', 'c', 'a']);
      expect(ids(woken)).toEqual(['a']);
      expect(woken[0]).toMatchObject({ streamId: 'a', status: 'active', version: 0, input: { id: 'a' } });
      expect(await store().activate(['a'])).toEqual([]);
      expect(ids(await store().listStreams({ status: ['active'], passivated: false }))).toEqual(['a', 'b']);
    });

    it('wakes the streams due at a time, earliest first, at most `limit`; those without a timer only by id', async () => {
      for (const id of ['a', 'b', 'c', 'd']) await createStream(store(), id);
      await store().write({
        passivations: [
          { streamId: 'a', at: 1, wakeAt: 3000 },
          { streamId: 'b', at: 1, wakeAt: 1000 },
          { streamId: 'c', at: 1, wakeAt: 2000 },
          { streamId: 'd', at: 1 },
        ],
      });
      expect(await store().activateDue(999, 10)).toEqual([]);
      expect(ids(await store().activateDue(2500, 1))).toEqual(['b']);
      expect(ids(await store().activateDue(2500, 10))).toEqual(['c']);
      expect(ids(await store().activateDue(Number.MAX_SAFE_INTEGER, 10))).toEqual(['a']);
      expect(ids(await store().activate(['d']))).toEqual(['d']);
    });

    it('passivates with the batch or not at all, and refuses an unknown stream with STREAM_NOT_FOUND', async () => {
      await createStream(store(), 'a');
      await expectCode(
        () =>
          store().write({
            passivations: [
              { streamId: 'a', at: 1 },
              { streamId: 'nobody', at: 1 },
            ],
          }),
        'STREAM_NOT_FOUND',
        { streamId: 'nobody' },
      );
      expect(ids(await store().listStreams({ passivated: true }))).toEqual([]);
      await store().write({
        snapshots: [{ streamId: 'a', version: 0, snapshot: { s: 1 }, recordedAt: 2 }],
        passivations: [{ streamId: 'a', at: 2, wakeAt: 5 }],
      });
      expect(ids(await store().listStreams({ passivated: true }))).toEqual(['a']);
      expect((await store().loadSnapshot('a'))?.snapshot).toEqual({ s: 1 });
    });
  });
}
