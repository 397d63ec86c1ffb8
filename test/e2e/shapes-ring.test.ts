/**
 * Issue 15 item 3, across a real SIGKILL (test/support/shapes/ring.ts): `recover()` creates and wires
 * every actor before it starts any. Three peers in a ring each ping the next as they restart and
 * answer every ping with a pong: the first started reaches the others directly, no message goes
 * through an inbox as if its receiver ran nowhere, and each peer hears one ping and one pong.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { verifyReplay } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';
import { runScenario } from '../support/shapes/run.ts';
import { peer } from '../support/shapes/ring.ts';
import { tempDb } from '../support/tempDb.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('issue 15: recover() wires every actor before starting any', () => {
  it('recovers a ring of actors that message each other as they start: each message delivered directly, once', async () => {
    const t = tempDb();
    cleanup = t.cleanup;
    const [first, resumed] = await runScenario('ring', t.path);
    expect(first!.result).toEqual({ 'p-1': [], 'p-2': [], 'p-3': [] });
    const result = resumed!.result as { heard: Record<string, string[]> };
    // each peer hears one ping and one pong (their order between two senders is not fixed)
    for (const id of Object.keys(result.heard)) result.heard[id]!.sort();
    expect(result).toEqual({
      recovered: ['p-1', 'p-2', 'p-3'],
      failed: [],
      heard: {
        'p-1': ['ping from p-3', 'pong from p-2'],
        'p-2': ['ping from p-1', 'pong from p-3'],
        'p-3': ['ping from p-2', 'pong from p-1'],
      },
      posted: [], // none went through an inbox: every receiver was wired when the first sender started
    });
    expect(resumed!.errors).toEqual([]);
    const store = openSqliteStore(t.path, { readonly: true });
    try {
      for (const id of ['p-1', 'p-2', 'p-3']) {
        const log = store.readStream(id);
        expect(
          log
            .filter((r) => r.meta.source === 'actor')
            .map((r) => r.type)
            .sort(),
          id,
        ).toEqual(['ping', 'pong']);
        expect(new Set(log.map((r) => r.meta.causationId).filter(Boolean)).size, id).toBe(2);
        expect(store.readInbox(id), id).toEqual([]);
        expect((await verifyReplay(store, peer, id)).differences, id).toEqual([]);
      }
    } finally {
      store.close();
    }
  }, 60_000);
});
