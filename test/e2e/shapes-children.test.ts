/**
 * Issue 15 items 6, 8 and 9, across a real SIGKILL (test/support/shapes/children.ts): a
 * `fromObservable` child with `onSnapshot` is journaled (its snapshot in persisted form), a child
 * machine with `onSnapshot` does not re-send its snapshot at recovery, a `fromTransition` reducer
 * keeps its state, and a source invoked with no input gets its last cursor back in `input.cursor`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReplay } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { ledger, reader, ticker, watcher } from '../support/shapes/children.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('issue 15 items 6, 8, 9: children across a SIGKILL', () => {
  it('journals onSnapshot and reducer children, re-sends nothing, hands a source its cursor', async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    const [first, second] = await runScenario('children', t.path);
    const live = { prices: { prices: [101, 102] }, seen: { seen: [0, 1, 2] }, totals: { sum: 12, count: 2 }, frames: { frames: [1, 2] } };
    expect(first!.result).toEqual({ ...live, started: [null] });
    expect(second!.result).toEqual({
      failed: [],
      resumed: { ...live, started: [{ cursor: 'c2' }] },
      after: {
        prices: { prices: [101, 102, 103] },
        seen: { seen: [0, 1, 2, 3] },
        totals: { sum: 13, count: 3 },
        frames: { frames: [1, 2, 3] },
        started: [{ cursor: 'c2' }],
      },
    });
    expect([...first!.errors, ...second!.errors]).toEqual([]);

    const store = openSqliteStore(t.path, { readonly: true });
    try {
      // the observable's snapshots in persisted form (no subscription); the first, with no value yet, too
      expect(store.readStream('tk-1').map((r) => r.data)).toEqual([
        { snapshot: { status: 'active' } },
        { snapshot: { status: 'active', context: 101 } },
        { snapshot: { status: 'active', context: 102 } },
        { snapshot: { status: 'active', context: 103 } },
      ]);
      // the child machine's snapshots: one per change, none re-sent by the recovery
      expect(
        store
          .readStream('wa-1')
          .filter((r) => r.type === 'xstate.snapshot.counter')
          .map((r) => (r.data as { snapshot: { context: { n: number } } }).snapshot.context.n),
      ).toEqual([0, 1, 2, 3]);
      expect(
        store
          .readStream('le-1')
          .filter((r) => r.meta.target === 'totals')
          .map((r) => r.data),
      ).toEqual([{ amount: 5 }, { amount: 7 }, { amount: 1 }]);
      expect(store.readStream('rd-1').map((r) => r.meta.cursor)).toEqual(['c1', 'c2', 'c3']);
      for (const [id, machine] of [
        ['tk-1', ticker],
        ['wa-1', watcher],
        ['le-1', ledger],
        ['rd-1', reader],
      ] as const) {
        const verify = await verifyReplay(store, machine, id);
        expect(verify.differences, id).toEqual([]);
        expect(verify.checked, id).toBeGreaterThan(0);
      }
    } finally {
      store.close();
    }
  }, 60_000);
});
