/**
 * Issue 15 item 4, across a real SIGKILL (test/support/shapes/foreign.ts): what another XState system
 * delivers to a journaled tree is journaled as an input before the tree acts on it. A plain XState
 * actor's sends are in the counter's stream (source `actor`); a server's reply by ref to a child
 * machine of another journaled actor is in that actor's stream, for the child, with the causation id
 * of the reply; the recovered actors are where the live ones were.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReplay } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { client, counter, server } from '../support/shapes/foreign.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('issue 15: input from another XState system', () => {
  it("journals a plain actor's sends and a reply by ref to a child machine, and recovers them", async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    const [live, recovered] = await runScenario('foreign', t.path);
    const expected = { counter: { n: 2 }, client: { answered: 2 }, kid: { answers: [10, 20] } };
    expect(live!.result).toEqual(expected);
    expect(recovered!.result).toEqual(expected);
    expect([...live!.errors, ...recovered!.errors]).toEqual([]);

    const store = openSqliteStore(t.path, { readonly: true });
    try {
      expect(store.readStream('c-1').map((r) => [r.type, r.meta.source])).toEqual([
        ['inc', 'actor'],
        ['inc', 'actor'],
      ]);
      const replies = store.readStream('cl-1').filter((r) => r.type === 'reply');
      expect(replies.map((r) => [r.data, r.meta.target, r.meta.actor, r.meta.causationId])).toEqual([
        [{ n: 10 }, 'kid', 'srv-1', 'srv-1:1::0'],
        [{ n: 20 }, 'kid', 'srv-1', 'srv-1:2::0'],
      ]);
      for (const [id, machine] of [
        ['c-1', counter],
        ['srv-1', server],
        ['cl-1', client],
      ] as const) {
        expect((await verifyReplay(store, machine, id)).differences, id).toEqual([]);
      }
    } finally {
      store.close();
    }
  }, 60_000);
});
