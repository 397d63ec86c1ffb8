/**
 * Issue 15 item 1, across real SIGKILLs (test/support/shapes/systemId.ts): a child invoked with a
 * systemId, addressed by a sibling through `system.get`, is recovered and replayed (the fold no longer
 * throws "Actor with system ID … already exists"); a fold that ends in an error the log does not record
 * (a guard that throws only in the restarted process) is reported with REPLAY_MISMATCH and leaves the
 * stream active, so the next process, set up right, resumes it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReplay } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { shop, till } from '../support/shapes/systemId.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe("issue 15 item 1: systemId, and a fold's own error", () => {
  it("recovers a child with a systemId; never marks a stream final for the fold's own error", async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    const [first, lacking, fixed] = await runScenario('systemId', t.path);
    expect(first!.result).toEqual({ stock: { stock: 1 }, clerk: { sold: 2 }, till: { paid: 1 } });
    expect(lacking!.result).toEqual({ recovered: ['sh-1'], failed: [['t-1', 'REPLAY_MISMATCH']], stock: { stock: 0 }, clerk: { sold: 3 }, status: 'active' });
    expect(lacking!.errors).toEqual([{ id: 't-1', code: 'REPLAY_MISMATCH' }]);
    expect(fixed!.result).toEqual({ recovered: ['sh-1', 't-1'], stock: { stock: 0 }, clerk: { sold: 3 }, till: { paid: 2 } });
    expect(fixed!.errors).toEqual([]);

    const store = openSqliteStore(t.path, { readonly: true });
    try {
      // the sibling's message went through the log to the child with the systemId
      expect(
        store
          .readStream('sh-1')
          .filter((r) => r.type === 'take')
          .map((r) => [r.meta.target, r.meta.actor]),
      ).toEqual([
        ['inv', 'clerk'],
        ['inv', 'clerk'],
        ['inv', 'clerk'],
      ]);
      for (const [id, machine] of [
        ['sh-1', shop],
        ['t-1', till],
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
