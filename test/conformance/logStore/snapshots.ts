import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedStore as LogStore } from '../embeddedStore.ts';
import type { ConformanceOptions, LogStoreFactory } from '../logStore.ts';
import type { GetStore } from './fixtures.ts';

/** Snapshots (latest, at-or-before, replace, list, pruning to keepSnapshots) and checkpoints. */
export function snapshotSpecs(store: GetStore, factory: LogStoreFactory): void {
  describe('snapshots', () => {
    const snap = (version: number, value: unknown = { v: version }) => ({ streamId: 'a', version, snapshot: value, recordedAt: 5000 + version });
    const versionsOf = (s: LogStore, streamId = 'a') => s.listSnapshots(streamId).map((r) => r.version);
    const extra: LogStore[] = [];
    /** Another fresh store with `options`, closed after the test. */
    const open = async (options: ConformanceOptions) => {
      const s = await factory(options);
      extra.push(s);
      return s;
    };
    afterEach(() => {
      for (const s of extra.splice(0)) s.close();
    });

    it("lists a stream's snapshots in increasing version order, as copies", () => {
      store().saveSnapshot(snap(7));
      store().saveSnapshot(snap(3));
      store().saveSnapshot({ ...snap(5), streamId: 'b' });
      store().saveSnapshot(snap(9));
      expect(store().listSnapshots('a')).toEqual([snap(3), snap(7), snap(9)]);
      expect(store().listSnapshots('b')).toEqual([{ ...snap(5), streamId: 'b' }]);
      expect(store().listSnapshots('nope')).toEqual([]);
      (store().listSnapshots('a')[0]!.snapshot as { v: number }).v = 99;
      expect(store().listSnapshots('a')[0]!.snapshot).toEqual({ v: 3 });
    });

    it('keeps the 10 highest versions per stream by default, pruned as each snapshot is saved', () => {
      for (let v = 1; v <= 12; v++) store().saveSnapshot(snap(v));
      store().saveSnapshot({ ...snap(1), streamId: 'b' });
      expect(versionsOf(store())).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(store().loadSnapshot('a', 2)).toBeUndefined();
      expect(store().loadSnapshot('a', 3)).toEqual(snap(3));
      expect(versionsOf(store(), 'b')).toEqual([1]);
    });

    it('keepSnapshots: N keeps the N highest versions; an older one saved later is dropped at once', async () => {
      const s = await open({ keepSnapshots: 3 });
      for (const v of [10, 20, 30, 40]) s.saveSnapshot(snap(v));
      expect(versionsOf(s)).toEqual([20, 30, 40]);
      s.saveSnapshot(snap(5));
      expect(versionsOf(s)).toEqual([20, 30, 40]);
      s.saveSnapshot({ ...snap(30), recordedAt: 1 }); // a replacement prunes nothing more
      expect(s.listSnapshots('a').map((r) => [r.version, r.recordedAt])).toEqual([
        [20, 5020],
        [30, 1],
        [40, 5040],
      ]);
    });

    it('keepSnapshots: 0 and Infinity keep every snapshot', async () => {
      for (const keepSnapshots of [0, Infinity]) {
        const s = await open({ keepSnapshots });
        for (let v = 1; v <= 25; v++) s.saveSnapshot(snap(v));
        expect(versionsOf(s)).toHaveLength(25);
      }
    });

    it('the pruning is part of the save: a rolled-back transaction brings the pruned snapshots back', async () => {
      const s = await open({ keepSnapshots: 2 });
      s.saveSnapshot(snap(1));
      s.saveSnapshot(snap(2));
      expect(() =>
        s.transaction(() => {
          s.saveSnapshot(snap(3));
          expect(versionsOf(s)).toEqual([2, 3]);
          throw new Error('rollback');
        }),
      ).toThrow('rollback');
      expect(versionsOf(s)).toEqual([1, 2]);
    });

    it('loads the latest snapshot, or the latest at or before a version', () => {
      store().saveSnapshot(snap(3));
      store().saveSnapshot(snap(7));
      store().saveSnapshot({ ...snap(9), streamId: 'b' });
      expect(store().loadSnapshot('a')).toEqual(snap(7));
      expect(store().loadSnapshot('a', 7)).toEqual(snap(7));
      expect(store().loadSnapshot('a', 6)).toEqual(snap(3));
      expect(store().loadSnapshot('a', 3)).toEqual(snap(3));
      expect(store().loadSnapshot('a', 2)).toBeUndefined();
      expect(store().loadSnapshot('nope')).toBeUndefined();
    });

    it('replaces a snapshot saved again at the same version', () => {
      store().saveSnapshot(snap(3, { first: true }));
      store().saveSnapshot({ ...snap(3, { second: true }), recordedAt: 42 });
      expect(store().loadSnapshot('a')).toEqual({ streamId: 'a', version: 3, snapshot: { second: true }, recordedAt: 42 });
    });

    it('round-trips the snapshot through JSON and hands out copies', () => {
      const value = { value: { working: 'polling' }, context: { attempts: 2, ids: ['x'], at: null }, status: 'active' };
      store().saveSnapshot(snap(1, value));
      value.context.ids.push('mutated');
      const loaded = store().loadSnapshot('a')!;
      expect(loaded.snapshot).toEqual({ value: { working: 'polling' }, context: { attempts: 2, ids: ['x'], at: null }, status: 'active' });
      (loaded.snapshot as typeof value).context.attempts = 99;
      expect((store().loadSnapshot('a')!.snapshot as typeof value).context.attempts).toBe(2);
    });
  });

  describe('checkpoints', () => {
    it('is undefined until saved, then the last saved position', () => {
      expect(store().loadCheckpoint('projection')).toBeUndefined();
      store().saveCheckpoint('projection', 10);
      store().saveCheckpoint('tail', 3);
      expect(store().loadCheckpoint('projection')).toBe(10);
      store().saveCheckpoint('projection', 25);
      expect(store().loadCheckpoint('projection')).toBe(25);
      expect(store().loadCheckpoint('tail')).toBe(3);
      store().saveCheckpoint('projection', 0);
      expect(store().loadCheckpoint('projection')).toBe(0);
    });
  });
}
