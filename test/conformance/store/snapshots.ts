import { afterEach, describe, expect, it } from 'vitest';
import type { LogStore } from '../../../src/log/types.ts';
import type { ConformanceOptions, StoreFactory } from '../storeConformance.ts';
import { createStream, events, expectCode, type GetStore } from './fixtures.ts';

/** Snapshots: latest, at-or-before, replace, list, pruning to keepSnapshots (also inside a write batch). */
export function snapshotSpecs(store: GetStore, factory: StoreFactory): void {
  describe('snapshots', () => {
    const snap = (version: number, value: unknown = { v: version }) => ({ streamId: 'a', version, snapshot: value, recordedAt: 5000 + version });
    const versionsOf = async (s: LogStore, streamId = 'a') => (await s.listSnapshots(streamId)).map((r) => r.version);
    const extra: LogStore[] = [];
    /** Another fresh store with `options`, closed after the test. */
    const open = async (options: ConformanceOptions) => {
      const s = await factory(options);
      extra.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of extra.splice(0)) await s.close();
    });

    it("lists a stream's snapshots in increasing version order, as copies", async () => {
      await store().saveSnapshot(snap(7));
      await store().saveSnapshot(snap(3));
      await store().saveSnapshot({ ...snap(5), streamId: 'b' });
      await store().saveSnapshot(snap(9));
      expect(await store().listSnapshots('a')).toEqual([snap(3), snap(7), snap(9)]);
      expect(await store().listSnapshots('b')).toEqual([{ ...snap(5), streamId: 'b' }]);
      expect(await store().listSnapshots('nope')).toEqual([]);
      ((await store().listSnapshots('a'))[0]!.snapshot as { v: number }).v = 99;
      expect((await store().listSnapshots('a'))[0]!.snapshot).toEqual({ v: 3 });
    });

    it('keeps the 10 highest versions per stream by default, pruned as each snapshot is saved', async () => {
      for (let v = 1; v <= 12; v++) await store().saveSnapshot(snap(v));
      await store().saveSnapshot({ ...snap(1), streamId: 'b' });
      expect(await versionsOf(store())).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(await store().loadSnapshot('a', 2)).toBeUndefined();
      expect(await store().loadSnapshot('a', 3)).toEqual(snap(3));
      expect(await versionsOf(store(), 'b')).toEqual([1]);
    });

    it('keepSnapshots: N keeps the N highest versions; an older one saved later is dropped at once', async () => {
      const s = await open({ keepSnapshots: 3 });
      for (const v of [10, 20, 30, 40]) await s.saveSnapshot(snap(v));
      expect(await versionsOf(s)).toEqual([20, 30, 40]);
      await s.saveSnapshot(snap(5));
      expect(await versionsOf(s)).toEqual([20, 30, 40]);
      await s.saveSnapshot({ ...snap(30), recordedAt: 1 }); // a replacement prunes nothing more
      expect((await s.listSnapshots('a')).map((r) => [r.version, r.recordedAt])).toEqual([
        [20, 5020],
        [30, 1],
        [40, 5040],
      ]);
    });

    it('keepSnapshots: 0 and Infinity keep every snapshot', async () => {
      for (const keepSnapshots of [0, Infinity]) {
        const s = await open({ keepSnapshots });
        for (let v = 1; v <= 25; v++) await s.saveSnapshot(snap(v));
        expect(await versionsOf(s)).toHaveLength(25);
      }
    });

    it('the pruning is part of the write: a failed batch brings the pruned snapshots back', async () => {
      const s = await open({ keepSnapshots: 2 });
      await createStream(s, 'a');
      await s.saveSnapshot(snap(1));
      await s.saveSnapshot(snap(2));
      await expectCode(() => s.write({ snapshots: [snap(3)], appends: [{ streamId: 'a', expectedVersion: 4, events: events(1) }] }), 'VERSION_CONFLICT');
      expect(await versionsOf(s)).toEqual([1, 2]);
      await s.write({ snapshots: [snap(3)] });
      expect(await versionsOf(s)).toEqual([2, 3]);
    });

    it('loads the latest snapshot, or the latest at or before a version', async () => {
      await store().saveSnapshot(snap(3));
      await store().saveSnapshot(snap(7));
      await store().saveSnapshot({ ...snap(9), streamId: 'b' });
      expect(await store().loadSnapshot('a')).toEqual(snap(7));
      expect(await store().loadSnapshot('a', 7)).toEqual(snap(7));
      expect(await store().loadSnapshot('a', 6)).toEqual(snap(3));
      expect(await store().loadSnapshot('a', 3)).toEqual(snap(3));
      expect(await store().loadSnapshot('a', 2)).toBeUndefined();
      expect(await store().loadSnapshot('nope')).toBeUndefined();
    });

    it('replaces a snapshot saved again at the same version', async () => {
      await store().saveSnapshot(snap(3, { first: true }));
      await store().saveSnapshot({ ...snap(3, { second: true }), recordedAt: 42 });
      expect(await store().loadSnapshot('a')).toEqual({ streamId: 'a', version: 3, snapshot: { second: true }, recordedAt: 42 });
    });

    it('round-trips the snapshot through JSON and hands out copies', async () => {
      const value = { value: { working: 'polling' }, context: { attempts: 2, ids: ['x'], at: null }, status: 'active' };
      await store().saveSnapshot(snap(1, value));
      value.context.ids.push('mutated');
      const loaded = (await store().loadSnapshot('a'))!;
      expect(loaded.snapshot).toEqual({ value: { working: 'polling' }, context: { attempts: 2, ids: ['x'], at: null }, status: 'active' });
      (loaded.snapshot as typeof value).context.attempts = 99;
      expect(((await store().loadSnapshot('a'))!.snapshot as typeof value).context.attempts).toBe(2);
    });

    it('APPEND_FAILED for a snapshot that is not JSON-safe; nothing saved', async () => {
      await expectCode(() => store().saveSnapshot(snap(1, { n: 1n })), 'APPEND_FAILED');
      expect(await store().listSnapshots('a')).toEqual([]);
    });

    it("readTails: each stream's latest snapshot and the events after it, in the order asked, unknown ids left out", async () => {
      for (const id of ['a', 'b', 'c']) await createStream(store(), id);
      await store().write({
        appends: [
          { streamId: 'a', expectedVersion: 0, events: events(5, 'a') },
          { streamId: 'b', expectedVersion: 0, events: events(2, 'b') },
        ],
      });
      await store().saveSnapshot(snap(2));
      await store().saveSnapshot(snap(4)); // the latest: only a's 5th event is after it
      await store().saveSnapshot({ ...snap(2), streamId: 'b' }); // b's snapshot is its head
      const tails = await store().readTails(['c', 'nobody', 'b', 'a']);
      expect(tails.map((t) => [t.streamId, t.snapshot?.version, t.events.map((e) => `${e.type}@${e.version}`)])).toEqual([
        ['c', undefined, []],
        ['b', 2, []],
        ['a', 4, ['a.5@5']],
      ]);
      expect(tails[2]!.snapshot).toEqual(snap(4));
      expect(tails[2]!.events[0]).toEqual((await store().readStream('a', { fromVersion: 5 }))[0]);
      expect(await store().readTails([])).toEqual([]);
      // a fresh copy: the caller may change it
      (tails[2]!.snapshot!.snapshot as { v: number }).v = 99;
      expect((await store().readTails(['a']))[0]!.snapshot!.snapshot).toEqual({ v: 4 });
    });

    it('readTails lists an id given twice twice, each with its events once', async () => {
      await createStream(store(), 's');
      await store().write({ appends: [{ streamId: 's', expectedVersion: 0, events: events(2, 's') }] });
      const tails = await store().readTails(['s', 's']);
      expect(tails.map((t) => [t.streamId, t.events.map((e) => e.version)])).toEqual([
        ['s', [1, 2]],
        ['s', [1, 2]],
      ]);
    });

    it('readTails of more streams than one statement takes (1,000): every stream, in order', async () => {
      const n = 1_203;
      const ids = Array.from({ length: n }, (_, i) => `s-${String(i).padStart(4, '0')}`);
      await store().write({ streams: ids.map((streamId) => ({ streamId, machine: { name: 'job', hash: 'c0ffee' }, input: {}, createdAt: 1 })) });
      await store().write({ appends: ids.map((streamId) => ({ streamId, expectedVersion: 0, events: events(1, streamId) })) });
      const tails = await store().readTails([...ids].reverse());
      expect(tails.map((t) => t.streamId)).toEqual([...ids].reverse());
      expect(tails.every((t) => t.snapshot === undefined && t.events.length === 1 && t.events[0]!.type === `${t.streamId}.1`)).toBe(true);
    });
  });
}
