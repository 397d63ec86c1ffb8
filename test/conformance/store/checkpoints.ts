import { describe, expect, it } from 'vitest';
import type { GetStore } from './fixtures.ts';

/** Checkpoints: plain set, and compare-and-set (a checkpoint never saved counts as 0). */
export function checkpointSpecs(store: GetStore): void {
  describe('checkpoints', () => {
    it('is undefined until saved, then the last saved position (a plain save returns true)', async () => {
      expect(await store().loadCheckpoint('projection')).toBeUndefined();
      expect(await store().saveCheckpoint('projection', 10)).toBe(true);
      await store().saveCheckpoint('tail', 3);
      expect(await store().loadCheckpoint('projection')).toBe(10);
      await store().saveCheckpoint('projection', 25);
      expect(await store().loadCheckpoint('projection')).toBe(25);
      expect(await store().loadCheckpoint('tail')).toBe(3);
      await store().saveCheckpoint('projection', 0);
      expect(await store().loadCheckpoint('projection')).toBe(0);
    });

    it('compare-and-set writes only over the expected position, and says whether it wrote', async () => {
      expect(await store().saveCheckpoint('p', 5, 3)).toBe(false); // never saved: only 0 matches
      expect(await store().loadCheckpoint('p')).toBeUndefined();
      expect(await store().saveCheckpoint('p', 5, 0)).toBe(true);
      expect(await store().saveCheckpoint('p', 9, 0)).toBe(false);
      expect(await store().saveCheckpoint('p', 9, 4)).toBe(false);
      expect(await store().loadCheckpoint('p')).toBe(5);
      expect(await store().saveCheckpoint('p', 9, 5)).toBe(true);
      expect(await store().loadCheckpoint('p')).toBe(9);
      expect(await store().saveCheckpoint('p', 2, 9)).toBe(true); // backwards is allowed when expected
      expect(await store().loadCheckpoint('p')).toBe(2);
      expect(await store().saveCheckpoint('q', 1, 0)).toBe(true); // names are independent
      expect(await store().loadCheckpoint('p')).toBe(2);
    });

    it('two compare-and-sets from the same position at once: exactly one wins', async () => {
      await store().saveCheckpoint('p', 10);
      const outcomes = await Promise.all([(async () => store().saveCheckpoint('p', 20, 10))(), (async () => store().saveCheckpoint('p', 30, 10))()]);
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await store().loadCheckpoint('p')).toBe(outcomes[0] ? 20 : 30);
    });
  });
}
