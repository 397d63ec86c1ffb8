/**
 * Issue 15 item 13, across a real SIGKILL (test/support/shapes/tick.ts): in tick mode an input reaches
 * XState only once its batch has committed, so a sender whose append failed never acts on that event:
 * no message leaves for a cause the log does not hold, and recovery sends none either.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReplay } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { pinged, pinger } from '../support/shapes/tick.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('issue 15: tick mode, a failed append in a batch', () => {
  it('sends no message for the event whose append failed, before or after recovery', async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    const [failing, recovered] = await runScenario('tick', t.path);
    expect(failing!.result).toEqual({ pings: [1], sender: 'stopped' });
    expect(failing!.errors).toEqual([{ id: 'a-1', code: 'APPEND_FAILED' }]);
    expect(recovered!.result).toEqual({ recovered: ['b-1', 'a-1'], before: [1], after: [1, 2] });
    expect(recovered!.errors).toEqual([]);

    const store = openSqliteStore(t.path, { readonly: true });
    try {
      expect(store.readStream('a-1').map((r) => r.type)).toEqual(['go', 'go']);
      // One ping per logged `go`, each causation id once.
      expect(store.readStream('b-1').map((r) => [r.data, r.meta.causationId])).toEqual([
        [{ n: 1 }, 'a-1:1::0'],
        [{ n: 2 }, 'a-1:2::0'],
      ]);
      expect((await verifyReplay(store, pinger, 'a-1')).differences).toEqual([]);
      expect((await verifyReplay(store, pinged, 'b-1')).differences).toEqual([]);
    } finally {
      store.close();
    }
  }, 60_000);
});
