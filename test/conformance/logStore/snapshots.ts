import { describe, expect, it } from 'vitest';
import type { GetStore } from './fixtures.ts';

/** Snapshots (latest, at-or-before, replace) and checkpoints. */
export function snapshotSpecs(store: GetStore): void {
  describe('snapshots', () => {
    const snap = (version: number, value: unknown = { v: version }) => ({ streamId: 'a', version, snapshot: value, recordedAt: 5000 + version });

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
