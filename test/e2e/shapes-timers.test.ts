/**
 * Issue 15 items 2 and 7, across a real SIGKILL: timers identified by owner and send id, not by the
 * event object XState shares between them (test/support/shapes/timers.ts); a delayed sendParent and
 * a delayed sendTo(self) are journaled like any timer, never refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReplay } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { owner, reminders, selfish } from '../support/shapes/timers.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('issue 15: timers across a SIGKILL', () => {
  it('fires each timer once, at its due time, named as the one that fired', async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    const [before, after] = await runScenario('timers', t.path);
    expect(before!.result).toEqual({ 'o-1': 'active', 'r-1': 'active', 's-1': 'active' });
    expect(after!.result).toEqual({ recovered: ['o-1', 'r-1', 's-1'], failed: [] });
    expect([...before!.errors, ...after!.errors]).toEqual([]);

    const store = openSqliteStore(t.path, { readonly: true });
    try {
      // Item 2, two children of one machine (one `after` event object): each beats three times on its
      // own period; a beat that came due while the process was dead fires at the restart (10_550).
      const beats = store
        .readStream('o-1')
        .filter((r) => r.meta.source === 'timer')
        .map((r) => [r.meta.timer, r.meta.recordedAt]);
      const fast = 'fast#xstate.after.every.pinger.waiting';
      const slow = 'slow#xstate.after.every.pinger.waiting';
      expect(beats).toEqual([
        [fast, 10_300],
        [slow, 10_550],
        [fast, 10_600],
        [fast, 10_900],
        [slow, 11_050],
        [slow, 11_550],
      ]);
      // Item 2, one event object raised twice: the log names the timer that fired, so neither fires again.
      expect(store.readStream('r-1').map((r) => [r.meta.timer, r.meta.recordedAt])).toEqual([
        ['#early', 10_100],
        ['#late', 10_550],
      ]);
      // Item 7: the delayed sendTo(self) and the child's delayed sendParent are timers of this tree.
      expect(store.readStream('s-1').map((r) => [r.type, r.meta.source, r.meta.timer, r.meta.recordedAt])).toEqual([
        ['tick', 'timer', '#~0.0', 10_100],
        ['report', 'timer', 'reporter#~0.0', 10_600],
        ['tick', 'timer', '#~0.1', 10_700],
      ]);
      for (const [id, machine] of [
        ['o-1', owner],
        ['r-1', reminders],
        ['s-1', selfish],
      ] as const) {
        expect(store.getStream(id)!.status, id).toBe('done');
        const verify = await verifyReplay(store, machine, id);
        expect(verify.differences, id).toEqual([]);
        expect(verify.checked, id).toBeGreaterThan(0);
      }
    } finally {
      store.close();
    }
  }, 60_000);
});
